package web

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"chat/framework/httpserver"
	"chat/framework/ioloop"
)

// DefaultLoginURL is where Config.LoginURL sends unauthenticated page
// requests when left empty.
const DefaultLoginURL = "/login"

// Config configures an Application, Tornado's Application settings. Only
// Loop is required; every other zero value means the default stated on the
// field. NewApplication copies what it needs: changing a Config afterwards
// changes nothing.
type Config struct {
	// Loop is the event loop the application's requests run on.
	Loop *ioloop.Loop
	// Executor runs RunInExecutor work and fallback (net/http) handlers.
	// Nil means Loop.DefaultExecutor().
	Executor *ioloop.Executor

	// Routes are tried in order; the first whose pattern matches serves the
	// request.
	Routes []Spec
	// DefaultHandler serves requests no route matches (any path, including
	// "*" and paths the router refuses, such as dot segments), Tornado's
	// default_handler_class, with the zero RouteSettings. Nil means 404.
	DefaultHandler func() Handler

	// CookieKeys are the secure-cookie key pairs, newest first (see
	// CookieConfig.Keys). Nil means no secure cookies: SetSecureCookie and
	// GetSecureCookie fail with ErrNoCookieKeys.
	CookieKeys []KeyPair
	// CookieMaxAge bounds secure cookies (see CookieConfig.MaxAge). Zero
	// means DefaultCookieMaxAge.
	CookieMaxAge time.Duration

	// LoginURL is where Authenticated routes send page requests that have
	// no current user, with ?next=<original URL>. Empty means
	// DefaultLoginURL.
	LoginURL string
	// CurrentUser returns the request's user, nil when there is none. It
	// is called at most once per request, lazily, on the loop, so it must
	// not block: decode a secure cookie, look in a loop-owned cache, but
	// do no database query. Nil means no request has a user (unless a
	// handler calls Context.SetCurrentUser).
	CurrentUser func(c *Context) any

	// DisableXSRF turns the XSRF check off for every route. XSRF is on by
	// default, as Tornado's xsrf_cookies: POST, PUT, PATCH and DELETE must
	// carry the token (see Context.CheckXSRF).
	DisableXSRF bool

	// StaticFS, when set, is served under StaticPrefix through
	// StaticFiles, with ETag, Last-Modified, 304 and Cache-Control, ahead
	// of every route. Text files get a gzip variant compressed once, when
	// the application is built, for clients that accept gzip.
	StaticFS fs.FS
	// StaticPrefix is the URL path of static files. Empty means "/static/".
	StaticPrefix string

	// ErrorPage renders the HTML body of error responses (4xx and 5xx)
	// for requests that do not get JSON (see Context.SendError). Nil means
	// a small built-in page.
	ErrorPage func(c *Context, e *HTTPError) Component
	// Debug puts the cause of errors (e.Err, panics) into error pages and
	// JSON errors. Never enable it in production.
	Debug bool

	// AccessLog, when set, logs one line per request (method, path,
	// status, bytes, duration, remote address) through the server built by
	// NewServer, which is the one place requests are logged.
	AccessLog *slog.Logger
	// Logger gets handler errors and panics. Nil means Loop.Logger().
	Logger *slog.Logger

	// DefaultHeaders are set on every response (routes, static files,
	// 404s and error pages) before the handler runs, Tornado's
	// set_default_headers: the place for security headers such as
	// Content-Security-Policy. A handler may override or delete one; an
	// error response puts them back.
	DefaultHeaders http.Header
}

// Spec is one route of an Application, Tornado's URLSpec: a pattern (see
// Route.Pattern for its syntax), a handler factory and its settings.
type Spec struct {
	// Name identifies the route for Application.Reverse; may be empty.
	Name    string
	Pattern string
	// New returns a fresh Handler for each request the route serves.
	New func() Handler
	RouteSettings
}

