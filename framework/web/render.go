package web

import (
	"context"
	"io"
	"net/http"
)

// Component is anything that renders itself as HTML: templ components
// satisfy it, so web renders them without importing templ.
type Component interface {
	Render(ctx context.Context, w io.Writer) error
}

// ComponentFunc adapts a function to Component.
type ComponentFunc func(ctx context.Context, w io.Writer) error

// Render calls f(ctx, w).
func (f ComponentFunc) Render(ctx context.Context, w io.Writer) error { return f(ctx, w) }

// Render renders comp into the response as text/html; charset=utf-8 and
// finishes, Tornado's render. The component gets c.Context(), from which
// FromContext recovers c. If it fails, what it wrote is dropped and the
// request fails with 500 instead.
func (c *Context) Render(comp Component) {
	if c.Finished() {
		c.lateCall("Render")
		return
	}
	mark := c.response.BodyLen()
	if err := comp.Render(c.Context(), c); err != nil {
		c.response.TruncateBody(mark)
		c.Fail(&HTTPError{Status: http.StatusInternalServerError, Err: errorf("render: %w", err)})
		return
	}
	c.response.Header().Set("Content-Type", "text/html; charset=utf-8")
	c.Finish()
}

// WriteJSON appends v encoded as JSON to the response and sets
// Content-Type application/json; charset=utf-8. It does not finish, as
// Tornado's write(dict). A value that cannot be encoded fails the request
// with 500 and is returned.
func (c *Context) WriteJSON(v any) error {
	if c.Finished() {
		c.lateCall("WriteJSON")
		return nil
	}
	if err := c.writeJSON(v); err != nil {
		err = errorf("write json: %w", err)
		c.Fail(err)
		return err
	}
	return nil
}
