package ioloop

import "chat/framework/concurrent"

// RunSync runs start on the loop, waits for the future it returns and
// gives back its result: Tornado's IOLoop.run_sync, for code outside the
// loop (a command-line tool, a test) that needs one asynchronous answer.
// It blocks the calling goroutine, so it must never be called on the loop
// itself; the loop must be running (or be run by someone) for it to
// return. If the loop is closed before the future resolves, RunSync
// returns ErrLoopClosed.
func RunSync[T any](l *Loop, start func() *concurrent.Future[T]) (T, error) {
	type result struct {
		value T
		err   error
	}
	done := make(chan result, 1)
	queued := l.addCallback(func() {
		start().OnResult(func(v T, err error) { done <- result{v, err} })
	})
	var zero T
	if !queued {
		return zero, ErrLoopClosed
	}
	select {
	case r := <-done:
		return r.value, r.err
	case <-l.closedCh:
		select { // resolved just before the close: the answer stands
		case r := <-done:
			return r.value, r.err
		default:
			return zero, ErrLoopClosed
		}
	}
}
