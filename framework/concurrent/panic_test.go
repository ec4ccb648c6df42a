package concurrent

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// derivedFuture builds, from a pending source, the future whose callback
// list the table exercises: the source itself or one derived from it.
type derivedFuture struct {
	name   string
	derive func(src *Future[int], ft *fakeTimers) *Future[int]
}

var derivedFutures = []derivedFuture{
	{"plain", func(src *Future[int], _ *fakeTimers) *Future[int] { return src }},
	{"Then", func(src *Future[int], _ *fakeTimers) *Future[int] {
		return Then(src, func(v int) *Future[int] { return Resolved(v) })
	}},
	{"Map", func(src *Future[int], _ *fakeTimers) *Future[int] {
		return Map(src, func(v int) (int, error) { return v, nil })
	}},
	{"All", func(src *Future[int], _ *fakeTimers) *Future[int] {
		return Map(All(src, Resolved(0)), func(v []int) (int, error) { return v[0], nil })
	}},
	{"First", func(src *Future[int], _ *fakeTimers) *Future[int] { return First(src, New[int]()) }},
	{"WithTimeout", func(src *Future[int], ft *fakeTimers) *Future[int] { return WithTimeout(src, ft, time.Second) }},
}

// TestPanickingCallbackDoesNotCancelTheOthers pins rule 6 of the loop
// contract for callback lists: a panic in one of N callbacks (first,
// middle, last) is recovered and reported with its stack to the future's
// panic handler, and every other callback still runs, on the source
// future and on every kind of derived future.
func TestPanickingCallbackDoesNotCancelTheOthers(t *testing.T) {
	const callbacks = 5
	for _, kind := range derivedFutures {
		for _, panicAt := range []int{0, callbacks / 2, callbacks - 1} {
			t.Run(fmt.Sprintf("%s/panic in callback %d of %d", kind.name, panicAt+1, callbacks), func(t *testing.T) {
				var reports []string
				src := New[int]().SetPanicHandler(func(recovered any, stack []byte) {
					reports = append(reports, fmt.Sprintf("%v\n%s", recovered, stack))
				})
				ft := &fakeTimers{}
				f := kind.derive(src, ft)
				ran := make([]int, callbacks)
				for i := range callbacks {
					f.OnResult(func(v int, err error) {
						ran[i]++
						if i == panicAt {
							panicInCallback()
						}
					})
				}
				var escaped any
				func() {
					defer func() { escaped = recover() }()
					src.Resolve(7)
				}()
				if escaped != nil {
					t.Errorf("the panic escaped Resolve: %v", escaped)
				}
				for i, n := range ran {
					if n != 1 {
						t.Errorf("callback %d ran %d times; want 1 (ran: %v)", i+1, n, ran)
					}
				}
				if len(reports) != 1 {
					t.Fatalf("%d panics reported; want 1", len(reports))
				}
				if !strings.Contains(reports[0], "callback exploded") || !strings.Contains(reports[0], "panicInCallback") {
					t.Errorf("report lacks the panic value or its stack:\n%s", reports[0])
				}
			})
		}
	}
}

func panicInCallback() { panic("callback exploded") }

// TestPanickingStepFailsTheDerivedFuture: a panic in Map's function or
// Then's step is reported, and the derived future fails with a
// *PanicError instead of staying pending forever.
func TestPanickingStepFailsTheDerivedFuture(t *testing.T) {
	steps := []struct {
		name   string
		derive func(*Future[int]) *Future[int]
	}{
		{"Map", func(src *Future[int]) *Future[int] {
			return Map(src, func(int) (int, error) { panicInCallback(); return 0, nil })
		}},
		{"Then", func(src *Future[int]) *Future[int] {
			return Then(src, func(int) *Future[int] { panicInCallback(); return nil })
		}},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			reported := 0
			src := New[int]().SetPanicHandler(func(any, []byte) { reported++ })
			out := step.derive(src)
			var got error
			out.OnResult(func(_ int, err error) { got = err })
			src.Resolve(1)
			var pe *PanicError
			if !errors.As(got, &pe) || pe.Value != "callback exploded" || !strings.Contains(string(pe.Stack), "panicInCallback") {
				t.Fatalf("derived future's error = %v; want a *PanicError with value and stack", got)
			}
			if reported != 1 {
				t.Fatalf("%d panics reported; want 1", reported)
			}
		})
	}
}

// TestPanicHandlerIsInherited: futures derived from one with a panic
// handler report to it.
func TestPanicHandlerIsInherited(t *testing.T) {
	reported := 0
	src := New[int]().SetPanicHandler(func(any, []byte) { reported++ })
	ft := &fakeTimers{}
	for _, kind := range derivedFutures {
		kind.derive(src, ft).AddDoneCallback(func(*Future[int]) { panicInCallback() })
	}
	src.Resolve(1)
	if reported != len(derivedFutures) {
		t.Fatalf("%d panics reported to the inherited handler; want %d", reported, len(derivedFutures))
	}
}

// TestPanicInImmediateCallbackIsRecovered: a callback added to a future
// that has already resolved runs at once, under the same protection.
func TestPanicInImmediateCallbackIsRecovered(t *testing.T) {
	reported := 0
	f := Resolved(1).SetPanicHandler(func(any, []byte) { reported++ })
	f.AddDoneCallback(func(*Future[int]) { panicInCallback() })
	if reported != 1 {
		t.Fatalf("%d panics reported; want 1", reported)
	}
}
