package httpclient_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"chat/framework/asynctest"
	"chat/framework/concurrent"
	"chat/framework/httpclient"
	"chat/framework/httpserver"
)

func gzipped(s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.Bytes()
}

// TestFetchResponses runs one request per case against net/http's server
// and checks what the client makes of each framing.
func TestFetchResponses(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello, world") })
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Sum")
		for i := range 3 {
			fmt.Fprintf(w, "part %d;", i)
			w.(http.Flusher).Flush()
		}
		w.Header().Set("X-Sum", "3")
	})
	mux.HandleFunc("/gzip", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept-Encoding") != "gzip" {
			http.Error(w, "no gzip asked for", 400)
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(gzipped(strings.Repeat("squeeze ", 1000)))
	})
	mux.HandleFunc("/status/{code}", func(w http.ResponseWriter, r *http.Request) {
		var code int
		fmt.Sscan(r.PathValue("code"), &code)
		w.Header().Set("Content-Length", "5")
		w.WriteHeader(code)
		io.WriteString(w, "abcde") // dropped by net/http for 204 and 304 and HEAD
	})
	mux.HandleFunc("/interim", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(103)
		w.WriteHeader(100)
		io.WriteString(w, "after the interim responses")
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %s %q len=%s ua=%s", r.Method, r.URL.RequestURI(), body, r.Header.Get("Content-Length"), r.UserAgent())
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { w.Write(bytes.Repeat([]byte("x"), 3<<20)) })
	srv := newCountingServer(t, mux, false)
	loop, c := newClient(t, httpclient.Options{})

	for _, tc := range []struct {
		name, method, path, body string
		wantCode                 int
		wantBody                 string
		check                    func(t *testing.T, r *httpclient.Response)
	}{
		{name: "content-length body", path: "/hello", wantCode: 200, wantBody: "hello, world"},
		{name: "chunked body with a trailer", path: "/chunked", wantCode: 200, wantBody: "part 0;part 1;part 2;",
			check: func(t *testing.T, r *httpclient.Response) {
				if r.Trailer.Get("X-Sum") != "3" {
					t.Errorf("trailer %v", r.Trailer)
				}
			}},
		{name: "gzip decoded", path: "/gzip", wantCode: 200, wantBody: strings.Repeat("squeeze ", 1000),
			check: func(t *testing.T, r *httpclient.Response) {
				if r.Header.Has("Content-Encoding") {
					t.Errorf("Content-Encoding kept after decoding: %v", r.Header)
				}
			}},
		{name: "204 has no body", path: "/status/204", wantCode: 204},
		{name: "304 has no body", path: "/status/304", wantCode: 304},
		{name: "HEAD has no body despite Content-Length", method: "HEAD", path: "/status/200", wantCode: 200,
			check: func(t *testing.T, r *httpclient.Response) {
				if r.Header.Get("Content-Length") != "5" {
					t.Errorf("Content-Length %q", r.Header.Get("Content-Length"))
				}
			}},
		{name: "404 is a response, not an error", path: "/status/404", wantCode: 404, wantBody: "abcde"},
		{name: "1xx interim responses skipped", path: "/interim", wantCode: 200, wantBody: "after the interim responses"},
		{name: "POST body", method: "POST", path: "/echo?q=1", body: "a=b", wantCode: 200,
			wantBody: `POST /echo?q=1 "a=b" len=3 ua=` + httpclient.DefaultUserAgent},
		{name: "empty POST sends Content-Length 0", method: "POST", path: "/echo", wantCode: 200,
			wantBody: `POST /echo "" len=0 ua=` + httpclient.DefaultUserAgent},
		{name: "3 MiB body", path: "/big", wantCode: 200, wantBody: strings.Repeat("x", 3<<20)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := fetch(t, loop, c, &httpclient.Request{Method: tc.method, URL: srv.URL + tc.path, Body: []byte(tc.body)})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Code != tc.wantCode || string(resp.Body) != tc.wantBody {
				t.Fatalf("got %d %.80q, want %d %.80q", resp.Code, resp.Body, tc.wantCode, tc.wantBody)
			}
			if resp.EffectiveURL != srv.URL+tc.path || resp.RequestTime <= 0 {
				t.Errorf("EffectiveURL %q RequestTime %v", resp.EffectiveURL, resp.RequestTime)
			}
			if tc.check != nil {
				tc.check(t, resp)
			}
		})
	}
	// Every case above reused one connection: each response was framed by
	// length, so the next request could follow it.
	if n := srv.conns.Load(); n != 1 {
		t.Errorf("the server saw %d connections, want 1 (keep-alive)", n)
	}
}

