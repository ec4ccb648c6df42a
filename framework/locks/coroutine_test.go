package locks_test

import (
	"errors"
	"testing"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
	"chat/framework/ioloop/looptest"
	"chat/framework/locks"
)

// TestCancelledCoroutineDoesNotStrandTheLock: a coroutine cancelled while
// it waits elsewhere, which then takes a free lock, gets it (Await of a
// resolved future returns its result even after a cancel) and releases it
// in its defer; one cancelled while waiting in line for the lock cancels
// its Acquire, so the next Release goes to a live waiter. Either way the
// lock ends free.
func TestCancelledCoroutineDoesNotStrandTheLock(t *testing.T) {
	l := looptest.Start(t)
	var lock *locks.Lock
	var gate *concurrent.Future[struct{}]
	var takesFreeLock, waitsInLine *concurrent.Future[struct{}]
	looptest.Do(t, l, func() {
		lock = locks.NewLock(l)
		gate = concurrent.New[struct{}]()
		takesFreeLock = ioloop.Go(l, func(co *ioloop.Co) (struct{}, error) {
			if _, err := ioloop.Await(co, gate); !errors.Is(err, concurrent.ErrCancelled) {
				t.Errorf("the gate's Await returned %v; want ErrCancelled", err)
			}
			acquired := lock.Acquire(0) // free: resolved at once
			if _, err := ioloop.Await(co, acquired); err != nil {
				acquired.Cancel()
				return struct{}{}, err
			}
			defer lock.Release()
			return struct{}{}, nil
		})
		takesFreeLock.Cancel()
	})
	looptest.Do(t, l, func() {
		if lock.Locked() {
			t.Error("a cancelled coroutine that took a free lock left it locked")
			return
		}
		lock.Acquire(0) // held by the test, so the next coroutine waits in line
		waitsInLine = ioloop.Go(l, func(co *ioloop.Co) (struct{}, error) {
			acquired := lock.Acquire(0)
			if _, err := ioloop.Await(co, acquired); err != nil {
				acquired.Cancel()
				return struct{}{}, err
			}
			defer lock.Release()
			return struct{}{}, nil
		})
		waitsInLine.Cancel()
		lock.Release()
		if lock.Locked() || lock.Waiting() != 0 {
			t.Errorf("after the cancelled waiter left and the test released: locked %v, %d waiting; want free", lock.Locked(), lock.Waiting())
		}
	})
}
