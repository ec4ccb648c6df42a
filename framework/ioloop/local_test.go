package ioloop_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"chat/framework/ioloop"
	"chat/framework/ioloop/looptest"
)

type localKey struct{ name string }

// TestLocalKeepsOneValuePerKey: the first Local under a key creates the
// value, later ones return it, and other keys (or other loops) have their
// own.
func TestLocalKeepsOneValuePerKey(t *testing.T) {
	l1, l2 := looptest.Start(t), looptest.Start(t)
	created := 0
	create := func() any { created++; return new(int) }
	var a, b, c, d any
	looptest.Do(t, l1, func() {
		a = l1.Local(localKey{"a"}, create)
		b = l1.Local(localKey{"a"}, create)
		c = l1.Local(localKey{"b"}, func() any { return "other" })
	})
	looptest.Do(t, l2, func() { d = l2.Local(localKey{"a"}, create) })
	if a != b {
		t.Error("a second Local under the same key made a new value")
	}
	if c != "other" {
		t.Errorf("another key's value is %v; want its own", c)
	}
	if created != 2 {
		t.Errorf("create ran %d times; want 2 (once per loop for the shared key)", created)
	}
	if d == a {
		t.Error("another loop got this loop's value")
	}
}

// syncBuffer is a log destination safe for the loop and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestExecutorFuturePanicsGoToTheLoopLog: a panicking callback on a
// RunInExecutor future is logged by the loop's logger and counted with
// the loop's panics, and the callbacks after it still run.
func TestExecutorFuturePanicsGoToTheLoopLog(t *testing.T) {
	var logs syncBuffer
	l := looptest.StartWith(t, ioloop.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	after := make(chan struct{})
	looptest.Do(t, l, func() {
		f := ioloop.RunInExecutor(l.DefaultExecutor(), func() (int, error) { return 1, nil })
		f.OnResult(func(int, error) { panic("boom in a continuation") })
		f.OnResult(func(int, error) { close(after) })
	})
	looptest.Wait(t, after, "the callback after the panicking one")
	if got := l.Stats().Panics; got != 1 {
		t.Errorf("Stats.Panics = %d; want 1", got)
	}
	if !strings.Contains(logs.String(), "boom in a continuation") {
		t.Errorf("the loop's log does not mention the panic: %q", logs.String())
	}
}
