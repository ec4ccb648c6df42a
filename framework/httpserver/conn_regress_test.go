package httpserver_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
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

// Item 4: each phase's own timeout holds, with distinct values and a
// bound of at most 3x the timeout under test.
func TestEachPhaseHasItsOwnDeadline(t *testing.T) {
	var ran atomic.Int32
	tests := []struct {
		name                       string
		header, body, idle, linger time.Duration
		raw                        []string // sent in turn; a response is read after each but the last
		want                       string   // what the server sends last (prefix)
		bound                      time.Duration
		closeAfterReply            bool          // measure until the connection is fully closed, not the reply
		pause                      time.Duration // between the replies and the last bytes
	}{
		{name: "header timeout on a kept-alive connection starts at the first byte",
			header: 100 * time.Millisecond, body: 5 * time.Second, idle: 3 * time.Second, linger: 2 * time.Second,
			raw:  []string{"GET /a HTTP/1.1\r\nHost: a\r\n\r\n", "GET /b HTTP/1.1\r\nHo"},
			want: "HTTP/1.1 408 ", bound: 300 * time.Millisecond, pause: 200 * time.Millisecond},
		{name: "a body timeout shorter than the header timeout",
			header: 3 * time.Second, body: 100 * time.Millisecond, idle: 5 * time.Second, linger: 2 * time.Second,
			raw:  []string{"POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\nabc"},
			want: "HTTP/1.1 408 ", bound: 300 * time.Millisecond},
		{name: "the idle timeout after a response",
			header: 3 * time.Second, body: 5 * time.Second, idle: 150 * time.Millisecond, linger: 2 * time.Second,
			raw:  []string{"GET /a HTTP/1.1\r\nHost: a\r\n\r\n", ""},
			want: "", bound: 450 * time.Millisecond},
		{name: "the close linger is its own deadline",
			header: 3 * time.Second, body: 5 * time.Second, idle: 5 * time.Second, linger: 120 * time.Millisecond,
			raw:  []string{"GET / HTTP/1.1\r\n\r\n"},
			want: "HTTP/1.1 400 ", bound: 360 * time.Millisecond, closeAfterReply: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr, _, _ := serve(t, countingHandler(&ran), func(s *httpserver.Server) {
				s.HeaderTimeout, s.BodyTimeout, s.IdleTimeout, s.LingerTimeout = tc.header, tc.body, tc.idle, tc.linger
			})
			c := dial(t, addr)
			r := bufio.NewReader(c)
			for _, raw := range tc.raw[:len(tc.raw)-1] {
				io.WriteString(c, raw)
				readOneResponse(t, r)
			}
			time.Sleep(tc.pause) // the client thinks between requests
			io.WriteString(c, tc.raw[len(tc.raw)-1])
			if tc.closeAfterReply {
				start := time.Now()
				resp, _ := readOneResponse(t, r)
				if !strings.HasPrefix(fmt.Sprint(resp.Proto, " ", resp.StatusCode, " "), tc.want) {
					t.Fatalf("got %s %d; want %q", resp.Proto, resp.StatusCode, tc.want)
				}
				waitForReset(t, c, 5*time.Second)
				took := time.Since(start)
				if took > tc.bound {
					t.Fatalf("the connection closed %v after the reply; linger %v, bound %v", took.Round(time.Millisecond), tc.linger, tc.bound)
				}
				return
			}
			out, took := readAllWithin(t, r2c{r, c}, 10*time.Second)
			if !strings.HasPrefix(out, tc.want) || (tc.want == "" && out != "") {
				t.Fatalf("server sent %q; want %q", out, tc.want)
			}
			if took > tc.bound {
				t.Fatalf("took %v; want at most %v", took.Round(time.Millisecond), tc.bound)
			}
		})
	}
}

