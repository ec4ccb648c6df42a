package web

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

var staticModTime = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func testStaticFS() fstest.MapFS {
	return fstest.MapFS{
		"app.js":              {Data: []byte("export const x = 1;\n")},
		"css/app.css":         {Data: []byte(strings.Repeat("body { color: red }\n", 20)), ModTime: staticModTime.Add(500 * time.Millisecond)},
		"img/logo.svg":        {Data: []byte("<svg/>")},
		"img/photo.png":       {Data: bytes.Repeat([]byte{0x89}, 1000)},
		"fonts/a.woff2":       {Data: []byte("wOF2")},
		"data.json":           {Data: []byte("{}")},
		"app.js.map":          {Data: []byte("{}")},
		"my file.txt":         {Data: []byte("spaces")},
		"café.txt":            {Data: []byte("unicode")},
		"blob.unknownext":     {Data: []byte("?")},
		"index.html":          {Data: []byte("<!doctype html>")},
		".env":                {Data: []byte("SECRET=1")},
		".git/config":         {Data: []byte("secret")},
		"css/.hidden.css":     {Data: []byte("secret")},
		"100%.txt":            {Data: []byte("unreachable")},
		"back\\slash.txt":     {Data: []byte("unreachable")},
		"link":                {Data: []byte("../../etc/passwd"), Mode: fs.ModeSymlink},
		"deep/er/nested/f.js": {Data: []byte("1")},
	}
}

func testStatic(t testing.TB) *StaticFiles {
	t.Helper()
	s, err := NewStaticFiles(testStaticFS(), StaticConfig{ModTime: staticModTime})
	if err != nil {
		t.Fatalf("NewStaticFiles: %v", err)
	}
	return s
}

