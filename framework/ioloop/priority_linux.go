package ioloop

import "golang.org/x/sys/unix"

// lowerThreadPriority lowers the calling OS thread's scheduling priority
// to backgroundNice, best effort: Linux sets niceness per thread.
func lowerThreadPriority() {
	_ = unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), backgroundNice)
}