// RouteSettings are the per-route options. The zero value is a plain page
// route with the XSRF check on.
type RouteSettings struct {
	// Authenticated requires a current user for every method, as
	// Tornado's @authenticated decorator (see Context.CurrentUser).
	Authenticated bool
	// API marks a route whose clients are programs: errors, including an
	// unauthenticated request, are answered with JSON, never a redirect
	// or an HTML page.
	API bool
	// DisableXSRF skips the XSRF check on this route, for endpoints that
	// authenticate otherwise (a token in a header, a webhook signature).
	DisableXSRF bool
	// HandlerTimeout bounds how long an asynchronous handler may hold a
	// request after its method returned: if it has not finished by then,
	// the request is answered 503 with the application's error page (or
	// JSON, as Fail chooses), OnFinish runs, and the handler's later
	// calls are dropped with a warning; a coroutine handler
	// (Context.Go) is cancelled. The timer starts when the handler's
	// method returns, or earlier when PrepareAsync returns a pending
	// future; a synchronous handler is never cut short. Zero means no timeout, the default: the
	// server clears its own deadlines while a handler holds a request, so
	// without one a handler that never finishes holds it until the client
	// leaves. Leave it zero on long polls and streams, which park on
	// purpose.
	HandlerTimeout time.Duration
}

// Application routes requests to per-request handlers, Tornado's
// tornado.web.Application. It implements httpserver.Handler.
//
// An Application is immutable after NewApplication. ServeHTTP and the
// methods of the Contexts it creates run on the loop; Reverse and
// StaticURL read immutable state and are safe from any goroutine.
type Application struct {
	loop        *ioloop.Loop
	executor    *ioloop.Executor
	router      *Router
	cookies     *CookieCodec // nil without CookieKeys
	static      *StaticFiles // nil without StaticFS
	loginURL    string
	currentUser func(*Context) any
	xsrf        bool
	errorPage   func(*Context, *HTTPError) Component
	defaultNew  func() Handler
	debug       bool
	accessLog   *slog.Logger
	logger      *slog.Logger
	// defaultHeaders is Config.DefaultHeaders copied, each value slice
	// full to capacity so that a handler's Add reallocates instead of
	// writing into the slice every response shares.
	defaultHeaders http.Header
}

// NewApplication checks cfg, compiles its routes and reads its static
// files.
func NewApplication(cfg Config) (*Application, error) {
	if cfg.Loop == nil {
		return nil, errors.New("web: new application: Config.Loop is nil")
	}
	app := &Application{
		loop:        cfg.Loop,
		executor:    cfg.Executor,
		loginURL:    valueOr(cfg.LoginURL, DefaultLoginURL),
		currentUser: cfg.CurrentUser,
		xsrf:        !cfg.DisableXSRF,
		errorPage:   cfg.ErrorPage,
		defaultNew:  cfg.DefaultHandler,
		debug:       cfg.Debug,
		accessLog:   cfg.AccessLog,
		logger:      cfg.Logger,
	}
	if len(cfg.DefaultHeaders) > 0 {
		app.defaultHeaders = make(http.Header, len(cfg.DefaultHeaders))
		for k, vs := range cfg.DefaultHeaders {
			vs = append([]string(nil), vs...)
			app.defaultHeaders[http.CanonicalHeaderKey(k)] = vs[:len(vs):len(vs)]
		}
	}
	if app.executor == nil {
		app.executor = cfg.Loop.DefaultExecutor()
	}
	if app.logger == nil {
		app.logger = cfg.Loop.Logger()
	}
	// The Specs are copied so the caller's slice may be reused; each Route
	// carries a pointer to its Spec for ServeHTTP.
	specs := append([]Spec(nil), cfg.Routes...)
	routes := make([]Route, len(specs))
	for i := range specs {
		if specs[i].New == nil {
			return nil, fmt.Errorf("web: new application: route %q (%s) has no New", specs[i].Name, specs[i].Pattern)
		}
		routes[i] = Route{Name: specs[i].Name, Pattern: specs[i].Pattern, Settings: &specs[i]}
	}
	router, err := NewRouter(routes...)
	if err != nil {
		return nil, fmt.Errorf("web: new application: %w", err)
	}
	app.router = router
	if len(cfg.CookieKeys) > 0 {
		app.cookies, err = NewCookieCodec(CookieConfig{Keys: cfg.CookieKeys, MaxAge: cfg.CookieMaxAge})
		if err != nil {
			return nil, fmt.Errorf("web: new application: %w", err)
		}
	}
	if cfg.StaticFS != nil {
		app.static, err = NewStaticFiles(cfg.StaticFS, StaticConfig{Prefix: cfg.StaticPrefix})
		if err != nil {
			return nil, fmt.Errorf("web: new application: %w", err)
		}
	}
	return app, nil
}