func TestStaticFilesResolve(t *testing.T) {
	s := testStatic(t)
	tests := []struct {
		name     string
		path     string
		wantFile string
		wantErr  error
	}{
		{"plain file", "/static/app.js", "app.js", nil},
		{"nested file", "/static/css/app.css", "css/app.css", nil},
		{"deeply nested file", "/static/deep/er/nested/f.js", "deep/er/nested/f.js", nil},
		{"escaped space", "/static/my%20file.txt", "my file.txt", nil},
		{"escaped unicode", "/static/caf%C3%A9.txt", "café.txt", nil},
		{"escaped ordinary letter", "/static/%61pp.js", "app.js", nil},
		{"raw unicode", "/static/café.txt", "café.txt", nil},

		{"missing file", "/static/nope.js", "", ErrStaticNotFound},
		{"outside prefix", "/other/app.js", "", ErrStaticNotFound},
		{"prefix without slash", "/static", "", ErrStaticNotFound},
		{"case differs", "/static/APP.js", "", ErrStaticNotFound},
		{"symlink is not served", "/static/link", "", ErrStaticNotFound},
		{"prefix itself is a directory", "/static/", "", ErrStaticIsDir},
		{"directory", "/static/css", "", ErrStaticIsDir},
		{"nested directory", "/static/deep/er", "", ErrStaticIsDir},

		{"dot-dot", "/static/../secret", "", ErrStaticBadPath},
		{"dot-dot inside", "/static/css/../app.js", "", ErrStaticBadPath},
		{"dot-dot at end", "/static/css/..", "", ErrStaticBadPath},
		{"dot segment", "/static/./app.js", "", ErrStaticBadPath},
		{"lower-case encoded dot-dot", "/static/%2e%2e/secret", "", ErrStaticBadPath},
		{"upper-case encoded dot-dot", "/static/%2E%2E/secret", "", ErrStaticBadPath},
		{"half-encoded dot-dot", "/static/.%2e/secret", "", ErrStaticBadPath},
		{"encoded dot", "/static/%2e/app.js", "", ErrStaticBadPath},
		{"encoded slash", "/static/css%2fapp.css", "", ErrStaticBadPath},
		{"encoded upper-case slash", "/static/css%2Fapp.css", "", ErrStaticBadPath},
		{"encoded slash traversal", "/static/..%2f..%2fetc%2fpasswd", "", ErrStaticBadPath},
		{"encoded slash and dots", "/static/%2e%2e%2fsecret", "", ErrStaticBadPath},
		{"backslash", "/static/css\\app.css", "", ErrStaticBadPath},
		{"backslash traversal", "/static/..\\..\\secret", "", ErrStaticBadPath},
		{"encoded backslash", "/static/css%5capp.css", "", ErrStaticBadPath},
		{"encoded upper-case backslash traversal", "/static/..%5C..%5Csecret", "", ErrStaticBadPath},
		{"NUL", "/static/app.js\x00.png", "", ErrStaticBadPath},
		{"encoded NUL", "/static/app.js%00.png", "", ErrStaticBadPath},
		{"control character", "/static/app%0a.js", "", ErrStaticBadPath},
		{"DEL", "/static/app%7f.js", "", ErrStaticBadPath},
		{"absolute path after prefix", "/static//etc/passwd", "", ErrStaticBadPath},
		{"encoded absolute path", "/static/%2fetc/passwd", "", ErrStaticBadPath},
		{"empty middle segment", "/static/css//app.css", "", ErrStaticBadPath},
		{"trailing slash", "/static/css/", "", ErrStaticBadPath},
		{"double-encoded dot-dot", "/static/%252e%252e/secret", "", ErrStaticBadPath},
		{"double-encoded slash", "/static/css%252fapp.css", "", ErrStaticBadPath},
		{"double-encoded file name", "/static/100%25.txt", "", ErrStaticBadPath},
		{"malformed escape", "/static/%zz.js", "", ErrStaticBadPath},
		{"truncated escape", "/static/app.js%2", "", ErrStaticBadPath},
		{"dotfile", "/static/.env", "", ErrStaticBadPath},
		{"encoded dotfile", "/static/%2eenv", "", ErrStaticBadPath},
		{"dot directory", "/static/.git/config", "", ErrStaticBadPath},
		{"hidden file in directory", "/static/css/.hidden.css", "", ErrStaticBadPath},
		{"dots and slashes mixed", "/static/css/%2e%2e%5c%2e%2e/..%2Fsecret", "", ErrStaticBadPath},
		{"Windows drive traversal", "/static/..\\C:\\windows", "", ErrStaticBadPath},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file, err := s.Resolve(tt.path)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || file != nil {
					t.Fatalf("Resolve(%q) = %v, %v; want error %v", tt.path, file, err, tt.wantErr)
				}
				return
			}
			if err != nil || file.Name != tt.wantFile {
				t.Fatalf("Resolve(%q) = %v, %v; want %q", tt.path, file, err, tt.wantFile)
			}
		})
	}
}

func TestStaticFilesSkipsUnservableNames(t *testing.T) {
	s := testStatic(t)
	for _, name := range []string{".env", ".git/config", "css/.hidden.css", "100%.txt", "back\\slash.txt", "link"} {
		if _, ok := s.Lookup(name); ok {
			t.Errorf("%q was indexed", name)
		}
	}
}

func TestStaticFileMetadata(t *testing.T) {
	s := testStatic(t)
	tests := []struct {
		name         string
		contentType  string
		compressible bool
	}{
		{"app.js", "text/javascript; charset=utf-8", false}, // too small
		{"css/app.css", "text/css; charset=utf-8", true},
		{"img/logo.svg", "image/svg+xml", false},
		{"img/photo.png", "image/png", false},
		{"fonts/a.woff2", "font/woff2", false},
		{"data.json", "application/json", false},
		{"app.js.map", "application/json", false},
		{"my file.txt", "text/plain; charset=utf-8", false},
		{"index.html", "text/html; charset=utf-8", false},
		{"blob.unknownext", "application/octet-stream", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file, ok := s.Lookup(tt.name)
			if !ok {
				t.Fatal("not indexed")
			}
			if file.ContentType != tt.contentType || file.Compressible != tt.compressible {
				t.Fatalf("type %q compressible %v, want %q %v", file.ContentType, file.Compressible, tt.contentType, tt.compressible)
			}
			if len(file.ETag) != 34 || file.ETag[0] != '"' || len(file.Version) != 16 {
				t.Fatalf("ETag %s, Version %s", file.ETag, file.Version)
			}
		})
	}
	css, _ := s.Lookup("css/app.css")
	if !css.ModTime.Equal(staticModTime) {
		t.Errorf("FS mod time %v not truncated to seconds: %v", staticModTime, css.ModTime)
	}
	js, _ := s.Lookup("app.js")
	if !js.ModTime.Equal(staticModTime) {
		t.Errorf("zero FS mod time falls back to %v, got %v", staticModTime, js.ModTime)
	}
}

