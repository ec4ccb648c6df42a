package web

import (
	"bytes"
	"context"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"chat/framework/concurrent"
	"chat/framework/httpserver"
	"chat/framework/ioloop"
)

// requestState is where a request is in its lifecycle (see the package
// documentation). It only moves forward.
type requestState uint8

const (
	stateCreated        requestState = iota // routed; XSRF check pending
	statePreparing                          // Prepare is running
	statePreparingAsync                     // PrepareAsync is running, or its future is pending
	stateHandling                           // the HTTP method runs, or its async work is pending
	stateFinished                           // Finish ran; OnFinish has been called
	stateAborted                            // finished by the framework for the handler (continuation panic, handler timeout)
	stateClosed                             // the client left first; OnConnectionClose has been called
)

// Context is one request and its response as a handler sees them, the
// request-facing half of Tornado's RequestHandler: arguments, cookies,
// the current user, and the methods that build the response.
//
// A Context is loop-owned, like the Request and ResponseWriter it wraps:
// every method must be called on the loop goroutine (a future's callback,
// a timer), never from an executor function. It is valid until the request
// is finished or the client has gone. Response methods called after that
// (Write, Flush, Finish, SendError, Redirect, Render...) do nothing: after
// the client left, silently; after the request finished they log an error
// with the stack, and panic in race builds, since the usual cause is a
// forgotten Async (see Async).
type Context struct {
	app      *Application
	request  *httpserver.Request
	response *httpserver.ResponseWriter
	spec     *Spec // the matched route; a zero Spec when none matched
	params   Params
	handler  Handler
	state    requestState
	async    bool
	// The body is written straight into the ResponseWriter's buffer (no
	// copy here); an error page takes it back with TruncateBody.
	streaming bool // Flush has sent the head

	userLoaded bool
	user       any

	form          url.Values // body arguments, parsed on first use
	multipartForm *multipart.Form
	formErr       error
	formParsed    bool

	handlerTimer *ioloop.Timer // RouteSettings.HandlerTimeout, armed while the handler is async

	// coroutines are the futures of the request's coroutines (Go) and of
	// its pending PrepareAsync, cancelled when nobody waits for them any
	// more (the client left, the framework answered); some may be done.
	coroutines []*concurrent.Future[struct{}]

	xsrfToken  *XSRFToken // this request's token, once XSRFToken ran
	xsrfIssued time.Time
	renderCtx  context.Context
}

// noRoute is the Spec of requests no route matched (404s, static files).
var noRoute = &Spec{}

func newContext(a *Application, w *httpserver.ResponseWriter, r *httpserver.Request, spec *Spec, params Params) *Context {
	if spec == nil {
		spec = noRoute
	}
	c := &Context{app: a, request: r, response: w, spec: spec, params: params}
	c.setDefaultHeaders()
	return c
}

// setDefaultHeaders puts Config.DefaultHeaders on the response. The value
// slices are shared by every response (see Application.defaultHeaders).
func (c *Context) setDefaultHeaders() {
	h := c.response.Header()
	for k, vs := range c.app.defaultHeaders {
		h[k] = vs
	}
}

// App returns the application serving the request.
func (c *Context) App() *Application { return c.app }

// Loop returns the application's loop, for timers (c.Loop().CallLater).
func (c *Context) Loop() *ioloop.Loop { return c.app.loop }

// Request returns the request. It is loop-owned: copy out what executor
// work needs.
func (c *Context) Request() *httpserver.Request { return c.request }

// Response returns the underlying response writer, for what the Context
// does not wrap (Hijack, for a WebSocket upgrade).
func (c *Context) Response() *httpserver.ResponseWriter { return c.response }

// Param returns the named path parameter, percent-decoded ("" if absent).
func (c *Context) Param(name string) string { return c.params.Get(name) }

// Params returns the path parameters in pattern order, percent-decoded.
func (c *Context) Params() Params { return c.params }

