package ioloop_test

import (
	"bytes"
	"errors"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
	"chat/framework/ioloop/looptest"
)

// TestGoRunsUntilTheFirstPendingAwait: the first segment runs inside Go,
// an Await of a resolved future does not give up the turn, and the next
// segment runs inside the Resolve of the awaited future, as a future
// callback would.
func TestGoRunsUntilTheFirstPendingAwait(t *testing.T) {
	l := looptest.Start(t)
	looptest.Do(t, l, func() {
		var steps []string
		pending := concurrent.New[int]()
		f := ioloop.Go(l, func(co *ioloop.Co) (int, error) {
			steps = append(steps, "start")
			v, _ := ioloop.Await(co, concurrent.Resolved(1))
			steps = append(steps, "resolved")
			w, err := ioloop.Await(co, pending)
			steps = append(steps, "woken")
			return v + w, err
		})
		if got := strings.Join(steps, ","); got != "start,resolved" || f.Done() {
			t.Fatalf("after Go: steps %q, done %v; want start,resolved and pending", got, f.Done())
		}
		pending.Resolve(41)
		if got := strings.Join(steps, ","); got != "start,resolved,woken" {
			t.Fatalf("after Resolve: steps %q", got)
		}
		if v, err := f.Result(); v != 42 || err != nil {
			t.Fatalf("future = %d, %v; want 42, nil", v, err)
		}
	})
}

