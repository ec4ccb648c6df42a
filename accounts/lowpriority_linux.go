package accounts

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// bcryptNice is the niceness of the threads bcrypt runs on: the kernel
// then gives the loop's thread the processor first whenever both want it.
const bcryptNice = 10

// lowPriority runs fn on an OS thread of its own at bcryptNice and waits
// for it. The thread is made for fn and ends with it (a goroutine that
// exits while locked to its thread takes the thread with it), so no
// other goroutine ever runs at the lowered priority. A thread costs tens
// of microseconds; a hash at cost 12, a quarter of a second.
//
// Measured by TestSigninLoopLag: on a loaded 2-core machine, bcrypt at
// normal priority put the loop's lag p99 at 5–9 ms; niced, under 5 ms.
func lowPriority(fn func()) {
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
		defer close(done)
		// Best effort: if the niceness cannot be set, bcrypt still runs,
		// off the loop, at the usual priority.
		_ = unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), bcryptNice)
		fn()
	}()
	<-done
}
