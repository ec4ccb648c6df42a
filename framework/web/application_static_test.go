package web_test

import (
	"expvar"
	"net/http"
	"net/http/pprof"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"chat/framework/web"
)

// startStaticApp serves dir/public as static files; dir/secret.txt sits
// next to it, where no request may reach.
func startStaticApp(t *testing.T) *testApp {
	t.Helper()
	dir := t.TempDir()
	public := filepath.Join(dir, "public")
	for name, content := range map[string]string{
		"secret.txt":         "TOPSECRET",
		"public/app.css":     strings.Repeat("body { color: red }\n", 40),
		"public/js/app.js":   "console.log(1)\n",
		"public/.env":        "TOPSECRET",
		"public/dir/ok.txt":  "ok",
		"public/dir/ok2.txt": "ok2",
	} {
		path := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return startApp(t, web.Config{StaticFS: os.DirFS(public)})
}

func TestStaticFiles(t *testing.T) {
	app := startStaticApp(t)
	css := app.do(t, "GET", "/static/app.css", "")
	etag := css.header.Get("Etag")
	if css.status != 200 || !strings.HasPrefix(css.body, "body {") || etag == "" ||
		css.header.Get("Last-Modified") == "" || css.header.Get("Cache-Control") != "no-cache" ||
		css.header.Get("Content-Type") != "text/css; charset=utf-8" {
		t.Fatalf("GET: %d %v", css.status, css.header)
	}
	if got := app.do(t, "GET", "/static/app.css", "", "If-None-Match: "+etag); got.status != 304 || got.body != "" {
		t.Errorf("If-None-Match: %d %q, want 304", got.status, got.body)
	}
	lastModified := css.header.Get("Last-Modified")
	if got := app.do(t, "GET", "/static/app.css", "", "If-Modified-Since: "+lastModified); got.status != 304 {
		t.Errorf("If-Modified-Since: %d, want 304", got.status)
	}
	versioned, err := app.StaticURL("js/app.js")
	if err != nil {
		t.Fatal(err)
	}
	got := app.do(t, "GET", versioned, "")
	if got.status != 200 || !strings.Contains(got.header.Get("Cache-Control"), "immutable") {
		t.Errorf("versioned %s: %d %q", versioned, got.status, got.header.Get("Cache-Control"))
	}
	head := app.do(t, "HEAD", "/static/js/app.js", "")
	if head.status != 200 || head.header.Get("Content-Length") != "15" {
		t.Errorf("HEAD: %d Content-Length %q", head.status, head.header.Get("Content-Length"))
	}
	if got := app.do(t, "POST", "/static/js/app.js", ""); got.status != 405 || got.header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d Allow %q", got.status, got.header.Get("Allow"))
	}
	gz := app.do(t, "GET", "/static/app.css", "", "Accept-Encoding: gzip")
	if gz.header.Get("Content-Encoding") != "gzip" {
		t.Errorf("large CSS not compressed: %v", gz.header)
	}
}

func TestStaticTraversalOverTheWire(t *testing.T) {
	app := startStaticApp(t)
	paths := []string{
		"/static/../secret.txt",
		"/static/%2e%2e/secret.txt",
		"/static/%2E%2E/secret.txt",
		"/static/..%2fsecret.txt",
		"/static/..%2Fsecret.txt",
		"/static/dir/..%2f..%2fsecret.txt",
		"/static/dir/../../secret.txt",
		"/static/..\\secret.txt",
		"/static/%5c..%5csecret.txt",
		"/static/dir\\..\\..\\secret.txt",
		"/static/%252e%252e/secret.txt",
		"/static/.env",
		"/static//etc/passwd",
		"/static/%00",
		"/static/",
		"/static/dir",
		"/static/../../../../../../etc/passwd",
	}
	for _, path := range paths {
		raw := app.raw(t, "GET "+path+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		status, _, _ := strings.Cut(raw, "\r\n")
		if !strings.Contains(status, " 400 ") && !strings.Contains(status, " 404 ") {
			t.Errorf("%s: %q, want 400 or 404", path, status)
		}
		if strings.Contains(raw, "TOPSECRET") || strings.Contains(raw, "root:") {
			t.Errorf("%s: leaked a file outside the static root:\n%s", path, raw)
		}
	}
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed; skipping the curl --path-as-is traversal check")
	}
	for _, path := range []string{"/static/../secret.txt", "/static/%2e%2e/secret.txt"} {
		out, _ := exec.Command(curl, "-s", "--path-as-is", "-o", "-", "-w", "\n%{http_code}", app.base+path).Output()
		cut := strings.LastIndexByte(string(out), '\n')
		body, code := string(out[:max(cut, 0)]), string(out[cut+1:])
		if strings.Contains(body, "TOPSECRET") || (code != "400" && code != "404") {
			t.Errorf("curl %s: status %s body %q", path, code, body)
		}
	}
}

