//go:build race

package ioloop

import "fmt"

// In -race builds the loop knows which coroutine holds its turn, so that
// AssertOnLoop accepts that coroutine's goroutine (and no other) and Close
// can tell when a coroutine calls it.

func coroutineGoroutineID() uint64 { return goroutineID() }

// takeTurn records that goroutine id (0: the loop goroutine) holds the turn.
func (l *Loop) takeTurn(id uint64) { l.turnGoroutine.Store(id) }

// turnHolder returns the coroutine goroutine holding the turn, 0 if none.
func (l *Loop) turnHolder() uint64 { return l.turnGoroutine.Load() }

// assertOwnGoroutine panics when Await runs off the coroutine's goroutine.
func (co *Co) assertOwnGoroutine() {
	if id := goroutineID(); id != co.goid {
		panic(fmt.Sprintf("ioloop: Await called from goroutine %d; coroutine runs on goroutine %d", id, co.goid))
	}
}
