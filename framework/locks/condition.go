package locks

import (
	"time"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
)

// Condition lets futures wait until another part of the program notifies
// them, like Tornado's locks.Condition. It holds no state besides its
// waiters: a Notify with nobody waiting is lost, so code waits for a
// condition of its own state in a loop ("while the room is empty, wait").
// No lock is needed around that state: on the loop, nothing runs between
// the check and the Wait.
//
// Loop-only: every method belongs to the loop goroutine.
type Condition struct {
	waiters *Waiters[bool]
}

// NewCondition returns a condition whose timeouts run on loop.
func NewCondition(loop *ioloop.Loop) *Condition {
	return &Condition{waiters: NewWaiters[bool](loop, "locks: Condition.Wait")}
}

// Wait returns a future that resolves with true when a Notify reaches it,
// or with false when timeout passes first. A timeout is not an error here,
// as in Tornado: a wait such as "news, or housekeeping after a second" is
// an ordinary outcome of both kinds. 0 waits forever; a negative timeout
// resolves false at once. The future fails only if it is cancelled, and a
// cancelled or timed-out waiter is never counted by a later Notify.
func (c *Condition) Wait(timeout time.Duration) *concurrent.Future[bool] {
	return c.waiters.wait(timeout, resolveFalse)
}

func resolveFalse(fut *concurrent.Future[bool], _ time.Duration) { fut.Resolve(false) }

// Notify wakes the n oldest waiters (fewer if fewer wait) and returns how
// many it woke. Waiters that start waiting while it runs are not counted.
func (c *Condition) Notify(n int) int { return c.waiters.WakeN(true, n) }

// NotifyAll wakes every waiter and returns how many it woke.
func (c *Condition) NotifyAll() int { return c.waiters.WakeAll(true) }

// Waiting returns how many Waits are pending.
func (c *Condition) Waiting() int { return c.waiters.Len() }
