package httpserver

import (
	"compress/gzip"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"chat/framework/concurrent"
	"chat/framework/iostream"
)

// ErrResponseFinished is returned when writing to a finished response.
var ErrResponseFinished = errors.New("httpserver: response already finished")

// ResponseWriter builds the response to one request. Write buffers; Finish
// sends everything in one write, adding Content-Length, an ETag (answering
// 304 when the client's If-None-Match matches) and gzip when the client
// accepts it and the handler set no Content-Encoding of its own (a
// precompressed body is sent as it is; its handler sets Vary). Flush instead starts streaming: the head goes out with
// Transfer-Encoding: chunked and each Flush sends what was written since.
//
// Loop-owned. A handler may return before finishing; it then must call
// Finish later on the loop, unless the client went away first (see
// OnConnectionClose).
type ResponseWriter struct {
	conn *conn
	req  *Request

	status int
	header Header
	// out holds the body after responseHeadRoom bytes kept free for the
	// head, so Finish sends head and body from one buffer without copying
	// the body. It comes from the server's output-buffer pool on the
	// first Write and goes back once the kernel has it; nil until then.
	out          []byte
	headerSent   bool // streaming has begun
	chunked      bool
	finished     bool
	closeAfter   bool // close the connection after this response
	hijacked     bool
	clientGone   bool   // the close hooks ran: the response went nowhere
	autoETag     string // the ETag the server computed, if the handler set none
	bytesSent    int
	onConnClosed []func()
}

func newResponseWriter(c *conn, req *Request) *ResponseWriter {
	return &ResponseWriter{conn: c, req: req, status: 200, header: Header{}, closeAfter: !req.KeepAlive}
}

// Header returns the response header fields to set before the head is sent.
func (w *ResponseWriter) Header() Header { return w.header }

// Status returns the status code set so far (200 by default).
func (w *ResponseWriter) Status() int { return w.status }

// WriteHeader sets the status code. The head is sent by Flush or Finish.
func (w *ResponseWriter) WriteHeader(status int) {
	if status < 100 || status > 999 {
		panic(fmt.Sprintf("httpserver: invalid status code %d", status))
	}
	w.status = status
}

// responseHeadRoom is the space kept in front of a response body for its
// head. A head that does not fit (dozens of cookies) is rendered with the
// body into a fresh buffer instead: one copy of the body, only then.
const responseHeadRoom = 1024

// Write appends p to the response body buffer.
func (w *ResponseWriter) Write(p []byte) (int, error) {
	if w.finished {
		return 0, ErrResponseFinished
	}
	w.grow(len(p))
	w.out = append(w.out, p...)
	return len(p), nil
}

// WriteString appends s to the response body buffer.
func (w *ResponseWriter) WriteString(s string) (int, error) {
	if w.finished {
		return 0, ErrResponseFinished
	}
	w.grow(len(s))
	w.out = append(w.out, s...)
	return len(s), nil
}

// grow takes the body buffer from the server's pool on the first write.
func (w *ResponseWriter) grow(n int) {
	if w.out == nil {
		w.out = w.conn.srv.outputBuffer(responseHeadRoom + n)[:responseHeadRoom]
	}
}

// body returns what has been written since the last Flush.
func (w *ResponseWriter) body() []byte {
	if w.out == nil {
		return nil
	}
	return w.out[responseHeadRoom:]
}

// BodyLen is how many body bytes have been written since the response
// began or since the last Flush: what Finish or the next Flush will send.
// Loop-only.
func (w *ResponseWriter) BodyLen() int { return len(w.body()) }

// TruncateBody drops the body bytes written after the first n of them
// (0 drops all), for a layer above that must take back what it wrote: a
// template that failed half-way, an error page that replaces a partial
// answer. Bytes already sent by a Flush are out of reach. Loop-only.
func (w *ResponseWriter) TruncateBody(n int) {
	if w.out != nil && n >= 0 && n < w.BodyLen() {
		w.out = w.out[:responseHeadRoom+n]
	}
}

