package web

import (
	"fmt"
	"net/http"
	"strings"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
)

// Handler is the object that serves one request, Tornado's RequestHandler
// subclass: Spec.New makes a fresh one per request, so its fields are
// per-request state. It handles an HTTP method by having the method of
// that name, each taking the request's Context:
//
//	Get(c *Context)     Post(c *Context)    Put(c *Context)
//	Patch(c *Context)   Delete(c *Context)  Options(c *Context)
//	Head(c *Context)    (optional: without it HEAD runs Get, body dropped)
//	Serve(c *Context)   (any method, including unknown ones, not handled
//	                    by one of the above)
//
// A method the handler lacks is answered 405 with an Allow header listing
// those it has. The lifecycle hooks, all optional, are
//
//	Prepare(c *Context)            before the method; finishing the
//	                               request here skips the method
//	PrepareAsync(c *Context) *concurrent.Future[struct{}]
//	                               after Prepare: the method runs once
//	                               the future succeeds (a coroutine's,
//	                               from c.Go, or any other); its error
//	                               is answered by Fail, a finished
//	                               request skips the method, and the
//	                               client leaving cancels the future
//	OnFinish(c *Context)           after the response is finished
//	OnConnectionClose(c *Context)  the client left before it was finished
//
// Exactly one of OnFinish and OnConnectionClose runs, once, whatever
// finished the request (the method, Prepare, or an error the application
// sent: 405, 403, 401, 500). Finish decides: a connection that closes
// while Finish hands the response over still gets OnFinish, not both. All of them run on the loop. See the package documentation for the async rule.
type Handler any

// HandlerFunc is a Handler that serves every method with one function.
type HandlerFunc func(c *Context)

// Serve calls f(c).
func (f HandlerFunc) Serve(c *Context) { f(c) }

// Func returns a Spec.New for a stateless function handler answering every
// method: Spec{Pattern: "/hello", New: web.Func(hello)}.
func Func(fn func(c *Context)) func() Handler {
	h := HandlerFunc(fn)
	return func() Handler { return h }
}

// The method interfaces a Handler may implement.
type (
	preparer         interface{ Prepare(*Context) }
	getHandler       interface{ Get(*Context) }
	headHandler      interface{ Head(*Context) }
	postHandler      interface{ Post(*Context) }
	putHandler       interface{ Put(*Context) }
	patchHandler     interface{ Patch(*Context) }
	deleteHandler    interface{ Delete(*Context) }
	optionsHandler   interface{ Options(*Context) }
	anyMethodHandler interface{ Serve(*Context) }
	finisher         interface{ OnFinish(*Context) }
	connectionCloser interface{ OnConnectionClose(*Context) }
)

// methodFunc returns h's function for method, nil if it has none.
func methodFunc(h Handler, method string) func(*Context) {
	switch method {
	case http.MethodGet:
		if m, ok := h.(getHandler); ok {
			return m.Get
		}
	case http.MethodHead:
		if m, ok := h.(headHandler); ok {
			return m.Head
		}
		if m, ok := h.(getHandler); ok {
			return m.Get // the server sends no body for HEAD
		}
	case http.MethodPost:
		if m, ok := h.(postHandler); ok {
			return m.Post
		}
	case http.MethodPut:
		if m, ok := h.(putHandler); ok {
			return m.Put
		}
	case http.MethodPatch:
		if m, ok := h.(patchHandler); ok {
			return m.Patch
		}
	case http.MethodDelete:
		if m, ok := h.(deleteHandler); ok {
			return m.Delete
		}
	case http.MethodOptions:
		if m, ok := h.(optionsHandler); ok {
			return m.Options
		}
	}
	if m, ok := h.(anyMethodHandler); ok {
		return m.Serve
	}
	return nil
}

// allowedMethods lists the methods h handles, for a 405's Allow header.
func allowedMethods(h Handler) string {
	var allowed []string
	for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
		http.MethodPatch, http.MethodDelete, http.MethodOptions} {
		if methodFunc(h, method) != nil {
			allowed = append(allowed, method)
		}
	}
	return strings.Join(allowed, ", ")
}

