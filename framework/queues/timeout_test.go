package queues_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"chat/framework/concurrent"
	"chat/framework/ioloop/looptest"
	"chat/framework/queues"
)

// TestTimeoutsAreTight checks that each wait gives up after its own
// timeout (distinct values) and within 3x, with an error that says which
// wait it was.
func TestTimeoutsAreTight(t *testing.T) {
	for _, tc := range []struct {
		name    string
		what    string // in the error
		timeout time.Duration
		start   func(q *queues.Queue[int], d time.Duration) *concurrent.Future[struct{}]
	}{
		{name: "Get on an empty queue", what: "queues: Queue.Get", timeout: 45 * time.Millisecond,
			start: func(q *queues.Queue[int], d time.Duration) *concurrent.Future[struct{}] {
				return concurrent.Map(q.Get(d), func(int) (struct{}, error) { return struct{}{}, nil })
			}},
		{name: "Put on a full queue", what: "queues: Queue.Put", timeout: 55 * time.Millisecond,
			start: func(q *queues.Queue[int], d time.Duration) *concurrent.Future[struct{}] {
				q.PutNowait(1)
				return q.Put(2, d)
			}},
		{name: "Join with an unfinished item", what: "queues: Queue.Join", timeout: 65 * time.Millisecond,
			start: func(q *queues.Queue[int], d time.Duration) *concurrent.Future[struct{}] {
				q.PutNowait(1)
				return q.Join(d)
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			loop := looptest.Start(t)
			began := time.Now()
			_, err := looptest.Await(t, loop, func() *concurrent.Future[struct{}] {
				return tc.start(queues.NewQueue[int](loop, 1), tc.timeout)
			})
			elapsed := time.Since(began)
			if !errors.Is(err, concurrent.ErrTimeout) {
				t.Fatalf("err = %v, want one matching concurrent.ErrTimeout", err)
			}
			if !strings.Contains(err.Error(), tc.what) {
				t.Errorf("err %q does not name %q", err, tc.what)
			}
			if elapsed < tc.timeout || elapsed > 3*tc.timeout {
				t.Errorf("gave up after %v, want within [%v, %v]", elapsed, tc.timeout, 3*tc.timeout)
			}
		})
	}
}
