// Command chat runs the chat server: the framework's event loop serving the
// web pages, with history in SQLite under the data directory.
//
//	go run ./cmd/chat            # http://127.0.0.1:8080, data in ./data
//	PORT=5000 go run ./cmd/chat  # as a platform runs it (see Procfile)
//
// On the first start it creates the data directory, generates the cookie
// secrets and the administrator account, and prints the administrator's
// password once. Flags and CHAT_* environment variables are in config.go.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"chat/framework/ioloop"
	"chat/store"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "chat:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	cfg, err := loadConfig(args)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	secrets, err := loadOrCreateSecrets(cfg.DataDir)
	if err != nil {
		return err
	}
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{Path: filepath.Join(cfg.DataDir, "chat.db")})
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer st.Close()
	if err := ensureAdmin(ctx, st, os.Stdout); err != nil {
		return err
	}

	loop, err := ioloop.New(ioloop.Options{Logger: logger})
	if err != nil {
		return err
	}
	defer loop.Close()
	var accessLog *slog.Logger
	if cfg.AccessLog {
		accessLog = logger
	}
	app, err := newApp(loop, st, secrets, version, accessLog)
	if err != nil {
		return err
	}
	srv := app.NewServer()
	srv.XHeaders = cfg.XHeaders
	srv.MaxConnections = cfg.MaxConnections
	srv.ErrorLog = logger
	var listenErr error
	loop.AddCallback(func() {
		addr, err := srv.Listen(cfg.Addr)
		if err != nil {
			listenErr = err
			loop.Stop()
			return
		}
		logger.Info("chat: listening", "url", "http://"+addr.String()+"/", "data", cfg.DataDir, "version", version)
	})
	stopOnSignal(loop, logger)
	if err := loop.Run(); err != nil {
		return err
	}
	if listenErr != nil {
		return fmt.Errorf("listen: %w", listenErr)
	}
	return nil
}

// stopOnSignal stops the loop on SIGINT or SIGTERM (a platform's stop).
func stopOnSignal(loop *ioloop.Loop, logger *slog.Logger) {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-signals
		logger.Info("chat: stopping", "signal", sig.String())
		loop.Stop()
	}()
}
