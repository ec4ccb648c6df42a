package web

import (
	"fmt"
	"net/http"
	"runtime/debug"

	"chat/framework/concurrent"
)

// Guard makes the request's guard the panic handler of f (see
// concurrent.PanicHandler) and returns f. Futures derived from f later
// (concurrent.Map, Then, All, First, WithTimeout) inherit it. A callback
// of f that panics is then logged with its stack and the request is
// answered 500 if nothing was sent yet (once streaming has begun the
// response is only finished), instead of being left hanging: no answer and
// no timeout. RunInExecutor guards its future itself; use Guard for the
// other futures a handler waits on (a room's, a WebSocket's). Loop-only.
func Guard[T any](c *Context, f *concurrent.Future[T]) *concurrent.Future[T] {
	return f.SetPanicHandler(c.continuationPanicked)
}

// Guarded returns fn wrapped in the request's guard, for continuations
// that are not future callbacks: a timer (c.Loop().CallLater(d,
// c.Guarded(fn))) or a loop callback. A panic in fn is logged with its
// stack and answers the request 500, as Guard does for futures. The
// returned function must run on the loop.
func (c *Context) Guarded(fn func()) func() {
	return func() {
		defer func() {
			if r := recover(); r != nil {
				c.continuationPanicked(r, debug.Stack())
			}
		}()
		fn()
	}
}

// continuationPanicked is the request's guard: a continuation of its
// handler panicked.
func (c *Context) continuationPanicked(recovered any, stack []byte) {
	c.app.logger.Error("web: handler continuation panicked", "panic", recovered, "method", c.request.Method,
		"path", c.request.Path, "stack", string(stack))
	c.abort(&HTTPError{Status: http.StatusInternalServerError, Err: fmt.Errorf("web: handler continuation panicked: %v", recovered)})
}

// abort answers err on the framework's behalf (a continuation's panic, the
// handler timeout) unless the request is over, and leaves the request in
// stateAborted: the handler's later calls are dropped with a warning. It
// never panics, since it runs inside panic handlers: should the error page
// itself panic, a plain 500 goes out instead.
func (c *Context) abort(err error) {
	if c.Finished() {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			c.app.logger.Error("web: error page panicked", "panic", r, "stack", stackTrace())
			c.finishWithPlain500()
		}
		c.state = stateAborted
		c.cancelCoroutines() // their answer is no longer wanted
	}()
	c.fail(err, false)
}

// finishWithPlain500 ends a request whose error page panicked before its
// Finish: a plain 500 goes out and the request ends as Finish ends it
// (OnFinish runs), so that one of OnFinish and OnConnectionClose still
// runs, exactly once.
func (c *Context) finishWithPlain500() {
	if c.state >= stateFinished {
		return
	}
	c.cancelHandlerTimeout()
	c.state = stateFinished
	if !c.response.Finished() {
		c.response.SendError(http.StatusInternalServerError, "")
	}
	if h, ok := c.handler.(finisher); ok {
		h.OnFinish(c)
	}
}

// handlerTimeoutStatus answers a request whose route's
// RouteSettings.HandlerTimeout expired before the handler finished: 503,
// as net/http's TimeoutHandler answers (the server itself gave up, not an
// upstream, so not 504; the client may retry).
const handlerTimeoutStatus = http.StatusServiceUnavailable

// armHandlerTimeout starts the route's handler timeout once its method
// returned without finishing; Finish and the client's leaving cancel it.
func (c *Context) armHandlerTimeout() {
	c.handlerTimer = c.app.loop.CallLater(c.spec.HandlerTimeout, c.handlerTimedOut)
}

func (c *Context) cancelHandlerTimeout() {
	if c.handlerTimer != nil {
		c.handlerTimer.Cancel()
		c.handlerTimer = nil
	}
}

func (c *Context) handlerTimedOut() {
	c.handlerTimer = nil
	if c.Finished() {
		return
	}
	c.app.logger.Warn("web: handler timed out", "method", c.request.Method, "path", c.request.Path,
		"timeout", c.spec.HandlerTimeout)
	c.abort(&HTTPError{Status: handlerTimeoutStatus, Message: "the request took too long",
		Err: fmt.Errorf("web: handler did not finish within %v", c.spec.HandlerTimeout)})
}

// lateCall reports a response call (Write, Finish, SendError...) made
// after the request was over, which does nothing. After the client left
// that is expected (OnConnectionClose told the handler) and stays silent;
// after the framework answered for the handler (a continuation's panic,
// the handler timeout) it is logged as a warning; after the handler's own
// Finish, or the automatic one when its method returned without Async,
// it is a bug, most often a forgotten Async, and is logged as an error
// with the stack, and in race builds (the test builds) it panics so tests
// see it.
func (c *Context) lateCall(call string) {
	switch c.state {
	case stateClosed:
		return
	case stateAborted:
		c.app.logger.Warn("web: Context."+call+" ignored: the request was already answered for its handler",
			"method", c.request.Method, "path", c.request.Path)
		return
	}
	c.app.logger.Error("web: Context."+call+" called after the request finished (forgotten Context.Async?)",
		"method", c.request.Method, "path", c.request.Path, "stack", stackTrace())
	if panicOnLateCall {
		panic("web: Context." + call + " called after the request finished (forgotten Context.Async?)")
	}
}
