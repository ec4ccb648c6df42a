//go:build !linux

package ioloop

// lowerThreadPriority does nothing: only Linux sets a priority per
// thread. Background executors still run off the loop.
func lowerThreadPriority() {}
