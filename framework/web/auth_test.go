package web_test

import (
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"testing/synctest"

	"chat/framework/web"
)

// cookieValue returns the value the response sets for name.
func cookieValue(t *testing.T, r response, name string) string {
	t.Helper()
	for _, line := range r.header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err == nil && c.Name == name {
			return c.Value
		}
	}
	t.Fatalf("no %s cookie set; Set-Cookie: %q", name, r.header.Values("Set-Cookie"))
	return ""
}

// secureCookieRoutes: /login sets the "user" secure cookie from ?name=,
// /whoami reports what GetSecureCookie makes of the request's cookie.
var secureCookieRoutes = []web.Spec{
	{Pattern: "/login", New: web.Func(func(c *web.Context) {
		if err := c.SetSecureCookie("user", []byte(c.GetArgument("name", ""))); err != nil {
			c.Fail(err)
		}
	})},
	{Pattern: "/whoami", New: web.Func(func(c *web.Context) {
		value, err := c.GetSecureCookie("user")
		for _, sentinel := range []error{web.ErrCookieMissing, web.ErrCookieInvalid, web.ErrCookieExpired, web.ErrCookieWrongKey} {
			if errors.Is(err, sentinel) {
				c.WriteString(sentinel.Error())
				return
			}
		}
		c.WriteString("user " + string(value))
	})},
}

func TestSecureCookies(t *testing.T) {
	keys := web.GenerateKeys()
	app := startApp(t, web.Config{CookieKeys: []web.KeyPair{keys}, Routes: secureCookieRoutes})
	login := app.do(t, "GET", "/login?name=alice", "")
	setCookie := login.header.Get("Set-Cookie")
	for _, attr := range []string{"HttpOnly", "SameSite=Lax", "Path=/", "Max-Age="} {
		if !strings.Contains(setCookie, attr) {
			t.Errorf("Set-Cookie %q lacks %s", setCookie, attr)
		}
	}
	if strings.Contains(setCookie, "Secure") {
		t.Errorf("Set-Cookie %q is Secure over plain HTTP", setCookie)
	}
	value := cookieValue(t, login, "user")

	whoami := func(cookie string) string {
		return app.do(t, "GET", "/whoami", "", "Cookie: user="+cookie).body
	}
	if got := whoami(value); got != "user alice" {
		t.Errorf("round trip: %q", got)
	}
	tampered := []byte(value)
	tampered[len(tampered)/2] ^= 1
	if got := whoami(string(tampered)); got != web.ErrCookieInvalid.Error() {
		t.Errorf("tampered: %q", got)
	}
	if got := app.do(t, "GET", "/whoami", "").body; got != web.ErrCookieMissing.Error() {
		t.Errorf("missing: %q", got)
	}

	// Another application, other keys: the cookie is worthless there.
	other := startApp(t, web.Config{CookieKeys: []web.KeyPair{web.GenerateKeys()}, Routes: secureCookieRoutes})
	if got := other.do(t, "GET", "/whoami", "", "Cookie: user="+value).body; got != web.ErrCookieInvalid.Error() {
		t.Errorf("wrong key: %q", got)
	}
	// After a rotation (new pair first) the old cookie still works.
	rotated := startApp(t, web.Config{CookieKeys: []web.KeyPair{web.GenerateKeys(), keys}, Routes: secureCookieRoutes})
	if got := rotated.do(t, "GET", "/whoami", "", "Cookie: user="+value).body; got != "user alice" {
		t.Errorf("rotated keys: %q", got)
	}

	// A cookie issued long ago: synctest's clock starts in 2000, so a
	// value encoded inside a bubble is decades past MaxAge.
	var old string
	synctest.Test(t, func(t *testing.T) {
		codec, err := web.NewCookieCodec(web.CookieConfig{Keys: []web.KeyPair{keys}})
		if err != nil {
			t.Fatal(err)
		}
		old, _ = codec.EncodeString("user", "alice")
	})
	if got := whoami(old); got != web.ErrCookieExpired.Error() {
		t.Errorf("expired: %q", got)
	}
}

func TestSecureCookiesWithoutKeys(t *testing.T) {
	app := startApp(t, web.Config{Routes: secureCookieRoutes})
	if got := app.do(t, "GET", "/login?name=alice", ""); got.status != 500 {
		t.Errorf("SetSecureCookie without keys: %d, want 500", got.status)
	}
}

