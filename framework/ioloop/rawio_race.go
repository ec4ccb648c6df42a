//go:build linux && !ioloop_portable && race

package ioloop

import (
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// rawRead and rawWrite in -race builds: the same system calls as
// rawio_norace.go, followed by the annotations the race detector needs to
// see the kernel write into p (read) or read from it (write). Without them
// a user who keeps a read slice past its callback, or changes a buffer
// the loop is writing, races with the loop unseen, and CI always runs
// -race, so this is where that bug is caught.
//
// The annotations are the ranges only. syscall.Read and unix.Read also
// order every read after every earlier write in the process (a shared
// ioSync variable); that edge would hide exactly these races whenever the
// user's goroutine wrote anything anywhere (a log line) in between.
func rawRead(fd int, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	n, _, errno := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if errno != 0 {
		return 0, errno
	}
	if n > 0 {
		runtime.RaceWriteRange(unsafe.Pointer(&p[0]), int(n))
	}
	return int(n), nil
}

func rawWrite(fd int, p []byte) (int, syscall.Errno) {
	n, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)))
	if errno == 0 && n > 0 {
		runtime.RaceReadRange(unsafe.Pointer(&p[0]), int(n))
	}
	return int(n), errno
}
