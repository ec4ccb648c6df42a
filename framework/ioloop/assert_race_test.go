//go:build race

package ioloop_test

import (
	"testing"

	"chat/framework/ioloop/looptest"
)

func TestAssertOnLoopCatchesOtherGoroutines(t *testing.T) {
	l := looptest.Start(t)
	looptest.Do(t, l, func() {}) // make sure Run has started
	defer func() {
		if recover() == nil {
			t.Fatal("AssertOnLoop did not panic off the loop goroutine")
		}
	}()
	l.AssertOnLoop()
}
