package locks

import (
	"time"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
)

// Lock is a mutual-exclusion lock for asynchronous code, like Tornado's
// locks.Lock. It is not a mutex: nothing on the loop ever needs one. It
// serialises sequences of steps that span awaits (read a row, compute,
// write it back) so that two requests' sequences do not interleave.
//
// Fairness: FIFO. Release hands the lock straight to the oldest waiter, so
// a newcomer never overtakes a waiter, and a waiter that timed out or was
// cancelled has already left the queue and is skipped.
//
// Loop-only: every method belongs to the loop goroutine.
type Lock struct {
	locked  bool
	waiters *Waiters[struct{}]
}

// NewLock returns an unlocked lock whose timeouts run on loop.
func NewLock(loop *ioloop.Loop) *Lock {
	return &Lock{waiters: NewWaiters[struct{}](loop, "locks: Lock.Acquire")}
}

// Acquire returns a future that resolves once the caller holds the lock:
// at once if it is free. It fails with an error matching
// concurrent.ErrTimeout if timeout passes first (0 waits forever, see
// Waiters.Wait); cancelling it withdraws the request. A future that
// resolved without error means the caller holds the lock and must Release
// it; a Cancel after that does nothing.
func (l *Lock) Acquire(timeout time.Duration) *concurrent.Future[struct{}] {
	l.waiters.loop.AssertOnLoop()
	if !l.locked {
		l.locked = true
		return concurrent.Resolved(struct{}{})
	}
	return l.waiters.Wait(timeout)
}

// Release unlocks the lock, handing it to the oldest waiter if there is
// one. Releasing an unlocked lock is a bug in the caller, not a condition
// to handle, so it panics (as sync.Mutex's Unlock does, and Tornado raises).
func (l *Lock) Release() {
	l.waiters.loop.AssertOnLoop()
	if !l.locked {
		panic("locks: Release of an unlocked Lock")
	}
	if !l.waiters.WakeOne(struct{}{}) {
		l.locked = false
	}
}

// Locked reports whether someone holds the lock.
func (l *Lock) Locked() bool { return l.locked }

// Waiting returns how many Acquires are pending.
func (l *Lock) Waiting() int { return l.waiters.Len() }