// TestFetchErrors pins the error of each way a response can fail.
func TestFetchErrors(t *testing.T) {
	loop, c := newClient(t, httpclient.Options{})
	raw := func(response string) string {
		return rawServer(t, func(conn net.Conn, r *bufio.Reader) { answer(conn, r, response) })
	}
	redirectLoop := rawServer(t, func(conn net.Conn, r *bufio.Reader) {
		for answer(conn, r, "HTTP/1.1 302 Found\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n") {
		}
	})
	refused := func() string {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		ln.Close()
		return "http://" + ln.Addr().String()
	}()
	for _, tc := range []struct {
		name    string
		url     string
		req     httpclient.Request
		want    error
		wantMsg string
	}{
		{name: "closed mid-body", url: raw("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"), want: httpclient.ErrConnectionClosed, wantMsg: "after 3 of 10"},
		{name: "closed mid-chunk", url: raw("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"), want: httpclient.ErrConnectionClosed},
		{name: "closed before any response", url: raw(""), want: httpclient.ErrConnectionClosed, wantMsg: "before a response"},
		{name: "declared body over the limit", url: raw("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"), req: httpclient.Request{MaxBodySize: 99}, want: httpclient.ErrBodyTooLarge},
		{name: "chunked body over the limit", url: raw("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n" + strings.Repeat("y", 64) + "\r\n0\r\n\r\n"), req: httpclient.Request{MaxBodySize: 63}, want: httpclient.ErrBodyTooLarge},
		{name: "close-delimited body over the limit", url: raw("HTTP/1.1 200 OK\r\n\r\n" + strings.Repeat("z", 200)), req: httpclient.Request{MaxBodySize: 199}, want: httpclient.ErrBodyTooLarge},
		{name: "gzip bomb over the limit", url: raw("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " + fmt.Sprint(len(gzipped(strings.Repeat("0", 1<<20)))) + "\r\n\r\n" + string(gzipped(strings.Repeat("0", 1<<20)))), req: httpclient.Request{MaxBodySize: 1 << 16}, want: httpclient.ErrBodyTooLarge, wantMsg: "gzip"},
		{name: "invalid gzip", url: raw("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 4\r\n\r\nnope"), want: &httpclient.ProtocolError{}, wantMsg: "gzip"},
		{name: "conflicting Content-Length", url: raw("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"), want: httpserver.ErrAmbiguousFraming},
		{name: "coding before chunked", url: raw("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"), want: httpserver.ErrUnsupportedTransferCoding},
		{name: "obs-fold", url: raw("HTTP/1.1 200 OK\r\nX-A: 1\r\n  2\r\nContent-Length: 0\r\n\r\n"), want: &httpclient.ProtocolError{}, wantMsg: "folding"},
		{name: "bare LF", url: raw("HTTP/1.1 200 OK\nContent-Length: 0\n\n"), want: &httpclient.ProtocolError{}},
		{name: "HTTP/2 status line", url: raw("HTTP/2.0 200 OK\r\n\r\n"), want: httpserver.ErrUnsupportedVersion},
		{name: "not HTTP", url: raw("SSH-2.0-OpenSSH\r\n\r\n"), want: &httpclient.ProtocolError{}},
		{name: "too many 1xx", url: raw(strings.Repeat("HTTP/1.1 100 Continue\r\n\r\n", 6) + "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), want: &httpclient.ProtocolError{}, wantMsg: "1xx"},
		{name: "too many redirects", url: redirectLoop, req: httpclient.Request{MaxRedirects: 3}, want: httpclient.ErrTooManyRedirects, wantMsg: "3 followed"},
		{name: "redirect to another scheme", url: raw("HTTP/1.1 301 Moved\r\nLocation: ftp://example.com/\r\nContent-Length: 0\r\n\r\n"), want: httpclient.ErrInvalidRequest},
		{name: "connection refused", url: refused, want: httpclient.ErrConnect},
		{name: "not an http URL", url: "file:///etc/passwd", want: httpclient.ErrInvalidRequest},
		{name: "header injection", url: refused, req: httpclient.Request{Header: httpserver.Header{"X-A": {"1\r\nX-B: 2"}}}, want: httpclient.ErrInvalidRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req
			req.URL = tc.url
			resp, err := fetch(t, loop, c, &req)
			if err == nil {
				t.Fatalf("got %d %q, want an error", resp.Code, resp.Body)
			}
			if pe, ok := tc.want.(*httpclient.ProtocolError); ok {
				if !errors.As(err, &pe) {
					t.Fatalf("got %v, want a *ProtocolError", err)
				}
			} else if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("error %q does not say %q", err, tc.wantMsg)
			}
		})
	}
	asynctest.WaitFor(t, loop, func() bool { s := c.Stats(); return s.Open == s.Idle }, "every failed connection closed")
}

