package asynctest

import (
	"fmt"
	"runtime/debug"
	"sync/atomic"
	"testing"
	"time"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
	"chat/framework/ioloop/looptest"
)

// Watchdog bounds every wait in this package (a loop callback, a future,
// a condition, a request, a WebSocket message): a test whose loop hangs
// fails with a message naming what it waited for, instead of hanging until
// go test's global timeout. It is looptest's, so both kits agree.
const Watchdog = looptest.Watchdog

// PollInterval is how often WaitFor evaluates its condition on the loop:
// short enough that a test waits at most a few milliseconds past the moment
// the condition holds, long enough that a waiting test costs the loop
// almost nothing.
const PollInterval = 2 * time.Millisecond

// Start runs a new loop on its own goroutine for the rest of the test.
// At cleanup the loop is stopped, Run is waited for (at most Watchdog) and
// the loop is closed. Cleanups registered later (a Server, a WSClient) run
// first, so they still find the loop running.
func Start(t testing.TB) *ioloop.Loop {
	t.Helper()
	return looptest.Start(t)
}

// StartWith is Start with options (a logger, a slow-callback threshold).
func StartWith(t testing.TB, opts ioloop.Options) *ioloop.Loop {
	t.Helper()
	return looptest.StartWith(t, opts)
}

// Do runs fn on the loop and returns once it has. A panic in fn fails the
// test with fn's stack (the loop itself lives on), as does a t.FailNow
// called inside fn, which must not be: FailNow belongs to the test
// goroutine, so use t.Error on the loop. Called from the test goroutine,
// never from the loop (it would wait for itself).
func Do(t testing.TB, l *ioloop.Loop, fn func()) {
	t.Helper()
	if err := run(l, fn, Watchdog); err != nil {
		t.Fatal(err)
	}
}

// run is Do returning what went wrong, for callers that must not stop the
// test (cleanups).
func run(l *ioloop.Loop, fn func(), limit time.Duration) error {
	done := make(chan error, 1)
	l.AddCallback(func() {
		returned := false
		defer func() {
			switch r := recover(); {
			case r != nil:
				done <- fmt.Errorf("asynctest: panic on the loop: %v\n%s", r, debug.Stack())
			case !returned:
				done <- fmt.Errorf("asynctest: the function run on the loop called runtime.Goexit (t.FailNow or t.Fatal?): the loop goroutine is gone; use t.Error on the loop")
			default:
				done <- nil
			}
		}()
		fn()
		returned = true
	})
	select {
	case err := <-done:
		return err
	case <-time.After(limit):
		return fmt.Errorf("asynctest: the loop did not run a callback within %v (is it stopped, or blocked in a callback?)", limit)
	}
}

// Await runs start on the loop and waits, on the test goroutine, for the
// future it returns: the way to test asynchronous code, as Tornado's
// gen_test runs a coroutine to completion. The test fails if the future
// is not resolved within Watchdog.
func Await[T any](t testing.TB, l *ioloop.Loop, start func() *concurrent.Future[T]) (T, error) {
	t.Helper()
	var fut *concurrent.Future[T]
	Do(t, l, func() { fut = start() })
	return AwaitFuture(t, l, fut)
}

// AwaitFuture waits for a future that code on the loop already holds (one
// saved by a Do). Its callback is added on the loop, as a Future requires.
func AwaitFuture[T any](t testing.TB, l *ioloop.Loop, fut *concurrent.Future[T]) (T, error) {
	t.Helper()
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	Do(t, l, func() {
		fut.OnResult(func(v T, err error) { ch <- result{v, err} })
	})
	r := Wait(t, ch, "future")
	return r.v, r.err
}

// Wait receives from ch on the test goroutine (a value or the close),
// failing the test after Watchdog with what in the message.
func Wait[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	return looptest.Wait(t, ch, what)
}

// WaitFor waits until cond returns true, failing the test after Watchdog
// with what (the condition, in words: "the room has 2 members"). cond runs
// on the loop, every PollInterval, so it may read loop-owned state (a
// hub's member count, a server's stats) exactly as a callback may; the
// test goroutine only waits for the answer. A cond that panics fails the
// test at once.
func WaitFor(t testing.TB, l *ioloop.Loop, cond func() bool, what string) {
	t.Helper()
	WaitForWithin(t, l, Watchdog, cond, what)
}

// WaitForWithin is WaitFor with its own bound, for a test whose point is
// that something happens in time (a timeout that must fire by 3x its
// value).
func WaitForWithin(t testing.TB, l *ioloop.Loop, limit time.Duration, cond func() bool, what string) {
	t.Helper()
	p := &poll{loop: l, cond: cond, done: make(chan error, 1)}
	start := time.Now()
	l.AddCallback(p.check)
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
	case <-time.After(limit):
		p.abandoned.Store(true)
		checks := p.checks.Load()
		if checks == 0 {
			t.Fatalf("waiting for %s: the loop never evaluated the condition in %v (is it stopped, or blocked in a callback?)", what, limit)
		}
		t.Fatalf("waiting for %s: still false after %v (%d checks on the loop)", what, time.Since(start).Round(time.Millisecond), checks)
	}
}

// poll is one WaitFor: a check that runs on the loop and reschedules
// itself with a timer until cond holds or the waiter gives up.
type poll struct {
	loop      *ioloop.Loop
	cond      func() bool
	done      chan error // receives once: nil when cond held, or cond's panic
	checks    atomic.Int64
	abandoned atomic.Bool // set by the test goroutine past its limit
}

func (p *poll) check() {
	if p.abandoned.Load() {
		return
	}
	p.checks.Add(1)
	held, err := p.evaluate()
	switch {
	case err != nil:
		p.done <- err
	case held:
		p.done <- nil
	default:
		p.loop.CallLater(PollInterval, p.check)
	}
}

func (p *poll) evaluate() (held bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the condition panicked on the loop: %v\n%s", r, debug.Stack())
		}
	}()
	return p.cond(), nil
}
