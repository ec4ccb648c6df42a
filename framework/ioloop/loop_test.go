package ioloop_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"chat/framework/ioloop"
	"chat/framework/ioloop/looptest"
)

func TestTimersFireInDeadlineOrderAndEqualDeadlinesInSchedulingOrder(t *testing.T) {
	l := looptest.Start(t)
	done := make(chan []string, 1)
	looptest.Do(t, l, func() {
		var fired []string
		base := time.Now().Add(20 * time.Millisecond)
		record := func(name string) func() { return func() { fired = append(fired, name) } }
		l.CallAt(base.Add(20*time.Millisecond), func() { fired = append(fired, "c"); done <- fired })
		l.CallAt(base, record("a1"))
		l.CallAt(base.Add(10*time.Millisecond), record("b"))
		l.CallAt(base, record("a2"))
		l.CallAt(base, record("a3"))
	})
	got := strings.Join(looptest.Wait(t, done, "timers"), ",")
	if got != "a1,a2,a3,b,c" {
		t.Fatalf("timers fired as %s; want a1,a2,a3,b,c", got)
	}
}

func TestTimerCancel(t *testing.T) {
	l := looptest.Start(t)
	fired := make(chan string, 4)
	var early, late *ioloop.Timer
	looptest.Do(t, l, func() {
		early = l.CallLater(time.Millisecond, func() { fired <- "early" })
		late = l.CallLater(time.Hour, func() { fired <- "late" })
		cancelled := l.CallLater(time.Millisecond, func() { fired <- "cancelled" })
		if !cancelled.Cancel() {
			t.Error("Cancel of a pending timer reported false")
		}
		if cancelled.Cancel() {
			t.Error("second Cancel reported true")
		}
	})
	if got := looptest.Wait(t, fired, "early timer"); got != "early" {
		t.Fatalf("first timer to fire: %s; want early", got)
	}
	looptest.Do(t, l, func() {
		if early.Cancel() {
			t.Error("Cancel after firing reported true")
		}
		if early.Pending() || !late.Pending() {
			t.Error("Pending is wrong")
		}
		if !late.Cancel() {
			t.Error("Cancel of the hour timer reported false")
		}
	})
	select {
	case name := <-fired:
		t.Fatalf("timer %q fired after it was cancelled", name)
	default:
	}
}

func TestAddCallbackFromManyGoroutines(t *testing.T) {
	l := looptest.Start(t)
	const goroutines, each = 100, 500
	var mu sync.Mutex
	last := make(map[int]int) // goroutine -> last sequence number seen (loop-owned)
	outOfOrder := 0
	var ran sync.WaitGroup
	ran.Add(goroutines * each)
	var start sync.WaitGroup
	start.Add(1)
	for g := range goroutines {
		go func() {
			start.Wait()
			for i := 1; i <= each; i++ {
				l.AddCallback(func() {
					mu.Lock()
					if last[g] != i-1 {
						outOfOrder++
					}
					last[g] = i
					mu.Unlock()
					ran.Done()
				})
			}
		}()
	}
	start.Done()
	waitGroup(t, &ran)
	if outOfOrder != 0 {
		t.Fatalf("%d callbacks ran out of their goroutine's order", outOfOrder)
	}
}

func waitGroup(t *testing.T, wg *sync.WaitGroup) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	looptest.Wait(t, done, "wait group")
}

func TestPanicInCallbackIsRecoveredAndLogged(t *testing.T) {
	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&logMu, &logs}, nil))
	l := looptest.StartWith(t, ioloop.Options{Logger: logger})
	after := make(chan bool, 1)
	l.AddCallback(func() { panic("boom in callback") })
	l.AddCallback(func() { after <- true })
	looptest.Wait(t, after, "callback after the panic")
	looptest.Do(t, l, func() {
		l.CallLater(0, func() { panic("boom in timer") })
		l.CallLater(time.Millisecond, func() { after <- true })
	})
	looptest.Wait(t, after, "timer after the panic")
	if got := l.Stats().Panics; got != 2 {
		t.Fatalf("Stats().Panics = %d; want 2", got)
	}
	logMu.Lock()
	defer logMu.Unlock()
	for _, want := range []string{"boom in callback", "boom in timer", "loop_test.go"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (lw lockedWriter) Write(p []byte) (int, error) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return lw.w.Write(p)
}

