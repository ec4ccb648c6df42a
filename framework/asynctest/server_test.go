package asynctest_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"chat/framework/asynctest"
	"chat/framework/concurrent"
	"chat/framework/httpserver"
	"chat/framework/ioloop"
	"chat/framework/web"
	"chat/framework/websocket"
)

// echoRequest answers with what it got, and a redirect for /away.
func echoRequest(w *httpserver.ResponseWriter, r *httpserver.Request) {
	if r.Path == "/away" {
		w.Header().Set("Location", "/here")
		w.WriteHeader(302)
		w.Finish()
		return
	}
	w.Header().Set("X-Method", r.Method)
	fmt.Fprintf(w, "%s %s %s %s", r.Method, r.Path, r.Header.Get("X-Test"), r.Body)
	w.Finish()
}

func TestFetch(t *testing.T) {
	s := asynctest.NewServer(t, httpserver.HandlerFunc(echoRequest))
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") || s.URL != "http://"+s.Addr {
		t.Fatalf("URL %q, Addr %q", s.URL, s.Addr)
	}
	for _, tc := range []struct {
		name                   string
		method, path, body     string
		header                 []string
		wantStatus             int
		wantBody, wantLocation string
	}{
		{name: "GET", method: "GET", path: "/a", wantStatus: 200, wantBody: "GET /a  "},
		{name: "POST with a body and a header", method: "POST", path: "/b", body: "payload", header: []string{"X-Test: yes"},
			wantStatus: 200, wantBody: "POST /b yes payload"},
		{name: "a redirect is not followed", method: "GET", path: "/away", wantStatus: 302, wantLocation: "/here"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.With(t).Fetch(tc.method, tc.path, tc.body, tc.header...)
			if r.Status != tc.wantStatus || r.Body != tc.wantBody || r.Header.Get("Location") != tc.wantLocation {
				t.Fatalf("%s %s: %d %q %v", tc.method, tc.path, r.Status, r.Body, r.Header)
			}
		})
	}
}

