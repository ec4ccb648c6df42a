// Package locks holds synchronisation primitives for asynchronous code on
// the event loop: Event, Condition, Lock and Semaphore (bounded or not).
// It is the counterpart of Tornado's tornado.locks module.
//
// They are not mutexes. Code on the loop runs one callback at a time, so
// loop-owned state never needs a mutex; what it can need is to order
// sequences of steps that span awaits. A request that reads a row,
// computes, and writes it back through an executor may hold a Lock across
// the three steps; a Semaphore bounds how many bcrypt hashes are in flight;
// an Event tells every waiter that startup finished; a Condition wakes
// whoever waits for news. Each wait is a *concurrent.Future: a callback
// chains on it with OnResult or Then, and a coroutine awaits it, with the
// same meaning.
//
// Waits and their end: every wait takes a timeout (0 waits forever; a
// negative one, a deadline already passed, gives up at once) and returns a
// future that can be cancelled. A wait that times out fails with an error
// matching concurrent.ErrTimeout, except Condition.Wait, which resolves with
// false as Tornado's does. Whichever way a wait ends, it leaves the queue of
// waiters at once: a waiter that timed out or was cancelled never consumes
// a later Set, Notify or Release, which goes to the next waiter instead, and
// a waiter that is woken cancels its timer. Waiters are served first in,
// first out. Releasing an unlocked Lock, or a semaphore made by
// NewBoundedSemaphore more times than it was acquired, is a bug in the
// caller and panics. Waiters, the FIFO of parked futures underneath every
// primitive, is exported for code that parks requests of its own.
//
// Giving up is the waiter's job. A wait ends early only through its own
// future: a timeout, or Cancel. Code that stops waiting any other way (a
// coroutine ended while it awaits an Acquire, a request whose client went
// away) must Cancel the future it was given, or the wait stays in line and
// is later granted a lock or permit that nobody will release. Once a wait's
// future has resolved without error, the grant is the caller's and Cancel
// does nothing. Waits still pending when the loop stops stay pending.
//
// Goroutines: everything in this package is loop-only. Create the
// primitives anywhere, but call their methods, and handle the futures they
// return, on the loop goroutine only; another goroutine reaches them through
// the loop's AddCallback. In -race builds the methods assert it
// (ioloop.Loop.AssertOnLoop). Timeouts are the loop's timers (CallLater),
// so a primitive is tied to the loop given to its constructor.
package locks
