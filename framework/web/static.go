package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

// Errors from StaticFiles.Resolve, also carried in StaticResponse.Err.
var (
	// ErrStaticNotFound reports a path naming no servable file, including
	// one outside the StaticFiles prefix.
	ErrStaticNotFound = errors.New("web: static file not found")
	// ErrStaticIsDir reports a path naming a directory: directories are
	// never listed or served.
	ErrStaticIsDir = errors.New("web: static path is a directory")
	// ErrStaticBadPath reports a path refused by the traversal policy (see
	// StaticFiles): it could not name a servable file whatever the FS holds.
	ErrStaticBadPath = errors.New("web: bad static file path")
)

// Cache-Control values. A URL carrying the current content hash (see
// StaticURL) names bytes that can never change, so browsers may keep it for
// a year, the longest RFC 9111 suggests, without revalidating. Any other URL
// may change at the next deploy, so by default it is revalidated each time,
// which with the ETag costs a 304 and no body.
const (
	immutableCacheControl  = "public, max-age=31536000, immutable"
	revalidateCacheControl = "no-cache"
)

// staticMinCompressSize is the size below which compressing a file is not
// worth it: gzip's header and trailer alone take about 20 bytes, and a
// response this small fits one packet either way.
const staticMinCompressSize = 256

// staticGzipLevel: files are compressed once, at load, so the smallest
// output is worth the slowest level.
const staticGzipLevel = gzip.BestCompression

// StaticConfig configures NewStaticFiles. Every zero value means the
// default stated on the field.
type StaticConfig struct {
	// Prefix is the URL path the files are served under; it is given a
	// leading and a trailing slash if it lacks them. Empty means
	// "/static/".
	Prefix string
	// ModTime is the Last-Modified of files whose FS reports no
	// modification time, as embed.FS never does. Zero means the time
	// NewStaticFiles runs, roughly the process start: a restart is the
	// only way embedded files change.
	ModTime time.Time
	// UnversionedMaxAge is how long a browser may use a file requested
	// without the current version parameter before revalidating it. Zero
	// means "no-cache": always revalidate (a cheap 304).
	UnversionedMaxAge time.Duration
}

// StaticFile is one servable file, with everything computed once at
// construction. It is immutable and shared: callers must not modify it or
// its Content.
type StaticFile struct {
	// Name is the file's path in the FS, such as "css/app.css".
	Name string
	// Content is the whole file.
	Content []byte
	// ETag is a strong entity tag, quotes included: the first 128 bits of
	// the content's SHA-256, so it changes exactly when the content does.
	ETag string
	// Version is a short content hash for StaticURL's v parameter.
	Version string
	// ModTime is the Last-Modified time, truncated to whole seconds as
	// HTTP dates are.
	ModTime time.Time
	// ContentType is the Content-Type, with charset=utf-8 for text.
	ContentType string
	// Compressible is whether the file has a gzip variant: a textual
	// type, and at least staticMinCompressSize bytes.
	Compressible bool
	// Gzipped is the gzip variant of Content, compressed once when the
	// file was loaded (nil unless Compressible). Serve hands it, never a
	// fresh compression, to clients that accept gzip.
	Gzipped []byte
	// GzipETag is the gzip variant's strong entity tag, ETag with a
	// "-gzip" suffix inside the quotes: a strong validator differs per
	// encoding. Empty without a gzip variant.
	GzipETag string
}

