package ioloop

import (
	"runtime/debug"
	"time"
)

// dispatchIO runs one I/O handler like runProtected runs a callback: a
// panic is recovered and logged, and a handler that held the loop too long
// is recorded as slow. It takes the handler and events as values rather
// than a closure so that dispatching an event allocates nothing.
func (l *Loop) dispatchIO(h fdHandler, ev Events) {
	start := time.Now()
	defer func() {
		if r := recover(); r != nil {
			l.stats.panics.Add(1)
			l.opts.Logger.Error("ioloop: I/O handler panicked",
				"panic", r, "handler", h.describe(), "stack", string(debug.Stack()))
		}
		if d := time.Since(start); l.opts.SlowCallback > 0 && d > l.opts.SlowCallback {
			where := h.describe()
			l.stats.recordSlow(start, d, where)
			l.opts.Logger.Warn("ioloop: slow I/O handler", "duration", d, "handler", where)
		}
	}()
	h.handleEvents(ev)
}
