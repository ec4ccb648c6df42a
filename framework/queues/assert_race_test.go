//go:build race

package queues_test

import (
	"testing"

	"chat/framework/ioloop/looptest"
	"chat/framework/queues"
)

// TestOffLoopCallsPanic checks that the loop-only rule is enforced in -race
// builds: Queue's methods panic when called from a goroutine other than
// the running loop's.
func TestOffLoopCallsPanic(t *testing.T) {
	loop := looptest.Start(t)
	looptest.Do(t, loop, func() {}) // the loop is running: the assertion is armed
	q := queues.NewQueue[int](loop, 1)
	for _, tc := range []struct {
		name string
		call func()
	}{
		{"Put", func() { q.Put(1, 0) }},
		{"PutNowait", func() { q.PutNowait(1) }},
		{"Get", func() { q.Get(0) }},
		{"GetNowait", func() { q.GetNowait() }},
		{"TaskDone", func() { q.TaskDone() }},
		{"Join", func() { q.Join(0) }},
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