// StaticFiles serves the files of an fs.FS under a URL prefix, Tornado's
// StaticFileHandler and static_url. It reads and hashes every file once, in
// NewStaticFiles, which suits embedded assets; to pick up edits in
// development, build a new one.
//
// Request paths are resolved by the following policy, applied to the
// escaped path as it arrived. The path is split on literal slashes, then
// each segment is percent-decoded exactly once. A path is refused with
// ErrStaticBadPath if a segment, before or after decoding, is empty (so no
// "//", leading "/" after the prefix, or trailing "/"), starts with "."
// (so no "." or ".." in any encoding, and no dotfiles such as .env), or
// contains a backslash, a control character or NUL; or if a decoded
// segment contains "/" (%2F) or "%" (double encoding such as %252e): a
// second decoding anywhere downstream could otherwise turn it into a
// traversal. Nothing is normalised: a browser already removes dot segments,
// so a request still holding them is not from a browser following a link,
// and refusing it is simpler to reason about than cleaning it. The decoded
// name must finally pass fs.ValidPath. Even then it is only looked up in
// the table built at construction, which holds regular files alone (never
// symlinks, which in an os.DirFS could point outside the root) and only
// names that pass the same policy, so no request can reach anything else.
//
// A StaticFiles is immutable after NewStaticFiles and safe for concurrent
// use, for example from executor goroutines.
type StaticFiles struct {
	prefix                  string
	files                   map[string]*StaticFile
	dirs                    map[string]bool
	unversionedCacheControl string
}

// NewStaticFiles reads every servable regular file of fsys. Files whose
// names the resolution policy would refuse (dotfiles, names with "%" or a
// backslash) are skipped, since no request could name them.
func NewStaticFiles(fsys fs.FS, cfg StaticConfig) (*StaticFiles, error) {
	s := &StaticFiles{
		prefix:                  normalizeStaticPrefix(cfg.Prefix),
		files:                   make(map[string]*StaticFile),
		dirs:                    map[string]bool{".": true},
		unversionedCacheControl: revalidateCacheControl,
	}
	if cfg.UnversionedMaxAge > 0 {
		s.unversionedCacheControl = "public, max-age=" + strconv.FormatInt(int64(cfg.UnversionedMaxAge/time.Second), 10)
	}
	fallbackModTime := cfg.ModTime
	if fallbackModTime.IsZero() {
		fallbackModTime = time.Now()
	}
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if name == "." {
			return nil
		}
		if !isServableSegment(d.Name()) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			s.dirs[name] = true
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		file, err := loadStaticFile(fsys, name, fallbackModTime)
		if err != nil {
			return err
		}
		s.files[name] = file
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("new static files: %w", err)
	}
	return s, nil
}

func normalizeStaticPrefix(prefix string) string {
	if prefix == "" {
		return "/static/"
	}
	if !strings.HasPrefix(prefix, "/") {
		prefix = "/" + prefix
	}
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return prefix
}

func loadStaticFile(fsys fs.FS, name string, fallbackModTime time.Time) (*StaticFile, error) {
	content, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	info, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", name, err)
	}
	modTime := info.ModTime()
	if modTime.IsZero() {
		modTime = fallbackModTime
	}
	sum := sha256.Sum256(content)
	contentType := staticContentType(name)
	file := &StaticFile{
		Name:         name,
		Content:      content,
		ETag:         `"` + hex.EncodeToString(sum[:16]) + `"`,
		Version:      hex.EncodeToString(sum[:8]),
		ModTime:      modTime.UTC().Truncate(time.Second),
		ContentType:  contentType,
		Compressible: len(content) >= staticMinCompressSize && isCompressibleType(contentType),
	}
	if file.Compressible {
		// Kept even in the rare case it is not smaller: a stored variant
		// means no response for this file is ever compressed on the loop.
		if file.Gzipped, err = gzipStatic(content); err != nil {
			return nil, fmt.Errorf("compress %s: %w", name, err)
		}
		file.GzipETag = file.ETag[:len(file.ETag)-1] + `-gzip"`
	}
	return file, nil
}

// gzipStatic compresses a file's content for its stored gzip variant.
func gzipStatic(content []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, staticGzipLevel)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(content); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return bytes.Clone(buf.Bytes()), nil
}

