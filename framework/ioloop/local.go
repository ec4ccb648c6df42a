package ioloop

import "chat/framework/concurrent"

// Local returns the value a package keeps on this loop under key, calling
// create to make it the first time: per-loop state for a library built on
// the loop, such as the websocket package's keepalive sweeps, which must
// be shared by every connection of one loop and must not outlive it. A
// package-level map keyed by loop would need a lock and would keep a
// closed loop's entries alive; a value kept here goes with the loop.
//
// Use an unexported type as the key (as with context.WithValue), so that
// packages cannot collide. Close drops every value. Loop-only, so the
// values need no lock of their own.
func (l *Loop) Local(key any, create func() any) any {
	l.AssertOnLoop()
	if v, ok := l.locals[key]; ok {
		return v
	}
	if l.locals == nil {
		l.locals = make(map[any]any)
	}
	v := create()
	l.locals[key] = v
	return v
}

// logFuturePanics makes the loop's logger and panic count receive the
// panics of f's callbacks (and of the futures derived from it), as they
// receive the panics of the loop's own callbacks.
func logFuturePanics[T any](l *Loop, f *concurrent.Future[T]) *concurrent.Future[T] {
	return f.SetPanicHandler(func(recovered any, stack []byte) {
		l.stats.panics.Add(1)
		l.opts.Logger.Error("ioloop: future callback panicked", "panic", recovered, "stack", string(stack))
	})
}