func TestStaticETagFollowsContent(t *testing.T) {
	fsys := testStaticFS()
	before := testStatic(t)
	fsys["app.js"] = &fstest.MapFile{Data: []byte("export const x = 2;\n")}
	after, err := NewStaticFiles(fsys, StaticConfig{ModTime: staticModTime})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := before.Lookup("app.js")
	b, _ := after.Lookup("app.js")
	if a.ETag == b.ETag || a.Version == b.Version {
		t.Fatal("ETag or Version unchanged after the content changed")
	}
	c, _ := before.Lookup("data.json")
	d, _ := before.Lookup("app.js.map")
	if c.ETag != d.ETag {
		t.Fatal("same content, different ETag")
	}
}

func TestNewStaticFilesDefaults(t *testing.T) {
	start := time.Now().Truncate(time.Second)
	s, err := NewStaticFiles(fstest.MapFS{"a.js": {Data: []byte("1")}}, StaticConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Prefix() != "/static/" {
		t.Errorf("prefix %q", s.Prefix())
	}
	if file, _ := s.Lookup("a.js"); file.ModTime.Before(start) {
		t.Errorf("fallback mod time %v is before construction %v", file.ModTime, start)
	}
	for prefix, want := range map[string]string{"assets": "/assets/", "/assets": "/assets/", "/a/b/": "/a/b/", "/": "/"} {
		s, _ := NewStaticFiles(fstest.MapFS{}, StaticConfig{Prefix: prefix})
		if s.Prefix() != want {
			t.Errorf("Prefix %q became %q, want %q", prefix, s.Prefix(), want)
		}
	}
}

func TestStaticURL(t *testing.T) {
	s := testStatic(t)
	tests := []struct{ name, want string }{
		{"app.js", "/static/app.js?v="},
		{"my file.txt", "/static/my%20file.txt?v="},
		{"café.txt", "/static/caf%C3%A9.txt?v="},
		{"css/app.css", "/static/css/app.css?v="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.StaticURL(tt.name)
			file, _ := s.Lookup(tt.name)
			if err != nil || got != tt.want+file.Version {
				t.Fatalf("StaticURL = %q, %v; want %q", got, err, tt.want+file.Version)
			}
			path, _, _ := strings.Cut(got, "?")
			if resolved, err := s.Resolve(path); err != nil || resolved != file {
				t.Fatalf("Resolve(StaticURL) = %v, %v", resolved, err)
			}
		})
	}
	if _, err := s.StaticURL("nope.js"); !errors.Is(err, ErrStaticNotFound) {
		t.Fatalf("unknown file: error %v", err)
	}
}

