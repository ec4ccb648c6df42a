//go:build race

package ioloop_test

import (
	"testing"

	"chat/framework/ioloop"
	"chat/framework/ioloop/looptest"
)

// TestAssertOnLoopInCoroutines: the coroutine holding the turn passes the
// check; a goroutine it starts, and the coroutine once it has handed the
// turn back, do not.
func TestAssertOnLoopInCoroutines(t *testing.T) {
	l := looptest.Start(t)
	spawned := make(chan bool, 1)
	looptest.Do(t, l, func() {
		ioloop.Go(l, func(co *ioloop.Co) (int, error) {
			if !onLoopGoroutine(l) {
				t.Error("AssertOnLoop rejected the coroutine holding the turn")
			}
			go func() { spawned <- onLoopGoroutine(l) }()
			return 0, nil
		})
	})
	if looptest.Wait(t, spawned, "the spawned goroutine's check") {
		t.Fatal("AssertOnLoop accepted a goroutine started by a coroutine")
	}
}

// TestCloseFromACoroutineRefuses: a coroutine holds the loop's turn, so
// Close would wait for itself; it returns an error instead.
func TestCloseFromACoroutineRefuses(t *testing.T) {
	l := looptest.Start(t)
	var closeErr error
	looptest.Do(t, l, func() {
		ioloop.Go(l, func(co *ioloop.Co) (int, error) { closeErr = l.Close(); return 0, nil })
	})
	if closeErr == nil {
		t.Fatal("Close from a coroutine returned nil")
	}
}
