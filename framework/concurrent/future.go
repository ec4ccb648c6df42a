package concurrent

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
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
//
// Callbacks are protected one by one: a callback that panics is recovered,
// the panic goes to the future's PanicHandler with its stack, and the
// callbacks after it still run. The panic never unwinds into the code that
// resolved the future (a stream half-way through updating its state, say).
type Future[T any] struct {
	done      bool
	value     T
	err       error
	callbacks []func(*Future[T]) // run in order at resolution, then dropped
	onPanic   PanicHandler       // nil: report to slog.Default()
}

// PanicHandler receives a panic recovered from a future's callback: the
// value the callback panicked with and the stack of the goroutine at the
// panic. It runs on the loop, right after the callback, before the next
// one; it must not panic itself.
//
// A future without a handler (SetPanicHandler never called) logs the panic
// and its stack with slog.Default() at level Error: a future knows no loop
// and no logger, and a panic must never be silent. Code that knows better
// installs a handler: the web package's handler answers the request 500.
type PanicHandler func(recovered any, stack []byte)

// PanicError is the error of a future derived by Map or Then whose step
// panicked: the derived future fails with it instead of staying pending.
type PanicError struct {
	Value any    // what the step panicked with
	Stack []byte // the stack at the panic
}

func (e *PanicError) Error() string { return fmt.Sprintf("future step panicked: %v", e.Value) }

// SetPanicHandler makes h receive the panics of f's callbacks (nil restores
// the default, slog.Default()) and returns f. Futures derived from f later
// (Then, Map, All, First, WithTimeout) inherit h. Loop-only, like the rest
// of Future.
func (f *Future[T]) SetPanicHandler(h PanicHandler) *Future[T] {
	f.onPanic = h
	return f
}

// PanicHandler returns the handler set by SetPanicHandler, nil if none.
func (f *Future[T]) PanicHandler() PanicHandler { return f.onPanic }

// runCallback runs one callback, recovering a panic so that the rest of
// the list still runs, and reports it. The recovery lives in its own small
// function so the defer stays cheap (open-coded) on the common path.
func (f *Future[T]) runCallback(cb func(*Future[T])) {
	defer func() {
		if r := recover(); r != nil {
			f.reportPanic(r, debug.Stack())
		}
	}()
	cb(f)
}

func (f *Future[T]) reportPanic(recovered any, stack []byte) {
	if f.onPanic != nil {
		f.onPanic(recovered, stack)
		return
	}
	slog.Default().Error("concurrent: future callback panicked", "panic", recovered, "stack", string(stack))
}

// derive returns a pending future that inherits f's panic handler.
func derive[U, T any](f *Future[T]) *Future[U] { return &Future[U]{onPanic: f.onPanic} }

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
// added, before Set returns; a callback that panics is reported to the
// PanicHandler and the others still run.
func (f *Future[T]) Set(v T, err error) bool {
	if f.done {
		return false
	}
	f.done, f.value, f.err = true, v, err
	callbacks := f.callbacks
	f.callbacks = nil
	for _, cb := range callbacks {
		f.runCallback(cb)
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
// already has, fn runs immediately, before AddDoneCallback returns. Either
// way a panic in fn is recovered and reported to the PanicHandler.
func (f *Future[T]) AddDoneCallback(fn func(*Future[T])) {
	if f.done {
		f.runCallback(fn)
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
// skips next and passes straight through. If next panics, the returned
// future fails with a *PanicError and the panic is reported to its
// PanicHandler (inherited from f).
func Then[T, U any](f *Future[T], next func(T) *Future[U]) *Future[U] {
	out := derive[U](f)
	f.OnResult(func(v T, err error) {
		if err != nil {
			out.Fail(err)
			return
		}
		inner, panicked := callThen(next, v)
		if panicked != nil {
			// Reported first: the panic is the cause, and whoever waits
			// on out reacts to its failure (answers a request, say).
			out.reportPanic(panicked.Value, panicked.Stack)
			out.Fail(panicked)
			return
		}
		inner.OnResult(func(u U, err error) { out.Set(u, err) })
	})
	return out
}

// callThen calls a Then step, turning its panic into a *PanicError.
func callThen[T, U any](next func(T) *Future[U], v T) (inner *Future[U], panicked *PanicError) {
	defer func() {
		if r := recover(); r != nil {
			panicked = &PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	return next(v), nil
}

// Map chains a synchronous step: when f succeeds, fn turns its value into
// the result of the returned future. An error from f passes straight
// through. If fn panics, the returned future fails with a *PanicError and
// the panic is reported to its PanicHandler (inherited from f).
func Map[T, U any](f *Future[T], fn func(T) (U, error)) *Future[U] {
	out := derive[U](f)
	f.OnResult(func(v T, err error) {
		if err != nil {
			out.Fail(err)
			return
		}
		u, err, panicked := callMap(fn, v)
		if panicked != nil {
			// Reported first: the panic is the cause, and whoever waits
			// on out reacts to its failure (answers a request, say).
			out.reportPanic(panicked.Value, panicked.Stack)
			out.Fail(panicked)
			return
		}
		out.Set(u, err)
	})
	return out
}

// callMap calls a Map step, turning its panic into a *PanicError.
func callMap[T, U any](fn func(T) (U, error), v T) (u U, err error, panicked *PanicError) {
	defer func() {
		if r := recover(); r != nil {
			panicked = &PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	u, err = fn(v)
	return u, err, nil
}

// All resolves with every value, in argument order, once all futures have
// succeeded, or fails with the first error to arrive. With no futures it
// resolves at once with an empty slice. The result inherits the panic
// handler of the first future that has one.
func All[T any](futures ...*Future[T]) *Future[[]T] {
	out := &Future[[]T]{onPanic: firstPanicHandler(futures)}
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
// no futures it never resolves. The result inherits the panic handler of
// the first future that has one.
func First[T any](futures ...*Future[T]) *Future[T] {
	out := &Future[T]{onPanic: firstPanicHandler(futures)}
	for _, f := range futures {
		f.OnResult(func(v T, err error) { out.Set(v, err) })
	}
	return out
}

func firstPanicHandler[T any](futures []*Future[T]) PanicHandler {
	for _, f := range futures {
		if f.onPanic != nil {
			return f.onPanic
		}
	}
	return nil
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
	out := derive[T](f)
	cancelTimer := timers.CallLaterFunc(d, func() { out.Fail(ErrTimeout) })
	f.OnResult(func(v T, err error) {
		cancelTimer()
		out.Set(v, err)
	})
	return out
}