// staticContentType picks a Content-Type from the file extension. The
// common web types are fixed here because mime.TypeByExtension also reads
// the system's mime.types, which differs between machines (and has served
// .js as text/plain, which browsers refuse to run as a module).
func staticContentType(name string) string {
	ext := strings.ToLower(path.Ext(name))
	switch ext {
	case ".html", ".htm":
		return "text/html; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".json", ".map":
		return "application/json" // JSON is UTF-8 by definition (RFC 8259).
	case ".webmanifest":
		return "application/manifest+json"
	case ".txt":
		return "text/plain; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".gif":
		return "image/gif"
	case ".webp":
		return "image/webp"
	case ".avif":
		return "image/avif"
	case ".ico":
		return "image/vnd.microsoft.icon"
	case ".woff2":
		return "font/woff2"
	case ".woff":
		return "font/woff"
	case ".wasm":
		return "application/wasm"
	}
	contentType := mime.TypeByExtension(ext)
	switch {
	case contentType == "":
		return "application/octet-stream"
	case strings.HasPrefix(contentType, "text/") && !strings.Contains(contentType, "charset"):
		return contentType + "; charset=utf-8"
	}
	return contentType
}

// isCompressibleType reports whether a type is textual, so gzip shrinks it;
// images, fonts and archives are already compressed.
func isCompressibleType(contentType string) bool {
	mediaType, _, _ := strings.Cut(contentType, ";")
	switch {
	case strings.HasPrefix(mediaType, "text/"),
		strings.HasSuffix(mediaType, "+json"),
		strings.HasSuffix(mediaType, "+xml"):
		return true
	}
	switch mediaType {
	case "application/json", "application/javascript", "application/xml", "application/wasm", "image/vnd.microsoft.icon":
		return true
	}
	return false
}

// isServableSegment reports whether a decoded path segment passes the
// resolution policy (see StaticFiles).
func isServableSegment(segment string) bool {
	if segment == "" || segment[0] == '.' {
		return false
	}
	for i := 0; i < len(segment); i++ {
		switch c := segment[i]; {
		case c < 0x20, c == 0x7f, c == '\\', c == '/', c == '%':
			return false
		}
	}
	return true
}

// Prefix returns the URL prefix, with its leading and trailing slash.
func (s *StaticFiles) Prefix() string { return s.prefix }

// Lookup returns the file with the given FS name, such as "css/app.css".
func (s *StaticFiles) Lookup(name string) (*StaticFile, bool) {
	file, ok := s.files[name]
	return file, ok
}

// Resolve maps an escaped request path (prefix included, query excluded,
// as url.URL.EscapedPath returns it) to a file, by the policy described on
// StaticFiles. Errors wrap ErrStaticNotFound, ErrStaticIsDir or
// ErrStaticBadPath.
func (s *StaticFiles) Resolve(escapedPath string) (*StaticFile, error) {
	rest, ok := strings.CutPrefix(escapedPath, s.prefix)
	if !ok {
		return nil, fmt.Errorf("resolve %q: outside %s: %w", escapedPath, s.prefix, ErrStaticNotFound)
	}
	if rest == "" {
		return nil, fmt.Errorf("resolve %q: %w", escapedPath, ErrStaticIsDir)
	}
	// Each raw segment is decoded on its own and the decoded form checked:
	// decoding never removes a backslash, dot or control byte present
	// before it, so this covers the raw form too, and an encoded slash
	// shows up as a "/" inside one decoded segment.
	name := rest
	escaped := strings.Contains(rest, "%")
	var decodedName strings.Builder
	if escaped {
		decodedName.Grow(len(rest))
	}
	first := true
	for segment := range strings.SplitSeq(rest, "/") {
		if escaped {
			decoded, err := url.PathUnescape(segment)
			if err != nil {
				return nil, fmt.Errorf("resolve %q: %w: %w", escapedPath, ErrStaticBadPath, err)
			}
			segment = decoded
			if !first {
				decodedName.WriteByte('/')
			}
			decodedName.WriteString(segment)
		}
		if !isServableSegment(segment) {
			return nil, fmt.Errorf("resolve %q: segment %q: %w", escapedPath, segment, ErrStaticBadPath)
		}
		first = false
	}
	if escaped {
		name = decodedName.String()
	}
	// The final gate, should the checks above ever be loosened.
	if !fs.ValidPath(name) {
		return nil, fmt.Errorf("resolve %q: %w", escapedPath, ErrStaticBadPath)
	}
	if file, ok := s.files[name]; ok {
		return file, nil
	}
	if s.dirs[name] {
		return nil, fmt.Errorf("resolve %q: %w", escapedPath, ErrStaticIsDir)
	}
	return nil, fmt.Errorf("resolve %q: %w", escapedPath, ErrStaticNotFound)
}