// TestTimeouts checks each timeout fires at its value, not before and not
// much later, with its own error.
func TestTimeouts(t *testing.T) {
	release := make(chan struct{})
	slow := newCountingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}), false)
	defer close(release)
	loop, c := newClient(t, httpclient.Options{})
	hanging := asynctest.HangingAddr(t, loop)
	for _, tc := range []struct {
		name string
		req  httpclient.Request
		d    time.Duration
		want error
	}{
		{name: "connect", req: httpclient.Request{URL: "http://" + hanging + "/", ConnectTimeout: 70 * time.Millisecond}, d: 70 * time.Millisecond, want: httpclient.ErrConnectTimeout},
		{name: "TLS connect", req: httpclient.Request{URL: "https://" + hanging + "/", ConnectTimeout: 90 * time.Millisecond}, d: 90 * time.Millisecond, want: httpclient.ErrConnectTimeout},
		{name: "request", req: httpclient.Request{URL: slow.URL, RequestTimeout: 110 * time.Millisecond}, d: 110 * time.Millisecond, want: httpclient.ErrRequestTimeout},
		{name: "request shorter than connect", req: httpclient.Request{URL: "http://" + hanging + "/", ConnectTimeout: time.Second, RequestTimeout: 60 * time.Millisecond}, d: 60 * time.Millisecond, want: httpclient.ErrRequestTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := fetch(t, loop, c, &tc.req)
			elapsed := time.Since(start)
			if !errors.Is(err, tc.want) || !errors.Is(err, httpclient.ErrTimeout) || !errors.Is(err, concurrent.ErrTimeout) {
				t.Fatalf("got %v, want %v (an ErrTimeout)", err, tc.want)
			}
			if elapsed < tc.d || elapsed > tc.d+500*time.Millisecond {
				t.Errorf("failed after %v, want %v", elapsed, tc.d)
			}
		})
	}
	asynctest.WaitFor(t, loop, func() bool { return c.Stats().Open == 0 }, "timed-out connections closed")
}

// TestKeepAliveReuse: sequential fetches share one connection; a
// response with Connection: close, or delimited by the close, does not.
func TestKeepAliveReuse(t *testing.T) {
	srv := newCountingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/close" {
			w.Header().Set("Connection", "close")
		}
		io.WriteString(w, "ok")
	}), false)
	loop, c := newClient(t, httpclient.Options{})
	for range 10 {
		if _, err := fetch(t, loop, c, &httpclient.Request{URL: srv.URL + "/"}); err != nil {
			t.Fatal(err)
		}
	}
	if n, s := srv.conns.Load(), stats(t, loop, c); n != 1 || s.Connects != 1 || s.Reuses != 9 || s.Idle != 1 {
		t.Fatalf("server saw %d connections, client stats %+v; want 1 connection reused 9 times", n, s)
	}
	if _, err := fetch(t, loop, c, &httpclient.Request{URL: srv.URL + "/close"}); err != nil {
		t.Fatal(err)
	}
	if s := stats(t, loop, c); s.Open != 0 {
		t.Errorf("a Connection: close response left %d connections open", s.Open)
	}
	if _, err := fetch(t, loop, c, &httpclient.Request{URL: srv.URL + "/"}); err != nil {
		t.Fatal(err)
	}
	if n := srv.conns.Load(); n != 2 {
		t.Errorf("server saw %d connections, want 2", n)
	}
}