// Context returns a context.Context carrying c, the one Render passes to
// components, from which FromContext recovers c (for XSRFFormHTML or
// CurrentUser inside a template). It is never cancelled.
func (c *Context) Context() context.Context {
	if c.renderCtx == nil {
		c.renderCtx = context.WithValue(context.Background(), contextKey{}, c)
	}
	return c.renderCtx
}

type contextKey struct{}

// FromContext returns the Context that Context.Context (and so Render)
// stored in ctx, or nil.
func FromContext(ctx context.Context) *Context {
	c, _ := ctx.Value(contextKey{}).(*Context)
	return c
}

// --- Arguments ---

// GetArgument returns the last value of the named argument from the query
// string and the body (url-encoded or multipart), Tornado's get_argument,
// or def when the request has none.
func (c *Context) GetArgument(name, def string) string {
	if values := c.GetArguments(name); len(values) > 0 {
		return values[len(values)-1]
	}
	return def
}

// GetArguments returns every value of the named argument, query string
// values first, then body values.
func (c *Context) GetArguments(name string) []string {
	query := c.request.Query()[name]
	body, _ := c.BodyArguments()
	if len(body[name]) == 0 {
		return query
	}
	return append(append([]string(nil), query...), body[name]...)
}

// BodyArguments returns the arguments of an
// application/x-www-form-urlencoded or multipart/form-data body, parsed on
// first use (empty for other bodies). The error reports a malformed body;
// the arguments are then empty.
func (c *Context) BodyArguments() (url.Values, error) {
	c.parseBody()
	return c.form, c.formErr
}

// MultipartForm returns the parsed multipart/form-data body, uploaded
// files included, or nil when the body is not multipart.
func (c *Context) MultipartForm() (*multipart.Form, error) {
	c.parseBody()
	return c.multipartForm, c.formErr
}

func (c *Context) parseBody() {
	if c.formParsed {
		return
	}
	c.formParsed = true
	c.form = url.Values{}
	if len(c.request.Body) == 0 {
		return
	}
	mediaType, params, err := mime.ParseMediaType(c.request.Header.Get("Content-Type"))
	if err != nil {
		return
	}
	switch mediaType {
	case "application/x-www-form-urlencoded":
		c.form, c.formErr = url.ParseQuery(string(c.request.Body))
		if c.formErr != nil {
			c.form = url.Values{}
		}
	case "multipart/form-data":
		reader := multipart.NewReader(bytes.NewReader(c.request.Body), params["boundary"])
		// The whole body is already in memory (bounded by the server's
		// MaxBodyBytes); a memory limit above its size keeps every file
		// in memory too, so parsing never writes a temporary file from
		// the loop.
		form, err := reader.ReadForm(int64(len(c.request.Body)) + 1<<20)
		if err != nil {
			c.formErr = err
			return
		}
		c.multipartForm = form
		for k, vs := range form.Value {
			c.form[k] = vs
		}
	}
}

// --- Response ---

// SetStatus sets the response status code (200 by default).
func (c *Context) SetStatus(status int) { c.response.WriteHeader(status) }

// Header returns the response header, to modify before the response is
// sent.
func (c *Context) Header() httpserver.Header { return c.response.Header() }

// SetHeader sets a response header field. Values containing CR or LF are
// refused (dropped) rather than let a caller split the response.
func (c *Context) SetHeader(key, value string) {
	if strings.ContainsAny(value, "\r\n") || strings.ContainsAny(key, "\r\n: ") {
		c.app.logger.Warn("web: refused header with a line break", "key", key)
		return
	}
	c.response.Header().Set(key, value)
}

// Write appends p to the response body (the ResponseWriter's buffer,
// which is sent without another copy). It implements io.Writer.
func (c *Context) Write(p []byte) (int, error) {
	if c.Finished() {
		c.lateCall("Write")
		return 0, httpserver.ErrResponseFinished
	}
	return c.response.Write(p)
}