func TestStaticFilesServe(t *testing.T) {
	s := testStatic(t)
	css, _ := s.Lookup("css/app.css")
	lastModified := css.ModTime.Format(http.TimeFormat)
	tests := []struct {
		name         string
		req          StaticRequest
		status       int
		cacheControl string
		wantBody     bool
		wantErr      error
	}{
		{"unversioned GET revalidates",
			StaticRequest{Method: "GET", Path: "/static/css/app.css"}, 200, "no-cache", true, nil},
		{"current version is immutable",
			StaticRequest{Method: "GET", Path: "/static/css/app.css", Version: css.Version}, 200, "public, max-age=31536000, immutable", true, nil},
		{"stale version is not immutable",
			StaticRequest{Method: "GET", Path: "/static/css/app.css", Version: "0123456789abcdef"}, 200, "no-cache", true, nil},
		{"HEAD has headers but no body",
			StaticRequest{Method: "HEAD", Path: "/static/css/app.css"}, 200, "no-cache", false, nil},
		{"matching ETag is 304",
			StaticRequest{Method: "GET", Path: "/static/css/app.css", IfNoneMatch: css.ETag}, 304, "no-cache", false, nil},
		{"weak ETag is 304",
			StaticRequest{Method: "GET", Path: "/static/css/app.css", IfNoneMatch: "W/" + css.ETag}, 304, "no-cache", false, nil},
		{"304 keeps versioned caching",
			StaticRequest{Method: "GET", Path: "/static/css/app.css", Version: css.Version, IfNoneMatch: css.ETag}, 304, "public, max-age=31536000, immutable", false, nil},
		{"other ETag is 200 even if not modified since",
			StaticRequest{Method: "GET", Path: "/static/css/app.css", IfNoneMatch: `"other"`, IfModifiedSince: lastModified}, 200, "no-cache", true, nil},
		{"not modified since is 304",
			StaticRequest{Method: "GET", Path: "/static/css/app.css", IfModifiedSince: lastModified}, 304, "no-cache", false, nil},
		{"modified since is 200",
			StaticRequest{Method: "GET", Path: "/static/css/app.css", IfModifiedSince: css.ModTime.Add(-time.Second).Format(http.TimeFormat)}, 200, "no-cache", true, nil},
		{"POST is 405",
			StaticRequest{Method: "POST", Path: "/static/css/app.css"}, 405, "", false, nil},
		{"missing is 404",
			StaticRequest{Method: "GET", Path: "/static/nope.css"}, 404, "", false, ErrStaticNotFound},
		{"directory is 404",
			StaticRequest{Method: "GET", Path: "/static/css"}, 404, "", false, ErrStaticIsDir},
		{"traversal is 400",
			StaticRequest{Method: "GET", Path: "/static/%2e%2e/x"}, 400, "", false, ErrStaticBadPath},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := s.Serve(tt.req)
			if resp.Status != tt.status {
				t.Fatalf("status %d, want %d (err %v)", resp.Status, tt.status, resp.Err)
			}
			if tt.wantErr != nil && !errors.Is(resp.Err, tt.wantErr) {
				t.Fatalf("Err %v, want %v", resp.Err, tt.wantErr)
			}
			if got := resp.Header.Get("Cache-Control"); got != tt.cacheControl {
				t.Errorf("Cache-Control %q, want %q", got, tt.cacheControl)
			}
			if tt.wantBody != (resp.Body != nil) {
				t.Errorf("body present %v, want %v", resp.Body != nil, tt.wantBody)
			}
			switch resp.Status {
			case 200:
				want := http.Header{
					"Etag":                   {css.ETag},
					"Last-Modified":          {lastModified},
					"Cache-Control":          {tt.cacheControl},
					"Content-Type":           {"text/css; charset=utf-8"},
					"Content-Length":         {"400"},
					"X-Content-Type-Options": {"nosniff"},
					"Vary":                   {"Accept-Encoding"}, // the file has a gzip variant
				}
				if !equalHeaders(resp.Header, want) {
					t.Errorf("headers %v\nwant %v", resp.Header, want)
				}
				if resp.Body != nil && !bytes.Equal(resp.Body, css.Content) {
					t.Error("body differs from the file")
				}
			case 304:
				if resp.Header.Get("Etag") != css.ETag || resp.Header.Get("Content-Length") != "" {
					t.Errorf("304 headers %v", resp.Header)
				}
			case 405:
				if resp.Header.Get("Allow") != "GET, HEAD" {
					t.Errorf("405 without Allow: %v", resp.Header)
				}
			}
		})
	}
}

func equalHeaders(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if len(b[k]) != len(v) || (len(v) > 0 && b[k][0] != v[0]) {
			return false
		}
	}
	return true
}

func TestStaticUnversionedMaxAge(t *testing.T) {
	s, _ := NewStaticFiles(testStaticFS(), StaticConfig{UnversionedMaxAge: 10 * time.Minute})
	if got := s.Serve(StaticRequest{Method: "GET", Path: "/static/app.js"}).Header.Get("Cache-Control"); got != "public, max-age=600" {
		t.Fatalf("Cache-Control %q", got)
	}
}

