package ioloop_test

import (
	"runtime"
	"testing"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
	"chat/framework/ioloop/looptest"
)

// BenchmarkAwaitRoundTrip measures the coroutine path; compare with
// BenchmarkCallbackRoundTrip, which does the same work with callbacks.
//
//   - start+resolved: a loop callback starts a coroutine that awaits a
//     resolved future and returns: loop -> coroutine -> loop, goroutine
//     start included.
//   - pending, resolved by a loop callback: one coroutine awaits a fresh
//     future that a queued loop callback resolves: coroutine -> loop ->
//     coroutine, two handoffs of the turn per op.
func BenchmarkAwaitRoundTrip(b *testing.B) {
	b.Run("start+resolved", func(b *testing.B) {
		b.ReportAllocs()
		l := looptest.StartWith(b, ioloop.Options{SlowCallback: -1})
		resolved := concurrent.Resolved(1)
		sum := 0
		b.ResetTimer()
		looptest.Do(b, l, func() {
			for i := 0; i < b.N; i++ {
				ioloop.Go(l, func(co *ioloop.Co) (int, error) {
					v, err := ioloop.Await(co, resolved)
					sum += v
					return v, err
				})
			}
		})
		if sum != b.N {
			b.Fatalf("sum %d; want %d", sum, b.N)
		}
	})
	b.Run("pending, resolved by a loop callback", func(b *testing.B) {
		b.ReportAllocs()
		l := looptest.Start(b)
		b.ResetTimer()
		_, err := looptest.Await(b, l, func() *concurrent.Future[int] {
			return ioloop.Go(l, func(co *ioloop.Co) (int, error) {
				for i := 0; i < b.N; i++ {
					f := concurrent.New[int]()
					l.AddCallback(func() { f.Resolve(i) })
					if _, err := ioloop.Await(co, f); err != nil {
						return 0, err
					}
				}
				return 0, nil
			})
		})
		if err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkCallbackRoundTrip is BenchmarkAwaitRoundTrip's work done with
// plain future callbacks.
func BenchmarkCallbackRoundTrip(b *testing.B) {
	b.Run("start+resolved", func(b *testing.B) {
		b.ReportAllocs()
		l := looptest.StartWith(b, ioloop.Options{SlowCallback: -1})
		resolved := concurrent.Resolved(1)
		sum := 0
		b.ResetTimer()
		looptest.Do(b, l, func() {
			for i := 0; i < b.N; i++ {
				out := concurrent.New[int]()
				resolved.OnResult(func(v int, err error) { sum += v; out.Set(v, err) })
			}
		})
		if sum != b.N {
			b.Fatalf("sum %d; want %d", sum, b.N)
		}
	})
	b.Run("pending, resolved by a loop callback", func(b *testing.B) {
		b.ReportAllocs()
		l := looptest.Start(b)
		b.ResetTimer()
		_, err := looptest.Await(b, l, func() *concurrent.Future[int] {
			done := concurrent.New[int]()
			i := 0
			var step func(int, error)
			step = func(_ int, err error) {
				if err != nil || i == b.N {
					done.Set(0, err)
					return
				}
				f := concurrent.New[int]()
				n := i
				l.AddCallback(func() { f.Resolve(n) })
				i++
				f.OnResult(step)
			}
			step(0, nil)
			return done
		})
		if err != nil {
			b.Fatal(err)
		}
	})
}

// parkedCount is how many waiters BenchmarkParked holds at once: the
// issue's 10,000 idle connections.
const parkedCount = 10000

// BenchmarkParked reports what 10,000 waits cost while parked: as
// coroutines suspended in Await (a goroutine each) and as callbacks on
// pending futures. Run it with -benchtime=1x; each op parks and releases
// all of them.
func BenchmarkParked(b *testing.B) {
	kinds := []struct {
		name string
		park func(l *ioloop.Loop, wake *concurrent.Future[int]) *concurrent.Future[int]
	}{
		{"coroutines", func(l *ioloop.Loop, wake *concurrent.Future[int]) *concurrent.Future[int] {
			return ioloop.Go(l, func(co *ioloop.Co) (int, error) { return ioloop.Await(co, wake) })
		}},
		{"callbacks", func(l *ioloop.Loop, wake *concurrent.Future[int]) *concurrent.Future[int] {
			out := concurrent.New[int]()
			wake.OnResult(func(v int, err error) { out.Set(v, err) })
			return out
		}},
	}
	for _, kind := range kinds {
		b.Run(kind.name, func(b *testing.B) {
			l := looptest.StartWith(b, ioloop.Options{SlowCallback: -1})
			var bytesPer, goroutinesPer float64
			for b.Loop() {
				wakes := make([]*concurrent.Future[int], parkedCount)
				results := make([]*concurrent.Future[int], parkedCount)
				for i := range wakes {
					wakes[i] = concurrent.New[int]()
				}
				before, goroutinesBefore := memInUse(), runtime.NumGoroutine()
				looptest.Do(b, l, func() {
					for i := range results {
						results[i] = kind.park(l, wakes[i])
					}
				})
				after, goroutinesAfter := memInUse(), runtime.NumGoroutine()
				bytesPer = float64(after-before) / parkedCount
				goroutinesPer = float64(goroutinesAfter-goroutinesBefore) / parkedCount
				if _, err := looptest.Await(b, l, func() *concurrent.Future[[]int] {
					for _, w := range wakes {
						w.Resolve(1)
					}
					return concurrent.All(results...)
				}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(bytesPer, "bytes/parked")
			b.ReportMetric(goroutinesPer, "goroutines/parked")
		})
	}
}

// memInUse is the heap and goroutine-stack memory in use after a GC.
func memInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc + m.StackInuse)
}