// waitForReset sends a byte every few milliseconds until the connection
// fails (the server has fully closed, so its kernel answers with a reset).
// The client has read the server's FIN, so a read returns EOF at once
// until the reset arrives.
func waitForReset(t *testing.T, c net.Conn, limit time.Duration) {
	t.Helper()
	start := time.Now()
	buf := make([]byte, 512)
	for time.Since(start) < limit {
		if _, err := c.Write([]byte("z")); err != nil {
			return
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Millisecond))
		if _, err := c.Read(buf); err != nil {
			var ne net.Error
			if !(errors.As(err, &ne) && ne.Timeout()) && !errors.Is(err, io.EOF) {
				return
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("the connection was still open after %v", limit)
}

// Item 3: a client that half-closes after its request still gets the whole
// response, however much of it had to be queued.
func TestHalfClosedClientGetsTheWholeResponse(t *testing.T) {
	const size = 8 << 20
	body := strings.Repeat("x", size)
	addr, _, _ := serve(t, func(w *httpserver.ResponseWriter, r *httpserver.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.WriteString(body)
		w.Finish()
	}, nil)
	c := dial(t, addr)
	io.WriteString(c, "GET /huge HTTP/1.1\r\nHost: a\r\n\r\n")
	c.CloseWrite()
	out, _ := readAllWithin(t, c, 10*time.Second)
	_, got, _ := strings.Cut(out, "\r\n\r\n")
	if len(got) != size {
		t.Fatalf("received %.1f MiB of the %d MiB body, then the server closed", float64(len(got))/(1<<20), size>>20)
	}
}

// Item 3: a client that pipelines requests but never reads gets at most
// one response queued beyond what the kernel holds, and every request it
// sent is still answered, in order, once it reads.
func TestPipeliningClientThatDoesNotReadIsNotServedAhead(t *testing.T) {
	const requests, size = 24, 1 << 20
	body := strings.Repeat("y", size)
	var ran atomic.Int32
	addr, _, _ := serve(t, func(w *httpserver.ResponseWriter, r *httpserver.Request) {
		ran.Add(1)
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("X-Seq", r.Path)
		w.WriteString(body)
		w.Finish()
	}, nil)
	c := dial(t, addr)
	c.SetReadBuffer(64 << 10)
	var raw strings.Builder
	for i := range requests {
		fmt.Fprintf(&raw, "GET /%d HTTP/1.1\r\nHost: a\r\n\r\n", i)
	}
	io.WriteString(c, raw.String())
	// Wait until the server stops running requests: the count is
	// unchanged for 300 ms (bounded by a generous overall limit).
	last, stable := int32(-1), time.Now()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if n := ran.Load(); n != last {
			last, stable = n, time.Now()
		} else if time.Since(stable) > 300*time.Millisecond {
			break
		}
	}
	// What the kernel holds on loopback (the server's send buffer, a few
	// MiB, and this client's 64 KiB receive buffer) is a few responses,
	// plus the one queued in the stream: 8 MiB is more than it takes.
	if last > 8 {
		t.Fatalf("%d requests of %d ran while the client never read (%.1f MiB of responses)", last, requests, float64(last)*size/(1<<20))
	}
	t.Logf("%d requests ran while the client did not read", last)
	r := bufio.NewReader(c)
	for i := range requests {
		resp, got := readOneResponse(t, r)
		if resp.Header.Get("X-Seq") != fmt.Sprint("/", i) || len(got) != size {
			t.Fatalf("response %d: X-Seq %q, %d bytes", i, resp.Header.Get("X-Seq"), len(got))
		}
	}
}

// Item 2: a request head that declares a large body must not make the
// server allocate the declared size before the bytes arrive.
func TestDeclaredBodyLengthIsNotAllocatedUpFront(t *testing.T) {
	const conns, declared = 8, 8 << 20
	var ran atomic.Int32
	addr, _, _ := serve(t, countingHandler(&ran), func(s *httpserver.Server) {
		s.Limits.MaxBodyBytes = 2 * declared
		s.MaxBodyBytesInFlight = 2 * conns * declared
	})
	before := heapInUse()
	for range conns {
		c := dial(t, addr)
		fmt.Fprintf(c, "POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\nabc", declared)
	}
	// A request answered on a later connection means the loop has been
	// through the events of the earlier ones.
	probe := dial(t, addr)
	io.WriteString(probe, "GET /probe HTTP/1.1\r\nHost: a\r\n\r\n")
	readOneResponse(t, bufio.NewReader(probe))
	grown := heapInUse() - before
	t.Logf("%d heads declaring %d MiB each grew the heap by %.2f MiB", conns, declared>>20, float64(grown)/(1<<20))
	if grown > 4<<20 {
		t.Fatalf("%d heads declaring %d MiB each grew the heap by %.1f MiB", conns, declared>>20, float64(grown)/(1<<20))
	}
}

func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// Item 2: MaxBodyBytesInFlight turns away a body that would go over it,
// with 503, Retry-After and Connection: close, before a byte of it is
// read, and nothing already accepted is lost; once a response is finished
// its body no longer counts.
func TestBodiesInFlightAreBounded(t *testing.T) {
	const bound, declared = 1 << 20, 700 << 10
	var ran atomic.Int32
	addr, _, _ := serve(t, func(w *httpserver.ResponseWriter, r *httpserver.Request) {
		ran.Add(1)
		fmt.Fprintf(w, "%d bytes", len(r.Body))
		w.Finish()
	}, func(s *httpserver.Server) { s.MaxBodyBytesInFlight = bound })
	head := fmt.Sprintf("POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n", declared)
	body := strings.Repeat("b", declared)

	first := dial(t, addr)
	io.WriteString(first, head+body[:100]) // reserves 700 KiB of the 1 MiB

	for _, tc := range []struct{ name, raw string }{
		{"a second large body", head},
		{"with Expect: 100-continue", strings.Replace(head, "\r\n\r\n", "\r\nExpect: 100-continue\r\n\r\n", 1)},
		{"a chunked body that grows past the bound", "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" +
			fmt.Sprintf("%x\r\n%s\r\n", declared, body)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, addr)
			io.WriteString(c, tc.raw)
			resp, _ := readOneResponse(t, bufio.NewReader(c))
			if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || !resp.Close {
				t.Fatalf("status %d, Retry-After %q, close %v; want 503 with Retry-After and Connection: close",
					resp.StatusCode, resp.Header.Get("Retry-After"), resp.Close)
			}
		})
	}
	io.WriteString(first, body[100:])
	r := bufio.NewReader(first)
	if resp, got := readOneResponse(t, r); resp.StatusCode != 200 || got != fmt.Sprint(declared, " bytes") {
		t.Fatalf("the accepted request: %d %q", resp.StatusCode, got)
	}
	// Its response is finished, so another body of the same size fits.
	io.WriteString(first, head+body)
	if resp, got := readOneResponse(t, r); resp.StatusCode != 200 || got != fmt.Sprint(declared, " bytes") {
		t.Fatalf("after the first finished: %d %q", resp.StatusCode, got)
	}
	if n := ran.Load(); n != 2 {
		t.Fatalf("%d handlers ran; want 2", n)
	}
}

