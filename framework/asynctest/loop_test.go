package asynctest_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"chat/framework/asynctest"
	"chat/framework/concurrent"
	"chat/framework/ioloop"
)

// Do runs its function on the loop (AssertOnLoop panics elsewhere in race
// builds), one at a time and in order, and returns once it has run.
func TestDoRunsOnTheLoopInOrder(t *testing.T) {
	l := asynctest.Start(t)
	var order []int // loop-owned
	for i := range 3 {
		asynctest.Do(t, l, func() {
			l.AssertOnLoop()
			order = append(order, i)
		})
	}
	var got []int
	asynctest.Do(t, l, func() { got = append(got, order...) })
	if len(got) != 3 || got[0] != 0 || got[2] != 2 {
		t.Fatalf("order %v, want [0 1 2]", got)
	}
}

// A panic in Do's function fails the test with the panic and its stack,
// and the loop goes on.
func TestDoReportsAPanic(t *testing.T) {
	l := asynctest.Start(t)
	ft := runFake(t, func(ft *fakeT) {
		asynctest.Do(ft, l, func() { panic("boom") })
		ft.Error("Do returned after a panic")
	})
	report := ft.report()
	if !ft.fatal || !strings.Contains(report, "panic on the loop: boom") || !strings.Contains(report, "TestDoReportsAPanic") {
		t.Fatalf("Do after a panic reported:\n%s", report)
	}
	ran := false
	asynctest.Do(t, l, func() { ran = true })
	if !ran {
		t.Fatal("the loop did not run a callback after the panic")
	}
}

func TestAwait(t *testing.T) {
	l := asynctest.Start(t)
	errLost := errors.New("lost")
	for _, tc := range []struct {
		name    string
		settle  func(f *concurrent.Future[int])
		want    int
		wantErr error
	}{
		{name: "resolved by a timer", settle: func(f *concurrent.Future[int]) { f.Resolve(7) }, want: 7},
		{name: "failed by a timer", settle: func(f *concurrent.Future[int]) { f.Fail(errLost) }, wantErr: errLost},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := asynctest.Await(t, l, func() *concurrent.Future[int] {
				f := concurrent.New[int]()
				l.CallLater(10*time.Millisecond, func() { tc.settle(f) })
				return f
			})
			if v != tc.want || !errors.Is(err, tc.wantErr) {
				t.Fatalf("Await: %d, %v; want %d, %v", v, err, tc.want, tc.wantErr)
			}
		})
	}
}

// AwaitFuture waits for a future the loop already holds.
func TestAwaitFuture(t *testing.T) {
	l := asynctest.Start(t)
	var f *concurrent.Future[string]
	asynctest.Do(t, l, func() { f = concurrent.New[string]() })
	l.AddCallback(func() { f.Resolve("done") })
	if v, err := asynctest.AwaitFuture(t, l, f); v != "done" || err != nil {
		t.Fatalf("AwaitFuture: %q, %v", v, err)
	}
}

// WaitFor returns once a condition on loop-owned state holds.
func TestWaitForSeesLoopOwnedState(t *testing.T) {
	l := asynctest.Start(t)
	ticks := 0 // loop-owned
	asynctest.Do(t, l, func() {
		var tick func()
		tick = func() {
			if ticks++; ticks < 5 {
				l.CallLater(3*time.Millisecond, tick)
			}
		}
		tick()
	})
	asynctest.WaitFor(t, l, func() bool { l.AssertOnLoop(); return ticks == 5 }, "five ticks")
}

// A condition that stays false fails the wait no sooner than its limit
// and well before three times it, saying what was waited for and how often
// it was checked; afterwards it is checked no more.
func TestWaitForWithinFailsAtItsLimit(t *testing.T) {
	l := asynctest.Start(t)
	for _, limit := range []time.Duration{40 * time.Millisecond, 120 * time.Millisecond} {
		t.Run(limit.String(), func(t *testing.T) {
			start := time.Now()
			ft := runFake(t, func(ft *fakeT) {
				asynctest.WaitForWithin(ft, l, limit, func() bool { return false }, "pigs fly")
			})
			elapsed := time.Since(start)
			report := ft.report()
			if !ft.fatal || !strings.Contains(report, "waiting for pigs fly: still false after") || !strings.Contains(report, "checks on the loop") {
				t.Fatalf("reported %q", report)
			}
			if elapsed < limit || elapsed > 3*limit {
				t.Fatalf("failed after %v, want within [%v, %v]", elapsed, limit, 3*limit)
			}
			asynctest.WaitFor(t, l, func() bool { return l.Stats().PendingTimers == 0 }, "the abandoned poll stops")
		})
	}
}

func TestWaitForReportsAPanickingCondition(t *testing.T) {
	l := asynctest.Start(t)
	start := time.Now()
	ft := runFake(t, func(ft *fakeT) {
		asynctest.WaitFor(ft, l, func() bool { panic("bad condition") }, "a bad condition")
	})
	if report := ft.report(); !strings.Contains(report, "waiting for a bad condition: the condition panicked on the loop: bad condition") {
		t.Fatalf("reported %q", report)
	}
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Fatalf("a panicking condition was reported after %v, not at once", elapsed)
	}
}

// On a loop that does not run, the message says the condition was never
// evaluated, rather than that it was false.
func TestWaitForOnALoopThatDoesNotRun(t *testing.T) {
	l, err := ioloop.New(ioloop.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ft := runFake(t, func(ft *fakeT) {
		asynctest.WaitForWithin(ft, l, 30*time.Millisecond, func() bool { return true }, "anything")
	})
	if report := ft.report(); !strings.Contains(report, "the loop never evaluated the condition in 30ms") {
		t.Fatalf("reported %q", report)
	}
}
