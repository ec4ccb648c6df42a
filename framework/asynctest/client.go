package asynctest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Client sends requests to a server from the test goroutine through
// net/http's client, Tornado's AsyncHTTPTestCase.fetch: a reference client
// the server under test did not write. It has its own transport, so its
// keep-alive connections belong to the test, and every request is bounded
// by Watchdog. It does not follow redirects (a test sees the 302 and its
// Location) and keeps no cookies unless HTTPClient.Jar is set.
//
// A Client is used from the test goroutine (or goroutines the test
// starts), never from the loop: the loop would wait for itself.
type Client struct {
	// URL is the server's base URL, "http://127.0.0.1:port", no slash at
	// the end; paths given to Fetch are appended to it.
	URL string
	// HTTPClient is the net/http client Fetch uses. Set its Jar to keep
	// cookies between requests.
	HTTPClient *http.Client

	t         testing.TB
	transport *http.Transport
}

// NewClient returns a Client for a server at baseURL (another process, a
// server the test started itself). Its idle connections are closed at
// cleanup.
func NewClient(t testing.TB, baseURL string) *Client {
	c := newClient(t, baseURL)
	t.Cleanup(c.transport.CloseIdleConnections)
	return c
}

func newClient(t testing.TB, baseURL string) *Client {
	transport := &http.Transport{}
	return &Client{
		URL: strings.TrimSuffix(baseURL, "/"),
		HTTPClient: &http.Client{
			Transport:     transport,
			Timeout:       Watchdog,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		t:         t,
		transport: transport,
	}
}

// Response is what a test needs of an answer, body read in full.
type Response struct {
	Status int
	Header http.Header
	Body   string
}

// Fetch sends a request and reads the whole answer; body may be empty,
// header is "Name: value" lines. Any error before a status arrives (a
// refused connection, a reset, Watchdog passing) fails the test; use
// RoundTrip to expect one.
func (c *Client) Fetch(method, path, body string, header ...string) Response {
	c.t.Helper()
	req, err := NewRequest(method, c.URL+path, body, header...)
	if err != nil {
		c.t.Fatal(err)
	}
	resp, err := c.RoundTrip(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

// Get is Fetch("GET", path, "", header...).
func (c *Client) Get(path string, header ...string) Response {
	c.t.Helper()
	return c.Fetch(http.MethodGet, path, "", header...)
}

// RoundTrip sends req with the client and reads the whole answer,
// returning any error instead of failing the test.
func (c *Client) RoundTrip(req *http.Request) (Response, error) {
	resp, err := c.HTTPClient.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return Response{}, fmt.Errorf("read body: %w", err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: string(data)}, nil
}

// NewRequest builds a request with body (none when empty) and header,
// "Name: value" lines.
func NewRequest(method, url, body string, header ...string) (*http.Request, error) {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		return nil, fmt.Errorf("asynctest: request %s %s: %w", method, url, err)
	}
	for _, line := range header {
		name, value, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("asynctest: header %q is not a \"Name: value\" line", line)
		}
		req.Header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	return req, nil
}

// RawConn is a plain TCP connection to the server for what net/http's
// client hides: several requests on one keep-alive connection, pipelining,
// malformed bytes, watching the server close. Every read and write is
// bounded by Watchdog. Test goroutine only; closed at cleanup.
type RawConn struct {
	net.Conn
	r *bufio.Reader
	t testing.TB
}

// DialRaw opens a RawConn to addr ("127.0.0.1:port").
func DialRaw(t testing.TB, addr string) *RawConn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, Watchdog)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	return &RawConn{Conn: conn, r: bufio.NewReader(conn), t: t}
}

// Send writes data as it is.
func (c *RawConn) Send(data string) {
	c.t.Helper()
	c.SetWriteDeadline(time.Now().Add(Watchdog))
	if _, err := io.WriteString(c.Conn, data); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// ReadResponse reads one response to a request of method (HEAD has no
// body) and its whole body, leaving what follows (a pipelined response)
// for the next call.
func (c *RawConn) ReadResponse(method string) Response {
	c.t.Helper()
	c.SetReadDeadline(time.Now().Add(Watchdog))
	resp, err := http.ReadResponse(c.r, &http.Request{Method: method})
	if err != nil {
		c.t.Fatalf("read response: %v", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("read response body: %v", err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: string(data)}
}

// ReadUntilClosed reads everything until the server closes the
// connection (EOF, or a reset after it) and returns it; the test fails if
// the connection is still open after Watchdog.
func (c *RawConn) ReadUntilClosed() string {
	c.t.Helper()
	c.SetReadDeadline(time.Now().Add(Watchdog))
	data, err := io.ReadAll(c.r)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		c.t.Fatalf("the server did not close the connection within %v (read %q)", Watchdog, data)
	}
	return string(data)
}

// With returns a Client sharing c's connections and settings that reports
// to t (a subtest).
func (c *Client) With(t testing.TB) *Client {
	copied := *c
	copied.t = t
	return &copied
}