func TestStopDrainsQueuedCallbacks(t *testing.T) {
	l, err := ioloop.New(ioloop.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var ran atomic.Int32
	l.AddCallback(func() {
		// Queued in the same batch as Stop's own callback, and one that
		// queues another: all of them run before Run returns.
		l.Stop()
		l.AddCallback(func() { ran.Add(1); l.AddCallback(func() { ran.Add(1) }) })
	})
	l.AddCallback(func() { ran.Add(1) })
	done := make(chan error, 1)
	go func() { done <- l.Run() }()
	if err := looptest.Wait(t, done, "Run to return"); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := ran.Load(); got != 3 {
		t.Fatalf("%d of 3 queued callbacks ran before Run returned", got)
	}
}

func TestExecutor(t *testing.T) {
	l := looptest.Start(t)
	ex := l.NewExecutor("test", 2, 8)
	boom := errors.New("boom")
	tests := []struct {
		name    string
		fn      func() (int, error)
		want    int
		wantErr string
	}{
		{"value", func() (int, error) { return 42, nil }, 42, ""},
		{"error", func() (int, error) { return 0, boom }, 0, "boom"},
		{"panic becomes error", func() (int, error) { panic("kaboom") }, 0, "kaboom"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var onLoop bool
			got, err := looptest.Await(t, l, func() *concurrentFuture {
				f := ioloop.RunInExecutor(ex, tc.fn)
				f.AddDoneCallback(func(*concurrentFuture) { onLoop = onLoopGoroutine(l) })
				return f
			})
			if got != tc.want || (tc.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("got %d, %v; want %d, error containing %q", got, err, tc.want, tc.wantErr)
			}
			if !onLoop {
				t.Fatal("the future's callback did not run on the loop")
			}
		})
	}
}

func TestExecutorQueueFull(t *testing.T) {
	l := looptest.Start(t)
	ex := l.NewExecutor("one", 1, 1)
	release := make(chan struct{})
	started := make(chan struct{})
	results := make(chan error, 3)
	looptest.Do(t, l, func() {
		ioloop.RunInExecutor(ex, func() (int, error) { close(started); <-release; return 1, nil }).
			OnResult(func(_ int, err error) { results <- err })
	})
	looptest.Wait(t, started, "first job to start")
	looptest.Do(t, l, func() {
		ioloop.RunInExecutor(ex, func() (int, error) { return 2, nil }).
			OnResult(func(_ int, err error) { results <- err }) // waits in the queue
		full := ioloop.RunInExecutor(ex, func() (int, error) { return 3, nil })
		if _, err := full.Result(); !errors.Is(err, ioloop.ErrQueueFull) {
			t.Errorf("third job: %v; want ErrQueueFull at once", err)
		}
		st := ex.Stats()
		if st.QueueDepth != 1 || st.BusyWorkers != 1 || st.Rejected != 1 {
			t.Errorf("stats = %+v; want depth 1, 1 busy, 1 rejected", st)
		}
	})
	close(release)
	for range 2 {
		if err := looptest.Wait(t, results, "queued jobs"); err != nil {
			t.Fatalf("queued job failed: %v", err)
		}
	}
}

func TestStatsRecordsSlowCallbacksAndLag(t *testing.T) {
	l := looptest.StartWith(t, ioloop.Options{SlowCallback: time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	done := make(chan struct{})
	l.AddCallback(slowCallbackForTest)
	l.AddCallback(func() { close(done) })
	looptest.Wait(t, done, "slow callback")
	looptest.Do(t, l, func() {}) // the batch that closed done has finished and been counted
	st := l.Stats()
	// On a loaded machine other callbacks may pass 1 ms too; the sleeper
	// must be among the entries, named with its source.
	found := false
	for _, sc := range st.SlowCallbacks {
		if strings.Contains(sc.Where, "slowCallbackForTest") && strings.Contains(sc.Where, "loop_test.go") && sc.Duration >= 5*time.Millisecond {
			found = true
		}
	}
	if !found {
		t.Fatalf("SlowCallbacks = %+v; want slowCallbackForTest among them", st.SlowCallbacks)
	}
	if st.CallbacksRun == 0 || st.BusyFraction < 0 || st.BusyFraction > 1 || st.LagMax < st.LagP50 {
		t.Fatalf("implausible stats: %+v", st)
	}
	if len(st.Executors) == 0 || st.Executors[0].Name != "default" {
		t.Fatalf("executors = %+v; want the default executor", st.Executors)
	}
}

// slowCallbackForTest holds the loop on purpose: the test checks the loop
// notices.
func slowCallbackForTest() { time.Sleep(6 * time.Millisecond) }

func TestPeriodicCallbackRunsAndStops(t *testing.T) {
	l := looptest.Start(t)
	ticks := make(chan int, 10)
	looptest.Do(t, l, func() {
		n := 0
		var p *ioloop.PeriodicCallback
		p = ioloop.NewPeriodicCallback(l, 2*time.Millisecond, func() {
			n++
			ticks <- n
			if n == 3 {
				p.Stop()
			}
		})
		p.Start()
	})
	for want := 1; want <= 3; want++ {
		if got := looptest.Wait(t, ticks, "tick"); got != want {
			t.Fatalf("tick %d; want %d", got, want)
		}
	}
	// A timer scheduled after the stop fires after any fourth tick would
	// have: seeing it first proves the callback stopped.
	done := make(chan struct{})
	looptest.Do(t, l, func() { l.CallLater(10*time.Millisecond, func() { close(done) }) })
	looptest.Wait(t, done, "marker timer")
	select {
	case n := <-ticks:
		t.Fatalf("tick %d after Stop", n)
	default:
	}
}
