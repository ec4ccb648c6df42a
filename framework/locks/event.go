package locks

import (
	"time"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
)

// Event is a flag that futures can wait for, like Tornado's locks.Event:
// Wait resolves at once while the flag is set, and Set wakes every waiter.
// An Event starts clear. Loop-only: every method belongs to the loop
// goroutine.
type Event struct {
	set     bool
	waiters *Waiters[struct{}]
}

// NewEvent returns a clear event whose timeouts run on loop.
func NewEvent(loop *ioloop.Loop) *Event {
	return &Event{waiters: NewWaiters[struct{}](loop, "locks: Event.Wait")}
}

// IsSet reports whether the flag is set.
func (e *Event) IsSet() bool { return e.set }

// Set sets the flag and resolves every pending Wait. Setting a set event
// does nothing.
func (e *Event) Set() {
	e.waiters.loop.AssertOnLoop()
	if e.set {
		return
	}
	e.set = true
	e.waiters.WakeAll(struct{}{})
}

// Clear clears the flag: later Waits block until the next Set.
func (e *Event) Clear() {
	e.waiters.loop.AssertOnLoop()
	e.set = false
}

// Wait returns a future that resolves when the flag is set: at once if it
// is set now. It fails with an error matching concurrent.ErrTimeout if
// timeout passes first (0 waits forever, see Waiters.Wait); cancelling it
// withdraws the wait.
func (e *Event) Wait(timeout time.Duration) *concurrent.Future[struct{}] {
	if e.set {
		return concurrent.Resolved(struct{}{})
	}
	return e.waiters.Wait(timeout)
}

// Waiting returns how many Waits are pending.
func (e *Event) Waiting() int { return e.waiters.Len() }
