package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"strings"

	"chat/framework/httpserver"
	"chat/framework/ioloop"
)

// ErrNoCookieKeys is the error of secure-cookie calls on an Application
// configured without Config.CookieKeys.
var ErrNoCookieKeys = errors.New("web: no cookie keys configured")

// HTTPError is an error with the HTTP status it should be answered with,
// Tornado's HTTPError. Hand it to Context.Fail; any other error passed to
// Fail is a 500, or a 503 when it is ioloop.ErrQueueFull.
type HTTPError struct {
	// Status is the response status code, 4xx or 5xx.
	Status int
	// Message is shown to the client; empty means the status text.
	Message string
	// Err is the cause: logged for 5xx, shown only with Config.Debug.
	Err error
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("HTTP %d: %s", e.Status, e.message())
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the cause.
func (e *HTTPError) Unwrap() error { return e.Err }

func (e *HTTPError) message() string {
	if e.Message != "" {
		return e.Message
	}
	return httpserver.StatusText(e.Status)
}

func errorf(format string, args ...any) error { return fmt.Errorf("web: "+format, args...) }

// SendError answers with status and the application's error page, then
// finishes, Tornado's send_error.
func (c *Context) SendError(status int) {
	if c.Finished() {
		c.lateCall("SendError")
		return
	}
	c.fail(&HTTPError{Status: status}, false)
}

// Fail answers with the error page for err and finishes: an *HTTPError (in
// err's chain) gives its status and message, ioloop.ErrQueueFull gives 503
// (the server is overloaded: try again), anything else 500. Server errors
// are logged with their cause.
//
// What was written so far is discarded, and so are headers other than
// Set-Cookie and Allow. JSON ({"error": message}) goes to routes marked API
// and to clients that ask for JSON; everyone else gets Config.ErrorPage
// or a small HTML page. Once streaming has begun (Flush) no error page can
// be sent, and the response is just finished.
func (c *Context) Fail(err error) {
	if c.Finished() {
		c.lateCall("Fail")
		return
	}
	c.fail(err, false)
}

// fail is Fail, answering with JSON regardless of the client when
// forceJSON is set.
func (c *Context) fail(err error, forceJSON bool) {
	if c.Finished() {
		return
	}
	if c.streaming {
		c.app.logger.Error("web: error after streaming began", "method", c.request.Method, "path", c.request.Path, "err", err)
		c.Finish()
		return
	}
	var httpErr *HTTPError
	switch {
	case errors.As(err, &httpErr):
	case errors.Is(err, ioloop.ErrQueueFull):
		httpErr = &HTTPError{Status: http.StatusServiceUnavailable, Err: err}
	default:
		httpErr = &HTTPError{Status: http.StatusInternalServerError, Err: err}
	}
	if httpErr.Status < 400 || httpErr.Status > 599 {
		httpErr = &HTTPError{Status: http.StatusInternalServerError, Err: err}
	}
	if httpErr.Status >= 500 {
		c.app.logger.Error("web: request failed", "method", c.request.Method, "path", c.request.Path,
			"status", httpErr.Status, "err", err)
	}
	c.resetResponse()
	c.SetStatus(httpErr.Status)
	if forceJSON || c.wantsJSON() {
		body := map[string]string{"error": httpErr.message()}
		if c.app.debug && httpErr.Err != nil {
			body["detail"] = httpErr.Err.Error()
		}
		c.writeJSON(body)
		c.Finish()
		return
	}
	page := c.app.errorPage
	if page == nil {
		page = defaultErrorPage
	}
	c.response.Header().Set("Content-Type", "text/html; charset=utf-8")
	if renderErr := page(c, httpErr).Render(c.Context(), c); renderErr != nil {
		c.app.logger.Error("web: error page failed", "err", renderErr)
		c.resetResponse()
		c.SetStatus(httpErr.Status)
		c.response.Header().Set("Content-Type", "text/plain; charset=utf-8")
		c.WriteString(httpErr.message() + "\n")
	}
	c.Finish()
}

// resetResponse drops the body written so far and every header but the
// ones an error response must keep, and puts the default headers back.
func (c *Context) resetResponse() {
	h := c.response.Header()
	for k := range h {
		if k != "Set-Cookie" && k != "Allow" {
			delete(h, k)
		}
	}
	c.setDefaultHeaders()
	c.response.TruncateBody(0)
}

// wantsJSON reports whether errors should be answered with JSON: on API
// routes, and for clients whose Accept names JSON but not HTML.
func (c *Context) wantsJSON() bool {
	if c.spec.API {
		return true
	}
	accept := strings.ToLower(c.request.Header.Get("Accept"))
	return strings.Contains(accept, "json") && !strings.Contains(accept, "text/html")
}

// defaultErrorPage renders a minimal HTML page naming the status.
func defaultErrorPage(c *Context, e *HTTPError) Component {
	return ComponentFunc(func(_ context.Context, w io.Writer) error {
		title := fmt.Sprintf("%d %s", e.Status, httpserver.StatusText(e.Status))
		body := html.EscapeString(e.message())
		if c.app.debug && e.Err != nil {
			body += "<pre>" + html.EscapeString(e.Err.Error()) + "</pre>"
		}
		_, err := fmt.Fprintf(w, "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>%s</title></head>"+
			"<body><h1>%s</h1><p>%s</p></body></html>\n", html.EscapeString(title), html.EscapeString(title), body)
		return err
	})
}

// writeJSON sets the JSON content type and appends v's encoding.
func (c *Context) writeJSON(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.response.Header().Set("Content-Type", "application/json; charset=utf-8")
	c.response.Write(data)
	return nil
}