// truncateBody drops what has been written, keeping the buffer.
func (w *ResponseWriter) truncateBody() {
	if w.out != nil {
		w.out = w.out[:responseHeadRoom]
	}
}

// releaseOut gives the body buffer back to the server's pool: only once
// nothing (the stream's write queue) refers to it.
func (w *ResponseWriter) releaseOut() {
	if w.out != nil {
		w.conn.srv.recycleOutputBuffer(w.out)
		w.out = nil
	}
}

// Finished reports whether the response is over: Finish has run, the
// client went away (the close hooks ran), or the connection was hijacked.
func (w *ResponseWriter) Finished() bool { return w.finished }

// ClientGone reports whether the client went away before the response was
// finished, so that the OnConnectionClose hooks ran instead of the
// response being sent. It is false for a response Finish handed to the
// connection, even if the connection then closed while writing it.
func (w *ResponseWriter) ClientGone() bool { return w.clientGone }

// Request returns the request this response answers.
func (w *ResponseWriter) Request() *Request { return w.req }

// PendingWriteBytes is how much of the connection's output the kernel has
// not taken yet: what earlier Flushes (and responses) queued in the
// stream. A streaming handler (Server-Sent Events) bounds how far its
// client may fall behind with it, as a WebSocket's send bound does. Bytes
// written since the last Flush are not counted; BodyLen has those.
func (w *ResponseWriter) PendingWriteBytes() int { return w.conn.stream.PendingWriteBytes() }

// OnConnectionClose registers fn to run if the client goes away before the
// response is finished, so a parked long poll can drop its subscription at
// once. Either Finish completes or these run: never both. The hooks run in
// the order registered, each protected: one that panics is logged and the
// rest still run.
func (w *ResponseWriter) OnConnectionClose(fn func()) {
	w.onConnClosed = append(w.onConnClosed, fn)
}

// connectionClosed runs the close hooks, each protected: a panic in one
// is logged and the others still run, so every parked subscription is
// dropped.
func (w *ResponseWriter) connectionClosed() {
	w.finished, w.clientGone = true, true
	w.releaseOut()
	callbacks := w.onConnClosed
	w.onConnClosed = nil
	for _, fn := range callbacks {
		w.runCloseHook(fn)
	}
}

func (w *ResponseWriter) runCloseHook(fn func()) {
	defer func() {
		if r := recover(); r != nil {
			w.conn.srv.errorLog().Error("httpserver: OnConnectionClose hook panicked", "panic", r,
				"method", w.req.Method, "path", w.req.Path, "stack", stack())
		}
	}()
	fn()
}

// reset drops everything written, for an error page after a panic.
func (w *ResponseWriter) reset() {
	w.status, w.header = 200, Header{}
	w.truncateBody()
}

// SendError finishes the response with status and a short plain-text body
// (message, or the status text). The web layer renders its own error pages.
func (w *ResponseWriter) SendError(status int, message string) {
	if w.finished || w.headerSent {
		return
	}
	if message == "" {
		message = StatusText(status)
	}
	w.header = Header{}
	w.header.Set("Content-Type", "text/plain; charset=utf-8")
	w.status = status
	w.truncateBody()
	w.WriteString(message)
	w.WriteString("\n")
	w.Finish()
}

// Flush sends the head (on the first call) and the body written so far as
// a chunk, and returns a future that resolves once the kernel has it, so a
// streaming handler can pace itself. HTTP/1.0 clients get the body
// unframed and the connection closes at the end.
func (w *ResponseWriter) Flush() *concurrent.Future[struct{}] {
	if w.finished {
		return concurrent.Failed[struct{}](ErrResponseFinished)
	}
	var out []byte
	if !w.headerSent {
		w.headerSent = true
		w.chunked = w.req.ProtoMinor >= 1
		if w.chunked {
			w.header.Set("Transfer-Encoding", "chunked")
		} else {
			w.closeAfter = true
		}
		w.header.Del("Content-Length")
		out = w.appendHead(nil, -1)
	}
	out = w.appendChunk(out, w.body())
	w.truncateBody()
	return w.conn.stream.Write(out)
}

