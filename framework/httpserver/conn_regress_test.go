package httpserver_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"chat/framework/httpserver"
	"chat/framework/ioloop"
	"chat/framework/ioloop/looptest"
)

// serve starts a server with handler on a fresh loop and returns its
// address and loop.
func serve(t *testing.T, handler httpserver.HandlerFunc, configure func(*httpserver.Server)) (string, *ioloop.Loop, *httpserver.Server) {
	t.Helper()
	l := looptest.Start(t)
	srv := &httpserver.Server{Loop: l, Handler: handler, ErrorLog: discardLogger()}
	if configure != nil {
		configure(srv)
	}
	var a net.Addr
	var err error
	looptest.Do(t, l, func() { a, err = srv.Listen("127.0.0.1:0") })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.AddCallback(srv.Close) })
	return a.String(), l, srv
}

func dial(t *testing.T, addr string) *net.TCPConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*net.TCPConn)
}

// readAllWithin reads until the server closes (EOF or reset) and fails the
// test if that takes longer than limit.
func readAllWithin(t *testing.T, c net.Conn, limit time.Duration) (string, time.Duration) {
	t.Helper()
	start := time.Now()
	c.SetReadDeadline(start.Add(limit))
	out, err := io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server did not close within %v; it sent %q", limit, out)
	}
	return string(out), time.Since(start)
}

// readResponseHead reads one response head (through the blank line) and
// its Content-Length body.
func readOneResponse(t *testing.T, r *bufio.Reader) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatalf("reading a response: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading a response body: %v", err)
	}
	return resp, string(body)
}

// countingHandler counts the requests it runs and answers each with its
// method, path and body.
func countingHandler(ran *atomic.Int32) httpserver.HandlerFunc {
	return func(w *httpserver.ResponseWriter, r *httpserver.Request) {
		ran.Add(1)
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "%s %s %s", r.Method, r.Path, r.Body)
		w.Finish()
	}
}

// Item 1: once a request has been answered with an error (a 408 here),
// nothing more may be dispatched on that connection, however late the
// rest of the request arrives.
func TestNothingIsDispatchedAfterA408(t *testing.T) {
	var ran atomic.Int32
	addr, l, _ := serve(t, countingHandler(&ran), func(s *httpserver.Server) {
		s.HeaderTimeout, s.BodyTimeout = 60*time.Millisecond, 60*time.Millisecond
		s.LingerTimeout = 2 * time.Second
	})
	for _, tc := range []struct{ name, early, late string }{
		{"late body", "POST /store HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc", "defghij"},
		{"late head", "POST /store HTTP/1.1\r\nHost: a\r\nContent-Len", "gth: 3\r\n\r\nabc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ran.Store(0)
			c := dial(t, addr)
			io.WriteString(c, tc.early)
			r := bufio.NewReader(c)
			resp, _ := readOneResponse(t, r)
			if resp.StatusCode != 408 {
				t.Fatalf("status %d; want 408", resp.StatusCode)
			}
			io.WriteString(c, tc.late+"GET /next HTTP/1.1\r\nHost: a\r\n\r\n")
			c.CloseWrite()
			rest, _ := readAllWithin(t, r2c{r, c}, 3*time.Second)
			looptest.Do(t, l, func() {})
			if n := ran.Load(); n != 0 || rest != "" {
				t.Fatalf("after the 408: %d requests ran, and the server sent %q; want none", n, rest)
			}
		})
	}
}

// r2c reads through a bufio.Reader but keeps the conn's deadline methods.
type r2c struct {
	r *bufio.Reader
	net.Conn
}

func (x r2c) Read(p []byte) (int, error) { return x.r.Read(p) }

// Item 9: a panicking OnConnectionClose hook does not cancel the others.
func TestPanickingCloseHookDoesNotCancelTheOthers(t *testing.T) {
	ran := make(chan string, 3)
	addr, _, _ := serve(t, func(w *httpserver.ResponseWriter, r *httpserver.Request) {
		w.OnConnectionClose(func() { ran <- "first"; panic("hook bug") })
		w.OnConnectionClose(func() { ran <- "second" })
		ran <- "parked"
	}, nil)
	c := dial(t, addr)
	io.WriteString(c, "GET /park HTTP/1.1\r\nHost: a\r\n\r\n")
	looptest.Wait(t, ran, "parked")
	c.Close()
	if got := looptest.Wait(t, ran, "first hook"); got != "first" {
		t.Fatal(got)
	}
	if got := looptest.Wait(t, ran, "second hook"); got != "second" {
		t.Fatal(got)
	}
}

// Item 10: a response whose Finish closes the stream (past the write
// limit) has finished: its close hooks do not run as well.
func TestFinishThatClosesTheStreamDoesNotRunCloseHooks(t *testing.T) {
	body := strings.Repeat("z", 24<<20) // beyond the stream's 16 MiB write limit
	events := make(chan string, 4)
	var w0 *httpserver.ResponseWriter
	addr, l, _ := serve(t, func(w *httpserver.ResponseWriter, r *httpserver.Request) {
		w0 = w
		w.OnConnectionClose(func() { events <- "close hook" })
		w.Header().Set("Content-Type", "application/octet-stream")
		w.WriteString(body)
		w.Finish()
		events <- "finished"
	}, nil)
	c := dial(t, addr)
	c.SetReadBuffer(4096)
	io.WriteString(c, "GET /big HTTP/1.1\r\nHost: a\r\n\r\n")
	if got := looptest.Wait(t, events, "finish"); got != "finished" {
		t.Fatalf("first event %q; want finished", got)
	}
	looptest.Do(t, l, func() {})
	looptest.Do(t, l, func() {
		if !w0.Finished() || w0.ClientGone() {
			t.Errorf("after a Finish that closed the stream: Finished %v, ClientGone %v; want true, false", w0.Finished(), w0.ClientGone())
		}
	})
	select {
	case got := <-events:
		t.Fatalf("after Finish: %q", got)
	default:
	}
}
