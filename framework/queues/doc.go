// Package queues holds Queue, a bounded queue for asynchronous producers
// and consumers on the event loop, in first-in-first-out, last-in-first-out
// and priority order. It is the counterpart of Tornado's tornado.queues
// module.
//
// A Put waits while the queue is full and a Get while it is empty, each as
// a *concurrent.Future that a callback chains on and a coroutine awaits.
// That is how a fast producer is slowed to its consumer's pace without a
// goroutine or a mutex: a chat room's writer, say, takes messages from a
// queue that handlers fill. PutNowait and GetNowait never wait: they return
// ErrQueueFull and ErrQueueEmpty, for producers that would rather drop or
// refuse (a slow WebSocket consumer). TaskDone and Join track when every
// item put has been processed.
//
// Every queue has a bound (maxsize of at least 1; there is no unbounded
// queue) because the project's rule is that everything is bounded. Waits
// take a timeout (0 waits forever; a negative one gives up at once) and
// fail with an error matching concurrent.ErrTimeout when it passes; they
// can be cancelled. A Get that timed out or was cancelled leaves the line
// at once and never receives an item: the next Get does. A Put that timed
// out or was cancelled never adds its item. Waiting producers and
// consumers are served first in, first out; the waits are built on
// locks.Waiters.
//
// Giving up is the waiter's job: a consumer that stops waiting any other
// way than through its future (a coroutine ended while it awaits a Get)
// must Cancel the future, or the next item is handed to it and lost with
// it. Once a Get's future has resolved, the item is the caller's; once a
// Put's has, the item is in the queue.
//
// Goroutines: everything in this package is loop-only. Create a queue
// anywhere, but call its methods, and handle the futures they return, on
// the loop goroutine only; another goroutine (an executor worker) reaches
// it through the loop's AddCallback. In -race builds the methods assert it.
// Timeouts are the loop's timers, so a queue is tied to the loop given to
// its constructor.
package queues
