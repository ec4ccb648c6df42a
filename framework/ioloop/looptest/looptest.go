package looptest

import (
	"testing"
	"time"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
)

// Watchdog bounds every wait in this package: a test whose loop never
// answers fails with a message instead of hanging until the global timeout.
const Watchdog = 20 * time.Second

// Start runs a new loop on its own goroutine for the rest of the test.
func Start(t testing.TB) *ioloop.Loop {
	t.Helper()
	return StartWith(t, ioloop.Options{})
}

// StartWith is Start with options.
func StartWith(t testing.TB, opts ioloop.Options) *ioloop.Loop {
	t.Helper()
	l, err := ioloop.New(opts)
	if err != nil {
		t.Fatalf("ioloop.New: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- l.Run() }()
	t.Cleanup(func() {
		l.Stop()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("loop.Run: %v", err)
			}
		case <-time.After(Watchdog):
			t.Errorf("loop did not stop within %v", Watchdog)
			return
		}
		l.Close()
	})
	return l
}

// Do runs fn on the loop and returns once it has.
func Do(t testing.TB, l *ioloop.Loop, fn func()) {
	t.Helper()
	done := make(chan struct{})
	l.AddCallback(func() {
		defer close(done)
		fn()
	})
	wait(t, done, "loop callback")
}

// Await runs start on the loop and waits for the future it returns.
func Await[T any](t testing.TB, l *ioloop.Loop, start func() *concurrent.Future[T]) (T, error) {
	t.Helper()
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	l.AddCallback(func() {
		start().OnResult(func(v T, err error) { ch <- result{v, err} })
	})
	select {
	case r := <-ch:
		return r.v, r.err
	case <-time.After(Watchdog):
		t.Fatalf("future not resolved within %v", Watchdog)
		panic("unreachable")
	}
}

// Wait waits for ch to close or deliver, failing the test after Watchdog.
func Wait[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(Watchdog):
		t.Fatalf("%s: nothing within %v", what, Watchdog)
		panic("unreachable")
	}
}

func wait(t testing.TB, done <-chan struct{}, what string) {
	t.Helper()
	Wait(t, done, what)
}