// TestPoolBound: at most MaxConnsPerHost connections; the rest wait in
// order, and past MaxQueuedPerHost fail at once.
func TestPoolBound(t *testing.T) {
	entered := make(chan string, 10)
	release := make(chan struct{})
	srv := newCountingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- r.URL.Path
		<-release
		io.WriteString(w, r.URL.Path)
	}), false)
	loop, c := newClient(t, httpclient.Options{MaxConnsPerHost: 2, MaxQueuedPerHost: 3})
	futures := make([]*concurrent.Future[*httpclient.Response], 6)
	asynctest.Do(t, loop, func() {
		for i := range futures {
			futures[i] = c.Fetch(&httpclient.Request{URL: fmt.Sprintf("%s/%d", srv.URL, i)})
		}
	})
	asynctest.Wait(t, entered, "first request")
	asynctest.Wait(t, entered, "second request")
	if s := stats(t, loop, c); s.Open != 2 || s.Queued != 3 {
		t.Fatalf("stats %+v, want 2 open and 3 queued", s)
	}
	if _, err := asynctest.AwaitFuture(t, loop, futures[5]); !errors.Is(err, httpclient.ErrQueueFull) {
		t.Fatalf("sixth fetch: %v, want ErrQueueFull", err)
	}
	close(release)
	for i, f := range futures[:5] {
		resp, err := asynctest.AwaitFuture(t, loop, f)
		if err != nil || string(resp.Body) != fmt.Sprintf("/%d", i) {
			t.Fatalf("fetch %d: %v %v", i, resp, err)
		}
	}
	if n := srv.conns.Load(); n != 2 {
		t.Errorf("server saw %d connections, want 2", n)
	}
}

// TestCancel: cancelling a fetch closes its connection at once (the
// server sees it go) and resolves nothing else.
func TestCancel(t *testing.T) {
	entered := make(chan struct{}, 1)
	gone := make(chan struct{}, 1)
	srv := newCountingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-r.Context().Done()
		gone <- struct{}{}
	}), false)
	loop, c := newClient(t, httpclient.Options{})
	var f *concurrent.Future[*httpclient.Response]
	asynctest.Do(t, loop, func() { f = c.Fetch(&httpclient.Request{URL: srv.URL}) })
	asynctest.Wait(t, entered, "the request reached the server")
	asynctest.Do(t, loop, func() { f.Cancel() })
	asynctest.Wait(t, gone, "the server saw the connection close")
	if _, err := asynctest.AwaitFuture(t, loop, f); !errors.Is(err, concurrent.ErrCancelled) {
		t.Fatalf("got %v, want ErrCancelled", err)
	}
	if s := stats(t, loop, c); s.Open != 0 {
		t.Errorf("stats %+v after cancel", s)
	}
}

// TestCancelWhileConnecting: a fetch cancelled during its connect leaves
// no connection behind.
func TestCancelWhileConnecting(t *testing.T) {
	loop, c := newClient(t, httpclient.Options{})
	hanging := asynctest.HangingAddr(t, loop)
	for _, scheme := range []string{"http", "https"} {
		var f *concurrent.Future[*httpclient.Response]
		asynctest.Do(t, loop, func() { f = c.Fetch(&httpclient.Request{URL: scheme + "://" + hanging + "/"}) })
		asynctest.Do(t, loop, func() { f.Cancel() })
		if _, err := asynctest.AwaitFuture(t, loop, f); !errors.Is(err, concurrent.ErrCancelled) {
			t.Fatalf("%s: got %v", scheme, err)
		}
		asynctest.WaitFor(t, loop, func() bool { return c.Stats().Open == 0 }, "no connection open")
	}
}

