package httpserver_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os/exec"
	"strings"
	"testing"
	"time"

	"chat/framework/httpserver"
	"chat/framework/ioloop"
	"chat/framework/ioloop/looptest"
)

// echoHandler answers every request with its method, path and body, and
// serves a few special paths the tests need.
func echoHandler(l *ioloop.Loop, parked chan<- string) httpserver.HandlerFunc {
	return func(w *httpserver.ResponseWriter, r *httpserver.Request) {
		switch r.Path {
		case "/big":
			w.Header().Set("Content-Type", "text/plain")
			w.WriteString(strings.Repeat("compress me please ", 200))
			w.Finish()
		case "/stream":
			w.Header().Set("Content-Type", "text/plain")
			w.WriteString("first ")
			w.Flush().OnResult(func(struct{}, error) {
				w.WriteString("second")
				w.Finish()
			})
		case "/later":
			l.CallLater(time.Millisecond, func() { w.WriteString("finished later"); w.Finish() })
		case "/park":
			w.OnConnectionClose(func() { parked <- "client left" })
			parked <- "parked"
		case "/panic":
			panic("handler bug")
		case "/client":
			fmt.Fprintf(w, "%s %s", r.RemoteIP, r.Scheme)
			w.Finish()
		default:
			w.Header().Set("Content-Type", "text/plain")
			fmt.Fprintf(w, "%s %s %s", r.Method, r.Path, r.Body)
			w.Finish()
		}
	}
}

func startServer(t *testing.T, configure func(*httpserver.Server)) (addr string, parked chan string) {
	t.Helper()
	l := looptest.Start(t)
	parked = make(chan string, 4)
	srv := &httpserver.Server{Loop: l, Handler: echoHandler(l, parked)}
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
	return a.String(), parked
}

// exchange writes raw bytes and returns everything the server sends until
// it closes the connection (or stops sending for a while).
func exchange(t *testing.T, addr string, raw string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, raw)
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	out, _ := io.ReadAll(c)
	return string(out)
}

func TestNetHTTPClientKeepAlive(t *testing.T) {
	addr, _ := startServer(t, nil)
	client := &http.Client{Transport: &http.Transport{}}
	reused := 0
	for i := range 5 {
		trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
			if info.Reused {
				reused++
			}
		}}
		req, _ := http.NewRequest("POST", "http://"+addr+"/echo", strings.NewReader(fmt.Sprint("body ", i)))
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if want := fmt.Sprintf("POST /echo body %d", i); string(got) != want {
			t.Fatalf("response %d = %q; want %q", i, got, want)
		}
		if resp.Header.Get("Date") == "" || resp.Header.Get("Content-Length") == "" {
			t.Fatalf("response lacks Date or Content-Length: %v", resp.Header)
		}
	}
	if reused != 4 {
		t.Fatalf("the client reused the connection %d times; want 4", reused)
	}
}

func TestPipelinedRequestsAreAnsweredInOrder(t *testing.T) {
	addr, _ := startServer(t, nil)
	raw := "GET /later HTTP/1.1\r\nHost: x\r\n\r\n" + // finishes from a timer
		"POST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc" +
		"GET /three HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
	out := exchange(t, addr, raw)
	r := bufio.NewReader(strings.NewReader(out))
	for _, want := range []string{"finished later", "POST /two abc", "GET /three "} {
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatalf("reading response %q: %v\nall output:\n%s", want, err, out)
		}
		body, _ := io.ReadAll(resp.Body)
		if string(body) != want {
			t.Fatalf("got %q; want %q", body, want)
		}
	}
}

func TestChunkedUploadSplitAtEveryByte(t *testing.T) {
	addr, _ := startServer(t, nil)
	const raw = "POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
		"5\r\nhello\r\n1;ext=1\r\n \r\n6\r\nworld!\r\n0\r\nTrailer-Field: x\r\n\r\n"
	for split := 1; split < len(raw); split++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, raw[:split])
		c.(*net.TCPConn).SetNoDelay(true)
		io.WriteString(c, raw[split:])
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("split %d: %v", split, err)
		}
		body, _ := io.ReadAll(resp.Body)
		c.Close()
		if string(body) != "POST /up hello world!" {
			t.Fatalf("split %d: body %q", split, body)
		}
	}
}

func TestExpectContinue(t *testing.T) {
	addr, _ := startServer(t, nil)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
	r := bufio.NewReader(c)
	interim, err := r.ReadString('\n')
	if err != nil || interim != "HTTP/1.1 100 Continue\r\n" {
		t.Fatalf("interim response %q, %v", interim, err)
	}
	r.ReadString('\n') // the blank line
	io.WriteString(c, "data")
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if string(body) != "PUT /x data" {
		t.Fatalf("body %q", body)
	}
}

