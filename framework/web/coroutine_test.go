package web_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
	"chat/framework/ioloop/looptest"
	"chat/framework/web"
)

// fetch GETs path and returns the status and body.
func fetch(t *testing.T, app *testApp, path string) (int, string) {
	t.Helper()
	resp, err := app.client.Get(app.base + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestCoroutineHandlerAnswers is a table of how a coroutine handler's body
// ends and what the client gets; OnFinish runs once in every case.
func TestCoroutineHandlerAnswers(t *testing.T) {
	lookUp := func(c *web.Context, co *ioloop.Co) (string, error) {
		return ioloop.Await(co, web.RunInExecutor(c, func() (string, error) { return "ada", nil }))
	}
	tests := []struct {
		name       string
		body       func(c *web.Context, co *ioloop.Co) error
		wantStatus int
		wantBody   string // substring
		wantLog    string // substring of the application's log
	}{
		{"awaits the executor, writes, returns nil", func(c *web.Context, co *ioloop.Co) error {
			name, err := lookUp(c, co)
			if err != nil {
				return err
			}
			fmt.Fprintf(c, "hello %s", name)
			return nil
		}, 200, "hello ada", ""},
		{"finishes itself, then returns nil", func(c *web.Context, co *ioloop.Co) error {
			name, _ := lookUp(c, co)
			c.WriteJSON(map[string]string{"name": name})
			c.Finish()
			return nil
		}, 200, `"name":"ada"`, ""},
		{"returns nil without awaiting", func(c *web.Context, co *ioloop.Co) error {
			c.WriteString("at once")
			return nil
		}, 200, "at once", ""},
		{"returns an error", func(c *web.Context, co *ioloop.Co) error {
			lookUp(c, co)
			return errors.New("database unhappy")
		}, 500, "", "database unhappy"},
		{"returns an HTTPError", func(c *web.Context, co *ioloop.Co) error {
			lookUp(c, co)
			return &web.HTTPError{Status: http.StatusNotFound, Message: "no such room"}
		}, 404, "no such room", ""},
		{"executor work fails", func(c *web.Context, co *ioloop.Co) error {
			_, err := ioloop.Await(co, web.RunInExecutor(c, func() (int, error) { return 0, errors.New("disk full") }))
			return err
		}, 500, "", "disk full"},
		{"panics after an await", func(c *web.Context, co *ioloop.Co) error {
			lookUp(c, co)
			coroutineHandlerPanics()
			return nil
		}, 500, "", "coroutineHandlerPanics"},
		{"panics before any await", func(c *web.Context, co *ioloop.Co) error {
			coroutineHandlerPanics()
			return nil
		}, 500, "", "coroutineHandlerPanics"},
		{"panics after streaming began", func(c *web.Context, co *ioloop.Co) error {
			c.WriteString("partial")
			c.Flush()
			lookUp(c, co)
			coroutineHandlerPanics()
			return nil
		}, 200, "partial", "coroutineHandlerPanics"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			logger, logs := bufferLogger()
			probe := newLifecycleProbe(func(c *web.Context) {
				c.Go(func(co *ioloop.Co) error { return tc.body(c, co) })
			})
			app := startApp(t, web.Config{Logger: logger, Routes: []web.Spec{
				{Pattern: "/co", New: func() web.Handler { return probe }},
			}})
			status, body := fetch(t, app, "/co")
			if status != tc.wantStatus || !strings.Contains(body, tc.wantBody) {
				t.Fatalf("got %d %q; want %d containing %q", status, body, tc.wantStatus, tc.wantBody)
			}
			if !strings.Contains(logs.String(), tc.wantLog) {
				t.Fatalf("log lacks %q:\n%s", tc.wantLog, logs.String())
			}
			looptest.Wait(t, probe.settled, "a lifecycle hook")
			var finishes, closes, coroutines int
			looptest.Do(t, app.Loop(), func() { finishes, closes = probe.finishes, probe.closes })
			coroutines = app.Loop().Stats().Coroutines
			if finishes != 1 || closes != 0 || coroutines != 0 {
				t.Fatalf("OnFinish %d, OnConnectionClose %d, live coroutines %d; want 1, 0, 0", finishes, closes, coroutines)
			}
		})
	}
}

func coroutineHandlerPanics() { panic("coroutine handler exploded") }

// TestCoroutineHandlerClientLeaves: the client leaving while the coroutine
// waits runs OnConnectionClose once (never OnFinish) and cancels the
// coroutine, whose pending Await returns ErrCancelled.
func TestCoroutineHandlerClientLeaves(t *testing.T) {
	waits := []struct {
		name string
		wait func(c *web.Context, co *ioloop.Co) error
	}{
		{"Sleep", func(c *web.Context, co *ioloop.Co) error { return ioloop.Sleep(co, time.Hour) }},
		{"Await of a room's future", func(c *web.Context, co *ioloop.Co) error {
			_, err := ioloop.Await(co, web.Guard(c, concurrent.New[int]()))
			return err
		}},
	}
	for _, w := range waits {
		t.Run(w.name, func(t *testing.T) {
			awaitErr := make(chan error, 1)
			probe := newLifecycleProbe(func(c *web.Context) {
				c.Go(func(co *ioloop.Co) error {
					err := w.wait(c, co)
					awaitErr <- err
					c.WriteString("too late") // dropped silently: the client left
					return err
				})
			})
			app := startApp(t, web.Config{Logger: quietLogger(), Routes: []web.Spec{
				{Pattern: "/co", New: func() web.Handler { return probe }},
			}})
			conn, err := net.Dial("tcp", app.addr)
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(conn, "GET /co HTTP/1.1\r\nHost: x\r\n\r\n")
			looptest.Wait(t, probe.handled, "Get to return")
			conn.Close()
			if err := looptest.Wait(t, awaitErr, "the pending Await to return"); !errors.Is(err, concurrent.ErrCancelled) {
				t.Fatalf("Await returned %v; want ErrCancelled", err)
			}
			for range 3 { // let any late close report run
				looptest.Do(t, app.Loop(), func() {})
			}
			var finishes, closes int
			looptest.Do(t, app.Loop(), func() { finishes, closes = probe.finishes, probe.closes })
			if finishes != 0 || closes != 1 || app.Loop().Stats().Coroutines != 0 {
				t.Fatalf("OnFinish %d, OnConnectionClose %d, coroutines %d; want 0, 1, 0", finishes, closes, app.Loop().Stats().Coroutines)
			}
		})
	}
}

// TestCoroutineHandlerTimeout: the route's HandlerTimeout answers 503
// and cancels the coroutine.
func TestCoroutineHandlerTimeout(t *testing.T) {
	const timeout = 80 * time.Millisecond
	awaitErr := make(chan error, 1)
	app := startApp(t, web.Config{Logger: quietLogger(), Routes: []web.Spec{{
		Pattern:       "/slow",
		RouteSettings: web.RouteSettings{HandlerTimeout: timeout},
		New: web.Func(func(c *web.Context) {
			c.Go(func(co *ioloop.Co) error {
				err := ioloop.Sleep(co, time.Hour)
				awaitErr <- err
				return err
			})
		}),
	}}})
	start := time.Now()
	status, _ := fetch(t, app, "/slow")
	elapsed := time.Since(start)
	if status != http.StatusServiceUnavailable || elapsed < timeout || elapsed > 3*timeout {
		t.Fatalf("got %d after %v; want 503 after %v..%v", status, elapsed, timeout, 3*timeout)
	}
	if err := looptest.Wait(t, awaitErr, "the coroutine to be cancelled"); !errors.Is(err, concurrent.ErrCancelled) {
		t.Fatalf("Sleep returned %v; want ErrCancelled", err)
	}
}

// asyncPreparing is a handler whose PrepareAsync the table supplies. ran
// records what ran, in order; it is loop-owned.
type asyncPreparing struct {
	prepare func(h *asyncPreparing, c *web.Context) *concurrent.Future[struct{}]
	user    string
	ran     *[]string
	closed  chan struct{}
}

func (h *asyncPreparing) PrepareAsync(c *web.Context) *concurrent.Future[struct{}] {
	*h.ran = append(*h.ran, "PrepareAsync")
	return h.prepare(h, c)
}

func (h *asyncPreparing) Get(c *web.Context) {
	*h.ran = append(*h.ran, "Get")
	fmt.Fprintf(c, "hello %s", h.user)
}

func (h *asyncPreparing) OnFinish(*web.Context) { *h.ran = append(*h.ran, "OnFinish") }

func (h *asyncPreparing) OnConnectionClose(*web.Context) {
	*h.ran = append(*h.ran, "OnConnectionClose")
	close(h.closed)
}

// TestPrepareAsync: the method runs only after the asynchronous Prepare
// succeeds; an error, a panic or an answer in Prepare skip it.
func TestPrepareAsync(t *testing.T) {
	loadUser := func(h *asyncPreparing, c *web.Context) *concurrent.Future[struct{}] {
		return c.Go(func(co *ioloop.Co) error {
			user, err := ioloop.Await(co, web.RunInExecutor(c, func() (string, error) { return "ada", nil }))
			h.user = user
			return err
		})
	}
	tests := []struct {
		name       string
		prepare    func(h *asyncPreparing, c *web.Context) *concurrent.Future[struct{}]
		wantStatus int
		wantBody   string
		wantRan    string
	}{
		{"coroutine loads the user, then Get", loadUser, 200, "hello ada", "PrepareAsync,Get,OnFinish"},
		{"plain executor future", func(h *asyncPreparing, c *web.Context) *concurrent.Future[struct{}] {
			return web.RunInExecutor(c, func() (struct{}, error) { return struct{}{}, nil })
		}, 200, "hello ", "PrepareAsync,Get,OnFinish"},
		{"already resolved future", func(h *asyncPreparing, c *web.Context) *concurrent.Future[struct{}] {
			h.user = "bob"
			return concurrent.Resolved(struct{}{})
		}, 200, "hello bob", "PrepareAsync,Get,OnFinish"},
		{"coroutine redirects", func(h *asyncPreparing, c *web.Context) *concurrent.Future[struct{}] {
			return c.Go(func(co *ioloop.Co) error {
				ioloop.Sleep(co, time.Millisecond)
				c.Redirect("/login", 0)
				return nil
			})
		}, 302, "", "PrepareAsync,OnFinish"},
		{"coroutine fails", func(h *asyncPreparing, c *web.Context) *concurrent.Future[struct{}] {
			return c.Go(func(co *ioloop.Co) error {
				ioloop.Sleep(co, time.Millisecond)
				return &web.HTTPError{Status: http.StatusForbidden}
			})
		}, 403, "", "PrepareAsync,OnFinish"},
		{"plain future fails", func(h *asyncPreparing, c *web.Context) *concurrent.Future[struct{}] {
			return web.RunInExecutor(c, func() (struct{}, error) { return struct{}{}, errors.New("no session store") })
		}, 500, "", "PrepareAsync,OnFinish"},
		{"coroutine panics", func(h *asyncPreparing, c *web.Context) *concurrent.Future[struct{}] {
			return c.Go(func(co *ioloop.Co) error {
				ioloop.Sleep(co, time.Millisecond)
				coroutineHandlerPanics()
				return nil
			})
		}, 500, "", "PrepareAsync,OnFinish"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ran []string
			app := startApp(t, web.Config{Logger: quietLogger(), Routes: []web.Spec{{Pattern: "/p",
				New: func() web.Handler {
					return &asyncPreparing{prepare: tc.prepare, ran: &ran, closed: make(chan struct{})}
				}}}})
			status, body := fetch(t, app, "/p")
			if status != tc.wantStatus || !strings.Contains(body, tc.wantBody) {
				t.Fatalf("got %d %q; want %d containing %q", status, body, tc.wantStatus, tc.wantBody)
			}
			var got string
			looptest.Do(t, app.Loop(), func() { got = strings.Join(ran, ",") })
			if got != tc.wantRan {
				t.Fatalf("ran %s; want %s", got, tc.wantRan)
			}
		})
	}
}

