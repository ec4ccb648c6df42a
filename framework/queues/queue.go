package queues

import (
	"errors"
	"fmt"
	"time"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
	"chat/framework/locks"
)

// ErrQueueFull is returned by PutNowait when the queue holds Maxsize items.
var ErrQueueFull = errors.New("queues: queue is full")

// ErrQueueEmpty is returned by GetNowait when the queue holds no item.
var ErrQueueEmpty = errors.New("queues: queue is empty")

// Queue is a bounded queue of items for asynchronous producers and
// consumers, like Tornado's queues.Queue: Put waits while the queue is
// full, Get waits while it is empty. NewQueue orders items first in, first
// out; NewLifoQueue last in, first out; NewPriorityQueue smallest first.
// Waiting producers and consumers are themselves served first in, first
// out.
//
// Hand-off: a Put with consumers waiting gives its item straight to the
// oldest one, and a Get that makes room in a full queue takes the oldest
// waiting producer's item in at once, so an item that was put is always
// either in the queue or in exactly one resolved Get future. A Get that timed out or was cancelled
// has left the line and never receives an item; the item stays in the
// queue for the next Get.
//
// TaskDone and Join count work as Tornado's do: every item put counts as
// unfinished until a TaskDone for it; Join waits until none is.
//
// Loop-only: every method belongs to the loop goroutine.
type Queue[T any] struct {
	maxsize    int
	items      store[T]
	getters    *locks.Waiters[T]        // consumers waiting for an item; only while items is empty
	putters    *locks.Waiters[struct{}] // producers waiting for room; only while items is full
	unfinished int                      // items put and not yet marked TaskDone
	joiners    *locks.Waiters[struct{}] // Joins waiting for unfinished to reach 0
	loop       *ioloop.Loop
}

// store is the order of a queue's items.
type store[T any] interface {
	push(v T)
	pop() T // only on a non-empty store
	len() int
}

// NewQueue returns an empty first-in, first-out queue holding at most
// maxsize items, whose timeouts run on loop.
//
// Bound policy: every queue in the project has a bound (ARCHITECTURE.md
// §2.5), so that a producer faster than its consumer waits or sees
// ErrQueueFull instead of growing memory without limit. There is no
// unbounded queue: maxsize below 1 panics. Storage grows with use, up to
// maxsize, so a large bound costs nothing until it is reached.
func NewQueue[T any](loop *ioloop.Loop, maxsize int) *Queue[T] {
	return newQueue(loop, maxsize, &fifo[T]{})
}

// NewLifoQueue is NewQueue with items taken last in, first out (a stack),
// like Tornado's LifoQueue.
func NewLifoQueue[T any](loop *ioloop.Loop, maxsize int) *Queue[T] {
	return newQueue(loop, maxsize, &lifo[T]{})
}

// NewPriorityQueue is NewQueue with the smallest item taken first, as less
// orders them, like Tornado's PriorityQueue. Items that are equal under
// less come out in no particular order.
func NewPriorityQueue[T any](loop *ioloop.Loop, maxsize int, less func(a, b T) bool) *Queue[T] {
	if less == nil {
		panic("queues: NewPriorityQueue with a nil less function")
	}
	return newQueue(loop, maxsize, &priority[T]{less: less})
}

func newQueue[T any](loop *ioloop.Loop, maxsize int, items store[T]) *Queue[T] {
	if maxsize < 1 {
		panic(fmt.Sprintf("queues: maxsize %d: every queue needs a bound of at least 1", maxsize))
	}
	q := &Queue[T]{
		maxsize: maxsize,
		items:   items,
		getters: locks.NewWaiters[T](loop, "queues: Queue.Get"),
		putters: locks.NewWaiters[struct{}](loop, "queues: Queue.Put"),
		joiners: locks.NewWaiters[struct{}](loop, "queues: Queue.Join"),
		loop:    loop,
	}
	return q
}

// Maxsize returns the most items the queue holds.
func (q *Queue[T]) Maxsize() int { return q.maxsize }

// Len returns the number of items in the queue (not counting those of
// waiting producers).
func (q *Queue[T]) Len() int { return q.items.len() }