func TestNotModified(t *testing.T) {
	const etag = `"abc"`
	mod := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	at := mod.Format(http.TimeFormat)
	tests := []struct {
		name        string
		ifNoneMatch string
		ifModSince  string
		want        bool
	}{
		{"no conditions", "", "", false},
		{"exact tag", `"abc"`, "", true},
		{"weak request tag", `W/"abc"`, "", true},
		{"other tag", `"abd"`, "", false},
		{"unquoted tag is malformed", `abc`, "", false},
		{"tag in list", `"x", "y",  "abc"`, "", true},
		{"tag after empty members", `,, ,"abc"`, "", true},
		{"comma inside a tag does not split it", `"x,\"abc\""`, "", false},
		{"tag with comma then ours", `"a,b", "abc"`, "", true},
		{"malformed member stops the scan", `"x", bad, "abc"`, "", false},
		{"unterminated tag", `"abc`, "", false},
		{"star", `*`, "", true},
		{"star with spaces", ` * `, "", true},
		{"If-None-Match wins over matching date", `"nope"`, at, false},
		{"If-None-Match wins over old date", `"abc"`, "Thu, 01 Jan 1970 00:00:00 GMT", true},
		{"blank If-None-Match is absent", "  ", at, true},
		{"same date", "", at, true},
		{"later date", "", mod.Add(time.Hour).Format(http.TimeFormat), true},
		{"earlier date", "", mod.Add(-time.Second).Format(http.TimeFormat), false},
		{"RFC 850 date", "", "Wednesday, 01-May-24 12:00:00 GMT", true},
		{"asctime date", "", "Wed May  1 12:00:00 2024", true},
		{"unparsable date is ignored", "", "yesterday", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NotModified(etag, mod, tt.ifNoneMatch, tt.ifModSince); got != tt.want {
				t.Fatalf("NotModified(%q, %q) = %v, want %v", tt.ifNoneMatch, tt.ifModSince, got, tt.want)
			}
		})
	}
	if NotModified(etag, mod.Add(500*time.Millisecond), "", at) != true {
		t.Error("sub-second mod time must compare at whole seconds")
	}
}

// FuzzStaticResolve checks the traversal policy from outside: whatever the
// path, Resolve never panics and only ever returns a file that is in the
// FS, under a valid name holding no dot segment, dotfile or backslash.
func FuzzStaticResolve(f *testing.F) {
	for _, seed := range []string{
		"/static/app.js", "/static/css/app.css", "/static/../x", "/static/%2e%2e/x",
		"/static/%2E%2E%2Fx", "/static/a%5cb", "/static/%00", "/static//etc/passwd",
		"/static/%252e%252e/x", "/static/my%20file.txt", "/static/.env", "/static/%2eenv",
		"/static/caf%C3%A9.txt", "/static/link", "/static/",
	} {
		f.Add(seed)
	}
	fsys := testStaticFS()
	s := testStatic(f)
	f.Fuzz(func(t *testing.T, path string) {
		file, err := s.Resolve(path)
		if err != nil {
			if !errors.Is(err, ErrStaticNotFound) && !errors.Is(err, ErrStaticIsDir) && !errors.Is(err, ErrStaticBadPath) {
				t.Fatalf("Resolve(%q): undocumented error %v", path, err)
			}
			return
		}
		if !fs.ValidPath(file.Name) || strings.Contains(file.Name, "\\") {
			t.Fatalf("Resolve(%q) = invalid name %q", path, file.Name)
		}
		for segment := range strings.SplitSeq(file.Name, "/") {
			if strings.HasPrefix(segment, ".") {
				t.Fatalf("Resolve(%q) = %q, which holds a dot segment", path, file.Name)
			}
		}
		source, ok := fsys[file.Name]
		if !ok || source.Mode&fs.ModeType != 0 || !bytes.Equal(source.Data, file.Content) {
			t.Fatalf("Resolve(%q) = %q, which is not that regular file of the FS", path, file.Name)
		}
	})
}