// TestAwaitReturnsTheFuturesResult covers how the awaited future resolves.
func TestAwaitReturnsTheFuturesResult(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name    string
		future  func(l *ioloop.Loop) *concurrent.Future[int]
		want    int
		wantErr error
	}{
		{"already resolved", func(*ioloop.Loop) *concurrent.Future[int] { return concurrent.Resolved(7) }, 7, nil},
		{"already failed", func(*ioloop.Loop) *concurrent.Future[int] { return concurrent.Failed[int](boom) }, 0, boom},
		{"resolved by a loop callback", func(l *ioloop.Loop) *concurrent.Future[int] {
			f := concurrent.New[int]()
			l.AddCallback(func() { f.Resolve(8) })
			return f
		}, 8, nil},
		{"failed by a timer", func(l *ioloop.Loop) *concurrent.Future[int] {
			f := concurrent.New[int]()
			l.CallLater(time.Millisecond, func() { f.Fail(boom) })
			return f
		}, 0, boom},
		{"resolved by executor work", func(l *ioloop.Loop) *concurrent.Future[int] {
			return ioloop.RunInExecutor(l.DefaultExecutor(), func() (int, error) { return 9, nil })
		}, 9, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := looptest.Start(t)
			got, err := looptest.Await(t, l, func() *concurrent.Future[int] {
				return ioloop.Go(l, func(co *ioloop.Co) (int, error) { return ioloop.Await(co, tc.future(l)) })
			})
			if got != tc.want || !errors.Is(err, tc.wantErr) {
				t.Fatalf("got %d, %v; want %d, %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

// TestCoroutineHoldsTheLoopsTurn: coroutines and callbacks update the
// same unguarded counter; -race sees the channel handoffs order them,
// and AssertOnLoop accepts the coroutine while it holds the turn.
func TestCoroutineHoldsTheLoopsTurn(t *testing.T) {
	l := looptest.Start(t)
	const coroutines, awaits = 20, 10
	counter := 0 // loop-owned: no mutex
	futures := make([]*concurrent.Future[int], coroutines)
	looptest.Do(t, l, func() {
		for i := range futures {
			futures[i] = ioloop.Go(l, func(co *ioloop.Co) (int, error) {
				for range awaits {
					if !onLoopGoroutine(l) {
						t.Error("AssertOnLoop rejected a coroutine holding the turn")
					}
					counter++
					tick := concurrent.New[int]()
					l.AddCallback(func() { counter++; tick.Resolve(0) })
					if _, err := ioloop.Await(co, tick); err != nil {
						return 0, err
					}
				}
				return counter, nil
			})
		}
	})
	_, err := looptest.Await(t, l, func() *concurrent.Future[[]int] { return concurrent.All(futures...) })
	if err != nil {
		t.Fatal(err)
	}
	looptest.Do(t, l, func() {
		if want := 2 * coroutines * awaits; counter != want {
			t.Errorf("counter = %d; want %d", counter, want)
		}
	})
}

// TestCoroutinePanicFailsItsFuture: the panic becomes a
// *concurrent.PanicError with the stack, is logged with it through the
// loop's logger and is counted; the loop lives on.
func TestCoroutinePanicFailsItsFuture(t *testing.T) {
	for _, where := range []string{"first segment", "after an await"} {
		t.Run(where, func(t *testing.T) {
			logs := &logBuffer{}
			l := looptest.StartWith(t, ioloop.Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
			_, err := looptest.Await(t, l, func() *concurrent.Future[int] {
				return ioloop.Go(l, func(co *ioloop.Co) (int, error) {
					if where == "after an await" {
						ioloop.Sleep(co, time.Millisecond)
					}
					coroutineExplodes()
					return 1, nil
				})
			})
			var pe *concurrent.PanicError
			if !errors.As(err, &pe) || pe.Value != "coroutine exploded" || !strings.Contains(string(pe.Stack), "coroutineExplodes") {
				t.Fatalf("err = %v; want a *concurrent.PanicError with the value and stack", err)
			}
			if got := logs.String(); !strings.Contains(got, "coroutine exploded") || !strings.Contains(got, "coroutineExplodes") {
				t.Fatalf("panic not logged with its stack:\n%s", got)
			}
			if s := l.Stats(); s.Panics != 1 || s.Coroutines != 0 {
				t.Fatalf("Stats.Panics = %d, Coroutines = %d; want 1, 0", s.Panics, s.Coroutines)
			}
			looptest.Do(t, l, func() {}) // the loop lives on
		})
	}
}

func coroutineExplodes() { panic("coroutine exploded") }

// TestCancelEndsThePendingAwait is a table of where the coroutine is when
// its future is cancelled; its pending Await and every later one return
// ErrCancelled, and what it finally returns is dropped.
func TestCancelEndsThePendingAwait(t *testing.T) {
	tests := []struct {
		name string
		wait func(co *ioloop.Co) error // what the coroutine is waiting on when cancelled
	}{
		{"Await of a future that never resolves", func(co *ioloop.Co) error {
			_, err := ioloop.Await(co, concurrent.New[int]())
			return err
		}},
		{"Sleep", func(co *ioloop.Co) error { return ioloop.Sleep(co, time.Hour) }},
		{"AwaitTimeout", func(co *ioloop.Co) error {
			_, err := ioloop.AwaitTimeout(co, concurrent.New[int](), time.Hour)
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := looptest.Start(t)
			var waitErr, laterErr, resolvedErr error
			var resolved int
			var f *concurrent.Future[int]
			looptest.Do(t, l, func() {
				f = ioloop.Go(l, func(co *ioloop.Co) (int, error) {
					waitErr = tc.wait(co)
					_, laterErr = ioloop.Await(co, concurrent.New[int]())
					// A future already resolved still gives its result:
					// what it holds (a lock granted) must not be lost.
					resolved, resolvedErr = ioloop.Await(co, concurrent.Resolved(1))
					return 99, nil
				})
			})
			looptest.Do(t, l, func() {
				if !f.Cancel() {
					t.Error("Cancel found the future resolved")
				}
			})
			looptest.Do(t, l, func() {
				if !errors.Is(waitErr, concurrent.ErrCancelled) || !errors.Is(laterErr, concurrent.ErrCancelled) {
					t.Errorf("pending wait: %v, later Await: %v; want ErrCancelled for both", waitErr, laterErr)
				}
				if resolved != 1 || resolvedErr != nil {
					t.Errorf("Await of a resolved future after the cancel: %d, %v; want its result 1, nil", resolved, resolvedErr)
				}
				if _, err := f.Result(); !errors.Is(err, concurrent.ErrCancelled) {
					t.Errorf("future: %v; want ErrCancelled (the body's 99 dropped)", err)
				}
			})
			if s := l.Stats(); s.Coroutines != 0 || s.PendingTimers != 0 {
				t.Errorf("Stats.Coroutines = %d, PendingTimers = %d; want 0, 0", s.Coroutines, s.PendingTimers)
			}
		})
	}
}

// TestSleepAndAwaitTimeout pins the timing helpers with distinct values
// and bounds of at most 3x.
func TestSleepAndAwaitTimeout(t *testing.T) {
	tests := []struct {
		name     string
		body     func(l *ioloop.Loop, co *ioloop.Co) (int, error)
		want     int
		wantErr  error
		min, max time.Duration
	}{
		{"Sleep 60ms", func(_ *ioloop.Loop, co *ioloop.Co) (int, error) { return 1, ioloop.Sleep(co, 60*time.Millisecond) },
			1, nil, 60 * time.Millisecond, 180 * time.Millisecond},
		{"AwaitTimeout 40ms on a future that never resolves", func(_ *ioloop.Loop, co *ioloop.Co) (int, error) {
			return ioloop.AwaitTimeout(co, concurrent.New[int](), 40*time.Millisecond)
		}, 0, concurrent.ErrTimeout, 40 * time.Millisecond, 120 * time.Millisecond},
		{"AwaitTimeout 300ms on a future resolved at 30ms", func(l *ioloop.Loop, co *ioloop.Co) (int, error) {
			f := concurrent.New[int]()
			l.CallLater(30*time.Millisecond, func() { f.Resolve(5) })
			return ioloop.AwaitTimeout(co, f, 300*time.Millisecond)
		}, 5, nil, 30 * time.Millisecond, 90 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := looptest.Start(t)
			start := time.Now()
			got, err := looptest.Await(t, l, func() *concurrent.Future[int] {
				return ioloop.Go(l, func(co *ioloop.Co) (int, error) { return tc.body(l, co) })
			})
			elapsed := time.Since(start)
			if got != tc.want || !errors.Is(err, tc.wantErr) {
				t.Fatalf("got %d, %v; want %d, %v", got, err, tc.want, tc.wantErr)
			}
			if elapsed < tc.min || elapsed > tc.max {
				t.Fatalf("took %v; want between %v and %v", elapsed, tc.min, tc.max)
			}
			if n := l.Stats().PendingTimers; n != 0 {
				t.Fatalf("%d timers left pending", n)
			}
		})
	}
}

// TestGoexitInABodyFailsItsFuture: a body ended by runtime.Goexit (a
// t.FailNow, say) fails its future instead of leaving it pending.
func TestGoexitInABodyFailsItsFuture(t *testing.T) {
	l := looptest.Start(t)
	_, err := looptest.Await(t, l, func() *concurrent.Future[int] {
		return ioloop.Go(l, func(co *ioloop.Co) (int, error) { runtime.Goexit(); return 1, nil })
	})
	if !errors.Is(err, ioloop.ErrCoroutineExited) {
		t.Fatalf("err = %v; want ErrCoroutineExited", err)
	}
}

// TestGoOnAClosedLoop: the body never runs.
func TestGoOnAClosedLoop(t *testing.T) {
	l, err := ioloop.New(ioloop.Options{})
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	ran := false
	f := ioloop.Go(l, func(*ioloop.Co) (int, error) { ran = true; return 1, nil })
	if _, err := f.Result(); !errors.Is(err, ioloop.ErrLoopClosed) || ran {
		t.Fatalf("err = %v, body ran %v; want ErrLoopClosed and no run", err, ran)
	}
}

// TestCloseEndsSuspendedCoroutines: coroutines still waiting when the
// loop closes (on futures that never resolve, in Sleep, in AwaitTimeout)
// are ended: their Await never returns, their deferred calls run, and no
// goroutine is left behind, however the loop was shut down.
func TestCloseEndsSuspendedCoroutines(t *testing.T) {
	shutdowns := []struct {
		name     string
		shutdown func(l *ioloop.Loop, runDone <-chan error)
	}{
		{"Close on the running loop", func(l *ioloop.Loop, runDone <-chan error) {
			l.Close()
			<-runDone
		}},
		{"Stop, Run returns, then Close", func(l *ioloop.Loop, runDone <-chan error) {
			l.Stop()
			looptest.Wait(t, runDone, "Run to return after Stop")
			l.Close()
		}},
	}
	const perKind = 100
	for _, sd := range shutdowns {
		t.Run(sd.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			l, err := ioloop.New(ioloop.Options{ExecutorWorkers: 1})
			if err != nil {
				t.Fatal(err)
			}
			runDone := make(chan error, 1)
			go func() { runDone <- l.Run() }()
			deferred, returned := 0, 0 // turn-owned
			waits := []func(co *ioloop.Co){
				func(co *ioloop.Co) { ioloop.Await(co, concurrent.New[int]()) },
				func(co *ioloop.Co) { ioloop.Sleep(co, time.Hour) },
				func(co *ioloop.Co) { ioloop.AwaitTimeout(co, concurrent.New[int](), time.Hour) },
			}
			looptest.Do(t, l, func() {
				for _, wait := range waits {
					for range perKind {
						ioloop.Go(l, func(co *ioloop.Co) (int, error) {
							defer func() {
								deferred++
								// Awaiting in a deferred call of an ended coroutine does not park.
								if _, err := ioloop.Await(co, concurrent.New[int]()); !errors.Is(err, ioloop.ErrLoopClosed) {
									t.Errorf("Await while ending: %v; want ErrLoopClosed", err)
								}
							}()
							wait(co)
							returned++
							return 0, nil
						})
					}
				}
			})
			if n := l.Stats().Coroutines; n != len(waits)*perKind {
				t.Fatalf("Stats.Coroutines = %d; want %d", n, len(waits)*perKind)
			}
			sd.shutdown(l, runDone)
			if deferred != len(waits)*perKind || returned != 0 {
				t.Fatalf("deferred calls ran %d times, Awaits returned %d times; want %d and 0", deferred, returned, len(waits)*perKind)
			}
			if n := l.Stats().Coroutines; n != 0 {
				t.Fatalf("Stats.Coroutines = %d after Close; want 0", n)
			}
			if after := settledGoroutines(before); after > before {
				t.Fatalf("%d goroutines before, %d after Close: coroutines left behind", before, after)
			}
		})
	}
}

// TestCoroutineWakesCoroutine: a coroutine resolving a future another
// awaits runs the other's next segment inside Resolve, like a callback.
func TestCoroutineWakesCoroutine(t *testing.T) {
	l := looptest.Start(t)
	var order []string
	result, err := looptest.Await(t, l, func() *concurrent.Future[[]int] {
		handoff := concurrent.New[int]()
		waiter := ioloop.Go(l, func(co *ioloop.Co) (int, error) {
			v, err := ioloop.Await(co, handoff)
			order = append(order, "waiter woken")
			return v * 2, err
		})
		resolver := ioloop.Go(l, func(co *ioloop.Co) (int, error) {
			if err := ioloop.Sleep(co, time.Millisecond); err != nil {
				return 0, err
			}
			handoff.Resolve(21)
			order = append(order, "resolver goes on")
			return 1, nil
		})
		return concurrent.All(waiter, resolver)
	})
	if err != nil || result[0] != 42 || strings.Join(order, ",") != "waiter woken,resolver goes on" {
		t.Fatalf("result %v, %v, order %v", result, err, order)
	}
}

// logBuffer is a log destination the loop writes and the test reads.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
