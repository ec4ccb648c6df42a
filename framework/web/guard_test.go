package web_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"chat/framework/concurrent"
	"chat/framework/ioloop/looptest"
	"chat/framework/web"
)

// syncBuffer is a log destination the loop writes and the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func bufferLogger() (*slog.Logger, *syncBuffer) {
	buf := &syncBuffer{}
	return slog.New(slog.NewTextHandler(buf, nil)), buf
}

// answerWithin is how long a test waits for an answer that must come
// promptly; a request left hanging fails the test after it.
const answerWithin = 3 * time.Second

func continuationPanics() { panic("continuation exploded") }

// TestAsyncContinuationPanicAnswers500: a panic in the continuation of an
// asynchronous handler (a future's callback, a timer) answers the request
// 500 and logs the panic with its stack, instead of leaving the request
// hanging with no answer and no timeout.
func TestAsyncContinuationPanicAnswers500(t *testing.T) {
	tests := []struct {
		name  string
		serve func(c *web.Context)
	}{
		{"RunInExecutor callback", func(c *web.Context) {
			web.RunInExecutor(c, func() (int, error) { return 1, nil }).
				OnResult(func(int, error) { continuationPanics() })
		}},
		{"callback of a Map over RunInExecutor", func(c *web.Context) {
			f := web.RunInExecutor(c, func() (int, error) { return 1, nil })
			concurrent.Map(f, func(v int) (int, error) { return v, nil }).
				OnResult(func(int, error) { continuationPanics() })
		}},
		{"step of a Map over RunInExecutor", func(c *web.Context) {
			f := web.RunInExecutor(c, func() (int, error) { return 1, nil })
			concurrent.Map(f, func(v int) (int, error) { continuationPanics(); return v, nil }).
				OnResult(func(_ int, err error) {
					if err != nil {
						c.Fail(err)
					}
				})
		}},
		{"callback of a Then over RunInExecutor", func(c *web.Context) {
			f := web.RunInExecutor(c, func() (int, error) { return 1, nil })
			concurrent.Then(f, func(v int) *concurrent.Future[int] { return concurrent.Resolved(v) }).
				OnResult(func(int, error) { continuationPanics() })
		}},
		{"callback of a guarded plain future", func(c *web.Context) {
			c.Async()
			f := web.Guard(c, concurrent.New[int]())
			f.OnResult(func(int, error) { continuationPanics() })
			c.Loop().CallLater(time.Millisecond, func() { f.Resolve(1) })
		}},
		{"guarded timer", func(c *web.Context) {
			c.Async()
			c.Loop().CallLater(time.Millisecond, c.Guarded(continuationPanics))
		}},
		{"guarded timer after streaming began", func(c *web.Context) {
			c.Async()
			c.WriteString("partial")
			c.Flush()
			c.Loop().CallLater(time.Millisecond, c.Guarded(continuationPanics))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			logger, logs := bufferLogger()
			app := startApp(t, web.Config{Logger: logger, Routes: []web.Spec{
				{Pattern: "/async", New: web.Func(tc.serve)},
			}})
			app.client.Timeout = answerWithin
			resp, err := app.client.Get(app.base + "/async")
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			wantStatus := http.StatusInternalServerError
			if strings.Contains(tc.name, "streaming") {
				wantStatus = http.StatusOK // the head is out: the response can only be ended
			}
			if resp.StatusCode != wantStatus {
				t.Fatalf("status %d; want %d", resp.StatusCode, wantStatus)
			}
			if got := logs.String(); !strings.Contains(got, "continuation exploded") || !strings.Contains(got, "continuationPanics") {
				t.Fatalf("the panic was not logged with its stack:\n%s", got)
			}
		})
	}
}

// TestHandlerTimeout: a route's HandlerTimeout answers 503 when an
// asynchronous handler has not finished in time, runs OnFinish once, and
// turns the handler's late answer into a no-op; a route without one (the
// default) waits for its handler. The timeouts differ per route so a
// route cannot pass on another's timer, and each answer must come within
// 3x its timeout.
func TestHandlerTimeout(t *testing.T) {
	type result struct {
		finishes, closes int
		lateErr          error
	}
	tests := []struct {
		name       string
		timeout    time.Duration
		finishIn   time.Duration // when the handler itself finishes
		wantStatus int
	}{
		{"100ms timeout, handler never finishes", 100 * time.Millisecond, 0, 503},
		{"250ms timeout, handler finishes late", 250 * time.Millisecond, 600 * time.Millisecond, 503},
		{"250ms timeout, handler finishes in time", 250 * time.Millisecond, 50 * time.Millisecond, 200},
		{"no timeout (default), handler finishes at 300ms", 0, 300 * time.Millisecond, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			logger, logs := bufferLogger()
			results := make(chan result, 1)
			probe := newLifecycleProbe(func(c *web.Context) {
				c.Async()
				if tc.finishIn > 0 {
					c.Loop().CallLater(tc.finishIn, func() {
						_, err := c.WriteString("done")
						c.Finish()
						results <- result{lateErr: err}
					})
				}
			})
			app := startApp(t, web.Config{Logger: logger, Routes: []web.Spec{{Pattern: "/slow",
				New: func() web.Handler { return probe }, RouteSettings: web.RouteSettings{HandlerTimeout: tc.timeout}}}})
			start := time.Now()
			resp := app.do(t, "GET", "/slow", "")
			elapsed := time.Since(start)
			if resp.status != tc.wantStatus {
				t.Fatalf("status %d; want %d", resp.status, tc.wantStatus)
			}
			bound := tc.timeout
			if tc.wantStatus == 200 {
				bound = tc.finishIn
			}
			if elapsed < bound || elapsed > 3*bound {
				t.Errorf("answered after %v; want between %v and %v", elapsed, bound, 3*bound)
			}
			var got result
			if tc.finishIn > tc.timeout && tc.timeout > 0 {
				got = looptest.Wait(t, results, "the handler's late Finish")
				if got.lateErr == nil {
					t.Error("a write after the timeout reported no error")
				}
				if !strings.Contains(logs.String(), "ignored: the request was already answered") {
					t.Errorf("the late call was not logged:\n%s", logs.String())
				}
			}
			looptest.Do(t, app.Loop(), func() { got.finishes, got.closes = probe.finishes, probe.closes })
			if got.finishes != 1 || got.closes != 0 {
				t.Errorf("OnFinish ran %d times, OnConnectionClose %d; want OnFinish once", got.finishes, got.closes)
			}
		})
	}
}