// Item 19: a body the handler encoded itself (Content-Encoding set, as the
// web layer does for precompressed static files) is sent as it is, never
// compressed again; gzip, the ETag and 304 still work for the rest.
func TestHandlerEncodedBodyIsNotCompressedAgain(t *testing.T) {
	plain := strings.Repeat("static file text ", 100)
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write([]byte(plain))
	zw.Close()
	addr, _, _ := serve(t, func(w *httpserver.ResponseWriter, r *httpserver.Request) {
		w.Header().Set("Content-Type", "text/plain")
		if r.Path == "/pre" {
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(zipped.Bytes())
		} else {
			w.WriteString(plain)
		}
		w.Finish()
	}, nil)
	get := func(path, ifNoneMatch string) (*http.Response, []byte) {
		req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		if ifNoneMatch != "" {
			req.Header.Set("If-None-Match", ifNoneMatch)
		}
		resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		got, _ := io.ReadAll(resp.Body)
		return resp, got
	}
	for _, path := range []string{"/pre", "/plain"} {
		resp, got := get(path, "")
		if resp.Header.Values("Content-Encoding")[0] != "gzip" || len(resp.Header.Values("Content-Encoding")) != 1 {
			t.Fatalf("%s: Content-Encoding %q", path, resp.Header.Values("Content-Encoding"))
		}
		zr, err := gzip.NewReader(bytes.NewReader(got))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		unzipped, err := io.ReadAll(zr)
		if err != nil || string(unzipped) != plain {
			t.Fatalf("%s: one gunzip gives %d bytes (%v); want the %d-byte text", path, len(unzipped), err, len(plain))
		}
		if path == "/pre" && !bytes.Equal(got, zipped.Bytes()) {
			t.Fatalf("%s: the precompressed body was changed", path)
		}
		if again, _ := get(path, resp.Header.Get("Etag")); again.StatusCode != 304 {
			t.Fatalf("%s: revalidating with %s gave %d; want 304", path, resp.Header.Get("Etag"), again.StatusCode)
		}
	}
}

