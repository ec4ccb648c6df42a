package ioloop

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"time"

	"chat/framework/concurrent"
)

// ErrCoroutineExited is the error of a coroutine's future when its body
// called runtime.Goexit (t.FailNow in a test, say) instead of returning.
var ErrCoroutineExited = errors.New("ioloop: coroutine exited without returning (runtime.Goexit)")

// Co is a running coroutine, the handle its body passes to Await, Sleep
// and AwaitTimeout. Its fields are owned by whoever holds the loop's turn
// (see Go); only the coroutine's own body may Await with it.
type Co struct {
	loop *Loop
	// turn carries the loop's turn between the coroutine's goroutine and
	// whoever resumed it (the loop goroutine, another coroutine, or Close):
	// one send hands the turn over, the next send hands it back. The
	// unbuffered channel is what gives the race detector its
	// happens-before edges.
	turn      chan struct{}
	goid      uint64 // the coroutine's goroutine; known only in -race builds
	parkSeq   uint64 // bumped at each park, so a stale wake-up is ignored
	parked    bool   // suspended in Await, waiting to be woken
	cancelled bool   // the coroutine's future was cancelled (or failed from outside)
	finished  bool   // the body returned, panicked or exited
	exiting   bool   // Close is ending the coroutine
	woken     bool   // set by the wake-up that ended the last park
}

// Loop returns the loop the coroutine runs on.
func (co *Co) Loop() *Loop { return co.loop }

// Cancelled reports whether the coroutine's future was resolved from
// outside (Cancel, usually): every Await from now on fails with
// concurrent.ErrCancelled.
func (co *Co) Cancelled() bool { return co.cancelled }

// Go starts body as a coroutine on l, Tornado's coroutine (an async def
// called from the loop), and returns the future of its result.
//
// The body runs on a goroutine of its own but only while it holds the
// loop's turn: the goroutine that started or resumed it (the loop
// goroutine, usually) blocks until the body suspends in Await or returns.
// So the code between two awaits runs with the loop's exclusivity and may
// touch loop-owned state exactly as a callback may (AssertOnLoop accepts
// it), and, like a callback, it must not block. The first segment, up to
// the first Await of a pending future, runs inside Go, before Go returns,
// as a Tornado coroutine runs until its first yield; a body that never
// waits has resolved its future by the time Go returns.
//
// The future resolves with what body returns. A panic in body is
// recovered: it is logged with its stack through the loop's logger,
// counted in Stats.Panics, and fails the future with a
// *concurrent.PanicError carrying the stack. Cancelling the future (or
// resolving it from outside in any way) makes the pending Await return
// concurrent.ErrCancelled, and every later one too; the body decides what
// to do about it, and what it returns in the end is dropped.
//
// A coroutine still suspended when the loop is closed is ended by Close:
// its pending Await does not return; the goroutine exits with
// runtime.Goexit, so its deferred calls run (holding the turn, on Close's
// goroutine), and Close returns only after every such goroutine is done.
// Its future is left pending: nothing runs on a closed loop. Go on a
// closed loop does not run body and returns a future failed with
// ErrLoopClosed.
//
// Cost: a live coroutine is a goroutine, parked on a channel while it
// waits (see the package documentation for the measured size), where a
// callback waiting on a future costs one closure. Use coroutines for
// request-shaped work that awaits a few steps and ends; keep long-lived
// per-connection waits (10,000 idle WebSockets) as callbacks.
//
// Loop-only: call Go on the loop goroutine, from a coroutine, or before
// Run starts.
func Go[T any](l *Loop, body func(co *Co) (T, error)) *concurrent.Future[T] {
	l.AssertOnLoop()
	if l.closed.Load() {
		return concurrent.Failed[T](ErrLoopClosed)
	}
	future := logFuturePanics(l, concurrent.New[T]())
	co := &Co{loop: l, turn: make(chan struct{})}
	future.AddDoneCallback(func(*concurrent.Future[T]) { co.resolvedFromOutside() })
	if l.coroutines == nil {
		l.coroutines = make(map[*Co]struct{})
	}
	l.coroutines[co] = struct{}{}
	l.stats.coroutines.Add(1)
	go co.run(func() {
		value, err := body(co)
		co.finished = true // the future's resolution is the body's own
		future.Set(value, err)
	}, future.Fail)
	co.handOver()
	return future
}

// run is the coroutine's goroutine: it waits for the turn, runs the body
// and, however the body ends, settles the future and hands the turn back
// for the last time.
func (co *Co) run(body func(), fail func(error) bool) {
	<-co.turn
	co.goid = coroutineGoroutineID()
	co.loop.takeTurn(co.goid)
	returned := false
	defer func() {
		recovered := recover()
		co.finished = true
		delete(co.loop.coroutines, co)
		co.loop.stats.coroutines.Add(-1)
		switch {
		case recovered != nil:
			co.reportPanic(recovered, fail)
		case !returned && !co.exiting:
			fail(ErrCoroutineExited)
		}
		co.turn <- struct{}{}
	}()
	body()
	returned = true
}

// reportPanic logs a panic of the body with its stack and fails the
// coroutine's future with it. It runs in the deferred function that
// recovered the panic, so the stack is still the panicking one.
func (co *Co) reportPanic(recovered any, fail func(error) bool) {
	stack := debug.Stack()
	co.loop.stats.panics.Add(1)
	co.loop.opts.Logger.Error("ioloop: coroutine panicked", "panic", recovered, "stack", string(stack))
	fail(&concurrent.PanicError{Value: recovered, Stack: stack})
}

