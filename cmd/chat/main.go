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
	"runtime/pprof"
	"syscall"
	"time"

	"chat/framework/httpserver"
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
	if cfg.CPUProfile != "" {
		f, err := os.Create(cfg.CPUProfile)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
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
	defer st.Close() // last: the writer commits what it acknowledged
	if err := ensureAdmin(ctx, st, cfg.BcryptCost, os.Stdout); err != nil {
		return err
	}
	if err := ensureLobby(ctx, st); err != nil {
		return err
	}
	if cfg.SetRole != "" {
		return setRole(ctx, st, cfg.SetRole, os.Stdout)
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
	app, err := newApp(loop, st, secrets, appOptions{AccessLog: accessLog, AllowGuests: cfg.AllowGuests, NewUsersPerMinute: cfg.NewUsersPerMin, BcryptCost: cfg.BcryptCost})
	if err != nil {
		return err
	}
	srv := app.web.NewServer()
	srv.XHeaders = cfg.XHeaders
	srv.MaxConnections = cfg.MaxConnections
	srv.ErrorLog = logger
	servers := []*httpserver.Server{srv}
	var listenErr error
	loop.AddCallback(func() {
		addr, err := srv.Listen(cfg.Addr)
		if err != nil {
			listenErr = err
			loop.Stop()
			return
		}
		logger.Info("chat: listening", "url", "http://"+addr.String()+"/", "data", cfg.DataDir, "version", version)
		app.admin.StartSampler()
		if cfg.DebugAddr != "" {
			debug := newDebugServer(loop, app, st)
			servers = append(servers, debug)
			if addr, err = debug.Listen(cfg.DebugAddr); err != nil {
				listenErr = fmt.Errorf("debug address: %w", err)
				loop.Stop()
				return
			}
			logger.Info("chat: debug listening", "url", "http://"+addr.String()+"/stats")
		}
		if cfg.MetricsAddr != "" {
			metrics := &httpserver.Server{Loop: loop, Handler: app.admin.MetricsHandler(), ErrorLog: logger}
			servers = append(servers, metrics)
			if addr, err = metrics.Listen(cfg.MetricsAddr); err != nil {
				listenErr = fmt.Errorf("metrics address: %w", err)
				loop.Stop()
				return
			}
			logger.Info("chat: metrics listening", "url", "http://"+addr.String()+"/metrics")
		}
	})
	stopOnSignal(loop, logger, func() { app.stop(loop, servers, cfg.ShutdownGrace, logger) })
	if err := loop.Run(); err != nil {
		return err
	}
	if listenErr != nil {
		return fmt.Errorf("listen: %w", listenErr)
	}
	return nil
}

// stopOnSignal runs stop on the loop at the first SIGINT or SIGTERM (a
// platform's stop), and stops the loop at once at the second.
func stopOnSignal(loop *ioloop.Loop, logger *slog.Logger, stop func()) {
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-signals
		logger.Info("chat: stopping", "signal", sig.String())
		loop.AddCallback(stop)
		sig = <-signals
		logger.Warn("chat: stopping now", "signal", sig.String())
		loop.Stop()
	}()
}

// stop is the graceful stop, on the loop: stop accepting, let the engine
// answer everyone (parked polls answered, WebSockets sent 1001, streams
// ended), wait until its connections are gone and its writes committed, or
// grace has passed, then stop the loop. run then closes the loop and, last,
// the store, whose writer commits whatever it had acknowledged.
func (a *chatApp) stop(loop *ioloop.Loop, servers []*httpserver.Server, grace time.Duration, logger *slog.Logger) {
	for _, s := range servers {
		s.Close()
	}
	a.admin.ShutdownLive()
	a.engine.Shutdown()
	deadline := time.Now().Add(grace)
	var wait func()
	wait = func() {
		if a.engine.Drained() {
			loop.Stop()
			return
		}
		if time.Now().After(deadline) {
			logger.Warn("chat: grace period over; closing what is left", "grace", grace)
			loop.Stop()
			return
		}
		loop.CallLater(drainPoll, wait)
	}
	wait()
}

// drainPoll is how often stop looks whether everyone has gone.
const drainPoll = 20 * time.Millisecond