func (w *ResponseWriter) appendChunk(out, data []byte) []byte {
	if len(data) == 0 || w.req.Method == "HEAD" {
		return out
	}
	w.bytesSent += len(data)
	if !w.chunked {
		return append(out, data...)
	}
	out = strconv.AppendInt(out, int64(len(data)), 16)
	out = append(out, "\r\n"...)
	out = append(out, data...)
	return append(out, "\r\n"...)
}

// Finish completes the response and hands it to the connection, which
// reads the next request (keep-alive) once the kernel has taken it all, or
// closes.
//
// Finish has exactly one outcome. If the client had already gone, the
// OnConnectionClose hooks run (now, if they had not) and the response goes
// nowhere; ClientGone then reports true. Otherwise the response is handed
// to the stream and the hooks never run, even when the stream closes
// inside this call (a write past the stream's pending-write limit, a write
// error): the response went as far as the connection allowed. Either way
// Finished is true afterwards and later calls do nothing.
func (w *ResponseWriter) Finish() {
	if w.finished {
		return
	}
	c := w.conn
	if c.stream.Closed() {
		// The client left and the close callbacks have not run yet: the
		// response goes nowhere, so the close hooks run now instead.
		w.connectionClosed()
		return
	}
	w.finished = true
	var out []byte
	if w.headerSent {
		out = w.appendChunk(nil, w.body())
		if w.chunked && w.req.Method != "HEAD" {
			out = append(out, "0\r\n\r\n"...)
		}
		w.releaseOut() // copied into the chunk
	} else {
		out = w.completeResponse()
	}
	sent := c.stream.Write(out)
	if sent.Done() {
		// The kernel took it all at once (or the stream closed): the
		// buffer is free again.
		w.releaseOut()
	}
	w.logAccess()
	c.responseFinished(w, sent)
}

// completeResponse renders head and body of a response whose body is all
// in hand: here it gets its ETag, 304, gzip and Content-Length. It returns
// what to write; w.out is then the buffer that holds it (nil when the
// result is a buffer of its own), to be released once the kernel has it.
//
// The body is not copied: the head is rendered into the server's scratch
// buffer and placed in the room kept in front of the body, so head and
// body go to the kernel in one write from one buffer.
func (w *ResponseWriter) completeResponse() []byte {
	srv := w.conn.srv
	body := w.body()
	bodyAllowed := w.status >= 200 && w.status != 204 && w.status != 304
	if !bodyAllowed {
		body = nil
	}
	if bodyAllowed && w.header.Get("Content-Type") == "" {
		w.header.Set("Content-Type", "text/html; charset=utf-8")
	}
	// The ETag the server computes is kept out of the header map and
	// appended with the framing fields; a handler's own ETag wins.
	etag := w.header.Get("Etag")
	if w.status == 200 && (w.req.Method == "GET" || w.req.Method == "HEAD") && len(body) > 0 {
		if etag == "" {
			etag = computeETag(body)
			w.autoETag = etag
		}
		if etagMatches(w.req.Header.Get("If-None-Match"), etag) {
			w.status, body = 304, nil
			w.header.Del("Content-Length")
			bodyAllowed = false
		}
	}
	// A body the handler encoded itself (a precompressed static file sets
	// Content-Encoding) is never compressed again: see gzipAllowed.
	if bodyAllowed && len(body) >= gzipMinBytes && w.gzipAllowed() {
		body = w.gzipOut(body)
		w.header.Set("Content-Encoding", "gzip")
		if strings.HasSuffix(etag, `"`) {
			// Strong validators differ per encoding.
			etag = etag[:len(etag)-1] + `-gzip"`
			if w.autoETag != "" {
				w.autoETag = etag
			} else {
				w.header.Set("Etag", etag)
			}
		}
	}
	contentLength := -1
	if bodyAllowed {
		contentLength = len(body)
	}
	// A HEAD handler may state the length of the body it did not write.
	if stated := w.header.Get("Content-Length"); stated != "" && w.req.Method == "HEAD" && len(body) == 0 {
		contentLength = -1
	} else {
		w.header.Del("Content-Length")
	}
	if w.req.Method == "HEAD" {
		body = nil
	}
	w.bytesSent = len(body)
	if w.out == nil {
		// Nothing was written: the head is the whole response.
		w.out = w.appendHead(srv.outputBuffer(256), contentLength)
		return w.out
	}
	head := w.appendHead(srv.headScratch[:0], contentLength)
	srv.headScratch = head[:0]
	if len(head) <= responseHeadRoom {
		start := responseHeadRoom - len(head)
		copy(w.out[start:], head)
		return w.out[start : responseHeadRoom+len(body)]
	}
	out := append(srv.outputBuffer(len(head)+len(body)), head...)
	out = append(out, body...)
	w.releaseOut()
	w.out = out
	return out
}

