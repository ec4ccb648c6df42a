package locks_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
	"chat/framework/ioloop/looptest"
	"chat/framework/locks"
)

// TestTimeoutsAreTight checks that each primitive's wait gives up after its
// own timeout (distinct values, so a timeout wired to the wrong wait shows)
// and not much later: within 3x.
func TestTimeoutsAreTight(t *testing.T) {
	for _, tc := range []struct {
		name    string
		timeout time.Duration
		start   func(loop *ioloop.Loop, d time.Duration) *concurrent.Future[struct{}]
	}{
		{name: "Lock.Acquire", timeout: 40 * time.Millisecond, start: func(loop *ioloop.Loop, d time.Duration) *concurrent.Future[struct{}] {
			lock := locks.NewLock(loop)
			lock.Acquire(0)
			return lock.Acquire(d)
		}},
		{name: "Semaphore.Acquire", timeout: 60 * time.Millisecond, start: func(loop *ioloop.Loop, d time.Duration) *concurrent.Future[struct{}] {
			return locks.NewSemaphore(loop, 0).Acquire(d)
		}},
		{name: "Event.Wait", timeout: 50 * time.Millisecond, start: func(loop *ioloop.Loop, d time.Duration) *concurrent.Future[struct{}] {
			return locks.NewEvent(loop).Wait(d)
		}},
		{name: "Condition.Wait", timeout: 70 * time.Millisecond, start: func(loop *ioloop.Loop, d time.Duration) *concurrent.Future[struct{}] {
			return concurrent.Map(locks.NewCondition(loop).Wait(d), func(notified bool) (struct{}, error) {
				if notified {
					t.Error("Condition.Wait resolved true without a notify")
				}
				return struct{}{}, concurrent.ErrTimeout
			})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			loop := looptest.Start(t)
			began := time.Now()
			_, err := looptest.Await(t, loop, func() *concurrent.Future[struct{}] { return tc.start(loop, tc.timeout) })
			elapsed := time.Since(began)
			if !errors.Is(err, concurrent.ErrTimeout) {
				t.Fatalf("err = %v, want one matching concurrent.ErrTimeout", err)
			}
			if tc.name != "Condition.Wait" && !strings.Contains(err.Error(), "locks: "+tc.name) {
				t.Errorf("err %q does not say which wait timed out", err)
			}
			if elapsed < tc.timeout || elapsed > 3*tc.timeout {
				t.Errorf("gave up after %v, want within [%v, %v]", elapsed, tc.timeout, 3*tc.timeout)
			}
		})
	}
}
