package locks_test

import (
	"testing"

	"chat/framework/ioloop/looptest"
	"chat/framework/locks"
)

// BenchmarkLock measures the two paths on the loop: taking a free lock
// (the common case: one resolved future) and handing it to a parked
// waiter (a waiter, its future and its done callback).
func BenchmarkLock(b *testing.B) {
	loop := looptest.Start(b)
	b.Run("uncontended", func(b *testing.B) {
		looptest.Do(b, loop, func() {
			lock := locks.NewLock(loop)
			b.ReportAllocs()
			for b.Loop() {
				lock.Acquire(0)
				lock.Release()
			}
		})
	})
	b.Run("handoff", func(b *testing.B) {
		looptest.Do(b, loop, func() {
			lock := locks.NewLock(loop)
			lock.Acquire(0)
			b.ReportAllocs()
			for b.Loop() {
				lock.Acquire(0)
				lock.Release() // to the waiter, which now holds it
			}
		})
	})
}