// WriteString appends s to the response body.
func (c *Context) WriteString(s string) (int, error) {
	if c.Finished() {
		c.lateCall("WriteString")
		return 0, httpserver.ErrResponseFinished
	}
	return c.response.WriteString(s)
}

// Flush sends the head and the body written so far and switches the
// response to chunked streaming (see httpserver.ResponseWriter.Flush).
// After a Flush, error pages can no longer be sent.
func (c *Context) Flush() *concurrent.Future[struct{}] {
	if c.Finished() {
		c.lateCall("Flush")
		return concurrent.Failed[struct{}](httpserver.ErrResponseFinished)
	}
	c.streaming = true
	return c.response.Flush()
}

// Async marks the request asynchronous: when the HTTP method returns, the
// request is not finished for it. The handler must later call Finish (or
// an answer that finishes, such as Render, Redirect or SendError) on the
// loop, unless the client leaves first, which OnConnectionClose reports.
// RunInExecutor and Go call Async themselves. A handler that forgets
// Async is finished when its method returns, and its later calls show up
// as "called after the request finished" errors (panics in race builds).
func (c *Context) Async() { c.async = true }

// Finish completes the response and then calls the handler's OnFinish.
// Calling it again, after the client left, or after a Hijack does
// nothing (see Context for how such late calls are reported).
//
// Finish decides the request's ending: once it is called, OnFinish runs
// and OnConnectionClose never does, even if the connection turns out to
// be gone while the response is handed over (a stream that closed at a
// Flush past its write limit, or closes on this very write). A close is
// reported as OnConnectionClose only when it reaches the Context before
// Finish.
func (c *Context) Finish() {
	if c.Finished() {
		c.lateCall("Finish")
		return
	}
	c.cancelHandlerTimeout()
	// The state moves first: handing the response over may report the
	// connection's close synchronously, and connectionClosed must then
	// see a finished request.
	c.state = stateFinished
	c.response.Finish()
	if h, ok := c.handler.(finisher); ok {
		h.OnFinish(c)
	}
}

// Finished reports whether the request is over: finished, or abandoned by
// its client.
func (c *Context) Finished() bool { return c.state >= stateFinished || c.response.Finished() }

// Redirect answers with a redirect to target and finishes. status is 301,
// 302, 303, 307 or 308; 0 means 302. A target holding control characters
// (a header-splitting attempt) is answered 500 instead; anything else is
// sent percent-encoded as needed.
func (c *Context) Redirect(target string, status int) {
	if c.Finished() {
		c.lateCall("Redirect")
		return
	}
	if status == 0 {
		status = http.StatusFound
	}
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
	default:
		c.Fail(&HTTPError{Status: http.StatusInternalServerError, Err: errorf("redirect with status %d", status)})
		return
	}
	location, ok := safeLocation(target)
	if !ok {
		c.Fail(&HTTPError{Status: http.StatusInternalServerError, Err: errorf("unsafe redirect target %q", target)})
		return
	}
	c.SetStatus(status)
	c.response.Header().Set("Location", location)
	c.Finish()
}

// safeLocation validates a redirect target and escapes what a Location
// field may not hold raw (spaces, non-ASCII).
func safeLocation(target string) (string, bool) {
	if target == "" {
		return "", false
	}
	for i := 0; i < len(target); i++ {
		if b := target[i]; b < 0x20 || b == 0x7f {
			return "", false
		}
	}
	u, err := url.Parse(target)
	if err != nil {
		return "", false
	}
	return u.String(), true
}

// SafeNextURL returns next when it is a path on this site (as a login
// handler's ?next= must be, lest it become an open redirect), else
// fallback. "/x" is accepted; "//evil.example", "/\evil.example",
// "https://evil.example" and anything with control characters are not.
func SafeNextURL(next, fallback string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return fallback
	}
	if _, ok := safeLocation(next); !ok {
		return fallback
	}
	return next
}

func stackTrace() string { return string(debug.Stack()) }