// TestStaleConnectionRetry: a server that closes a kept-alive connection
// as the next request arrives gets an idempotent request again on a new
// connection; a POST is not repeated.
func TestStaleConnectionRetry(t *testing.T) {
	url := rawServer(t, func(conn net.Conn, r *bufio.Reader) {
		answer(conn, r, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst")
		http.ReadRequest(r) // then close without an answer
	})
	loop, c := newClient(t, httpclient.Options{})
	for _, tc := range []struct {
		method string
		ok     bool
	}{{"GET", true}, {"POST", false}} {
		if _, err := fetch(t, loop, c, &httpclient.Request{URL: url}); err != nil {
			t.Fatal(err)
		}
		resp, err := fetch(t, loop, c, &httpclient.Request{Method: tc.method, URL: url})
		if tc.ok && (err != nil || string(resp.Body) != "first") {
			t.Errorf("%s on a stale connection: %v, want a retry", tc.method, err)
		}
		if !tc.ok && !errors.Is(err, httpclient.ErrConnectionClosed) {
			t.Errorf("%s on a stale connection: %v, want ErrConnectionClosed", tc.method, err)
		}
	}
}

// TestRedirects pins the method and body rules of RFC 9110 §15.4 and the
// credentials rule across hosts.
func TestRedirects(t *testing.T) {
	other := newCountingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Host", r.Host)
		fmt.Fprintf(w, "other %s auth=%q cookie=%q", r.Method, r.Header.Get("Authorization"), r.Header.Get("Cookie"))
	}), false)
	srv := newCountingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var code int
		if _, err := fmt.Sscanf(r.URL.Path, "/%d", &code); err == nil {
			http.Redirect(w, r, "/final", code)
			return
		}
		if r.URL.Path == "/away" {
			http.Redirect(w, r, other.URL+"/x", 302)
			return
		}
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %q type=%q auth=%q", r.Method, body, r.Header.Get("Content-Type"), r.Header.Get("Authorization"))
	}), false)
	loop, c := newClient(t, httpclient.Options{})
	t.Run("a Host set for the first server is not sent to the next", func(t *testing.T) {
		resp, err := fetch(t, loop, c, &httpclient.Request{URL: srv.URL + "/away", Header: httpserver.Header{"Host": {"first.test"}}})
		if err != nil || resp.Header.Get("X-Host") != other.Listener.Addr().String() {
			t.Fatalf("the other server saw Host %q (%v)", resp.Header.Get("X-Host"), err)
		}
	})
	hdr := httpserver.Header{"Content-Type": {"text/plain"}, "Authorization": {"Bearer s3cret"}, "Cookie": {"a=b"}}
	for _, tc := range []struct {
		method, path string
		max          int
		wantCode     int
		want         string
	}{
		{"POST", "/301", 0, 200, `GET "" type="" auth="Bearer s3cret"`},
		{"POST", "/302", 0, 200, `GET "" type="" auth="Bearer s3cret"`},
		{"PUT", "/303", 0, 200, `GET "" type="" auth="Bearer s3cret"`},
		{"PUT", "/302", 0, 200, `PUT "body" type="text/plain" auth="Bearer s3cret"`},
		{"POST", "/307", 0, 200, `POST "body" type="text/plain" auth="Bearer s3cret"`},
		{"POST", "/308", 0, 200, `POST "body" type="text/plain" auth="Bearer s3cret"`},
		{"GET", "/away", 0, 200, `other GET auth="" cookie=""`},
		{"GET", "/301", -1, 301, ""},
	} {
		t.Run(tc.method+tc.path, func(t *testing.T) {
			resp, err := fetch(t, loop, c, &httpclient.Request{Method: tc.method, URL: srv.URL + tc.path, Header: hdr, Body: []byte("body"), MaxRedirects: tc.max})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Code != tc.wantCode || (tc.want != "" && string(resp.Body) != tc.want) {
				t.Fatalf("got %d %q, want %d %q", resp.Code, resp.Body, tc.wantCode, tc.want)
			}
			if tc.wantCode == 200 && (resp.Redirects != 1 || !strings.HasSuffix(resp.EffectiveURL, map[bool]string{true: "/x", false: "/final"}[tc.path == "/away"])) {
				t.Errorf("Redirects %d EffectiveURL %q", resp.Redirects, resp.EffectiveURL)
			}
		})
	}
}