// A malformed header line fails the Fetch that was given it, and a
// connection refused fails the Fetch too, naming the request.
func TestFetchFailures(t *testing.T) {
	s := asynctest.NewServer(t, httpserver.HandlerFunc(echoRequest))
	ft := runFake(t, func(ft *fakeT) { s.With(ft).Fetch("GET", "/", "", "no colon") })
	if !ft.fatal || !strings.Contains(ft.report(), `header "no colon" is not a "Name: value" line`) {
		t.Fatalf("reported %q", ft.report())
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	ft = runFake(t, func(ft *fakeT) { asynctest.NewClient(ft, "http://"+closed).Get("/gone") })
	if !ft.fatal || !strings.Contains(ft.report(), "GET /gone: ") {
		t.Fatalf("reported %q", ft.report())
	}
}

// StartApp builds the application on its loop and serves it; App is set.
func TestStartApp(t *testing.T) {
	s := asynctest.StartApp(t, web.Config{
		DisableXSRF: true,
		Routes: []web.Spec{{Name: "hello", Pattern: "/hello/{name}", New: web.Func(func(c *web.Context) {
			c.Loop().AssertOnLoop()
			fmt.Fprintf(c, "hello %s", c.Param("name"))
		})}},
	})
	if s.App == nil || s.App.Loop() != s.Loop {
		t.Fatalf("App %v on loop %p, server loop %p", s.App, s.App.Loop(), s.Loop)
	}
	path, err := s.App.Reverse("hello", "ann")
	if err != nil {
		t.Fatal(err)
	}
	if r := s.Get(path); r.Status != 200 || r.Body != "hello ann" {
		t.Fatalf("GET %s: %d %q", path, r.Status, r.Body)
	}
	if r := s.Get("/nowhere"); r.Status != 404 {
		t.Fatalf("GET /nowhere: %d", r.Status)
	}
}

// StartAppFunc runs build on the given loop.
func TestStartAppFuncBuildsOnTheLoop(t *testing.T) {
	l := asynctest.Start(t)
	var builtOn *ioloop.Loop
	s := asynctest.StartAppFunc(t, l, func(l *ioloop.Loop) (*web.Application, error) {
		l.AssertOnLoop()
		builtOn = l
		return web.NewApplication(web.Config{Loop: l, Routes: []web.Spec{{Pattern: "/", New: web.Func(func(c *web.Context) { c.WriteString("home") })}}})
	})
	if builtOn != l || s.Loop != l {
		t.Fatalf("built on %p, served on %p, want %p", builtOn, s.Loop, l)
	}
	if r := s.Get("/"); r.Body != "home" {
		t.Fatalf("GET /: %d %q", r.Status, r.Body)
	}
}

// A build error fails the test with it.
func TestStartAppFuncReportsABuildError(t *testing.T) {
	ft := runFake(t, func(ft *fakeT) {
		asynctest.StartAppFunc(ft, nil, func(*ioloop.Loop) (*web.Application, error) { return nil, errors.New("no config") })
	})
	if !ft.fatal || !strings.Contains(ft.report(), "build the application: no config") {
		t.Fatalf("reported %q", ft.report())
	}
}

// Listen serves a server the test configured, on the loop it gives.
func TestListenKeepsTheServersSettings(t *testing.T) {
	l := asynctest.Start(t)
	s := asynctest.Listen(t, &httpserver.Server{Loop: l, Handler: httpserver.HandlerFunc(echoRequest), IdleTimeout: 50 * time.Millisecond})
	raw := s.DialRaw()
	raw.Send("GET /1 HTTP/1.1\r\nHost: x\r\n\r\n")
	if r := raw.ReadResponse("GET"); r.Status != 200 || r.Body != "GET /1  " {
		t.Fatalf("first answer: %d %q", r.Status, r.Body)
	}
	start := time.Now()
	if rest := raw.ReadUntilClosed(); rest != "" {
		t.Fatalf("after the idle timeout, the server sent %q", rest)
	}
	if elapsed := time.Since(start); elapsed > 3*50*time.Millisecond+100*time.Millisecond {
		t.Fatalf("closed after %v, the idle timeout is 50ms", elapsed)
	}
}

// Two requests on one RawConn, pipelined, are answered in order; after
// Connection: close, ReadUntilClosed sees the end.
func TestRawConnKeepAliveAndPipelining(t *testing.T) {
	s := asynctest.NewServer(t, httpserver.HandlerFunc(echoRequest))
	raw := s.DialRaw()
	raw.Send("GET /1 HTTP/1.1\r\nHost: x\r\n\r\nHEAD /2 HTTP/1.1\r\nHost: x\r\n\r\n")
	if r := raw.ReadResponse("GET"); r.Body != "GET /1  " {
		t.Fatalf("first: %d %q", r.Status, r.Body)
	}
	if r := raw.ReadResponse("HEAD"); r.Status != 200 || r.Header.Get("X-Method") != "HEAD" || r.Body != "" {
		t.Fatalf("second: %d %v %q", r.Status, r.Header, r.Body)
	}
	raw.Send("GET /3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if rest := raw.ReadUntilClosed(); !strings.HasPrefix(rest, "HTTP/1.1 200") || !strings.HasSuffix(rest, "GET /3  ") {
		t.Fatalf("third: %q", rest)
	}
}

// At cleanup the server is closed and then the loop: the port refuses
// connections and the loop no longer runs.
func TestCleanupClosesServerThenLoop(t *testing.T) {
	var s *asynctest.Server
	var closedFirst bool
	runFake(t, func(ft *fakeT) {
		s = asynctest.NewServer(ft, httpserver.HandlerFunc(echoRequest))
		s.Get("/") // a keep-alive connection for cleanup to close
		// Registered last, so it runs first: the server is still up.
		ft.Cleanup(func() {
			c, err := net.Dial("tcp", s.Addr)
			if closedFirst = err != nil; !closedFirst {
				c.Close()
			}
		})
	})
	if closedFirst {
		t.Fatal("the server was closed before cleanups registered after it")
	}
	if _, err := net.DialTimeout("tcp", s.Addr, time.Second); err == nil {
		t.Fatal("the server still accepts after cleanup")
	}
	if s.Loop.Running() {
		t.Fatal("the loop still runs after cleanup")
	}
}

// echoWS echoes every message; "bye" closes with 4000.
type echoWS struct{}

func (echoWS) OnOpen(*websocket.Conn) {}
func (echoWS) OnMessage(c *websocket.Conn, op websocket.Opcode, data []byte) {
	if string(data) == "bye" {
		c.Close(4000, "asked to")
		return
	}
	c.WriteMessage(op, data)
}
func (echoWS) OnClose(*websocket.Conn, int, string) {}

func startWS(t *testing.T, h websocket.Handler) *asynctest.Server {
	return asynctest.NewServer(t, httpserver.HandlerFunc(func(w *httpserver.ResponseWriter, r *httpserver.Request) {
		if r.Path == "/refuse" {
			w.WriteHeader(403)
			w.Finish()
			return
		}
		websocket.Upgrade(w, r, h, nil)
	}))
}

func TestDialWebSocket(t *testing.T) {
	s := startWS(t, echoWS{})
	ws := s.DialWebSocket("/ws")
	ws.Send("hello")
	if got := ws.ReadText(); got != "hello" {
		t.Fatalf("echo %q", got)
	}
	ws.SendBinary([]byte{1, 2, 3})
	if m := ws.Read(); m.Op != websocket.OpBinary || string(m.Data) != "\x01\x02\x03" {
		t.Fatalf("binary echo %v", m)
	}
	ws.Send("bye")
	if code, reason := ws.WaitClosed(); code != 4000 || reason != "asked to" {
		t.Fatalf("closed with %d %q, want 4000", code, reason)
	}
	var closeErr *websocket.CloseError
	if _, err := ws.ReadWithin(time.Second); !errors.As(err, &closeErr) || closeErr.Code != 4000 {
		t.Fatalf("ReadWithin after the close: %v", err)
	}
}

// Messages that arrive before the test reads queue in order; a close
// after them does not hide them.
func TestWSClientQueuesMessagesUntilRead(t *testing.T) {
	s := startWS(t, echoWS{})
	ws := s.DialWebSocket("/ws")
	for i := range 3 {
		ws.Send(fmt.Sprint(i))
	}
	ws.Send("bye")
	ws.WaitClosed()
	for i := range 3 {
		if got := ws.ReadText(); got != fmt.Sprint(i) {
			t.Fatalf("message %d: %q", i, got)
		}
	}
}

// ReadWithin on a silent connection gives up at its limit, no sooner and
// well before three times it, with concurrent.ErrTimeout.
func TestWSClientReadWithinTimesOut(t *testing.T) {
	ws := startWS(t, echoWS{}).DialWebSocket("/ws")
	for _, limit := range []time.Duration{30 * time.Millisecond, 90 * time.Millisecond} {
		start := time.Now()
		_, err := ws.ReadWithin(limit)
		elapsed := time.Since(start)
		if !errors.Is(err, concurrent.ErrTimeout) {
			t.Fatalf("ReadWithin(%v): %v", limit, err)
		}
		if elapsed < limit || elapsed > 3*limit {
			t.Fatalf("ReadWithin(%v) gave up after %v", limit, elapsed)
		}
	}
}

func TestDialWebSocketRefused(t *testing.T) {
	s := startWS(t, echoWS{})
	_, err := s.DialWebSocketOptions("/refuse", websocket.DialOptions{})
	var refused *websocket.HandshakeError
	if !errors.As(err, &refused) || refused.Status != 403 {
		t.Fatalf("dial /refuse: %v, want a 403 HandshakeError", err)
	}
	ft := runFake(t, func(ft *fakeT) { s.With(ft).DialWebSocket("/refuse") })
	if !ft.fatal || !strings.Contains(ft.report(), "dial WebSocket /refuse") {
		t.Fatalf("reported %q", ft.report())
	}
}

// closeRecorder records the server side's close, loop-owned.
type closeRecorder struct {
	echoWS
	code   int
	reason string
}

func (r *closeRecorder) OnClose(_ *websocket.Conn, code int, reason string) {
	r.code, r.reason = code, reason
}

// A WebSocket a subtest leaves open is closed, normally, by the subtest's
// cleanup, while the shared server runs on.
func TestWSClientLeftOpenIsClosedAtCleanup(t *testing.T) {
	rec := &closeRecorder{}
	s := startWS(t, rec)
	t.Run("leaves it open", func(t *testing.T) {
		ws := s.With(t).DialWebSocket("/ws")
		ws.Send("ping")
		ws.ReadText()
	})
	s.WaitFor(func() bool { return rec.code != 0 }, "the server side sees the close")
	var code int
	var reason string
	s.Do(func() { code, reason = rec.code, rec.reason })
	if code != websocket.CloseNormal || reason != "test over" {
		t.Fatalf("server side closed with %d %q, want 1000 %q", code, reason, "test over")
	}
}

// An io.Reader check that Response bodies are read in full, whatever size.
func TestFetchReadsLargeBodies(t *testing.T) {
	big := strings.Repeat("x", 1<<20)
	s := asynctest.NewServer(t, httpserver.HandlerFunc(func(w *httpserver.ResponseWriter, r *httpserver.Request) {
		io.WriteString(w, big)
		w.Finish()
	}))
	if r := s.Get("/", "Accept-Encoding: identity"); len(r.Body) != len(big) {
		t.Fatalf("body of %d bytes, want %d", len(r.Body), len(big))
	}
}