func TestRejectedRequestsGetTheirStatusAndTheConnectionCloses(t *testing.T) {
	addr, _ := startServer(t, func(s *httpserver.Server) { s.Limits.MaxBodyBytes = 100 })
	tests := []struct {
		name, raw  string
		wantStatus string
	}{
		{"missing Host", "GET / HTTP/1.1\r\n\r\n", "400"},
		{"two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "400"},
		{"CL with TE", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "400"},
		{"TE not ending in chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", "400"},
		{"two Content-Lengths", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", "400"},
		{"obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n  folded\r\n\r\n", "400"},
		{"space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", "400"},
		{"bare LF", "GET / HTTP/1.1\nHost: a\n\n", "400"},
		{"body over the limit", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 101\r\n\r\n", "413"},
		{"chunked body over the limit", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n65\r\n", "413"},
		{"request line too long", "GET /" + strings.Repeat("a", 9000) + " HTTP/1.1\r\n\r\n", "414"},
		{"too many headers", "GET / HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("X-A: 1\r\n", 101) + "\r\n", "431"},
		{"HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", "505"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := exchange(t, addr, tc.raw)
			if !strings.HasPrefix(out, "HTTP/1.1 "+tc.wantStatus+" ") {
				t.Fatalf("response %q; want status %s", firstLine(out), tc.wantStatus)
			}
			if !strings.Contains(out, "Connection: close") {
				t.Fatalf("rejected request did not close the connection:\n%s", out)
			}
		})
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\r\n")
	return line
}

func TestSlowClientsTimeOut(t *testing.T) {
	// Distinct timeouts, so each case shows the one it is bound by.
	const header, body, idle = 60 * time.Millisecond, 90 * time.Millisecond, 120 * time.Millisecond
	addr, _ := startServer(t, func(s *httpserver.Server) {
		s.HeaderTimeout, s.BodyTimeout, s.IdleTimeout = header, body, idle
	})
	tests := []struct {
		name, raw string
		want      string        // prefix of everything the server sends before closing
		timeout   time.Duration // the one that applies
	}{
		{"silent new connection", "", "", header},
		{"half a head", "GET / HTTP/1.1\r\nHost:", "HTTP/1.1 408 ", header},
		{"half a body", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc", "HTTP/1.1 408 ", body},
		{"idle after a request", "GET /a HTTP/1.1\r\nHost: a\r\n\r\n", "HTTP/1.1 200 ", idle},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			start := time.Now()
			io.WriteString(c, tc.raw)
			c.SetReadDeadline(start.Add(3 * tc.timeout))
			out, err := io.ReadAll(c)
			if err != nil {
				t.Fatalf("the server did not close the connection within 3 x %v: %v", tc.timeout, err)
			}
			if !strings.HasPrefix(string(out), tc.want) || (tc.want == "" && len(out) > 0) {
				t.Fatalf("server sent %q; want a response starting %q", out, tc.want)
			}
		})
	}
}

func TestHeadGzipEtagAndStreaming(t *testing.T) {
	addr, _ := startServer(t, nil)
	t.Run("HEAD has the length but no body", func(t *testing.T) {
		out := exchange(t, addr, "HEAD /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
		if !strings.Contains(out, "Content-Length: 8\r\n") || !strings.HasSuffix(out, "\r\n\r\n") {
			t.Fatalf("HEAD response:\n%q", out)
		}
	})
	t.Run("gzip when accepted", func(t *testing.T) {
		req, _ := http.NewRequest("GET", "http://"+addr+"/big", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("Vary") != "Accept-Encoding" {
			t.Fatalf("headers %v", resp.Header)
		}
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		plain, _ := io.ReadAll(zr)
		if string(plain) != strings.Repeat("compress me please ", 200) {
			t.Fatalf("decompressed body wrong (%d bytes)", len(plain))
		}
	})
	t.Run("304 on a matching If-None-Match", func(t *testing.T) {
		resp, err := http.Get("http://" + addr + "/x")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		etag := resp.Header.Get("Etag")
		req, _ := http.NewRequest("GET", "http://"+addr+"/x", nil)
		req.Header.Set("If-None-Match", etag)
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if etag == "" || resp.StatusCode != 304 || len(body) != 0 {
			t.Fatalf("etag %q: status %d, body %q; want 304 and no body", etag, resp.StatusCode, body)
		}
	})
	t.Run("Flush streams chunks", func(t *testing.T) {
		resp, err := http.Get("http://" + addr + "/stream")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "first second" || len(resp.TransferEncoding) == 0 || resp.TransferEncoding[0] != "chunked" {
			t.Fatalf("body %q, transfer encoding %v", body, resp.TransferEncoding)
		}
	})
}

func TestHTTP10KeepAliveRules(t *testing.T) {
	addr, _ := startServer(t, nil)
	out := exchange(t, addr, "GET /a HTTP/1.0\r\n\r\n")
	if !strings.Contains(out, "Connection: close") {
		t.Fatalf("HTTP/1.0 without keep-alive must close:\n%s", out)
	}
	out = exchange(t, addr, "GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /b HTTP/1.0\r\n\r\n")
	if strings.Count(out, "HTTP/1.1 200") != 2 || !strings.Contains(out, "Connection: keep-alive") {
		t.Fatalf("HTTP/1.0 keep-alive:\n%s", out)
	}
}

func TestParkedRequestLearnsTheClientLeft(t *testing.T) {
	addr, parked := startServer(t, nil)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(c, "GET /park HTTP/1.1\r\nHost: a\r\n\r\n")
	if got := looptest.Wait(t, parked, "park"); got != "parked" {
		t.Fatal(got)
	}
	c.Close()
	if got := looptest.Wait(t, parked, "connection close"); got != "client left" {
		t.Fatal(got)
	}
}

func TestHandlerPanicIs500AndTheServerGoesOn(t *testing.T) {
	addr, _ := startServer(t, func(s *httpserver.Server) { s.ErrorLog = discardLogger() })
	out := exchange(t, addr, "GET /panic HTTP/1.1\r\nHost: a\r\n\r\nGET /after HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
	if !strings.HasPrefix(out, "HTTP/1.1 500 ") || !strings.Contains(out, "GET /after") {
		t.Fatalf("after a panic:\n%s", out)
	}
}

func TestXHeaders(t *testing.T) {
	raw := "GET /client HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 10.0.0.1, 203.0.113.7\r\nX-Forwarded-Proto: https\r\nConnection: close\r\n\r\n"
	for _, trust := range []bool{false, true} {
		addr, _ := startServer(t, func(s *httpserver.Server) { s.XHeaders = trust })
		out := exchange(t, addr, raw)
		want := "127.0.0.1 http"
		if trust {
			want = "203.0.113.7 https"
		}
		if !strings.HasSuffix(out, want) {
			t.Fatalf("XHeaders=%v: body of %q; want %q", trust, out, want)
		}
	}
}

func TestCurlAsAClient(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed; CI installs it")
	}
	addr, _ := startServer(t, nil)
	out, err := exec.Command(curl, "-sS", "--compressed", "-d", "from curl", "http://"+addr+"/c", "http://"+addr+"/big").Output()
	if err != nil {
		t.Fatalf("curl: %v", err)
	}
	if !bytes.HasPrefix(out, []byte("POST /c from curl")) || !bytes.HasSuffix(out, []byte("compress me please ")) {
		t.Fatalf("curl got %q", out)
	}
}

func TestGzipVariantETagRevalidates(t *testing.T) {
	addr, _ := startServer(t, nil)
	get := func(etag string) *http.Response {
		req, _ := http.NewRequest("GET", "http://"+addr+"/big", nil)
		req.Header.Set("Accept-Encoding", "gzip")
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	etag := get("").Header.Get("Etag")
	if !strings.HasSuffix(etag, `-gzip"`) {
		t.Fatalf("gzip response ETag %q; want a -gzip variant", etag)
	}
	if resp := get(etag); resp.StatusCode != 304 {
		t.Fatalf("revalidating with %s: status %d; want 304", etag, resp.StatusCode)
	}
}

// TestHijackedConnectionsAreStillCounted hijacks connections (as a
// WebSocket upgrade does) and closes them: the server's count of open
// connections must come back down, or after MaxConnections upgrades in a
// process's life every new connection would be refused.
func TestHijackedConnectionsAreStillCounted(t *testing.T) {
	l := looptest.Start(t)
	closed := make(chan struct{}, 4)
	srv := &httpserver.Server{Loop: l, MaxConnections: 2, Handler: httpserver.HandlerFunc(func(w *httpserver.ResponseWriter, r *httpserver.Request) {
		stream, err := w.Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		stream.AddCloseCallback(func(error) { closed <- struct{}{} })
		stream.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"))
		stream.CloseAfterWrites()
	})}
	var addr net.Addr
	looptest.Do(t, l, func() {
		var err error
		if addr, err = srv.Listen("127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
	})
	for i := range 4 { // twice the limit
		resp := exchange(t, addr.String(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		if !strings.HasSuffix(resp, "\r\n\r\nhi") {
			t.Fatalf("request %d: %q", i, resp)
		}
		looptest.Wait(t, closed, "hijacked stream closed")
	}
	looptest.Do(t, l, func() {
		// The TCP server's callback was added first, so it has run too.
		if st := srv.Stats(); st.Active != 0 || st.Rejected != 0 {
			t.Errorf("after the hijacked connections closed: %+v", st)
		}
	})
}