// TestPrepareAsyncClientLeaves: the client leaving while PrepareAsync's
// coroutine waits cancels it, runs OnConnectionClose once and never the
// method.
func TestPrepareAsyncClientLeaves(t *testing.T) {
	var ran []string
	awaitErr := make(chan error, 1)
	h := &asyncPreparing{ran: &ran, closed: make(chan struct{}), prepare: func(h *asyncPreparing, c *web.Context) *concurrent.Future[struct{}] {
		return c.Go(func(co *ioloop.Co) error {
			err := ioloop.Sleep(co, time.Hour)
			awaitErr <- err
			return err
		})
	}}
	app := startApp(t, web.Config{Logger: quietLogger(), Routes: []web.Spec{{Pattern: "/p", New: func() web.Handler { return h }}}})
	conn, err := net.Dial("tcp", app.addr)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(conn, "GET /p HTTP/1.1\r\nHost: x\r\n\r\n")
	for {
		var started bool
		looptest.Do(t, app.Loop(), func() { started = len(ran) > 0 })
		if started {
			break
		}
		time.Sleep(time.Millisecond)
	}
	conn.Close()
	looptest.Wait(t, h.closed, "OnConnectionClose")
	if err := looptest.Wait(t, awaitErr, "the Prepare coroutine to be cancelled"); !errors.Is(err, concurrent.ErrCancelled) {
		t.Fatalf("Sleep returned %v; want ErrCancelled", err)
	}
	var got string
	looptest.Do(t, app.Loop(), func() { got = strings.Join(ran, ",") })
	if got != "PrepareAsync,OnConnectionClose" {
		t.Fatalf("ran %s; want PrepareAsync,OnConnectionClose", got)
	}
}

// syncPrepareGo misuses Go in a synchronous Prepare.
type syncPrepareGo struct{ getRan bool }

func (h *syncPrepareGo) Prepare(c *web.Context) {
	c.Go(func(co *ioloop.Co) error { return nil })
}

func (h *syncPrepareGo) Get(c *web.Context) { h.getRan = true }

// TestGoInSyncPrepareIsAnError: the method would run before the
// coroutine is done, so Go refuses (a 500) and the method never runs.
func TestGoInSyncPrepareIsAnError(t *testing.T) {
	h := &syncPrepareGo{}
	app := startApp(t, web.Config{Logger: quietLogger(), Routes: []web.Spec{{Pattern: "/p", New: func() web.Handler { return h }}}})
	if status, _ := fetch(t, app, "/p"); status != 500 {
		t.Fatalf("status %d; want 500", status)
	}
	looptest.Do(t, app.Loop(), func() {
		if h.getRan {
			t.Error("Get ran")
		}
	})
}