func TestSecureCookieIsSecureBehindTLSProxy(t *testing.T) {
	app := startApp(t, web.Config{CookieKeys: []web.KeyPair{web.GenerateKeys()}, Routes: secureCookieRoutes})
	// The test server does not trust X headers, so build one that does.
	l := app.Loop()
	srv := app.NewServer()
	srv.XHeaders = true
	addr := listenOn(t, l, srv)
	resp, err := http.DefaultClient.Do(mustRequest(t, "GET", "http://"+addr+"/login?name=bob", "X-Forwarded-Proto: https"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if sc := resp.Header.Get("Set-Cookie"); !strings.Contains(sc, "; Secure") {
		t.Errorf("Set-Cookie over TLS: %q lacks Secure", sc)
	}
}

var hiddenXSRF = regexp.MustCompile(`name="_xsrf" value="([^"]+)"`)

func TestXSRF(t *testing.T) {
	app := startApp(t, web.Config{Routes: []web.Spec{
		{Pattern: "/form", New: web.Func(func(c *web.Context) { c.WriteString(c.XSRFFormHTML()) })},
		{Pattern: "/post", New: web.Func(func(c *web.Context) { c.WriteString("accepted " + c.GetArgument("msg", "")) })},
		{Pattern: "/hook", New: web.Func(func(c *web.Context) { c.WriteString("hook") }),
			RouteSettings: web.RouteSettings{DisableXSRF: true}},
	}})
	form := app.do(t, "GET", "/form", "")
	cookie := cookieValue(t, form, "_xsrf")
	m := hiddenXSRF.FindStringSubmatch(form.body)
	if m == nil {
		t.Fatalf("no hidden input in %q", form.body)
	}
	token := strings.ReplaceAll(m[1], "&#124;", "|")
	// The cookie is reused, and each render masks the token afresh.
	again := app.do(t, "GET", "/form", "", "Cookie: _xsrf="+cookie)
	if again.header.Get("Set-Cookie") != "" {
		t.Errorf("cookie set again: %q", again.header.Get("Set-Cookie"))
	}
	if again.body == form.body {
		t.Error("two renders carry the same masked token")
	}
	if err := web.CheckXSRF(cookie, token); err != nil {
		t.Fatalf("rendered token does not match the cookie: %v", err)
	}

	otherToken := web.EncodeXSRF(web.NewXSRFToken(), timeNow())
	formType := "Content-Type: application/x-www-form-urlencoded"
	tests := []struct {
		name       string
		body       string
		header     []string
		wantStatus int
		wantBody   string
	}{
		{"nothing", "msg=hi", []string{formType}, 403, "argument missing"},
		{"token without cookie", "msg=hi&_xsrf=" + url.QueryEscape(token), []string{formType}, 403, "cookie missing"},
		{"wrong token", "msg=hi&_xsrf=" + url.QueryEscape(otherToken), []string{formType, "Cookie: _xsrf=" + cookie}, 403, "does not match"},
		{"malformed token", "msg=hi&_xsrf=garbage", []string{formType, "Cookie: _xsrf=" + cookie}, 403, "invalid format"},
		{"form field", "msg=hi&_xsrf=" + url.QueryEscape(token), []string{formType, "Cookie: _xsrf=" + cookie}, 200, "accepted hi"},
		{"X-XSRFToken header", "msg=hi", []string{formType, "Cookie: _xsrf=" + cookie, "X-XSRFToken: " + token}, 200, "accepted hi"},
		{"X-CSRFToken header", "msg=hi", []string{formType, "Cookie: _xsrf=" + cookie, "X-CSRFToken: " + token}, 200, "accepted hi"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := app.do(t, "POST", "/post", tt.body, tt.header...)
			if got.status != tt.wantStatus || !strings.Contains(got.body, tt.wantBody) {
				t.Errorf("%d %q, want %d containing %q", got.status, got.body, tt.wantStatus, tt.wantBody)
			}
		})
	}
	for _, method := range []string{"PUT", "PATCH", "DELETE"} {
		if got := app.do(t, method, "/post", ""); got.status != 403 {
			t.Errorf("%s without token: %d, want 403", method, got.status)
		}
	}
	if got := app.do(t, "POST", "/hook", ""); got.status != 200 {
		t.Errorf("route with XSRF disabled: %d", got.status)
	}
	multipart := "--B\r\nContent-Disposition: form-data; name=\"_xsrf\"\r\n\r\n" + token +
		"\r\n--B\r\nContent-Disposition: form-data; name=\"msg\"\r\n\r\nmulti\r\n--B--\r\n"
	got := app.do(t, "POST", "/post", multipart, "Content-Type: multipart/form-data; boundary=B", "Cookie: _xsrf="+cookie)
	if got.status != 200 || got.body != "accepted multi" {
		t.Errorf("multipart form: %d %q", got.status, got.body)
	}
}

func TestAuthenticated(t *testing.T) {
	private := web.RouteSettings{Authenticated: true, DisableXSRF: true}
	app := startApp(t, web.Config{
		LoginURL: "/auth/login",
		CurrentUser: func(c *web.Context) any {
			if name, ok := c.Cookie("name"); ok {
				return name
			}
			return nil
		},
		Routes: []web.Spec{
			{Pattern: "/private", New: web.Func(func(c *web.Context) { c.WriteString("hello " + c.CurrentUser().(string)) }),
				RouteSettings: private},
			{Pattern: "/api/private", New: web.Func(func(c *web.Context) { c.WriteString("data") }),
				RouteSettings: web.RouteSettings{Authenticated: true, API: true}},
		},
	})
	page := app.do(t, "GET", "/private?a=b&c=d%20e", "")
	if page.status != 302 || page.header.Get("Location") != "/auth/login?next="+url.QueryEscape("/private?a=b&c=d%20e") {
		t.Errorf("page request: %d Location %q", page.status, page.header.Get("Location"))
	}
	for _, tt := range []struct {
		name, method, path string
		header             []string
	}{
		{"POST", "POST", "/private", nil},
		{"GET asking for JSON", "GET", "/private", []string{"Accept: application/json"}},
		{"API route", "GET", "/api/private", nil},
	} {
		got := app.do(t, tt.method, tt.path, "", tt.header...)
		if got.status != 401 || decodeJSON(t, got.body)["error"] == "" {
			t.Errorf("%s: %d %q, want 401 JSON", tt.name, got.status, got.body)
		}
	}
	if got := app.do(t, "GET", "/private", "", "Cookie: name=ann"); got.status != 200 || got.body != "hello ann" {
		t.Errorf("logged in: %d %q", got.status, got.body)
	}
}
