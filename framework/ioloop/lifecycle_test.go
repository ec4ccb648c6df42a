package ioloop_test

import (
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"testing"
	"time"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
	"chat/framework/ioloop/looptest"
)

// openFDs counts this process's open descriptors (Linux; -1 elsewhere).
func openFDs(t *testing.T) int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(entries)
}

// settledGoroutines waits (bounded) for the goroutine count to drop to at
// most want and returns the last count seen: goroutines that have
// signalled their end take a moment to leave the count.
func settledGoroutines(want int) int {
	deadline := time.Now().Add(2 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= want || time.Now().After(deadline) {
			return n
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}

// The shutdown people copy, `go loop.Run(); defer loop.Close(); defer
// loop.Stop()`, must work every time: Close waits for Run to return and
// then releases the executors' workers and the poller's descriptors.
func TestDeferredStopAndCloseReleaseEverything(t *testing.T) {
	const rounds = 100
	fdsBefore, goroutinesBefore := openFDs(t), runtime.NumGoroutine()
	failures := 0
	var firstErr error
	for range rounds {
		err := func() (closeErr error) {
			loop, err := ioloop.New(ioloop.Options{ExecutorWorkers: 2})
			if err != nil {
				t.Fatal(err)
			}
			go loop.Run()
			defer func() { closeErr = loop.Close() }()
			defer loop.Stop()
			n, err := ioloop.RunSync(loop, func() *concurrent.Future[int] {
				return ioloop.RunInExecutor(loop.DefaultExecutor(), func() (int, error) { return 42, nil })
			})
			if n != 42 || err != nil {
				t.Fatalf("RunSync = %d, %v", n, err)
			}
			return nil
		}()
		if err != nil {
			failures++
			firstErr = err
		}
	}
	if failures > 0 {
		t.Errorf("Close failed %d times in %d: %v", failures, rounds, firstErr)
	}
	// More is a leak; fewer is a descriptor of an earlier test that its
	// goroutines closed meanwhile (it happened once on the portable backend).
	if fds := openFDs(t); fds > fdsBefore {
		t.Errorf("%d descriptors open after %d loops; %d before", fds, rounds, fdsBefore)
	}
	if n := settledGoroutines(goroutinesBefore); n > goroutinesBefore {
		t.Errorf("%d goroutines after %d loops; %d before", n, rounds, goroutinesBefore)
	}
}

// A goroutine that outlives its loop must not grow the loop's queue: its
// callbacks are dropped and counted. RunSync on a closed loop fails at once.
func TestCallbacksAfterCloseAreDroppedAndCounted(t *testing.T) {
	loop, err := ioloop.New(ioloop.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := loop.Close(); err != nil {
		t.Fatal(err)
	}
	ran := false
	for range 1000 {
		loop.AddCallback(func() { ran = true })
	}
	st := loop.Stats()
	if st.QueuedCallbacks != 0 || st.DroppedCallbacks != 1000 || ran {
		t.Fatalf("after Close: QueuedCallbacks %d, DroppedCallbacks %d; want 0 and 1000", st.QueuedCallbacks, st.DroppedCallbacks)
	}
	result := make(chan error, 1)
	go func() {
		_, err := ioloop.RunSync(loop, func() *concurrent.Future[int] { return concurrent.Resolved(1) })
		result <- err
	}()
	if err := looptest.Wait(t, result, "RunSync on a closed loop"); !errors.Is(err, ioloop.ErrLoopClosed) {
		t.Fatalf("RunSync on a closed loop: %v; want ErrLoopClosed", err)
	}
	if err := loop.Run(); !errors.Is(err, ioloop.ErrLoopClosed) {
		t.Fatalf("Run after Close: %v; want ErrLoopClosed", err)
	}
}

// Close closes what is still registered: the peer of an open connection
// reads EOF and the listening port refuses connections.
func TestCloseClosesConnectionsAndListeners(t *testing.T) {
	loop, err := ioloop.New(ioloop.Options{})
	if err != nil {
		t.Fatal(err)
	}
	runDone := make(chan error, 1)
	go func() { runDone <- loop.Run() }()
	accepted := make(chan *ioloop.Conn, 1)
	var addr string
	looptest.Do(t, loop, func() {
		ln, err := loop.Listen("tcp", "127.0.0.1:0", ioloop.ListenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		addr = ln.Addr().String()
		ln.SetAcceptHandler(func(c *ioloop.Conn) { accepted <- c })
	})
	client, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	looptest.Wait(t, accepted, "accepted connection")
	if err := loop.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := looptest.Wait(t, runDone, "Run to return"); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if n := loop.OpenConns(); n != 0 {
		t.Errorf("OpenConns after Close = %d; want 0", n)
	}
	client.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := client.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("peer read after Close: %v; want EOF", err)
	}
	if c, err := net.DialTimeout("tcp", addr, 2*time.Second); err == nil {
		c.Close()
		t.Errorf("the listener still accepts after Close")
	}
}

// Close called on the loop goroutine cannot wait for Run (it runs inside
// it): it refuses, and the loop goes on.
func TestCloseOnTheLoopGoroutineRefuses(t *testing.T) {
	l := looptest.Start(t)
	var err error
	looptest.Do(t, l, func() { err = l.Close() })
	if err == nil {
		t.Fatal("Close on the loop goroutine returned nil")
	}
	looptest.Do(t, l, func() {}) // still running
}

// TestCloseRightAfterGoRunNeverTearsDownARunningLoop: Close called while
// the goroutine of `go loop.Run()` may not have started yet either stops
// that Run (nil) or makes it find the loop closed (ErrLoopClosed); Run
// never sees its poller closed under it.
func TestCloseRightAfterGoRunNeverTearsDownARunningLoop(t *testing.T) {
	for i := range 1000 {
		l, err := ioloop.New(ioloop.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ran := make(chan error, 1)
		go func() { ran <- l.Run() }()
		if err := l.Close(); err != nil {
			t.Fatalf("round %d: Close: %v", i, err)
		}
		if err := <-ran; err != nil && !errors.Is(err, ioloop.ErrLoopClosed) {
			t.Fatalf("round %d: Run returned %v; want nil or ErrLoopClosed (Close tore the loop down under a running Run)", i, err)
		}
	}
}
