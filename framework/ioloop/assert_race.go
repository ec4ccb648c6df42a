//go:build race

package ioloop

import "fmt"

// AssertOnLoop panics when called off the loop goroutine while the loop is
// running, except on the goroutine of a coroutine while it holds the
// loop's turn (see Go). It is active only in -race builds (which CI always
// uses), where finding the current goroutine's id costs about a
// microsecond; in normal builds it compiles to nothing.
func (l *Loop) AssertOnLoop() {
	owner := l.loopGoroutine.Load()
	if owner == 0 {
		return // not running: setup before Run and teardown after are single-goroutine
	}
	if id := goroutineID(); id != owner && id != l.turnGoroutine.Load() {
		panic(fmt.Sprintf("ioloop: loop-only method called from goroutine %d; the loop runs on goroutine %d", id, owner))
	}
}
