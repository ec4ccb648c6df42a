// Package web is the application layer of the framework, the counterpart
// of Tornado's tornado.web: an Application routes each request to a fresh
// Handler (Tornado's RequestHandler) and gives it a Context with the
// request's arguments, cookies, current user and the methods that build
// the response. Around that sit the pieces tornado.web also carries: the
// Router (URLSpec, reverse_url), CookieCodec (set_secure_cookie), masked
// XSRF tokens (xsrf_cookies), StaticFiles (StaticFileHandler, static_url),
// error pages (send_error, write_error), @authenticated (RequireUser,
// RouteSettings.Authenticated) and WrapHTTP (FallbackHandler), which
// mounts any net/http handler. Pages are rendered from any Component,
// the one-method interface templ components satisfy.
//
// # Handler lifecycle
//
// A request moves through these states, forward only:
//
//  1. Routed: a static path goes to StaticFiles; an unmatched path gets
//     Config.DefaultHandler or 404; otherwise Spec.New makes the
//     handler. A method the handler lacks is answered 405 with Allow.
//  2. Checked: unless disabled, a POST, PUT, PATCH or DELETE must pass
//     the XSRF check (403 otherwise).
//  3. Preparing: Prepare runs, then PrepareAsync, whose future the
//     method waits for (its error is answered by Fail); if either
//     finished the request (a redirect, an error) the method is skipped.
//     Then an Authenticated route demands a current user (redirect to the
//     login URL, or 401 JSON).
//  4. Handling: the HTTP method runs.
//  5. Finished (Finish, then OnFinish) or Closed (the client left first:
//     OnConnectionClose). Exactly one of the two happens, once: the first
//     to reach the Context decides, and a connection that closes inside
//     Finish (a response past the stream's write limit) is Finished.
//
// The async rule, Tornado's for synchronous handlers: when the method
// returns, the request is finished for it, unless the handler called
// Context.Async (RunInExecutor does so). An asynchronous handler must
// later finish on the loop, from a future's callback or a timer, by
// Finish or any answer that finishes (Render, Redirect, SendError, Fail);
// a parked request (a long poll) simply waits, and if its client leaves
// OnConnectionClose runs at once so it can drop its subscription.
// Prepare is synchronous; a handler that must wait before its method (to
// load the current user from the store, say) implements PrepareAsync. A
// handler that hijacks the connection (a WebSocket
// upgrade) leaves the lifecycle: neither hook runs.
//
// Panics and deadlines: a panic in the synchronous part becomes a 500. A
// panic in an asynchronous continuation does too when the continuation
// runs under the request's guard: the future RunInExecutor returns and
// every future derived from it carry the guard, Guard puts it on any
// other future, and Context.Guarded wraps a timer or loop callback. The
// panic is logged with its stack and the request answered 500 (once
// streaming has begun it can only be ended). The server clears its
// deadlines while a handler holds a request, so an asynchronous handler
// that never finishes holds it until the client leaves, unless its route
// sets RouteSettings.HandlerTimeout (off by default, and to stay off on
// long polls), which answers 503. Response calls made after the request
// finished do nothing; they are logged with their stack, and panic in
// race builds, so a forgotten Async shows in tests.
//
// # Coroutine handlers
//
// Context.Go runs a handler's body as a coroutine (ioloop.Go, Tornado's
// async def get): sequential code that awaits futures, an executor call
// through RunInExecutor, say, and then renders, each segment on the
// loop's turn like any handler code. The request is async while it runs;
// when the body returns nil the request is finished (if the body has not
// finished it), an error is answered by Fail, a panic is logged with its
// stack and answered 500. If the client leaves first OnConnectionClose
// runs, once, and the coroutine is cancelled: its pending Await returns
// concurrent.ErrCancelled and what it returns is dropped; the handler
// timeout and a guarded continuation's panic cancel it the same way.
// PrepareAsync may return the future of Context.Go; there a nil return
// lets the method run. A coroutine costs a goroutine while it lives (see
// the ioloop package): fine per request, wrong for a long poll or stream
// that parks for minutes by the thousand, which should stay callbacks.
//
// # Goroutines
//
// Everything in this package runs on the loop: Application.ServeHTTP,
// every Handler method, every Context method, error pages and component
// rendering. Nothing here is safe to call from another goroutine, with
// the exception of the immutable values (Router, CookieCodec,
// StaticFiles, Application.Reverse and StaticURL). Blocking work goes
// through RunInExecutor, whose function runs on an executor goroutine and
// must not touch the Context or the Request: copy out what it needs. The
// net/http handlers of WrapHTTP run on the executor too.
package web