// Empty reports whether the queue holds no item.
func (q *Queue[T]) Empty() bool { return q.items.len() == 0 }

// Full reports whether the queue holds Maxsize items.
func (q *Queue[T]) Full() bool { return q.items.len() >= q.maxsize }

// Getters returns how many Gets are waiting for an item.
func (q *Queue[T]) Getters() int { return q.getters.Len() }

// Putters returns how many Puts are waiting for room.
func (q *Queue[T]) Putters() int { return q.putters.Len() }

// Put returns a future that resolves once v is in the queue (or handed to
// a waiting Get): at once if there is room. It fails with an error
// matching concurrent.ErrTimeout if the queue stays full for timeout (0
// waits forever, see locks.Waiters.Wait); cancelling it withdraws v. Once
// the future has resolved without error, v is in the queue and a Cancel
// does nothing.
func (q *Queue[T]) Put(v T, timeout time.Duration) *concurrent.Future[struct{}] {
	if err := q.PutNowait(v); err == nil {
		return concurrent.Resolved(struct{}{})
	}
	fut := q.putters.Wait(timeout)
	// Runs right after the waiter leaves the line, before the caller's
	// callbacks: when the Put resolves, v is in the queue.
	fut.AddDoneCallback(func(f *concurrent.Future[struct{}]) {
		if f.Err() == nil {
			q.add(v)
		}
	})
	return fut
}

// PutNowait puts v in the queue, or hands it to a waiting Get, and returns
// nil; or returns ErrQueueFull, leaving the queue unchanged.
func (q *Queue[T]) PutNowait(v T) error {
	q.loop.AssertOnLoop()
	if q.Full() {
		return ErrQueueFull
	}
	q.add(v)
	return nil
}

// add counts v as unfinished and gives it to the oldest waiting Get, or
// stores it. The caller has checked there is room.
func (q *Queue[T]) add(v T) {
	q.unfinished++
	if !q.getters.WakeOne(v) {
		q.items.push(v)
	}
}

// Get returns a future that resolves with the next item: at once if the
// queue holds one. It fails with an error matching concurrent.ErrTimeout
// if the queue stays empty for timeout (0 waits forever, see
// locks.Waiters.Wait); cancelling it withdraws the request, and an item put
// later goes to the next Get. Once the future has resolved with an item, a
// Cancel does nothing: the item is the caller's.
func (q *Queue[T]) Get(timeout time.Duration) *concurrent.Future[T] {
	if v, err := q.GetNowait(); err == nil {
		return concurrent.Resolved(v)
	}
	return q.getters.Wait(timeout)
}

// GetNowait removes and returns the next item, or returns ErrQueueEmpty.
// Taking an item makes room, which the oldest waiting Put fills at once.
func (q *Queue[T]) GetNowait() (T, error) {
	q.loop.AssertOnLoop()
	if q.items.len() == 0 {
		var zero T
		return zero, ErrQueueEmpty
	}
	v := q.items.pop()
	q.putters.WakeOne(struct{}{})
	return v, nil
}

// TaskDone marks one item as processed. When every item put so far has
// been marked, Join's futures resolve. Calling it more times than items
// were put is a bug in the caller and panics, as Tornado raises.
func (q *Queue[T]) TaskDone() {
	q.loop.AssertOnLoop()
	if q.unfinished <= 0 {
		panic("queues: TaskDone called more times than items were put")
	}
	q.unfinished--
	if q.unfinished == 0 {
		q.joiners.WakeAll(struct{}{})
	}
}

// Unfinished returns how many items were put and not yet marked TaskDone.
func (q *Queue[T]) Unfinished() int { return q.unfinished }

// Join returns a future that resolves once every item put has been marked
// TaskDone: at once if none is unfinished. It fails with an error matching
// concurrent.ErrTimeout if timeout passes first (0 waits forever);
// cancelling it withdraws the wait.
func (q *Queue[T]) Join(timeout time.Duration) *concurrent.Future[struct{}] {
	q.loop.AssertOnLoop()
	if q.unfinished == 0 {
		return concurrent.Resolved(struct{}{})
	}
	return q.joiners.Wait(timeout)
}
