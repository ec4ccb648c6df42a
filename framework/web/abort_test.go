package web_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
	"chat/framework/ioloop/looptest"
	"chat/framework/web"
)

// endings counts a handler's OnFinish and OnConnectionClose calls; the
// channel reports each (the counts are read after the answer arrived).
type endings struct {
	serve func(c *web.Context)
	ended chan string
}

func (h *endings) Get(c *web.Context)             { h.serve(c) }
func (h *endings) OnFinish(*web.Context)          { h.ended <- "OnFinish" }
func (h *endings) OnConnectionClose(*web.Context) { h.ended <- "OnConnectionClose" }

// panickingErrorPage is an application error page that panics.
func panickingErrorPage(*web.Context, *web.HTTPError) web.Component {
	return web.ComponentFunc(func(context.Context, io.Writer) error { panic("the error page exploded") })
}

// TestPanickingErrorPageStillEndsTheRequestOnce: when the framework
// answers for a handler (its method panicked, or its HandlerTimeout
// expired) and the application's error page panics too, a plain 500 goes
// out and the request still ends with exactly one of OnFinish and
// OnConnectionClose; the handler's coroutines are cancelled.
func TestPanickingErrorPageStillEndsTheRequestOnce(t *testing.T) {
	cases := []struct {
		name     string
		settings web.RouteSettings
		serve    func(c *web.Context, awaited chan error)
	}{
		{"method panics", web.RouteSettings{}, func(c *web.Context, _ chan error) { panic("handler exploded") }},
		{"handler timeout", web.RouteSettings{HandlerTimeout: 50 * time.Millisecond}, func(c *web.Context, _ chan error) { c.Async() }},
		{"method starts a coroutine, then panics", web.RouteSettings{}, func(c *web.Context, awaited chan error) {
			c.Go(func(co *ioloop.Co) error {
				_, err := ioloop.Await(co, concurrent.New[int]()) // never resolves
				awaited <- err
				return err
			})
			panic("handler exploded after starting a coroutine")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			awaited := make(chan error, 1)
			h := &endings{ended: make(chan string, 4)}
			h.serve = func(c *web.Context) { tc.serve(c, awaited) }
			app := startApp(t, web.Config{Logger: quietLogger(), ErrorPage: panickingErrorPage, Routes: []web.Spec{{
				Pattern: "/x", RouteSettings: tc.settings, New: func() web.Handler { return h },
			}}})
			status, _ := fetch(t, app, "/x")
			if status != http.StatusInternalServerError && status != http.StatusServiceUnavailable {
				t.Fatalf("status %d; want the plain 500", status)
			}
			if got := looptest.Wait(t, h.ended, "the request's ending"); got != "OnFinish" {
				t.Fatalf("the request ended with %s; want OnFinish", got)
			}
			app.client.Transport.(*http.Transport).CloseIdleConnections()
			if tc.name == "method starts a coroutine, then panics" {
				if err := looptest.Wait(t, awaited, "the coroutine's Await"); !errors.Is(err, concurrent.ErrCancelled) {
					t.Fatalf("the coroutine's Await returned %v; want ErrCancelled (the framework answered for it)", err)
				}
			}
			select {
			case again := <-h.ended:
				t.Fatalf("a second ending ran: %s", again)
			case <-time.After(100 * time.Millisecond): // the client has gone; nothing more may run
			}
		})
	}
}
