package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"chat/framework/httpserver"
	"chat/framework/ioloop"
	"chat/framework/ioloop/looptest"
	"chat/framework/web"
)

// testApp is an Application served on a real socket by the real
// httpserver, on a loop of its own.
type testApp struct {
	*web.Application
	base   string // "http://127.0.0.1:port"
	addr   string
	client *http.Client
}

// startApp builds an application from cfg (Loop filled in) and serves it
// on 127.0.0.1:0 for the rest of the test.
func startApp(t *testing.T, cfg web.Config) *testApp {
	t.Helper()
	l := looptest.Start(t)
	cfg.Loop = l
	app, err := web.NewApplication(cfg)
	if err != nil {
		t.Fatalf("NewApplication: %v", err)
	}
	addr := listenOn(t, l, app.NewServer())
	transport := &http.Transport{}
	t.Cleanup(transport.CloseIdleConnections)
	return &testApp{
		Application: app,
		base:        "http://" + addr,
		addr:        addr,
		client: &http.Client{
			Transport:     transport,
			Timeout:       looptest.Watchdog,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

// response is what a test needs of an answer.
type response struct {
	status int
	header http.Header
	body   string
}

// do sends a request; header is "Key: value" lines.
func (a *testApp) do(t *testing.T, method, path, body string, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, a.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range header {
		k, v, _ := strings.Cut(line, ":")
		req.Header.Add(k, strings.TrimSpace(v))
	}
	resp, err := a.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return response{resp.StatusCode, resp.Header, string(data)}
}

// raw sends bytes on a fresh connection and returns all the server sends
// before it closes the connection (requests here say Connection: close).
func (a *testApp) raw(t *testing.T, request string) string {
	t.Helper()
	conn, err := net.Dial("tcp", a.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(looptest.Watchdog))
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(conn)
	return string(data)
}

// roomHandler answers GET (and so HEAD) only.
type roomHandler struct{}

func (roomHandler) Get(c *web.Context) {
	fmt.Fprintf(c, "room %s", c.Param("name"))
}

// crudHandler answers several methods, to check Allow.
type crudHandler struct{}

func (crudHandler) Get(c *web.Context)    { c.WriteString("get") }
func (crudHandler) Put(c *web.Context)    { c.WriteString("put") }
func (crudHandler) Delete(c *web.Context) { c.WriteString("delete") }

func TestRoutingNotFoundAndMethodNotAllowed(t *testing.T) {
	app := startApp(t, web.Config{
		DisableXSRF: true,
		Routes: []web.Spec{
			{Name: "hello", Pattern: "/hello", New: web.Func(func(c *web.Context) { c.WriteString("Hello") })},
			{Name: "room", Pattern: "/rooms/{name}", New: func() web.Handler { return roomHandler{} }},
			{Name: "crud", Pattern: "/items/{id}", New: func() web.Handler { return crudHandler{} }},
		},
	})
	tests := []struct {
		name, method, path string
		wantStatus         int
		wantBody           string
		wantAllow          string
	}{
		{"literal route", "GET", "/hello", 200, "Hello", ""},
		{"func handler answers any method", "BREW", "/hello", 200, "Hello", ""},
		{"param unescaped", "GET", "/rooms/caf%C3%A9%2Fbar", 200, "room café/bar", ""},
		{"HEAD falls back to GET without body", "HEAD", "/rooms/x", 200, "", ""},
		{"unmatched path", "GET", "/nowhere", 404, "", ""},
		{"trailing slash is another path", "GET", "/hello/", 404, "", ""},
		{"POST on GET-only route", "POST", "/rooms/x", 405, "", "GET, HEAD"},
		{"unknown method", "BREW", "/items/1", 405, "", "GET, HEAD, PUT, DELETE"},
		{"implemented PUT", "PUT", "/items/1", 200, "put", ""},
		{"OPTIONS without a handler method", "OPTIONS", "/items/1", 405, "", "GET, HEAD, PUT, DELETE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := app.do(t, tt.method, tt.path, "")
			if got.status != tt.wantStatus {
				t.Fatalf("status %d, want %d (body %q)", got.status, tt.wantStatus, got.body)
			}
			if tt.wantBody != "" && got.body != tt.wantBody {
				t.Errorf("body %q, want %q", got.body, tt.wantBody)
			}
			if allow := got.header.Get("Allow"); allow != tt.wantAllow {
				t.Errorf("Allow %q, want %q", allow, tt.wantAllow)
			}
		})
	}
	head := app.do(t, "HEAD", "/rooms/abc", "")
	if head.header.Get("Content-Length") != fmt.Sprint(len("room abc")) {
		t.Errorf("HEAD Content-Length %q, want the GET body's length", head.header.Get("Content-Length"))
	}
	if url, err := app.Reverse("room", "a b"); err != nil || url != "/rooms/a%20b" {
		t.Errorf("Reverse = %q, %v", url, err)
	}
}

func TestNewApplicationRejectsBadConfig(t *testing.T) {
	if _, err := web.NewApplication(web.Config{}); err == nil {
		t.Error("no Loop: want an error")
	}
	l := looptest.Start(t)
	if _, err := web.NewApplication(web.Config{Loop: l, Routes: []web.Spec{{Pattern: "/x"}}}); err == nil {
		t.Error("route without New: want an error")
	}
	_, err := web.NewApplication(web.Config{Loop: l, Routes: []web.Spec{{Pattern: "x{", New: web.Func(nil)}}})
	if !errors.Is(err, web.ErrBadPattern) {
		t.Errorf("bad pattern: %v, want ErrBadPattern", err)
	}
	if _, err := web.NewApplication(web.Config{Loop: l, CookieKeys: []web.KeyPair{{HashKey: []byte("short")}}}); !errors.Is(err, web.ErrBadKeys) {
		t.Errorf("bad keys: %v, want ErrBadKeys", err)
	}
}

// paragraph is a tiny Component.
type paragraph string

func (p paragraph) Render(ctx context.Context, w io.Writer) error {
	_, err := fmt.Fprintf(w, "<p>%s</p>", p)
	return err
}

// failing is a Component that writes half a page and fails.
type failing struct{}

func (failing) Render(_ context.Context, w io.Writer) error {
	io.WriteString(w, "<p>half")
	return errors.New("template exploded")
}

func TestRenderWriteJSONAndRedirect(t *testing.T) {
	app := startApp(t, web.Config{
		Routes: []web.Spec{
			{Pattern: "/page", New: web.Func(func(c *web.Context) { c.Render(paragraph("hi")) })},
			{Pattern: "/broken", New: web.Func(func(c *web.Context) { c.Render(failing{}) })},
			{Pattern: "/form", New: web.Func(func(c *web.Context) {
				c.Render(web.ComponentFunc(func(ctx context.Context, w io.Writer) error {
					_, err := io.WriteString(w, web.FromContext(ctx).XSRFFormHTML())
					return err
				}))
			})},
			{Pattern: "/json", New: web.Func(func(c *web.Context) {
				c.WriteJSON(map[string]any{"n": 1, "html": "<b>"})
			})},
			{Pattern: "/badjson", New: web.Func(func(c *web.Context) { c.WriteJSON(func() {}) })},
			{Pattern: "/go", New: web.Func(func(c *web.Context) { c.Redirect(c.GetArgument("to", "/"), 0) })},
			{Pattern: "/moved", New: web.Func(func(c *web.Context) { c.Redirect("/new place", http.StatusMovedPermanently) })},
		},
	})
	page := app.do(t, "GET", "/page", "")
	if page.status != 200 || page.body != "<p>hi</p>" || page.header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("render: %d %q %q", page.status, page.header.Get("Content-Type"), page.body)
	}
	broken := app.do(t, "GET", "/broken", "")
	if broken.status != 500 || strings.Contains(broken.body, "half") {
		t.Errorf("failed render: %d %q; want 500 without the partial output", broken.status, broken.body)
	}
	form := app.do(t, "GET", "/form", "")
	if !strings.HasPrefix(form.body, `<input type="hidden" name="_xsrf" value="2|`) || !strings.Contains(form.header.Get("Set-Cookie"), "_xsrf=") {
		t.Errorf("XSRFFormHTML via FromContext: %q, Set-Cookie %q", form.body, form.header.Get("Set-Cookie"))
	}
	js := app.do(t, "GET", "/json", "")
	if js.header.Get("Content-Type") != "application/json; charset=utf-8" || js.body != `{"html":"\u003cb\u003e","n":1}` {
		t.Errorf("json: %q %q", js.header.Get("Content-Type"), js.body)
	}
	if bad := app.do(t, "GET", "/badjson", ""); bad.status != 500 {
		t.Errorf("unencodable JSON: status %d, want 500", bad.status)
	}
	redirect := app.do(t, "GET", "/go?to=/rooms/x", "")
	if redirect.status != 302 || redirect.header.Get("Location") != "/rooms/x" {
		t.Errorf("redirect: %d %q", redirect.status, redirect.header.Get("Location"))
	}
	moved := app.do(t, "GET", "/moved", "")
	if moved.status != 301 || moved.header.Get("Location") != "/new%20place" {
		t.Errorf("301: %d %q", moved.status, moved.header.Get("Location"))
	}
	split := app.do(t, "GET", "/go?to=/x%0d%0aSet-Cookie:%20evil=1", "")
	if split.status != 500 || split.header.Get("Set-Cookie") != "" {
		t.Errorf("header splitting redirect: %d, Set-Cookie %q; want 500 and none", split.status, split.header.Get("Set-Cookie"))
	}
}

func TestErrorPages(t *testing.T) {
	routes := []web.Spec{
		{Pattern: "/teapot", New: web.Func(func(c *web.Context) {
			c.WriteString("discarded")
			c.Fail(&web.HTTPError{Status: 418, Message: "short & stout", Err: errors.New("secret cause")})
		})},
		{Pattern: "/panic", New: web.Func(func(c *web.Context) { panic("boom") })},
		{Pattern: "/api/thing", New: web.Func(func(c *web.Context) { c.SendError(404) }), RouteSettings: web.RouteSettings{API: true}},
	}
	t.Run("default page", func(t *testing.T) {
		app := startApp(t, web.Config{Routes: routes})
		got := app.do(t, "GET", "/teapot", "")
		if got.status != 418 || !strings.Contains(got.body, "short &amp; stout") || strings.Contains(got.body, "discarded") ||
			strings.Contains(got.body, "secret cause") || got.header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Errorf("418: %d %q %q", got.status, got.header.Get("Content-Type"), got.body)
		}
		notFound := app.do(t, "GET", "/missing", "")
		if notFound.status != 404 || !strings.Contains(notFound.body, "404 Not Found") {
			t.Errorf("404 page: %d %q", notFound.status, notFound.body)
		}
		panicked := app.do(t, "GET", "/panic", "")
		if panicked.status != 500 || strings.Contains(panicked.body, "boom") {
			t.Errorf("panic: %d %q; want 500 without the panic value", panicked.status, panicked.body)
		}
		asJSON := app.do(t, "GET", "/teapot", "", "Accept: application/json")
		if asJSON.status != 418 || asJSON.body != `{"error":"short \u0026 stout"}` {
			t.Errorf("JSON error: %d %q", asJSON.status, asJSON.body)
		}
		api := app.do(t, "GET", "/api/thing", "")
		if api.status != 404 || api.body != `{"error":"Not Found"}` || api.header.Get("Content-Type") != "application/json; charset=utf-8" {
			t.Errorf("API route error: %d %q %q", api.status, api.header.Get("Content-Type"), api.body)
		}
	})
	t.Run("debug shows causes", func(t *testing.T) {
		app := startApp(t, web.Config{Routes: routes, Debug: true})
		if got := app.do(t, "GET", "/teapot", ""); !strings.Contains(got.body, "secret cause") {
			t.Errorf("debug page lacks the cause: %q", got.body)
		}
		if got := app.do(t, "GET", "/panic", ""); !strings.Contains(got.body, "boom") {
			t.Errorf("debug page lacks the panic: %q", got.body)
		}
	})
	t.Run("application page", func(t *testing.T) {
		app := startApp(t, web.Config{Routes: routes, ErrorPage: func(c *web.Context, e *web.HTTPError) web.Component {
			return paragraph(fmt.Sprintf("custom %d %s", e.Status, c.Request().Path))
		}})
		got := app.do(t, "GET", "/missing", "")
		if got.status != 404 || got.body != "<p>custom 404 /missing</p>" {
			t.Errorf("custom page: %d %q", got.status, got.body)
		}
	})
}