// execute runs the handler lifecycle, Tornado's RequestHandler._execute:
// method check (405), XSRF check (403), Prepare and PrepareAsync (which
// may defer the rest to its future's callback), authentication, then the
// method, then auto-finish unless the handler went asynchronous. A panic
// anywhere in it becomes a 500 error page; the loop lives on.
func (c *Context) execute(h Handler) {
	c.handler = h
	c.response.OnConnectionClose(c.connectionClosed)
	defer c.recoverPanic()
	method := methodFunc(h, c.request.Method)
	if method == nil {
		c.response.Header().Set("Allow", allowedMethods(h))
		c.SendError(http.StatusMethodNotAllowed)
		return
	}
	if c.app.xsrf && !c.spec.DisableXSRF && XSRFCheckRequired(c.request.Method) {
		if err := c.CheckXSRF(); err != nil {
			c.Fail(&HTTPError{Status: http.StatusForbidden, Message: xsrfMessage(err), Err: err})
			return
		}
	}
	c.state = statePreparing
	if p, ok := h.(preparer); ok {
		p.Prepare(c)
		if c.Finished() {
			return
		}
	}
	if c.prepareAsync(h, method) {
		c.handle(method)
	}
}

// handle is the lifecycle after Prepare: authentication, the method, then
// auto-finish unless the handler went asynchronous. It runs inside
// execute, or in the callback of an asynchronous Prepare's future.
func (c *Context) handle(method func(*Context)) {
	if c.spec.Authenticated && !c.RequireUser() {
		return
	}
	c.state = stateHandling
	method(c)
	switch {
	case c.Finished():
	case !c.async:
		c.Finish()
	case c.spec.HandlerTimeout > 0 && c.handlerTimer == nil: // not armed by PrepareAsync
		c.armHandlerTimeout()
	}
}

// recoverPanic turns a panic in the synchronous part of the lifecycle into
// a 500, logged with its stack.
func (c *Context) recoverPanic() {
	r := recover()
	if r == nil {
		return
	}
	err := fmt.Errorf("web: handler panicked: %v", r)
	c.app.logger.Error("web: handler panicked", "panic", r, "method", c.request.Method,
		"path", c.request.Path, "stack", stackTrace())
	// The framework answers for the handler: coroutines it started are
	// cancelled, and a panicking error page still ends the request.
	c.abort(err)
}

// connectionClosed runs when the server reports that the client left. If
// Finish has begun, the request's ending is decided (OnFinish) and the
// report is ignored; otherwise Finish will do nothing from now on, so
// OnFinish never runs.
func (c *Context) connectionClosed() {
	if c.state >= stateFinished {
		return
	}
	c.cancelHandlerTimeout()
	c.state = stateClosed
	if h, ok := c.handler.(connectionCloser); ok {
		h.OnConnectionClose(c)
	}
	c.cancelCoroutines()
}

// RunInExecutor runs fn on the application's executor (Config.Executor)
// and marks the request asynchronous (see Context.Async); the returned
// future resolves on the loop, where its callback finishes the request.
// The future carries the request's guard (see Guard), inherited by what
// is derived from it: a callback that panics answers the request 500.
// fn runs on another goroutine: it must not touch c or anything else
// loop-owned, so copy what it needs first. When the executor's queue is
// full the future fails at once with ioloop.ErrQueueFull, which Fail
// answers with 503.
//
//	id := c.Param("id")
//	web.RunInExecutor(c, func() (Room, error) { return store.Room(id) }).
//		OnResult(func(room Room, err error) {
//			if err != nil {
//				c.Fail(err)
//				return
//			}
//			c.Render(RoomPage(room))
//		})
func RunInExecutor[T any](c *Context, fn func() (T, error)) *concurrent.Future[T] {
	c.Async()
	return Guard(c, ioloop.RunInExecutor(c.app.executor, fn))
}
