//go:build !race

package ioloop

// AssertOnLoop checks that it runs on the loop goroutine. This build
// (without -race) skips the check; see assert_race.go.
func (l *Loop) AssertOnLoop() {}
