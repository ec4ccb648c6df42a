package asynctest_test

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// fakeT stands in for the *testing.T a helper reports to, so a test can
// check what a helper says when it fails. Fatal records and ends the
// goroutine, as testing's does; the methods it does not override go to
// the real test.
type fakeT struct {
	*testing.T
	mu       sync.Mutex
	failures []string
	fatal    bool
	cleanups []func()
}

func (f *fakeT) Helper() {}

func (f *fakeT) record(fatal bool, msg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures = append(f.failures, msg)
	f.fatal = f.fatal || fatal
}

func (f *fakeT) Error(args ...any)                 { f.record(false, fmt.Sprint(args...)) }
func (f *fakeT) Errorf(format string, args ...any) { f.record(false, fmt.Sprintf(format, args...)) }
func (f *fakeT) Fatal(args ...any)                 { f.record(true, fmt.Sprint(args...)); runtime.Goexit() }
func (f *fakeT) Fatalf(format string, args ...any) {
	f.record(true, fmt.Sprintf(format, args...))
	runtime.Goexit()
}
func (f *fakeT) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }

// failures returns everything reported, one line per call.
func (f *fakeT) report() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.failures, "\n")
}

// runFake runs body against a fakeT on a goroutine of its own, then the
// cleanups body registered, last first, and returns the fakeT.
func runFake(t *testing.T, body func(ft *fakeT)) *fakeT {
	t.Helper()
	ft := &fakeT{T: t}
	onItsOwn(func() { body(ft) })
	for i := len(ft.cleanups) - 1; i >= 0; i-- {
		onItsOwn(ft.cleanups[i])
	}
	return ft
}

func onItsOwn(fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	<-done
}