// handOver gives the turn to the coroutine and waits until it suspends or
// ends. It runs wherever the turn is held: the loop goroutine, another
// coroutine, or Close.
func (co *Co) handOver() {
	held := co.loop.turnHolder()
	co.turn <- struct{}{}
	<-co.turn
	co.loop.takeTurn(held)
}

// suspend hands the turn back to whoever resumed the coroutine and waits
// to be given it again. A coroutine that Close is ending never comes back
// from here.
func (co *Co) suspend() {
	co.turn <- struct{}{}
	<-co.turn
	co.loop.takeTurn(co.goid)
	if co.exiting {
		runtime.Goexit()
	}
}

// park marks the coroutine suspended and returns the token its wake-up
// must present.
func (co *Co) park() uint64 {
	co.parkSeq++
	co.parked = true
	co.woken = false
	return co.parkSeq
}

// wake resumes the coroutine parked with token seq, if it still is (a
// future resolving after a cancellation, or after Close ended the
// coroutine, finds it gone). It runs where the turn is held.
func (co *Co) wake(seq uint64) bool {
	if !co.parked || co.parkSeq != seq || co.exiting {
		return false
	}
	co.parked = false
	co.woken = true
	co.handOver()
	return true
}

// resolvedFromOutside runs when the coroutine's future resolves. When the
// body resolved it (it returned), nothing is left to do; otherwise it was
// cancelled or failed by someone else, and a parked coroutine is woken to
// learn it.
func (co *Co) resolvedFromOutside() {
	if co.finished {
		return
	}
	co.cancelled = true
	if co.parked {
		co.parked = false
		co.woken = false
		co.handOver()
	}
}

// Await suspends the coroutine until f resolves and returns its result:
// Tornado's await. An already resolved future returns at once, without
// giving up the turn. While the coroutine waits, the loop runs other
// callbacks; f's callback gives the coroutine the turn back.
//
// Once the coroutine's future has been cancelled, Await on a pending
// future returns concurrent.ErrCancelled (at once, or by waking the
// pending wait); f is not cancelled, since it may be shared: a coroutine
// that waits on a future of its own (a Lock.Acquire, a Queue.Get) should
// Cancel it when Await fails, so the lock or item goes to the next
// waiter. Await on a future that has already resolved returns its result
// even after a cancel. Await in a deferred call of a coroutine that Close is
// ending returns ErrLoopClosed. Call it only from the body of co, on its
// goroutine (checked in -race builds).
func Await[T any](co *Co, f *concurrent.Future[T]) (T, error) {
	co.assertOwnGoroutine()
	var zero T
	switch {
	case f.Done():
		// Even after a cancel: what a resolved future holds (a lock just
		// granted, an item just taken) is the coroutine's now, and must
		// not be lost; cancellation interrupts only a real wait.
		return f.Result()
	case co.exiting:
		return zero, ErrLoopClosed
	case co.cancelled:
		return zero, concurrent.ErrCancelled
	}
	var value T
	var err error
	seq := co.park()
	f.OnResult(func(v T, e error) {
		if co.parked && co.parkSeq == seq && !co.exiting {
			value, err = v, e
			co.wake(seq)
		}
	})
	co.suspend()
	if !co.woken {
		return zero, concurrent.ErrCancelled
	}
	return value, err
}

// Sleep suspends the coroutine for d, Tornado's gen.sleep: a loop timer
// resumes it. It returns nil, or concurrent.ErrCancelled when the
// coroutine's future is cancelled meanwhile (the timer is then cancelled
// too).
func Sleep(co *Co, d time.Duration) error {
	wakeUp := concurrent.New[struct{}]()
	timer := co.loop.CallLater(d, func() { wakeUp.Resolve(struct{}{}) })
	_, err := Await(co, wakeUp)
	if err != nil {
		timer.Cancel()
	}
	return err
}

// AwaitTimeout is Await bounded by d, Tornado's with_timeout: if f has not
// resolved within d, it returns an error matching concurrent.ErrTimeout.
// f itself is neither cancelled nor changed; cancel it if the work behind
// it should stop. The timer is cancelled as soon as the wait ends. Each
// wait that times out leaves a small callback (about 200 bytes) on f
// until f resolves, as Futures cannot drop a callback: to wait on one
// long-lived future again and again (a heartbeat on a room's "closed"
// future), prefer one Await on concurrent.First of it and a per-round
// future.
func AwaitTimeout[T any](co *Co, f *concurrent.Future[T], d time.Duration) (T, error) {
	if f.Done() || co.cancelled || co.exiting {
		return Await(co, f)
	}
	deadline := concurrent.New[T]()
	timer := co.loop.CallLater(d, func() {
		deadline.Fail(fmt.Errorf("ioloop: no result within %v: %w", d, concurrent.ErrTimeout))
	})
	defer timer.Cancel()
	return Await(co, concurrent.First(f, deadline))
}

// endCoroutines ends every suspended coroutine for Close: each is marked
// exiting first, so that one ending cannot wake another, then given the
// turn, which makes its pending Await exit the goroutine with
// runtime.Goexit. Each hands the turn back when its deferred calls are
// done. Called by Close after Run has returned, when Close owns the
// loop's state.
func (l *Loop) endCoroutines() {
	for len(l.coroutines) > 0 {
		parked := make([]*Co, 0, len(l.coroutines))
		for co := range l.coroutines {
			co.exiting = true
			parked = append(parked, co)
		}
		for _, co := range parked {
			if co.finished {
				continue
			}
			co.parked = false
			co.handOver()
		}
	}
}
