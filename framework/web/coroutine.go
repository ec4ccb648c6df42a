package web

import (
	"errors"
	"slices"

	"chat/framework/concurrent"
	"chat/framework/httpserver"
	"chat/framework/ioloop"
)

// asyncPreparer is the optional asynchronous Prepare (see Handler).
type asyncPreparer interface {
	PrepareAsync(*Context) *concurrent.Future[struct{}]
}

// Go runs body as a coroutine serving the request (see ioloop.Go): code
// that awaits futures in sequence, such as an executor call, and then
// renders, without nested callbacks. It marks the request asynchronous,
// and the code between two awaits runs on the loop's turn, so it may use
// c as the handler's method does. The first segment runs inside Go.
//
// When body returns, its answer is the request's: nil finishes the
// request (unless it is finished already, by a Render, say); an error is
// answered by Fail; a panic is logged with its stack and answered 500.
// If the client leaves first, OnConnectionClose runs (and OnFinish never
// does) and the coroutine is cancelled: its pending Await returns
// concurrent.ErrCancelled, as does every later one, and what it returns
// is dropped. The same happens when the framework answers for the
// handler (RouteSettings.HandlerTimeout, a guarded continuation's panic).
//
// From PrepareAsync, return the future Go returns: there a nil from body
// means "prepared", and the HTTP method runs next (errors and panics are
// answered as above). Go in a synchronous Prepare panics, since the
// method would run before the coroutine is done. Loop-only.
//
//	func (h *Login) Post(c *web.Context) {
//		c.Go(func(co *ioloop.Co) error {
//			name, password := c.GetArgument("name", ""), c.GetArgument("password", "")
//			user, err := ioloop.Await(co, web.RunInExecutor(c, func() (User, error) {
//				return h.store.CheckPassword(name, password) // bcrypt: blocking
//			}))
//			if err != nil {
//				return err
//			}
//			c.Render(WelcomePage(user))
//			return nil
//		})
//	}
func (c *Context) Go(body func(co *ioloop.Co) error) *concurrent.Future[struct{}] {
	if c.Finished() {
		c.lateCall("Go")
		return concurrent.Failed[struct{}](httpserver.ErrResponseFinished)
	}
	if c.state == statePreparing {
		panic("web: Context.Go called in Prepare: implement PrepareAsync and return the future Go returns")
	}
	c.Async()
	answersOnReturn := c.state != statePreparingAsync
	f := ioloop.Go(c.app.loop, func(co *ioloop.Co) (struct{}, error) { return struct{}{}, body(co) })
	if !f.Done() {
		c.coroutines = append(c.coroutines, f)
	}
	Guard(c, f).OnResult(func(_ struct{}, err error) {
		c.forgetCoroutine(f)
		c.coroutineReturned(err, answersOnReturn)
	})
	return f
}

// forgetCoroutine drops an ended coroutine from the request's list, so a
// long request that starts many (one per streamed event, say) keeps only
// the live ones.
func (c *Context) forgetCoroutine(f *concurrent.Future[struct{}]) {
	if i := slices.Index(c.coroutines, f); i >= 0 {
		c.coroutines = slices.Delete(c.coroutines, i, i+1)
	}
}

// coroutineReturned answers for a coroutine of Go that has ended, unless
// the request is over.
func (c *Context) coroutineReturned(err error, answersOnReturn bool) {
	if c.Finished() {
		return
	}
	var panicked *concurrent.PanicError
	switch {
	case errors.As(err, &panicked):
		c.continuationPanicked(panicked.Value, panicked.Stack)
	case err != nil:
		c.Fail(err)
	case answersOnReturn:
		c.Finish()
	}
}

// cancelCoroutines cancels the request's pending coroutines and
// asynchronous Prepare once nobody waits for their answer: the client
// left, or the framework answered for the handler.
func (c *Context) cancelCoroutines() {
	pending := c.coroutines
	c.coroutines = nil
	for _, f := range pending {
		f.Cancel()
	}
}

// prepareAsync runs the handler's PrepareAsync, if it has one, and reports
// whether the method may run now. When the returned future is pending it
// arranges for the rest of the lifecycle to run once it succeeds, and
// reports false.
func (c *Context) prepareAsync(h Handler, method func(*Context)) bool {
	p, ok := h.(asyncPreparer)
	if !ok {
		return true
	}
	c.state = statePreparingAsync
	prepared := p.PrepareAsync(c)
	if c.Finished() {
		return false
	}
	if prepared.Done() {
		return c.prepared(prepared.Err())
	}
	c.coroutines = append(c.coroutines, prepared)
	if c.spec.HandlerTimeout > 0 {
		c.armHandlerTimeout()
	}
	prepared.OnResult(func(_ struct{}, err error) {
		defer c.recoverPanic()
		if c.prepared(err) {
			c.handle(method)
		}
	})
	return false
}

// prepared answers a failed PrepareAsync and reports whether the method
// may run.
func (c *Context) prepared(err error) bool {
	// Asynchronous preparation (Go, RunInExecutor) marked the request
	// async; the method starts afresh, finished on return unless it too
	// goes asynchronous.
	c.async = false
	if c.Finished() {
		return false
	}
	var panicked *concurrent.PanicError
	switch {
	case errors.As(err, &panicked):
		c.continuationPanicked(panicked.Value, panicked.Stack)
	case err != nil:
		c.Fail(err)
	}
	return !c.Finished()
}
