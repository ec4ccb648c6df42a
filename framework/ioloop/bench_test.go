package ioloop_test

import (
	"sync"
	"testing"
	"time"

	"chat/framework/ioloop"
	"chat/framework/ioloop/looptest"
)

// BenchmarkAddCallback measures callbacks handed to the loop and run, from
// one and from eight producer goroutines.
func BenchmarkAddCallback(b *testing.B) {
	for _, producers := range []int{1, 8} {
		b.Run(map[int]string{1: "goroutines=1", 8: "goroutines=8"}[producers], func(b *testing.B) {
			l := looptest.Start(b)
			var ran sync.WaitGroup
			ran.Add(b.N)
			done := ran.Done
			b.ResetTimer()
			var producing sync.WaitGroup
			for p := range producers {
				producing.Add(1)
				go func() {
					defer producing.Done()
					for i := p; i < b.N; i += producers {
						l.AddCallback(done)
					}
				}()
			}
			producing.Wait()
			ran.Wait()
		})
	}
}

// BenchmarkTimerInsertCancel measures scheduling a timer and cancelling it
// with 10,000 other timers pending (each op is one insert and one O(log n)
// removal).
func BenchmarkTimerInsertCancel(b *testing.B) {
	// The whole measurement is one long callback: do not log it as slow.
	l := looptest.StartWith(b, ioloop.Options{SlowCallback: -1})
	looptest.Do(b, l, func() {
		for i := range 10000 {
			l.CallLater(time.Hour+time.Duration(i), func() {})
		}
	})
	b.ResetTimer()
	looptest.Do(b, l, func() {
		for i := 0; i < b.N; i++ {
			l.CallLater(time.Duration(i%1000)*time.Minute, func() {}).Cancel()
		}
	})
}

// BenchmarkRunInExecutor measures a round trip loop -> worker -> loop.
func BenchmarkRunInExecutor(b *testing.B) {
	l := looptest.Start(b)
	ex := l.NewExecutor("bench", 4, 4096)
	done := make(chan struct{})
	b.ResetTimer()
	l.AddCallback(func() {
		remaining := b.N
		var submit func()
		submit = func() {
			ioloop.RunInExecutor(ex, func() (int, error) { return 1, nil }).OnResult(func(int, error) {
				if remaining--; remaining == 0 {
					close(done)
					return
				}
				submit()
			})
		}
		submit()
	})
	<-done
}