// StaticURL returns the URL path of the named file with its version
// parameter, prefix + escaped name + "?v=" + Version, Tornado's static_url.
// Pages should link assets this way: the URL changes whenever the content
// does, so Serve can let browsers cache it for a year.
func (s *StaticFiles) StaticURL(name string) (string, error) {
	file, ok := s.files[name]
	if !ok {
		return "", fmt.Errorf("static url %q: %w", name, ErrStaticNotFound)
	}
	var b strings.Builder
	b.Grow(len(s.prefix) + len(name) + 3 + len(file.Version))
	b.WriteString(s.prefix)
	for i, segment := range strings.Split(name, "/") {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(url.PathEscape(segment))
	}
	b.WriteString("?v=")
	b.WriteString(file.Version)
	return b.String(), nil
}

// StaticRequest is what Serve needs from a request. The zero value of each
// field means the request did not carry it.
type StaticRequest struct {
	Method string
	// Path is the escaped request path, without the query.
	Path string
	// Version is the query's v parameter.
	Version string
	// IfNoneMatch and IfModifiedSince are the raw header values.
	IfNoneMatch     string
	IfModifiedSince string
	// AcceptsGzip is whether the client's Accept-Encoding admits gzip
	// (see AcceptsGzip): it then gets a file's stored gzip variant.
	AcceptsGzip bool
}

// StaticResponse is the response Serve decided on, for the handler layer
// to write as it is.
type StaticResponse struct {
	// Status is 200, 304, 400 (ErrStaticBadPath), 404 (ErrStaticNotFound,
	// ErrStaticIsDir) or 405 (a method other than GET or HEAD).
	Status int
	// Header holds the headers to set. For a 200 it includes
	// Content-Length, of Body as it is; for the gzip variant it includes
	// Content-Encoding: gzip, so a server that compresses responses
	// leaves it alone. A file with a gzip variant gets Vary:
	// Accept-Encoding in either form.
	Header http.Header
	// Body is the content to write: shared with every other response for
	// the file, so it must not be modified. Nil for HEAD and for every
	// status but 200; the handler layer writes its own error pages.
	Body []byte
	// Err says why Status is an error, wrapping one of the ErrStatic
	// sentinels (nil for 200 and 304).
	Err error
}

// Serve decides the response to a request for a static file: the file with
// caching headers, a 304 when the client's copy is current, or an error
// status. Versioned requests (Version equal to the file's current Version)
// may be cached for a year; others get the configured short policy. A
// client that accepts gzip gets the file's stored gzip variant, with its
// own ETag (GzipETag); a cached copy of either variant revalidates to a
// 304, which carries the tag of the variant the client asked for.
func (s *StaticFiles) Serve(req StaticRequest) StaticResponse {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		return StaticResponse{
			Status: http.StatusMethodNotAllowed,
			Header: http.Header{"Allow": {"GET, HEAD"}},
			Err:    fmt.Errorf("static %s %q: method not allowed", req.Method, req.Path),
		}
	}
	file, err := s.Resolve(req.Path)
	if err != nil {
		status := http.StatusNotFound
		if errors.Is(err, ErrStaticBadPath) {
			status = http.StatusBadRequest
		}
		return StaticResponse{Status: status, Header: http.Header{}, Err: err}
	}
	cacheControl := s.unversionedCacheControl
	if req.Version != "" && req.Version == file.Version {
		cacheControl = immutableCacheControl
	}
	gzipped := req.AcceptsGzip && file.Gzipped != nil
	etag, body := file.ETag, file.Content
	if gzipped {
		etag, body = file.GzipETag, file.Gzipped
	}
	header := http.Header{
		"Etag":          {etag},
		"Last-Modified": {file.ModTime.Format(http.TimeFormat)},
		"Cache-Control": {cacheControl},
	}
	if file.Gzipped != nil {
		header["Vary"] = []string{"Accept-Encoding"}
	}
	if NotModified(file.ETag, file.ModTime, req.IfNoneMatch, req.IfModifiedSince) ||
		file.GzipETag != "" && etagListMatches(req.IfNoneMatch, file.GzipETag) {
		return StaticResponse{Status: http.StatusNotModified, Header: header}
	}
	header["Content-Type"] = []string{file.ContentType}
	header["Content-Length"] = []string{strconv.Itoa(len(body))}
	if gzipped {
		header["Content-Encoding"] = []string{"gzip"}
	}
	// Never let a browser reinterpret a file as another type, say a
	// user-influenced .txt as HTML.
	header["X-Content-Type-Options"] = []string{"nosniff"}
	response := StaticResponse{Status: http.StatusOK, Header: header}
	if req.Method == http.MethodGet {
		response.Body = body
	}
	return response
}