// TestLateContextCalls is the table of response calls x how the request
// ended: after the handler finished (its own Finish, or the automatic one
// of a handler that forgot Async) a late call is logged as an error with
// its stack and panics in race builds; after the framework answered for
// the handler (handler timeout) it is logged as a warning; after the
// client left it is silent. In every case it does nothing.
func TestLateContextCalls(t *testing.T) {
	calls := []struct {
		name string
		call func(c *web.Context)
	}{
		{"Write", func(c *web.Context) { c.Write([]byte("x")) }},
		{"WriteString", func(c *web.Context) { c.WriteString("x") }},
		{"WriteJSON", func(c *web.Context) { c.WriteJSON(1) }},
		{"Flush", func(c *web.Context) { c.Flush() }},
		{"Finish", (*web.Context).Finish},
		{"SendError", func(c *web.Context) { c.SendError(500) }},
		{"Fail", func(c *web.Context) { c.Fail(io.EOF) }},
		{"Redirect", func(c *web.Context) { c.Redirect("/x", 0) }},
		{"Render", func(c *web.Context) {
			c.Render(web.ComponentFunc(func(ctx context.Context, w io.Writer) error { return nil }))
		}},
	}
	const (
		silent  = "silent"
		warning = "level=WARN msg=\"web: Context.%s ignored"
		bug     = "level=ERROR msg=\"web: Context.%s called after the request finished"
	)
	endings := []struct {
		name         string
		inGet        func(c *web.Context)
		timeout      time.Duration
		clientLeaves bool
		want         string
	}{
		{name: "handler forgot Async", inGet: func(c *web.Context) {}, want: bug},
		{name: "handler finished", inGet: (*web.Context).Finish, want: bug},
		{name: "handler timed out", inGet: (*web.Context).Async, timeout: 20 * time.Millisecond, want: warning},
		{name: "client left", inGet: (*web.Context).Async, clientLeaves: true, want: silent},
	}
	for _, end := range endings {
		t.Run(end.name, func(t *testing.T) {
			logger, logs := bufferLogger()
			probe := newLifecycleProbe(end.inGet)
			l := looptest.Start(t)
			app, err := web.NewApplication(web.Config{Loop: l, Logger: logger, Routes: []web.Spec{{Pattern: "/probe",
				New: func() web.Handler { return probe }, RouteSettings: web.RouteSettings{HandlerTimeout: end.timeout}}}})
			if err != nil {
				t.Fatal(err)
			}
			conn := dialSmallWindow(t, listenOn(t, l, app.NewServer()))
			io.WriteString(conn, "GET /probe HTTP/1.1\r\nHost: x\r\n\r\n")
			looptest.Wait(t, probe.handled, "Get to return")
			if end.clientLeaves {
				conn.Close()
			} else if _, err := http.ReadResponse(bufio.NewReader(conn), nil); err != nil {
				t.Fatalf("read response: %v", err)
			}
			looptest.Wait(t, probe.settled, "the request to end")
			for _, call := range calls {
				before := len(logs.String())
				var panicked any
				looptest.Do(t, l, func() {
					defer func() { panicked = recover() }()
					call.call(probe.ctx)
				})
				logged := logs.String()[before:]
				switch end.want {
				case silent:
					if logged != "" || panicked != nil {
						t.Errorf("%s: logged %q, panicked %v; want silence", call.name, logged, panicked)
					}
				case warning:
					if !strings.Contains(logged, fmt.Sprintf(warning, call.name)) || panicked != nil {
						t.Errorf("%s: logged %q, panicked %v; want a warning and no panic", call.name, logged, panicked)
					}
				case bug:
					if !strings.Contains(logged, fmt.Sprintf(bug, call.name)) || !strings.Contains(logged, "TestLateContextCalls") {
						t.Errorf("%s: logged %q; want an error with the caller's stack", call.name, logged)
					}
					if (panicked != nil) != raceBuild {
						t.Errorf("%s: panicked %v; want a panic only in race builds (race build: %v)", call.name, panicked, raceBuild)
					}
				}
			}
			var finishes, closes int
			looptest.Do(t, l, func() { finishes, closes = probe.finishes, probe.closes })
			if finishes+closes != 1 {
				t.Errorf("OnFinish ran %d times, OnConnectionClose %d; want one of them once", finishes, closes)
			}
		})
	}
}
