package concurrent

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestResolveOnceRunsCallbacksInOrder(t *testing.T) {
	f := New[int]()
	var got []int
	f.AddDoneCallback(func(f *Future[int]) { v, _ := f.Result(); got = append(got, v) })
	f.AddDoneCallback(func(f *Future[int]) { got = append(got, -1) })
	if !f.Resolve(7) {
		t.Fatal("first Resolve reported false")
	}
	if f.Resolve(8) || f.Fail(errors.New("late")) || f.Cancel() {
		t.Fatal("a second resolution reported true")
	}
	if v, err := f.Result(); v != 7 || err != nil {
		t.Fatalf("Result() = %d, %v; want 7, nil", v, err)
	}
	if len(got) != 2 || got[0] != 7 || got[1] != -1 {
		t.Fatalf("callbacks ran as %v; want [7 -1]", got)
	}
}

func TestCallbackOnResolvedFutureRunsImmediately(t *testing.T) {
	ran := false
	Resolved("x").AddDoneCallback(func(*Future[string]) { ran = true })
	if !ran {
		t.Fatal("callback on a resolved future did not run")
	}
}

func TestPendingResultIsErrNotDone(t *testing.T) {
	if _, err := New[int]().Result(); !errors.Is(err, ErrNotDone) {
		t.Fatalf("Result on pending future: %v; want ErrNotDone", err)
	}
}

func TestCancel(t *testing.T) {
	f := New[int]()
	if !f.Cancel() {
		t.Fatal("Cancel of a pending future reported false")
	}
	if _, err := f.Result(); !errors.Is(err, ErrCancelled) {
		t.Fatalf("err = %v; want ErrCancelled", err)
	}
}

func TestThenAndMap(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name    string
		input   *Future[int]
		want    string
		wantErr error
	}{
		{"value flows through", Resolved(20), "21!", nil},
		{"error skips the steps", Failed[int](boom), "", boom},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			steps := 0
			plusOne := Then(tc.input, func(v int) *Future[int] { steps++; return Resolved(v + 1) })
			out := Map(plusOne, func(v int) (string, error) {
				steps++
				return string(rune('0'+v/10)) + string(rune('0'+v%10)) + "!", nil
			})
			got, err := out.Result()
			if got != tc.want || !errors.Is(err, tc.wantErr) {
				t.Fatalf("got %q, %v; want %q, %v", got, err, tc.want, tc.wantErr)
			}
			if tc.wantErr != nil && steps != 0 {
				t.Fatalf("%d steps ran after an error", steps)
			}
		})
	}
}

func TestThenWaitsForInnerFuture(t *testing.T) {
	inner := New[int]()
	out := Then(Resolved(1), func(int) *Future[int] { return inner })
	if out.Done() {
		t.Fatal("Then resolved before the inner future")
	}
	inner.Resolve(5)
	if v, _ := out.Result(); v != 5 {
		t.Fatalf("got %d; want 5", v)
	}
}

func TestAll(t *testing.T) {
	a, b, c := New[int](), New[int](), New[int]()
	all := All(a, b, c)
	c.Resolve(3)
	a.Resolve(1)
	if all.Done() {
		t.Fatal("All resolved with one future pending")
	}
	b.Resolve(2)
	got, err := all.Result()
	if err != nil || len(got) != 3 || got[0] != 1 || got[1] != 2 || got[2] != 3 {
		t.Fatalf("All = %v, %v; want [1 2 3] in argument order", got, err)
	}
	if v, _ := All[int]().Result(); v == nil || len(v) != 0 {
		t.Fatalf("All() of nothing = %v; want empty slice", v)
	}
}

func TestAllFailsOnFirstError(t *testing.T) {
	boom := errors.New("boom")
	a, b := New[int](), New[int]()
	all := All(a, b)
	b.Fail(boom)
	if _, err := all.Result(); !errors.Is(err, boom) {
		t.Fatalf("err = %v; want boom", err)
	}
	a.Resolve(1) // must not panic or change the result
}

func TestFirst(t *testing.T) {
	a, b := New[string](), New[string]()
	first := First(a, b)
	b.Resolve("b")
	a.Resolve("a")
	if v, _ := first.Result(); v != "b" {
		t.Fatalf("First = %q; want b", v)
	}
}

// fakeTimers fires timers only when told to, so the test decides the order.
type fakeTimers struct {
	pending   []func()
	cancelled int
}

func (ft *fakeTimers) CallLaterFunc(d time.Duration, fn func()) func() {
	i := len(ft.pending)
	ft.pending = append(ft.pending, fn)
	return func() { ft.pending[i] = nil; ft.cancelled++ }
}

func (ft *fakeTimers) fireAll() {
	for _, fn := range ft.pending {
		if fn != nil {
			fn()
		}
	}
}

func TestWithTimeout(t *testing.T) {
	t.Run("times out", func(t *testing.T) {
		ft := &fakeTimers{}
		slow := New[int]()
		out := WithTimeout(slow, ft, time.Second)
		ft.fireAll()
		if _, err := out.Result(); !errors.Is(err, ErrTimeout) {
			t.Fatalf("err = %v; want ErrTimeout", err)
		}
		slow.Resolve(1) // late result is ignored
		if _, err := out.Result(); !errors.Is(err, ErrTimeout) {
			t.Fatal("late result replaced the timeout")
		}
	})
	t.Run("answered in time cancels the timer", func(t *testing.T) {
		ft := &fakeTimers{}
		quick := New[int]()
		out := WithTimeout(quick, ft, time.Second)
		quick.Resolve(9)
		if v, err := out.Result(); v != 9 || err != nil {
			t.Fatalf("got %d, %v; want 9, nil", v, err)
		}
		if ft.cancelled != 1 {
			t.Fatalf("timer cancelled %d times; want 1", ft.cancelled)
		}
	})
}

func ExampleMap() {
	f := New[int]()
	doubled := Map(f, func(v int) (int, error) { return v * 2, nil })
	doubled.OnResult(func(v int, err error) { fmt.Println(v, err) })
	f.Resolve(21) // on the loop, in real code
	// Output: 42 <nil>
}

// BenchmarkResolveWithCallbacks measures the callback list: a pending
// future gains four callbacks and resolves, the shape of a request that
// waits on executor work.
func BenchmarkResolveWithCallbacks(b *testing.B) {
	b.ReportAllocs()
	sum := 0
	add := func(f *Future[int]) { sum += f.value }
	for b.Loop() {
		f := New[int]()
		for range 4 {
			f.AddDoneCallback(add)
		}
		f.Resolve(1)
	}
	if sum == 0 {
		b.Fatal("no callback ran")
	}
}

// BenchmarkMapChain measures a derived future: Map over a pending future.
func BenchmarkMapChain(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		f := New[int]()
		out := Map(f, func(v int) (int, error) { return v + 1, nil })
		f.Resolve(1)
		if v, _ := out.Result(); v != 2 {
			b.Fatal(v)
		}
	}
}
