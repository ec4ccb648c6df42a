package locks

import (
	"fmt"
	"time"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
)

// Semaphore counts permits, like Tornado's locks.Semaphore: Acquire takes
// one (waiting while there are none), Release gives one back. It bounds
// concurrency across awaits, such as how many bcrypt hashes a loop keeps in
// flight.
//
// Fairness: FIFO, as for Lock. Release hands its permit straight to the
// oldest waiter; while anyone waits, the count is zero.
//
// Loop-only: every method belongs to the loop goroutine.
type Semaphore struct {
	value   int
	bound   int // for BoundedSemaphore: the initial value; 0: unbounded
	waiters *Waiters[struct{}]
}

// NewSemaphore returns a semaphore holding value permits, whose timeouts
// run on loop. A negative value panics.
func NewSemaphore(loop *ioloop.Loop, value int) *Semaphore {
	if value < 0 {
		panic(fmt.Sprintf("locks: NewSemaphore with negative value %d", value))
	}
	return &Semaphore{value: value, waiters: NewWaiters[struct{}](loop, "locks: Semaphore.Acquire")}
}

// NewBoundedSemaphore returns a semaphore that panics when released more
// times than it was acquired, like Tornado's BoundedSemaphore: the count
// never rises above value. A value below 1 panics.
func NewBoundedSemaphore(loop *ioloop.Loop, value int) *Semaphore {
	if value < 1 {
		panic(fmt.Sprintf("locks: NewBoundedSemaphore with value %d: it must be at least 1", value))
	}
	s := NewSemaphore(loop, value)
	s.bound = value
	return s
}

// Acquire returns a future that resolves once the caller holds a permit:
// at once if one is free. It fails with an error matching
// concurrent.ErrTimeout if timeout passes first (0 waits forever, see
// Waiters.Wait); cancelling it withdraws the request. A future that
// resolved without error means the caller holds a permit and must Release
// it; a Cancel after that does nothing.
func (s *Semaphore) Acquire(timeout time.Duration) *concurrent.Future[struct{}] {
	s.waiters.loop.AssertOnLoop()
	if s.value > 0 {
		s.value--
		return concurrent.Resolved(struct{}{})
	}
	return s.waiters.Wait(timeout)
}

// Release gives a permit back, handing it to the oldest waiter if there is
// one. On a bounded semaphore, a Release that would raise the count above
// its initial value panics: it is a bug in the caller (a double release).
func (s *Semaphore) Release() {
	s.waiters.loop.AssertOnLoop()
	if s.waiters.WakeOne(struct{}{}) {
		return
	}
	if s.bound > 0 && s.value >= s.bound {
		panic(fmt.Sprintf("locks: BoundedSemaphore released too many times (value %d)", s.value))
	}
	s.value++
}

// Value returns the number of free permits.
func (s *Semaphore) Value() int { return s.value }

// Waiting returns how many Acquires are pending.
func (s *Semaphore) Waiting() int { return s.waiters.Len() }