// NewServer returns an HTTP server on the application's loop with the
// application as its handler and Config.AccessLog wired in. Set any other
// fields (Limits, XHeaders, timeouts), then call Listen.
func (a *Application) NewServer() *httpserver.Server {
	return &httpserver.Server{Loop: a.loop, Handler: a, AccessLog: a.accessLog, ErrorLog: a.logger}
}

// Loop returns the application's event loop.
func (a *Application) Loop() *ioloop.Loop { return a.loop }

// Executor returns the executor RunInExecutor uses.
func (a *Application) Executor() *ioloop.Executor { return a.executor }

// Reverse builds the path of the named route from its parameter values,
// Tornado's reverse_url (see Router.Reverse).
func (a *Application) Reverse(name string, values ...string) (string, error) {
	return a.router.Reverse(name, values...)
}

// StaticURL returns the versioned URL of a static file, Tornado's
// static_url (see StaticFiles.StaticURL). It fails when Config.StaticFS is
// unset or the file does not exist.
func (a *Application) StaticURL(name string) (string, error) {
	if a.static == nil {
		return "", fmt.Errorf("static url %q: no StaticFS configured: %w", name, ErrStaticNotFound)
	}
	return a.static.StaticURL(name)
}

// ServeHTTP serves one request: a static file, a route's handler, or 404.
// It runs on the loop.
func (a *Application) ServeHTTP(w *httpserver.ResponseWriter, r *httpserver.Request) {
	if a.static != nil && strings.HasPrefix(r.Path, a.static.Prefix()) {
		a.serveStatic(newContext(a, w, r, nil, nil))
		return
	}
	route, params, ok := a.router.Match(r.Path)
	if !ok {
		c := newContext(a, w, r, nil, nil)
		if a.defaultNew == nil {
			c.SendError(http.StatusNotFound)
			return
		}
		c.execute(a.defaultNew())
		return
	}
	spec := route.Settings.(*Spec)
	c := newContext(a, w, r, spec, params)
	c.execute(spec.New())
}

// serveStatic answers from StaticFiles, which decides status and headers
// and refuses any path outside its table. A HEAD is served as a GET so the
// body's length goes into Content-Length; the server drops the body. A
// client that accepts gzip gets the variant compressed at load, marked
// Content-Encoding: gzip so the server does not compress it again (this
// holds even with Server.DisableGzip: it costs no compression).
func (a *Application) serveStatic(c *Context) {
	r := c.request
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	resp := a.static.Serve(StaticRequest{
		Method:          method,
		Path:            r.Path,
		Version:         r.Query().Get("v"),
		IfNoneMatch:     r.Header.Get("If-None-Match"),
		IfModifiedSince: r.Header.Get("If-Modified-Since"),
		AcceptsGzip:     AcceptsGzip(r.Header.Values("Accept-Encoding")),
	})
	if resp.Status >= 400 {
		for k, vs := range resp.Header {
			c.response.Header()[k] = vs
		}
		c.Fail(&HTTPError{Status: resp.Status, Err: resp.Err})
		return
	}
	for k, vs := range resp.Header {
		if k != "Content-Length" { // Finish sets it for the body it sends.
			c.response.Header()[k] = vs
		}
	}
	c.SetStatus(resp.Status)
	c.Write(resp.Body)
	c.Finish()
}
