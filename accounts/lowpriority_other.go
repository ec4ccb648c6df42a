//go:build !linux

package accounts

// lowPriority runs fn. Only Linux lowers the priority of one thread (see
// lowpriority_linux.go); elsewhere bcrypt runs at the usual priority, off
// the loop all the same.
func lowPriority(fn func()) { fn() }
