package web_test

import (
	"net/http"
	"testing"
	"testing/fstest"

	"chat/framework/web"
)

// Every kind of response carries Config.DefaultHeaders: a route's, a
// static file's, a 404, an error that reset the response, a panic; a
// handler may override one, and its Add does not leak into the next
// response.
func TestDefaultHeadersOnEveryResponse(t *testing.T) {
	routes := []web.Spec{
		{Pattern: "/page", New: web.Func(func(c *web.Context) { c.WriteString("page") })},
		{Pattern: "/framed", New: web.Func(func(c *web.Context) {
			c.SetHeader("X-Frame-Options", "SAMEORIGIN")
			c.WriteString("framed")
		})},
		{Pattern: "/added", New: web.Func(func(c *web.Context) {
			c.Response().Header().Add("Referrer-Policy", "no-referrer")
			c.WriteString("added")
		})},
		{Pattern: "/fails", New: web.Func(func(c *web.Context) {
			c.SetHeader("X-Frame-Options", "SAMEORIGIN")
			c.SendError(http.StatusTeapot)
		})},
		{Pattern: "/panics", New: web.Func(func(c *web.Context) { panic("boom") })},
		{Pattern: "/api/thing", New: web.Func(func(c *web.Context) { c.SendError(http.StatusNotFound) }),
			RouteSettings: web.RouteSettings{API: true}},
	}
	app := startApp(t, web.Config{
		Routes:   routes,
		StaticFS: fstest.MapFS{"app.css": {Data: []byte("body{}")}},
		DefaultHeaders: http.Header{
			"x-frame-options": {"DENY"}, // canonicalized by NewApplication
			"Referrer-Policy": {"same-origin"},
		},
	})
	cases := []struct {
		path, frame, referrer string
		status                int
	}{
		{"/page", "DENY", "same-origin", 200},
		{"/framed", "SAMEORIGIN", "same-origin", 200},
		{"/added", "DENY", "same-origin,no-referrer", 200},
		{"/added", "DENY", "same-origin,no-referrer", 200}, // the Add did not grow the shared value
		{"/page", "DENY", "same-origin", 200},
		{"/fails", "DENY", "same-origin", http.StatusTeapot}, // the error put the default back
		{"/panics", "DENY", "same-origin", 500},
		{"/api/thing", "DENY", "same-origin", 404},
		{"/missing", "DENY", "same-origin", 404},
		{"/static/app.css", "DENY", "same-origin", 200},
		{"/static/missing.css", "DENY", "same-origin", 404},
	}
	for _, tc := range cases {
		got := app.do(t, "GET", tc.path, "")
		referrer := ""
		for i, v := range got.header.Values("Referrer-Policy") {
			if i > 0 {
				referrer += ","
			}
			referrer += v
		}
		if got.status != tc.status || got.header.Get("X-Frame-Options") != tc.frame || referrer != tc.referrer {
			t.Errorf("GET %s: %d, X-Frame-Options %q, Referrer-Policy %q; want %d, %q, %q",
				tc.path, got.status, got.header.Get("X-Frame-Options"), referrer, tc.status, tc.frame, tc.referrer)
		}
	}
}
