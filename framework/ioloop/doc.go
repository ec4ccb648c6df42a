// Package ioloop is the event loop: the counterpart of Tornado's
// tornado.ioloop.IOLoop (and of the asyncio loop beneath it).
//
// One goroutine, the one that calls Run, runs everything the loop owns:
// callbacks queued with AddCallback, timers (CallLater, CallAt,
// PeriodicCallback), readiness handlers of connections, and the
// continuations of executor work. They run one at a time, so the state they
// touch needs no mutex; in exchange none of them may block. Blocking work
// (a database call, bcrypt, a large file read) goes to an Executor with
// RunInExecutor, which returns a concurrent.Future resolved back on the loop.
//
// On Linux connections are file descriptors registered with one epoll
// instance, edge-triggered, with no goroutine per connection and no buffer
// held by an idle one; an eventfd wakes the loop when another goroutine
// adds a callback. The loop sleeps by parking in Go's scheduler on the
// epoll descriptor, never by blocking a thread. Elsewhere (or on Linux with
// -tags ioloop_portable) a portable backend with the same API drives each
// connection with a reader and a writer goroutine that post bytes to a
// ready list the loop dispatches like epoll's events. conn.go states the
// contract both backends meet.
//
// Each iteration of Run: take the queued callbacks and run them; fire the
// timers that are due; collect ready I/O (sleeping until the next timer if
// nothing is queued) and run the handlers. A panic in any of them is
// recovered and logged with its stack, and the loop goes on. Stats reports
// the loop's health: callbacks run, loop lag percentiles (callbacks, timers
// and I/O), the busy fraction with the I/O handlers' share, the callback
// queue and pending timers, executor queues, open connections and slow
// callbacks and handlers, named by the user's code (an I/O handler can
// name the callback it runs by implementing HandlerDescriber).
//
// Coroutines, Tornado's tornado.gen (async def and await): Go starts a
// body that reads as sequential code, and Await suspends it until a
// future resolves, without blocking the loop; Sleep (gen.sleep),
// AwaitTimeout (with_timeout) and Await of concurrent.All (gather) are
// the helpers. The body runs on a goroutine of its own, but only while it
// holds the loop's turn: whoever resumes it (the loop goroutine, usually,
// in a future callback) blocks on a channel until the body awaits again
// or returns. So the code between two awaits has the loop's exclusivity,
// may touch loop-owned state as a callback does, and the race detector
// agrees (the handoffs order it). The first segment runs inside Go. A
// panic fails the coroutine's future with a *concurrent.PanicError and is
// logged; cancelling the future makes the pending Await return
// concurrent.ErrCancelled; Close ends the coroutines still suspended
// (runtime.Goexit: their deferred calls run) and waits for them.
//
// What a coroutine costs, measured by BenchmarkParked and
// BenchmarkAwaitRoundTrip (amd64, 2 cores): a suspended coroutine holds
// one goroutine and 2.5 to 3 KB (its smallest stack and the Co), where a
// callback waiting on a future holds about 115 bytes; starting one and
// letting it return costs about 1.7 µs and 10 allocations against
// 0.2 µs for a callback, and a wait on a future that a loop callback
// resolves 0.7 to 1.1 µs more than the same wait as a callback
// (1.5 to 2.1 µs against 0.8 to 1 µs, a loop iteration included). Use
// coroutines for request-shaped work: a handler that awaits a few
// executor calls and renders, a startup sequence. Keep plain callbacks
// (or web handlers that park a request) for what waits long in large
// numbers: 10,000 idle connections as coroutines are 10,000 goroutines
// and 25 to 30 MB; as callbacks on their streams they are 1 MB and no
// goroutine.
//
// Lifecycle: a loop is new, running (inside Run), stopped (Run returned
// after Stop; it may run again) or closed. Close stops a running loop and
// waits for Run to return, then closes what is still registered and
// releases the executors and the poller, so the shutdown to copy is
//
//	loop, err := ioloop.New(ioloop.Options{})
//	...
//	go loop.Run()
//	defer loop.Close()
//
// Callbacks added after Close are dropped and counted, never queued.
//
// Goroutines: AddCallback, Stop, Close (except on the loop goroutine),
// Stats, OpenConns, NewExecutor and Executor.Stats are safe from any
// goroutine. Everything else is loop-only:
// call it from code running on the loop (or in a coroutine holding the
// loop's turn, or before Run starts). In -race builds AssertOnLoop checks
// this, and loop-only methods call it; -race
// builds also tell the race detector which bytes each socket read and
// write touched (rawio_race.go), so a buffer shared with another goroutine
// while the loop reads into it or writes from it is reported.
package ioloop
