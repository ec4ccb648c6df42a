// Package concurrent holds Future, the eventual result of asynchronous work.
// It is the counterpart of Tornado's tornado.concurrent module (and of the
// asyncio.Future that Tornado's coroutines await).
//
// A Future[T] resolves exactly once, with a value or an error, and then runs
// the callbacks added to it, in order. Then and Map chain steps, All waits
// for many futures, First for the earliest, WithTimeout bounds a wait with
// the loop's timers, and Cancel tells waiters the result no longer matters.
//
// Goroutines: a Future is owned by the event loop. Create, resolve, read and
// add callbacks to it only on the loop goroutine; work running elsewhere
// (an executor worker, say) returns its result through the loop's
// AddCallback, which resolves the future on the loop. That rule is why a
// Future needs no mutex and why a pending Future costs no goroutine: it is a
// small struct with a list of callbacks. Callbacks run synchronously inside
// Resolve, Fail or Set, and inside AddDoneCallback when the future has
// already resolved.
//
// Panics: each callback runs protected. A callback that panics is
// recovered, the panic and its stack go to the future's PanicHandler
// (slog.Default() when none is set), and the callbacks after it still run;
// the panic never unwinds into the code that resolved the future. Derived
// futures inherit the handler, and a Map or Then step that panics fails
// its derived future with a *PanicError, so no waiter is left hanging.
//
// This package sits at the bottom of the framework's import graph; it knows
// nothing of the loop. WithTimeout takes the small Timers interface, which
// *ioloop.Loop satisfies.
package concurrent
