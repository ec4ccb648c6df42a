package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"chat/framework/ioloop/looptest"
)

func startEcho(t *testing.T) string {
	t.Helper()
	l := looptest.Start(t)
	var addr net.Addr
	var err error
	looptest.Do(t, l, func() { _, addr, err = listen(l, "127.0.0.1:0", nil) })
	if err != nil {
		t.Fatal(err)
	}
	return addr.String()
}

func TestEchoAnswersEveryMethodAndPath(t *testing.T) {
	base := "http://" + startEcho(t)
	client := &http.Client{Timeout: looptest.Watchdog}
	for _, tt := range []struct{ method, path, body string }{
		{"POST", "/", "hello"},
		{"PUT", "/a/b/c?x=1", "put body"},
		{"DELETE", "/items/1", ""},
		{"PATCH", "/x%2Fy", "patch"},
		{"GET", "/anything", ""},
		{"OPTIONS", "/", ""},
		{"PROPFIND", "/dav", "<xml/>"},
		{"POST", "/hello", "not the hello route"},
	} {
		req, _ := http.NewRequest(tt.method, base+tt.path, strings.NewReader(tt.body))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", tt.method, tt.path, err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(got) != tt.body || resp.Header.Get("Content-Type") != "application/octet-stream" {
			t.Errorf("%s %s: %d %q %q, want 200 echoing %q", tt.method, tt.path, resp.StatusCode,
				resp.Header.Get("Content-Type"), got, tt.body)
		}
	}
	resp, err := client.Get(base + "/hello")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(got) != "Hello, world" || resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("GET /hello: %q %q", resp.Header.Get("Content-Type"), got)
	}
}

func TestEchoRawRequests(t *testing.T) {
	addr := startEcho(t)
	for _, request := range []string{
		"GET /a/../b HTTP/1.1\r\nHost: x\r\n\r\n",
		"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST /chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
	} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(looptest.Watchdog))
		io.WriteString(conn, request)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%q: %v", request, err)
		}
		body, _ := io.ReadAll(resp.Body)
		conn.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%q: %d %q", request, resp.StatusCode, body)
		}
		if strings.Contains(request, "chunked") && string(body) != "abc" {
			t.Errorf("chunked upload echoed as %q", body)
		}
	}
}

func TestEchoWithCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed; skipping the curl check")
	}
	base := "http://" + startEcho(t)
	out, err := exec.Command(curl, "-s", "--max-time", "10", "-X", "POST", "--data-binary", "from curl", base+"/x").Output()
	if err != nil || string(out) != "from curl" {
		t.Errorf("curl POST: %q, %v", out, err)
	}
	out, err = exec.Command(curl, "-s", "--max-time", "10", base+"/hello").Output()
	if err != nil || string(out) != "Hello, world" {
		t.Errorf("curl /hello: %q, %v", out, err)
	}
}
