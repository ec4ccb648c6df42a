//go:build race

package locks_test

import (
	"testing"

	"chat/framework/ioloop/looptest"
	"chat/framework/locks"
)

// TestOffLoopCallsPanic checks that the loop-only rule is enforced in -race
// builds: each primitive's methods panic when called from a goroutine other
// than the running loop's.
func TestOffLoopCallsPanic(t *testing.T) {
	loop := looptest.Start(t)
	looptest.Do(t, loop, func() {}) // the loop is running: the assertion is armed
	lock, sem := locks.NewLock(loop), locks.NewSemaphore(loop, 1)
	event, cond := locks.NewEvent(loop), locks.NewCondition(loop)
	waiters := locks.NewWaiters[int](loop, "test")
	for _, tc := range []struct {
		name string
		call func()
	}{
		{"Lock.Acquire", func() { lock.Acquire(0) }},
		{"Lock.Release", func() { lock.Release() }},
		{"Semaphore.Acquire", func() { sem.Acquire(0) }},
		{"Semaphore.Release", func() { sem.Release() }},
		{"Event.Set", func() { event.Set() }},
		{"Event.Wait", func() { event.Wait(0) }},
		{"Condition.Wait", func() { cond.Wait(0) }},
		{"Condition.Notify", func() { cond.Notify(1) }},
		{"Waiters.Wait", func() { waiters.Wait(0) }},
		{"Waiters.WakeAll", func() { waiters.WakeAll(1) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("%s from the test goroutine did not panic", tc.name)
				}
			}()
			tc.call()
		})
	}
}