// gzipOut compresses body into a new pooled buffer with head room, which
// replaces w.out, and returns the compressed body.
func (w *ResponseWriter) gzipOut(body []byte) []byte {
	srv := w.conn.srv
	zipped := gzipAppend(srv.outputBuffer(responseHeadRoom + len(body)/2)[:responseHeadRoom], body)
	w.releaseOut()
	w.out = zipped
	return zipped[responseHeadRoom:]
}

// appendHead renders the status line and the handler's fields, then the
// framing fields the server owns (Date, Content-Length, Connection), which
// are appended directly rather than stored in the header map: one response
// head costs no allocations beyond the output buffer.
func (w *ResponseWriter) appendHead(out []byte, contentLength int) []byte {
	out = AppendResponseHead(out, 1, 1, w.status, w.header)
	out = out[:len(out)-2] // reopen the head: AppendResponseHead ends it with CRLF
	if w.autoETag != "" {
		out = append(out, "Etag: "...)
		out = append(out, w.autoETag...)
		out = append(out, "\r\n"...)
	}
	out = append(out, "Date: "...)
	out = append(out, w.conn.srv.date.Value(time.Now())...)
	out = append(out, "\r\n"...)
	if contentLength >= 0 {
		out = append(out, "Content-Length: "...)
		out = strconv.AppendInt(out, int64(contentLength), 10)
		out = append(out, "\r\n"...)
	}
	if w.closeAfter {
		out = append(out, "Connection: close\r\n"...)
	} else if w.req.ProtoMinor == 0 {
		out = append(out, "Connection: keep-alive\r\n"...)
	}
	return append(out, "\r\n"...)
}

// gzipMinBytes: bodies smaller than this are not worth compressing.
const gzipMinBytes = 512

func (w *ResponseWriter) gzipAllowed() bool {
	if w.conn.srv.DisableGzip || w.header.Get("Content-Encoding") != "" || !compressible(w.header.Get("Content-Type")) {
		return false
	}
	w.header.Add("Vary", "Accept-Encoding")
	return acceptsGzip(w.req.Header.Values("Accept-Encoding"))
}

// acceptsGzip reads Accept-Encoding: gzip (or *) with a non-zero q value.
func acceptsGzip(values []string) bool {
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			coding, params, _ := strings.Cut(part, ";")
			coding = strings.ToLower(strings.TrimSpace(coding))
			if coding != "gzip" && coding != "*" {
				continue
			}
			q := 1.0
			if name, value, ok := strings.Cut(strings.TrimSpace(params), "="); ok && strings.TrimSpace(name) == "q" {
				q, _ = strconv.ParseFloat(strings.TrimSpace(value), 64)
			}
			return q > 0
		}
	}
	return false
}

