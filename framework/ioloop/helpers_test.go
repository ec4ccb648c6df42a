package ioloop_test

import (
	"chat/framework/concurrent"
	"chat/framework/ioloop"
)

type concurrentFuture = concurrent.Future[int]

// onLoopGoroutine reports whether it runs on l's goroutine, by checking
// that AssertOnLoop does not panic (it checks only in -race builds; other
// builds trust the callback path).
func onLoopGoroutine(l *ioloop.Loop) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	l.AssertOnLoop()
	return true
}