func TestWrapHTTP(t *testing.T) {
	huge := strings.Repeat("x", web.MaxFallbackBodyBytes/4)
	app := startApp(t, web.Config{Routes: []web.Spec{
		{Pattern: "/debug/pprof/{path...}", New: web.WrapHTTP(http.HandlerFunc(pprof.Index))},
		{Pattern: "/debug/vars", New: web.WrapHTTP(expvar.Handler())},
		{Pattern: "/teapot", New: web.WrapHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Method", r.Method)
			w.Header().Set("Content-Length", "999") // the server's to set
			w.WriteHeader(http.StatusTeapot)
			w.Write([]byte("short and stout " + r.URL.Query().Get("q")))
		})), RouteSettings: web.RouteSettings{DisableXSRF: true}},
		{Pattern: "/huge", New: web.WrapHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for range 5 {
				w.Write([]byte(huge))
			}
		}))},
		{Pattern: "/panics", New: web.WrapHTTP(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("wrapped boom") }))},
	}})
	index := app.do(t, "GET", "/debug/pprof/", "")
	if index.status != 200 || !strings.Contains(index.body, "goroutine") {
		t.Errorf("pprof index: %d %.200q", index.status, index.body)
	}
	goroutines := app.do(t, "GET", "/debug/pprof/goroutine?debug=1", "")
	if goroutines.status != 200 || !strings.Contains(goroutines.body, "goroutine profile") {
		t.Errorf("pprof goroutine: %d %.200q", goroutines.status, goroutines.body)
	}
	vars := app.do(t, "GET", "/debug/vars", "")
	if vars.status != 200 || !strings.Contains(vars.body, `"memstats"`) || !strings.HasPrefix(vars.header.Get("Content-Type"), "application/json") {
		t.Errorf("expvar: %d %q %.100q", vars.status, vars.header.Get("Content-Type"), vars.body)
	}
	teapot := app.do(t, "POST", "/teapot?q=yes", "")
	if teapot.status != 418 || teapot.body != "short and stout yes" || teapot.header.Get("X-Method") != "POST" {
		t.Errorf("teapot: %d %q %v", teapot.status, teapot.body, teapot.header)
	}
	if got := app.do(t, "GET", "/huge", ""); got.status != 500 {
		t.Errorf("oversized response: %d, want 500", got.status)
	}
	if got := app.do(t, "GET", "/panics", ""); got.status != 500 {
		t.Errorf("panicking handler: %d, want 500", got.status)
	}
}

// A dynamic page served gzipped carries the "-gzip" ETag variant, and
// revalidating with it must give 304.
func TestGzipETagRevalidation(t *testing.T) {
	page := strings.Repeat("<p>compressible</p>\n", 100)
	app := startApp(t, web.Config{Routes: []web.Spec{
		{Pattern: "/page", New: web.Func(func(c *web.Context) { c.WriteString(page) })},
	}})
	first := app.do(t, "GET", "/page", "", "Accept-Encoding: gzip")
	etag := first.header.Get("Etag")
	if !strings.HasSuffix(etag, `-gzip"`) {
		t.Fatalf("response not gzipped (ETag %q)", etag)
	}
	again := app.do(t, "GET", "/page", "", "Accept-Encoding: gzip", "If-None-Match: "+etag)
	if again.status != http.StatusNotModified {
		t.Fatalf("If-None-Match %s on a gzipped response: %d, want 304", etag, again.status)
	}
}
