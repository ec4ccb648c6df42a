package web_test

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"chat/framework/ioloop"
	"chat/framework/ioloop/looptest"
	"chat/framework/web"
)

// lifecycleHandler reports each hook it runs to events.
type lifecycleHandler struct {
	events   chan<- string
	redirect bool // Prepare finishes the request
}

func (h *lifecycleHandler) Prepare(c *web.Context) {
	h.events <- "prepare"
	if h.redirect {
		c.Redirect("/elsewhere", http.StatusSeeOther)
	}
}

func (h *lifecycleHandler) Get(c *web.Context) {
	h.events <- "get"
	c.WriteString("ok")
}

func (h *lifecycleHandler) OnFinish(*web.Context)          { h.events <- "finish" }
func (h *lifecycleHandler) OnConnectionClose(*web.Context) { h.events <- "connection close" }

func expectEvents(t *testing.T, events <-chan string, want ...string) {
	t.Helper()
	for _, w := range want {
		if got := looptest.Wait(t, events, w); got != w {
			t.Fatalf("event %q, want %q (sequence %q)", got, w, want)
		}
	}
}

// expectNoEvent fails if an event is pending once the loop has run
// everything queued before this call, plus one more turn for callbacks
// those queued.
func expectNoEvent(t *testing.T, l *ioloop.Loop, events <-chan string) {
	t.Helper()
	looptest.Do(t, l, func() {})
	looptest.Do(t, l, func() {})
	select {
	case e := <-events:
		t.Fatalf("unexpected event %q", e)
	default:
	}
}

func TestLifecycleOrder(t *testing.T) {
	events := make(chan string, 10)
	app := startApp(t, web.Config{Routes: []web.Spec{
		{Pattern: "/plain", New: func() web.Handler { return &lifecycleHandler{events: events} }},
		{Pattern: "/redirect", New: func() web.Handler { return &lifecycleHandler{events: events, redirect: true} }},
	}})

	if got := app.do(t, "GET", "/plain", ""); got.status != 200 || got.body != "ok" {
		t.Fatalf("GET: %d %q", got.status, got.body)
	}
	expectEvents(t, events, "prepare", "get", "finish")

	if got := app.do(t, "GET", "/redirect", ""); got.status != 303 || got.header.Get("Location") != "/elsewhere" {
		t.Fatalf("Prepare redirect: %d %q", got.status, got.header.Get("Location"))
	}
	expectEvents(t, events, "prepare", "finish") // the method is skipped

	if got := app.do(t, "POST", "/plain", ""); got.status != 405 {
		t.Fatalf("POST: %d", got.status)
	}
	// 405 comes before Prepare; like every finished request, it still
	// gets OnFinish, as in Tornado.
	expectEvents(t, events, "finish")
	expectNoEvent(t, app.Loop(), events)
}

// parkedHandler is a long poll: it never finishes by itself, and hands its
// Context out so the test can try to finish it late.
type parkedHandler struct {
	lifecycleHandler
	parked chan<- *web.Context
}

func (h *parkedHandler) Get(c *web.Context) {
	c.Async()
	h.parked <- c
}

func TestParkedRequestGetsOnConnectionCloseNeverOnFinish(t *testing.T) {
	events := make(chan string, 10)
	parked := make(chan *web.Context, 1)
	app := startApp(t, web.Config{Routes: []web.Spec{
		{Pattern: "/poll", New: func() web.Handler {
			return &parkedHandler{lifecycleHandler: lifecycleHandler{events: events}, parked: parked}
		}},
	}})
	conn, err := net.Dial("tcp", app.addr)
	if err != nil {
		t.Fatal(err)
	}
	conn.Write([]byte("GET /poll HTTP/1.1\r\nHost: x\r\n\r\n"))
	c := looptest.Wait(t, parked, "parked request")
	expectEvents(t, events, "prepare")

	conn.Close()
	expectEvents(t, events, "connection close")

	// Finishing after the client left is harmless and runs no OnFinish.
	looptest.Do(t, app.Loop(), func() {
		c.WriteString("too late")
		c.Finish()
		if !c.Finished() {
			t.Error("Finished() = false after the client left")
		}
	})
	expectNoEvent(t, app.Loop(), events)
}

func TestAsyncFinishFromTimerAndExecutor(t *testing.T) {
	events := make(chan string, 10)
	app := startApp(t, web.Config{Routes: []web.Spec{
		{Pattern: "/timer", New: web.Func(func(c *web.Context) {
			c.Async()
			c.Loop().CallLater(5*time.Millisecond, func() {
				c.WriteString("from a timer")
				c.Finish()
			})
		})},
		{Pattern: "/executor/{n}", New: web.Func(func(c *web.Context) {
			n := c.Param("n") // copied out: the function below runs off the loop
			web.RunInExecutor(c, func() (string, error) {
				if n == "fail" {
					return "", errors.New("disk on fire")
				}
				return strings.Repeat("x", len(n)), nil
			}).OnResult(func(s string, err error) {
				if err != nil {
					c.Fail(err)
					return
				}
				c.WriteString(s)
				c.Finish()
			})
		})},
		{Pattern: "/forgot", New: func() web.Handler { return &lifecycleHandler{events: events} }},
	}})
	if got := app.do(t, "GET", "/timer", ""); got.status != 200 || got.body != "from a timer" {
		t.Errorf("timer: %d %q", got.status, got.body)
	}
	if got := app.do(t, "GET", "/executor/abc", ""); got.status != 200 || got.body != "xxx" {
		t.Errorf("executor: %d %q", got.status, got.body)
	}
	if got := app.do(t, "GET", "/executor/fail", ""); got.status != 500 || strings.Contains(got.body, "disk") {
		t.Errorf("executor error: %d %q", got.status, got.body)
	}
	// A synchronous handler that does not call Finish is finished for it.
	if got := app.do(t, "GET", "/forgot", ""); got.body != "ok" {
		t.Errorf("auto-finish: %q", got.body)
	}
	expectEvents(t, events, "prepare", "get", "finish")
}

func TestFullExecutorQueueIs503(t *testing.T) {
	l := looptest.Start(t)
	tiny := l.NewExecutor("tiny", 1, 1)
	release := make(chan struct{})
	submitted := make(chan struct{}, 4)
	cfg := web.Config{Loop: l, Executor: tiny, Routes: []web.Spec{
		{Pattern: "/slow", New: web.Func(func(c *web.Context) {
			web.RunInExecutor(c, func() (struct{}, error) {
				<-release
				return struct{}{}, nil
			}).OnResult(func(_ struct{}, err error) {
				if err != nil {
					c.Fail(err)
					return
				}
				c.Finish()
			})
			submitted <- struct{}{}
		})},
	}}
	app, err := web.NewApplication(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := app.NewServer()
	var addr net.Addr
	looptest.Do(t, l, func() { addr, err = srv.Listen("127.0.0.1:0") })
	if err != nil {
		t.Fatal(err)
	}
	defer l.AddCallback(srv.Close)
	defer close(release)

	// Two requests fill the worker and the one queue slot; each holds its
	// own connection.
	for range 2 {
		conn, err := net.Dial("tcp", addr.String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.Write([]byte("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"))
		looptest.Wait(t, submitted, "submitted")
	}
	conn, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write([]byte("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"))
	conn.SetReadDeadline(time.Now().Add(looptest.Watchdog))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("third request: %d, want 503", resp.StatusCode)
	}
}