func TestSafeNextURL(t *testing.T) {
	tests := []struct{ next, want string }{
		{"/rooms/a?x=1", "/rooms/a?x=1"},
		{"/", "/"},
		{"", "/home"},
		{"//evil.example/x", "/home"},
		{"/\\evil.example", "/home"},
		{"https://evil.example/", "/home"},
		{"javascript:alert(1)", "/home"},
		{"/x\r\nSet-Cookie: a=b", "/home"},
	}
	for _, tt := range tests {
		if got := web.SafeNextURL(tt.next, "/home"); got != tt.want {
			t.Errorf("SafeNextURL(%q) = %q, want %q", tt.next, got, tt.want)
		}
	}
}

func decodeJSON(t *testing.T, body string) map[string]string {
	t.Helper()
	var m map[string]string
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	return m
}

// listenOn starts srv on 127.0.0.1:0 and returns its address.
func listenOn(t *testing.T, l *ioloop.Loop, srv *httpserver.Server) string {
	t.Helper()
	var addr net.Addr
	var err error
	looptest.Do(t, l, func() { addr, err = srv.Listen("127.0.0.1:0") })
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	t.Cleanup(func() { l.AddCallback(srv.Close) })
	return addr.String()
}

func mustRequest(t *testing.T, method, url string, header ...string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range header {
		k, v, _ := strings.Cut(line, ":")
		req.Header.Add(k, strings.TrimSpace(v))
	}
	return req
}

func timeNow() time.Time { return time.Now() }