// FuzzNotModified checks that the If-None-Match scanner never panics and
// finds our tag wherever it sits in an otherwise well-formed list.
func FuzzNotModified(f *testing.F) {
	f.Add(`"x", W/"y"`, `"abc"`)
	f.Add(`*`, `"abc"`)
	f.Add(`"a,b"`, `W/"a,b"`)
	f.Add(`W/`, `""`)
	f.Fuzz(func(t *testing.T, list, etag string) {
		NotModified(etag, time.Time{}, list, "")
		if _, rest, ok := scanETag(etag); !ok || rest != "" {
			return
		}
		if !NotModified(etag, time.Time{}, list+", "+etag, "") && etagListWellFormed(list) {
			t.Fatalf("%q not found after well-formed list %q", etag, list)
		}
		if !NotModified(etag, time.Time{}, etag+", "+list, "") {
			t.Fatalf("%q not found at the front of %q", etag, list)
		}
	})
}

// etagListWellFormed reports whether every member of list parses.
func etagListWellFormed(list string) bool {
	for {
		list = strings.TrimLeft(list, " \t,")
		if list == "" {
			return true
		}
		if list[0] == '*' {
			return true
		}
		var ok bool
		if _, list, ok = scanETag(list); !ok {
			return false
		}
	}
}

// TestStaticFilesServeGzipVariant: a client that accepts gzip gets the
// variant compressed at load, the same bytes on every request (no
// compression per request), with its own ETag and length; either
// variant's tag revalidates.
func TestStaticFilesServeGzipVariant(t *testing.T) {
	s := testStatic(t)
	css, _ := s.Lookup("css/app.css")
	if css.Gzipped == nil || css.GzipETag != strings.TrimSuffix(css.ETag, `"`)+`-gzip"` {
		t.Fatalf("no gzip variant stored at load: %d bytes, tag %q", len(css.Gzipped), css.GzipETag)
	}
	req := StaticRequest{Method: "GET", Path: "/static/css/app.css", AcceptsGzip: true}
	first, second := s.Serve(req), s.Serve(req)
	if first.Status != 200 || first.Header.Get("Content-Encoding") != "gzip" || first.Header.Get("Etag") != css.GzipETag ||
		first.Header.Get("Vary") != "Accept-Encoding" || first.Header.Get("Content-Length") != strconv.Itoa(len(css.Gzipped)) {
		t.Fatalf("gzip response: %d %v", first.Status, first.Header)
	}
	if &first.Body[0] != &css.Gzipped[0] || &second.Body[0] != &css.Gzipped[0] {
		t.Fatal("the gzip body is not the variant stored at load: compressed per request")
	}
	zr, err := gzip.NewReader(bytes.NewReader(first.Body))
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := io.ReadAll(zr); err != nil || !bytes.Equal(plain, css.Content) {
		t.Fatalf("gzip variant decompresses to %d bytes, %v; want the file", len(plain), err)
	}
	for _, tag := range []string{css.GzipETag, css.ETag, "W/" + css.GzipETag} {
		resp := s.Serve(StaticRequest{Method: "GET", Path: req.Path, AcceptsGzip: true, IfNoneMatch: tag})
		if resp.Status != 304 || resp.Header.Get("Etag") != css.GzipETag {
			t.Errorf("If-None-Match %s: %d %v; want 304 with the gzip tag", tag, resp.Status, resp.Header)
		}
	}
	small, _ := s.Lookup("app.js")
	if small.Gzipped != nil {
		t.Errorf("%s (%d bytes) got a gzip variant; files under %d bytes stay identity", small.Name, len(small.Content), staticMinCompressSize)
	}
}

func TestAcceptsGzip(t *testing.T) {
	tests := []struct {
		values []string
		want   bool
	}{
		{nil, false},
		{[]string{""}, false},
		{[]string{"gzip"}, true},
		{[]string{"GZIP"}, true},
		{[]string{"deflate, gzip;q=0.8"}, true},
		{[]string{"br", "gzip"}, true},
		{[]string{"gzip;q=0"}, false},
		{[]string{"gzip; q=0.000"}, false},
		{[]string{"*"}, true},
		{[]string{"*;q=0"}, false},
		{[]string{"identity"}, false},
		{[]string{"x-gzip"}, false},
	}
	for _, tc := range tests {
		if got := AcceptsGzip(tc.values); got != tc.want {
			t.Errorf("AcceptsGzip(%q) = %v; want %v", tc.values, got, tc.want)
		}
	}
}