// compressible reports whether a content type is text-like enough for gzip.
func compressible(contentType string) bool {
	ct, _, _ := strings.Cut(strings.ToLower(contentType), ";")
	ct = strings.TrimSpace(ct)
	return strings.HasPrefix(ct, "text/") || ct == "application/json" || ct == "application/javascript" ||
		ct == "application/xml" || ct == "image/svg+xml" || strings.HasSuffix(ct, "+json") || strings.HasSuffix(ct, "+xml")
}

var gzipWriters = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression); return w }}

// gzipAppend appends body, gzip-compressed, to dst.
func gzipAppend(dst, body []byte) []byte {
	sink := &appendWriter{buf: dst}
	zw := gzipWriters.Get().(*gzip.Writer)
	zw.Reset(sink)
	zw.Write(body)
	zw.Close()
	zw.Reset(nil) // the pool must not keep the buffer alive
	gzipWriters.Put(zw)
	return sink.buf
}

// appendWriter is an io.Writer appending to a byte slice.
type appendWriter struct{ buf []byte }

func (a *appendWriter) Write(p []byte) (int, error) {
	a.buf = append(a.buf, p...)
	return len(p), nil
}

// computeETag is a strong validator over the body (FNV-1a, 64 bits: an
// ETag needs to change when the body does, not to resist forgery).
func computeETag(body []byte) string {
	const offset64, prime64 = 14695981039346656037, 1099511628211
	hash := uint64(offset64)
	for _, c := range body {
		hash ^= uint64(c)
		hash *= prime64
	}
	var buf [18]byte
	out := append(buf[:0], '"')
	out = strconv.AppendUint(out, hash, 16)
	return string(append(out, '"'))
}

// etagMatches applies If-None-Match's weak comparison (RFC 9110 §13.1.2).
func etagMatches(ifNoneMatch, etag string) bool {
	if ifNoneMatch == "" || etag == "" {
		return false
	}
	if strings.TrimSpace(ifNoneMatch) == "*" {
		return true
	}
	// The server compares before compressing, so a client's copy of the
	// gzip variant's ETag ("<hash>-gzip") counts as the identity one.
	want := strings.TrimPrefix(etag, "W/")
	for candidate := range strings.SplitSeq(ifNoneMatch, ",") {
		candidate = strings.TrimPrefix(strings.TrimSpace(candidate), "W/")
		if candidate == want || strings.Replace(candidate, `-gzip"`, `"`, 1) == want {
			return true
		}
	}
	return false
}

// Hijack takes the connection over from the HTTP server (a WebSocket
// upgrade does this after writing its 101 response): the server will not
// read from or write to the stream again, and the returned stream is the
// caller's to close. Bytes the client sent after the request head stay
// buffered in the stream.
func (w *ResponseWriter) Hijack() (*iostream.Stream, error) {
	if w.finished || w.headerSent {
		return nil, errors.New("httpserver: cannot hijack a response already started")
	}
	w.finished, w.hijacked = true, true
	c := w.conn
	c.phase = phaseHijacked
	c.stream.RemoveCloseCallback(c.closeHook) // the connection is no longer the server's to watch
	c.closeHook = -1
	c.resp = nil
	c.releaseBody()
	c.clearDeadline()
	if c.timer != nil {
		c.timer.Cancel()
		c.timer = nil
	}
	w.status = 101
	w.logAccess()
	return c.stream, nil
}

// logAccess hands the response's access-log line to the log writer.
func (w *ResponseWriter) logAccess() {
	q := w.conn.srv.accessLog
	if q == nil {
		return
	}
	r := w.req
	q.add(accessEntry{method: r.Method, path: r.Path, status: w.status, bytes: w.bytesSent,
		duration: time.Since(r.Received), remote: r.RemoteIP})
}
