package concurrent

import (
	"errors"
	"fmt"
	"time"
)

// ErrCancelled is the error of a future that was cancelled before it resolved.
var ErrCancelled = errors.New("future cancelled")

// ErrTimeout is the error of a future returned by WithTimeout when the
// deadline passed before the wrapped future resolved.
var ErrTimeout = errors.New("future timed out")

// Future is the eventual result of an asynchronous operation: a value of
// type T or an error. It resolves exactly once; later attempts to resolve it
// are ignored and report false.
//
// A Future is loop-owned: create it, resolve it, read it and add callbacks
// to it only on the loop goroutine. Work done on another goroutine (an
// executor worker, say) hands its result to the loop with the loop's
// AddCallback and resolves the future there. Because of that rule a Future
// needs no mutex and a pending Future costs no goroutine, only this struct.
type Future[T any] struct {
	done      bool
	value     T
	err       error
	callbacks []func(*Future[T]) // run in order at resolution, then dropped
}

// New returns a pending future.
func New[T any]() *Future[T] { return &Future[T]{} }

// Resolved returns a future already resolved with v.
func Resolved[T any](v T) *Future[T] { return &Future[T]{done: true, value: v} }

// Failed returns a future already failed with err.
func Failed[T any](err error) *Future[T] { return &Future[T]{done: true, err: err} }

// Resolve sets the future's value and runs its callbacks. It reports whether
// this call resolved the future (false if it was already resolved).
func (f *Future[T]) Resolve(v T) bool { return f.Set(v, nil) }

// Fail sets the future's error and runs its callbacks. It reports whether
// this call resolved the future.
func (f *Future[T]) Fail(err error) bool {
	if err == nil {
		err = errors.New("future failed with a nil error")
	}
	var zero T
	return f.Set(zero, err)
}

// Set resolves the future with a value and an error (Go's usual pair): a
// non-nil err fails it. Callbacks run synchronously, in the order they were
// added, before Set returns.
func (f *Future[T]) Set(v T, err error) bool {
	if f.done {
		return false
	}
	f.done, f.value, f.err = true, v, err
	callbacks := f.callbacks
	f.callbacks = nil
	for _, cb := range callbacks {
		cb(f)
	}
	return true
}

// Cancel fails a pending future with ErrCancelled. It reports whether the
// future was still pending. Cancelling does not stop the work behind the
// future; it tells everyone waiting that the result no longer matters.
func (f *Future[T]) Cancel() bool { return f.Fail(ErrCancelled) }

// Done reports whether the future has resolved.
func (f *Future[T]) Done() bool { return f.done }

// Result returns the value and error. Before the future resolves it returns
// the zero value and ErrNotDone.
func (f *Future[T]) Result() (T, error) {
	if !f.done {
		var zero T
		return zero, ErrNotDone
	}
	return f.value, f.err
}

// Err returns the future's error, nil if it succeeded or is still pending.
func (f *Future[T]) Err() error { return f.err }

// ErrNotDone is returned by Result on a pending future.
var ErrNotDone = errors.New("future not resolved yet")

// AddDoneCallback arranges for fn to run when the future resolves. If it
// already has, fn runs immediately, before AddDoneCallback returns.
func (f *Future[T]) AddDoneCallback(fn func(*Future[T])) {
	if f.done {
		fn(f)
		return
	}
	f.callbacks = append(f.callbacks, fn)
}

// OnResult is AddDoneCallback for callers that want the value and error
// rather than the future.
func (f *Future[T]) OnResult(fn func(T, error)) {
	f.AddDoneCallback(func(f *Future[T]) { fn(f.value, f.err) })
}

// Then chains an asynchronous step: when f succeeds, next runs with its value
// and the returned future follows the future next returns. An error from f
// skips next and passes straight through.
func Then[T, U any](f *Future[T], next func(T) *Future[U]) *Future[U] {
	out := New[U]()
	f.OnResult(func(v T, err error) {
		if err != nil {
			out.Fail(err)
			return
		}
		next(v).OnResult(func(u U, err error) { out.Set(u, err) })
	})
	return out
}

// Map chains a synchronous step: when f succeeds, fn turns its value into
// the result of the returned future. An error from f passes straight
// through.
func Map[T, U any](f *Future[T], fn func(T) (U, error)) *Future[U] {
	out := New[U]()
	f.OnResult(func(v T, err error) {
		if err != nil {
			out.Fail(err)
			return
		}
		out.Set(fn(v))
	})
	return out
}

// All resolves with every value, in argument order, once all futures have
// succeeded, or fails with the first error to arrive. With no futures it
// resolves at once with an empty slice.
func All[T any](futures ...*Future[T]) *Future[[]T] {
	out := New[[]T]()
	values := make([]T, len(futures))
	remaining := len(futures)
	if remaining == 0 {
		out.Resolve(values)
		return out
	}
	for i, f := range futures {
		f.OnResult(func(v T, err error) {
			if err != nil {
				out.Fail(fmt.Errorf("future %d of %d: %w", i+1, len(futures), err))
				return
			}
			values[i] = v
			remaining--
			if remaining == 0 {
				out.Resolve(values)
			}
		})
	}
	return out
}

// First resolves like whichever future resolves first, value or error. With
// no futures it never resolves.
func First[T any](futures ...*Future[T]) *Future[T] {
	out := New[T]()
	for _, f := range futures {
		f.OnResult(func(v T, err error) { out.Set(v, err) })
	}
	return out
}

// Timers is the part of an event loop that WithTimeout needs. *ioloop.Loop
// satisfies it; the interface lives here so this package stays below the
// loop in the import graph.
type Timers interface {
	CallLaterFunc(d time.Duration, fn func()) (cancel func())
}

// WithTimeout returns a future that follows f but fails with ErrTimeout if f
// has not resolved within d. The timer is cancelled as soon as f resolves, so
// an answered request leaves no timer behind.
func WithTimeout[T any](f *Future[T], timers Timers, d time.Duration) *Future[T] {
	if f.done {
		return f
	}
	out := New[T]()
	cancelTimer := timers.CallLaterFunc(d, func() { out.Fail(ErrTimeout) })
	f.OnResult(func(v T, err error) {
		cancelTimer()
		out.Set(v, err)
	})
	return out
}
