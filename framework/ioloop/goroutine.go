package ioloop

import (
	"bytes"
	"runtime"
	"strconv"
)

// goroutineID parses the current goroutine's id from the first line of its
// stack trace ("goroutine 42 [running]:"). Go hides goroutine ids on
// purpose; the loop uses this only to remember which goroutine runs it and,
// in -race builds, to check the loop contract.
func goroutineID() uint64 {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	line := bytes.TrimPrefix(buf[:n], []byte("goroutine "))
	if i := bytes.IndexByte(line, ' '); i > 0 {
		line = line[:i]
	}
	id, _ := strconv.ParseUint(string(line), 10, 64)
	return id
}
