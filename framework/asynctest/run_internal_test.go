package asynctest

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"chat/framework/ioloop"
)

// Do (run, with the limit Watchdog) on a loop that does not run gives up
// at its limit, no sooner and well before three times it, and says why.
func TestRunOnALoopThatDoesNotRunGivesUpAtItsLimit(t *testing.T) {
	l, err := ioloop.New(ioloop.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, limit := range []time.Duration{30 * time.Millisecond, 90 * time.Millisecond} {
		start := time.Now()
		err := run(l, func() {}, limit)
		elapsed := time.Since(start)
		if err == nil || !strings.Contains(err.Error(), "did not run a callback within "+limit.String()) {
			t.Fatalf("run: %v", err)
		}
		if elapsed < limit || elapsed > 3*limit {
			t.Fatalf("gave up after %v, want within [%v, %v]", elapsed, limit, 3*limit)
		}
	}
}

// A function that calls runtime.Goexit on the loop (t.FailNow there) is
// reported at once, rather than after the watchdog.
func TestRunReportsGoexitOnTheLoop(t *testing.T) {
	l, err := ioloop.New(ioloop.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ran := make(chan error, 1)
	go func() { ran <- l.Run() }()
	start := time.Now()
	err = run(l, runtime.Goexit, Watchdog)
	if err == nil || !strings.Contains(err.Error(), "called runtime.Goexit") {
		t.Fatalf("run: %v", err)
	}
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Fatalf("reported after %v, not at once", elapsed)
	}
	closed := make(chan struct{})
	go func() { l.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(2 * time.Second):
		t.Log("the loop's goroutine is gone, so Close cannot finish; leaving it")
	}
}
