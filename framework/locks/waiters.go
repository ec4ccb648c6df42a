package locks

import (
	"fmt"
	"math"
	"time"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
)

// Waiters is a first-in, first-out list of pending futures, each parked
// until something wakes it with a value, its timeout passes, or its owner
// cancels it. It is the building block of every primitive in this package
// and of framework/queues; code that parks requests of its own (long polls
// waiting for the next chat event, say) can use it directly.
//
// The rule that makes the primitives correct on the second event: a waiter
// leaves the list the moment its future resolves, whichever way. A waiter
// that timed out or was cancelled is gone before anything else runs, so it
// can never consume a later wake-up (a Release, a Set, an item), and its
// timer is cancelled the moment it is woken, so a satisfied waiter leaves no
// timer behind. Removal is O(1): the list is doubly linked.
//
// Loop-only: every method, and the futures it returns, belong to the loop
// goroutine.
type Waiters[T any] struct {
	loop       *ioloop.Loop
	what       string // names the wait in timeout errors: "locks: Lock.Acquire"
	head, tail *waiter[T]
	count      int
	lastSeq    uint64 // sequence number of the newest waiter
}

// waiter is one parked future. linked is true while it is in the list;
// timer is nil for a wait without timeout.
type waiter[T any] struct {
	fut        *concurrent.Future[T]
	timer      *ioloop.Timer
	prev, next *waiter[T]
	seq        uint64 // wake-ups take only waiters at or before a snapshot
	linked     bool
}

// NewWaiters returns an empty list whose timeouts run on loop. what names
// the wait in timeout errors ("rooms: long poll").
func NewWaiters[T any](loop *ioloop.Loop, what string) *Waiters[T] {
	return &Waiters[T]{loop: loop, what: what}
}

// Len returns how many futures are parked. Loop-only.
func (w *Waiters[T]) Len() int { return w.count }

// Wait parks a new future at the back of the list and returns it. It
// resolves with the value of the wake-up that reaches it, or fails with an
// error matching concurrent.ErrTimeout once timeout has passed.
//
// Timeout policy, the same for every primitive built on Waiters: 0 waits
// forever; a negative timeout (a deadline already passed) fails at once
// without parking. Cancelling the future (Cancel) removes it from the list.
// Loop-only.
func (w *Waiters[T]) Wait(timeout time.Duration) *concurrent.Future[T] {
	return w.wait(timeout, w.failTimedOut)
}

// wait is Wait with the timeout's outcome chosen by the caller: expire
// resolves or fails the future (Condition resolves it with false).
func (w *Waiters[T]) wait(timeout time.Duration, expire func(*concurrent.Future[T], time.Duration)) *concurrent.Future[T] {
	w.loop.AssertOnLoop()
	fut := concurrent.New[T]()
	if timeout < 0 {
		expire(fut, timeout)
		return fut
	}
	wt := &waiter[T]{fut: fut}
	w.pushBack(wt)
	// Added first, so it runs before any callback of the caller's: by
	// the time anyone learns the future resolved, it has left the list.
	fut.AddDoneCallback(func(*concurrent.Future[T]) { w.remove(wt) })
	if timeout > 0 {
		wt.timer = w.loop.CallLater(timeout, func() { expire(fut, timeout) })
	}
	return fut
}

func (w *Waiters[T]) failTimedOut(fut *concurrent.Future[T], timeout time.Duration) {
	fut.Fail(fmt.Errorf("%s: not woken within %v: %w", w.what, timeout, concurrent.ErrTimeout))
}

// WakeOne resolves the oldest parked future with v and reports whether
// there was one. Loop-only.
func (w *Waiters[T]) WakeOne(v T) bool { return w.wake(v, 1) == 1 }

// WakeAll resolves every future parked before the call with v and returns
// how many it woke. A future parked by a callback during the wake-up (code
// that waits again at once) stays parked for the next one. Loop-only.
func (w *Waiters[T]) WakeAll(v T) int { return w.wake(v, math.MaxInt) }

// WakeN resolves up to n of the oldest futures parked before the call with
// v and returns how many it woke. Loop-only.
func (w *Waiters[T]) WakeN(v T, n int) int { return w.wake(v, n) }

// wake resolves up to limit waiters, oldest first, among those parked
// before the call. Each leaves the list (and loses its timer) before its
// future resolves, so the callbacks it runs see a consistent list and may
// wait, wake or cancel again.
func (w *Waiters[T]) wake(v T, limit int) int {
	w.loop.AssertOnLoop()
	snapshot := w.lastSeq
	woken := 0
	for woken < limit && w.head != nil && w.head.seq <= snapshot {
		wt := w.head
		w.remove(wt)
		if wt.fut.Resolve(v) {
			woken++
		}
	}
	return woken
}

func (w *Waiters[T]) pushBack(wt *waiter[T]) {
	w.lastSeq++
	wt.seq = w.lastSeq
	wt.linked = true
	wt.prev = w.tail
	if w.tail != nil {
		w.tail.next = wt
	} else {
		w.head = wt
	}
	w.tail = wt
	w.count++
}

// remove unlinks wt and cancels its timer; a second call does nothing.
func (w *Waiters[T]) remove(wt *waiter[T]) {
	if wt.timer != nil {
		wt.timer.Cancel()
		wt.timer = nil
	}
	if !wt.linked {
		return
	}
	wt.linked = false
	if wt.prev != nil {
		wt.prev.next = wt.next
	} else {
		w.head = wt.next
	}
	if wt.next != nil {
		wt.next.prev = wt.prev
	} else {
		w.tail = wt.prev
	}
	wt.prev, wt.next = nil, nil
	w.count--
}
