package asynctest

import (
	"net"
	"testing"

	"chat/framework/httpserver"
	"chat/framework/ioloop"
	"chat/framework/web"
)

// Server is an HTTP server listening on 127.0.0.1:0 on a running loop,
// with a Client pointed at it: Tornado's AsyncHTTPTestCase (self.io_loop,
// self.http_server, get_url, fetch) as one value.
//
// At cleanup, in this order: the Client's idle connections are closed, the
// server is closed on the loop (it stops accepting), and then, if the loop
// came from Start (StartApp and NewServer start one), the loop is stopped,
// Run is waited for and the loop is closed, which closes every connection
// still open.
//
// Loop and HTTPServer are loop-owned like everything else: reach them
// through Do. The embedded Client and Addr are for the test goroutine.
type Server struct {
	*Client
	// Loop is the loop the server runs on.
	Loop *ioloop.Loop
	// HTTPServer is the server; its fields must not change after Listen.
	HTTPServer *httpserver.Server
	// App is the application served, nil when the handler is not one.
	App *web.Application
	// Addr is the listening address, "127.0.0.1:port".
	Addr string
}

// StartApp builds an Application from cfg and serves it: Tornado's
// get_app. A nil cfg.Loop gets a loop of its own (Start); a loop given
// must already be running. The application is built on the loop, so
// nothing it does while being built races with the loop.
func StartApp(t testing.TB, cfg web.Config) *Server {
	t.Helper()
	if cfg.Loop == nil {
		cfg.Loop = Start(t)
	}
	return StartAppFunc(t, cfg.Loop, func(*ioloop.Loop) (*web.Application, error) {
		return web.NewApplication(cfg)
	})
}

// StartAppFunc serves the Application that build makes, for an
// application that builds its own Config (a program's newApp). build runs
// on the loop l, which must be running (from Start); nil means a loop of
// its own.
func StartAppFunc(t testing.TB, l *ioloop.Loop, build func(l *ioloop.Loop) (*web.Application, error)) *Server {
	t.Helper()
	if l == nil {
		l = Start(t)
	}
	var app *web.Application
	var srv *httpserver.Server
	var err error
	Do(t, l, func() {
		if app, err = build(l); err == nil {
			srv = app.NewServer()
		}
	})
	if err != nil {
		t.Fatalf("build the application: %v", err)
	}
	s := Listen(t, srv)
	s.App = app
	return s
}

// NewServer serves handler on a loop of its own, with the httpserver's
// defaults.
func NewServer(t testing.TB, handler httpserver.Handler) *Server {
	t.Helper()
	return Listen(t, &httpserver.Server{Loop: Start(t), Handler: handler})
}

// Listen starts srv, configured by the caller (timeouts, limits), on
// 127.0.0.1:0. srv.Loop must be running (from Start).
func Listen(t testing.TB, srv *httpserver.Server) *Server {
	t.Helper()
	if srv.Loop == nil {
		t.Fatal("asynctest.Listen: the server has no Loop")
	}
	var addr net.Addr
	var err error
	Do(t, srv.Loop, func() { addr, err = srv.Listen("127.0.0.1:0") })
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	s := &Server{
		Client:     newClient(t, "http://"+addr.String()),
		Loop:       srv.Loop,
		HTTPServer: srv,
		Addr:       addr.String(),
	}
	t.Cleanup(s.close)
	return s
}

func (s *Server) close() {
	s.transport.CloseIdleConnections()
	if err := run(s.Loop, s.HTTPServer.Close, Watchdog); err != nil {
		s.t.Errorf("close the server: %v", err)
	}
}

// Do runs fn on the server's loop (see the package function Do).
func (s *Server) Do(fn func()) {
	s.t.Helper()
	Do(s.t, s.Loop, fn)
}

// WaitFor waits for cond, evaluated on the server's loop (see the package
// function WaitFor).
func (s *Server) WaitFor(cond func() bool, what string) {
	s.t.Helper()
	WaitFor(s.t, s.Loop, cond, what)
}

// DialRaw opens a plain TCP connection to the server (see RawConn).
func (s *Server) DialRaw() *RawConn {
	s.t.Helper()
	return DialRaw(s.t, s.Addr)
}

// With returns s reporting to t, for subtests sharing one server: a
// failing Fetch must stop the subtest that made it, from that subtest's
// goroutine. The server, its loop and its cleanup stay with the test that
// started it.
func (s *Server) With(t testing.TB) *Server {
	c := *s
	c.Client = s.Client.With(t)
	return &c
}