// AcceptsGzip reports whether Accept-Encoding field values admit gzip:
// "gzip" or "*" listed with a q value above zero (RFC 9110 section
// 12.5.3; the first of the two that is listed decides). No field, or a
// list naming neither, means identity only.
func AcceptsGzip(values []string) bool {
	for _, value := range values {
		for member := range strings.SplitSeq(value, ",") {
			coding, params, _ := strings.Cut(member, ";")
			coding = strings.TrimSpace(coding)
			if !strings.EqualFold(coding, "gzip") && coding != "*" {
				continue
			}
			return qAboveZero(params)
		}
	}
	return false
}

// qAboveZero reads the weight of an Accept-Encoding member's parameters
// (";q=0.5"): no weight means 1.
func qAboveZero(params string) bool {
	for param := range strings.SplitSeq(params, ";") {
		name, value, ok := strings.Cut(strings.TrimSpace(param), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(name), "q") {
			continue
		}
		q, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		return err == nil && q > 0
	}
	return true
}

// NotModified reports whether a GET or HEAD with these conditional headers
// should get a 304 for a resource with this ETag and modification time
// (RFC 9110 section 13.2.2). If-None-Match, when present, decides alone:
// it matches "*" or any listed tag equal to etag under weak comparison
// (W/ prefixes ignored), since a cached copy only needs to be equivalent.
// Otherwise If-Modified-Since matches when modTime is not after it; an
// unparsable date is ignored, as the RFC requires.
func NotModified(etag string, modTime time.Time, ifNoneMatch, ifModifiedSince string) bool {
	if strings.TrimSpace(ifNoneMatch) != "" {
		return etagListMatches(ifNoneMatch, etag)
	}
	if ifModifiedSince == "" || modTime.IsZero() {
		return false
	}
	since, err := http.ParseTime(ifModifiedSince)
	if err != nil {
		return false
	}
	return !modTime.Truncate(time.Second).After(since)
}

// etagListMatches reports whether the If-None-Match list holds "*" or a tag
// weakly equal to etag. Entity tags may contain commas, so the list is
// scanned tag by tag rather than split on commas; scanning stops at the
// first malformed member, keeping whatever matched before it.
func etagListMatches(list, etag string) bool {
	etag = strings.TrimPrefix(etag, "W/")
	for {
		list = strings.TrimLeft(list, " \t,")
		if list == "" {
			return false
		}
		if list[0] == '*' {
			return true
		}
		tag, rest, ok := scanETag(list)
		if !ok {
			return false
		}
		if strings.TrimPrefix(tag, "W/") == etag {
			return true
		}
		list = rest
	}
}

// scanETag splits one entity-tag ([W/] DQUOTE *etagc DQUOTE, RFC 9110
// section 8.8.3) off the front of s.
func scanETag(s string) (tag, rest string, ok bool) {
	start := 0
	if strings.HasPrefix(s, "W/") {
		start = 2
	}
	if len(s) < start+2 || s[start] != '"' {
		return "", "", false
	}
	for i := start + 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return s[:i+1], s[i+1:], true
		case c == 0x21 || 0x23 <= c && c <= 0x7e || c >= 0x80:
			// etagc
		default:
			return "", "", false
		}
	}
	return "", "", false
}
