// Command echo is the framework's echo server, the counterpart of
// Tornado's demos: a target for HTTP conformance runners and load tools
// that exercises the request parser and nothing else. Every method on
// every path answers 200 with the request body echoed back as
// application/octet-stream; GET /hello answers "Hello, world" as
// text/plain, the benchmark route. XSRF is off: clients here are programs.
//
//	go run ./examples/echo -addr 127.0.0.1:8888
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"chat/framework/ioloop"
	"chat/framework/web"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8888", "address to listen on")
	accessLog := flag.Bool("access-log", false, "log every request to stderr (slows benchmarks)")
	flag.Parse()
	if err := run(*addr, *accessLog); err != nil {
		fmt.Fprintln(os.Stderr, "echo:", err)
		os.Exit(1)
	}
}

func run(addr string, accessLog bool) error {
	loop, err := ioloop.New(ioloop.Options{})
	if err != nil {
		return err
	}
	defer loop.Close()
	var logger *slog.Logger
	if accessLog {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	_, bound, err := listen(loop, addr, logger)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "echo: listening on http://%s\n", bound)

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-signals
		loop.Stop()
	}()
	return loop.Run()
}

// listen builds the application and starts serving addr on loop (which
// need not run yet).
func listen(loop *ioloop.Loop, addr string, accessLog *slog.Logger) (*web.Application, net.Addr, error) {
	app, err := web.NewApplication(web.Config{
		Loop:   loop,
		Routes: routes(),
		// Every path the routes do not take is echoed, even those the
		// router refuses (dot segments, "*").
		DefaultHandler: web.Func(echo),
		DisableXSRF:    true,
		AccessLog:      accessLog,
	})
	if err != nil {
		return nil, nil, err
	}
	bound, err := app.NewServer().Listen(addr)
	if err != nil {
		return nil, nil, err
	}
	return app, bound, nil
}

// routes is the route table; whatever it does not match is echoed.
//
// The WebSocket echo at /ws lives in websocket.go.
func routes() []web.Spec {
	return append([]web.Spec{
		{Name: "hello", Pattern: "/hello", New: func() web.Handler { return helloHandler{} }},
	}, websocketRoutes()...)
}

// helloHandler answers GET /hello (and HEAD); other methods on /hello
// are echoed like everything else.
type helloHandler struct{}

func (helloHandler) Get(c *web.Context) {
	c.SetHeader("Content-Type", "text/plain; charset=utf-8")
	c.WriteString("Hello, world")
}

// Serve echoes the methods Get does not take.
func (helloHandler) Serve(c *web.Context) { echo(c) }

// echo answers any request with its own body.
func echo(c *web.Context) {
	c.SetHeader("Content-Type", "application/octet-stream")
	c.Write(c.Request().Body)
}