// blockingLogHandler is a slog handler whose writes block until released:
// a log pipe nobody reads.
type blockingLogHandler struct {
	release chan struct{}
	written chan string
}

func (h *blockingLogHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *blockingLogHandler) Handle(_ context.Context, r slog.Record) error {
	<-h.release
	var path string
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "path" {
			path = a.Value.String()
		}
		return true
	})
	h.written <- path
	return nil
}
func (h *blockingLogHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *blockingLogHandler) WithGroup(string) slog.Handler      { return h }

// Item 19: the access log never writes on the loop: a stalled log pipe
// does not stall requests; lines past the queue are dropped and counted,
// and the queued ones are written once the pipe moves again.
func TestStalledAccessLogDoesNotStallTheLoop(t *testing.T) {
	const queue, requests = 4, 10
	logs := &blockingLogHandler{release: make(chan struct{}), written: make(chan string, 2*requests)}
	var ran atomic.Int32
	addr, l, srv := serve(t, countingHandler(&ran), func(s *httpserver.Server) {
		s.AccessLog = slog.New(logs)
		s.AccessLogQueue = queue
	})
	c := dial(t, addr)
	r := bufio.NewReader(c)
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	for i := range requests {
		fmt.Fprintf(c, "GET /%d HTTP/1.1\r\nHost: a\r\n\r\n", i)
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatalf("request %d while the log is stalled: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
	}
	var dropped uint64
	looptest.Do(t, l, func() { dropped = srv.AccessLogDropped() })
	// queue lines wait and (unless it had not woken yet) one is in the
	// writer's hands; the rest are dropped.
	if dropped != requests-queue-1 && dropped != requests-queue {
		t.Fatalf("%d lines dropped; want %d or %d", dropped, requests-queue-1, requests-queue)
	}
	close(logs.release)
	last := -1
	for range requests - int(dropped) {
		got := looptest.Wait(t, logs.written, "log line")
		var n int
		fmt.Sscanf(got, "/%d", &n)
		if n <= last {
			t.Fatalf("log line for %q after /%d", got, last)
		}
		last = n
	}
	looptest.Do(t, l, func() {})
	select {
	case extra := <-logs.written:
		t.Fatalf("a dropped line was written after all: %q", extra)
	case <-time.After(50 * time.Millisecond):
	}
}

// A head longer than the room kept in front of the body (many cookies)
// still goes out whole, before its body; so does a response with no body.
func TestHeadLargerThanItsRoomAndEmptyBodies(t *testing.T) {
	cookie := strings.Repeat("c", 3000)
	addr, _, _ := serve(t, func(w *httpserver.ResponseWriter, r *httpserver.Request) {
		switch r.Path {
		case "/cookies":
			w.Header().Set("Content-Type", "text/plain")
			w.Header().Add("Set-Cookie", "a="+cookie)
			w.WriteString("body after a long head")
		case "/empty":
			w.WriteHeader(204)
		}
		w.Finish()
	}, nil)
	c := dial(t, addr)
	io.WriteString(c, "GET /cookies HTTP/1.1\r\nHost: a\r\n\r\nGET /empty HTTP/1.1\r\nHost: a\r\n\r\nGET /cookies HTTP/1.1\r\nHost: a\r\n\r\n")
	r := bufio.NewReader(c)
	for i, want := range []int{200, 204, 200} {
		resp, body := readOneResponse(t, r)
		if resp.StatusCode != want {
			t.Fatalf("response %d: status %d; want %d", i, resp.StatusCode, want)
		}
		if want == 200 && (body != "body after a long head" || resp.Header.Get("Set-Cookie") != "a="+cookie) {
			t.Fatalf("response %d: body %q, cookie of %d bytes", i, body, len(resp.Header.Get("Set-Cookie")))
		}
	}
}

// A response that drains slowly but steadily is not cut off by the idle
// timeout: the timeout bounds a client that takes none of its response
// for that long, not a large download on a slow link. The client here
// reads 12 MiB in paced sips for about three times the 200 ms idle
// timeout. (Progress shows once the kernel wakes the writer, when about
// half of its send buffer has drained, a few MiB on loopback; so a client
// is "reading" for this rule if it takes that much per idle timeout: 15
// KiB/s at the default 120 s.) One that takes nothing is still closed
// (see TestEachPhaseHasItsOwnDeadline and the state table).
func TestSlowButSteadyReaderGetsTheWholeResponse(t *testing.T) {
	const size, sip = 12 << 20, 64 << 10
	body := strings.Repeat("s", size)
	addr, _, _ := serve(t, func(w *httpserver.ResponseWriter, r *httpserver.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.WriteString(body)
		w.Finish()
	}, func(s *httpserver.Server) { s.IdleTimeout = 200 * time.Millisecond })
	c := dial(t, addr)
	c.SetReadBuffer(sip)
	io.WriteString(c, "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, sip)
	got, start := 0, time.Now()
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	for got < size {
		n, err := io.ReadFull(resp.Body, buf[:min(sip, size-got)])
		got += n
		if err != nil {
			t.Fatalf("after %.2f MiB of %d MiB read in sips over %v: %v (the server gave up on a client that was reading)",
				float64(got)/(1<<20), size>>20, time.Since(start).Round(time.Millisecond), err)
		}
		time.Sleep(3 * time.Millisecond) // a slow link: the pace is the point here
	}
	t.Logf("%d MiB read in %v with a 200ms idle timeout", size>>20, time.Since(start).Round(time.Millisecond))
}

// A client that pipelines two requests and half-closes while the first
// (large) response is still draining gets both answers, in order: the
// second request was already sent, so the EOF behind it does not cancel it.
func TestPipelinedRequestsThenHalfCloseAreBothAnswered(t *testing.T) {
	const size = 8 << 20
	big := strings.Repeat("b", size)
	addr, _, _ := serve(t, func(w *httpserver.ResponseWriter, r *httpserver.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		if r.Path == "/big" {
			w.WriteString(big)
		} else {
			w.WriteString("small")
		}
		w.Finish()
	}, nil)
	c := dial(t, addr)
	io.WriteString(c, "GET /big HTTP/1.1\r\nHost: a\r\n\r\nGET /small HTTP/1.1\r\nHost: a\r\n\r\n")
	c.CloseWrite()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	for _, want := range []int{size, len("small")} {
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatalf("response with a %d-byte body: %v", want, err)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil || len(body) != want {
			t.Fatalf("body of %d bytes, %v; want %d", len(body), err, want)
		}
	}
}

// A request whose client closes in the same breath (the request and the
// FIN read in one readiness event: here the loop is held busy while both
// arrive) to a handler that parks (a long poll) tells the handler at once
// that its client left, on a fresh connection and on a kept-alive one. The
// hang-up came with the bytes the head read took, so no later edge would
// announce it: it was noticed only when the handler answered, 25 s later
// for a long poll.
func TestParkedHandlerLearnsOfACloseThatCameWithItsRequest(t *testing.T) {
	for _, keepAlive := range []bool{false, true} {
		t.Run(fmt.Sprintf("keep-alive=%v", keepAlive), func(t *testing.T) {
			gone := make(chan string, 2)
			addr, l, _ := serve(t, func(w *httpserver.ResponseWriter, r *httpserver.Request) {
				if r.Path == "/quick" {
					w.WriteString("ok")
					w.Finish()
					return
				}
				path := r.Path
				w.OnConnectionClose(func() { gone <- path })
			}, nil)
			c := dial(t, addr)
			if keepAlive {
				io.WriteString(c, "GET /quick HTTP/1.1\r\nHost: a\r\n\r\n")
				if resp, _ := readOneResponse(t, bufio.NewReader(c)); resp.StatusCode != 200 {
					t.Fatalf("first request: %d", resp.StatusCode)
				}
			}
			held := make(chan struct{})
			release := make(chan struct{})
			l.AddCallback(func() { close(held); <-release })
			<-held
			io.WriteString(c, "GET /park HTTP/1.1\r\nHost: a\r\n\r\n")
			c.Close()
			close(release)
			select {
			case p := <-gone:
				if p != "/park" {
					t.Fatalf("close reported for %s", p)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the parked handler was not told its client left")
			}
		})
	}
}
