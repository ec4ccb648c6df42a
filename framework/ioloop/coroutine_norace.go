//go:build !race

package ioloop

// Without -race nothing checks goroutines (finding a goroutine's id costs
// about a microsecond), so the turn's holder is not recorded; see
// coroutine_race.go.

func coroutineGoroutineID() uint64 { return 0 }

func (l *Loop) takeTurn(uint64) {}

func (l *Loop) turnHolder() uint64 { return 0 }

func (co *Co) assertOwnGoroutine() {}
