// Command writefloor measures what one write(2) to a loopback TCP socket
// costs a process that does nothing else: a loop over N connected sockets
// writing a small message to each, with CPU time read from /proc/self/stat.
// It is the floor under the WebSocket benchmark's "server CPU per
// delivery": a server cannot spend less than this per message it writes,
// and on a virtual machine with page-table isolation a good part of it is
// reported as user time, although no user code runs.
//
//	go run ./bench/writefloor -conns 5000 -rounds 40
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

func main() {
	conns := flag.Int("conns", 5000, "connections (each uses two descriptors in this process)")
	rounds := flag.Int("rounds", 40, "messages written to each connection")
	size := flag.Int("size", 70, "message size in bytes (a 64-byte WebSocket payload plus its header)")
	flag.Parse()
	fds, err := connect(*conns)
	if err != nil {
		log.Fatal(err)
	}
	msg := make([]byte, *size)
	userBefore, sysBefore := cpuMicros()
	for range *rounds {
		for _, fd := range fds {
			// Raw, as the framework's loop writes: a non-blocking socket
			// never blocks, so the scheduler need not be told.
			_, _, errno := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&msg[0])), uintptr(len(msg)))
			if errno != 0 {
				log.Fatalf("write: %v", errno)
			}
		}
	}
	userAfter, sysAfter := cpuMicros()
	writes := float64(*rounds * len(fds))
	fmt.Printf("mode=writefloor writes=%.0f user_us_per_write=%.2f sys_us_per_write=%.2f\n",
		writes, float64(userAfter-userBefore)/writes, float64(sysAfter-sysBefore)/writes)
}

// connect opens n loopback connections to a listener in this process and
// returns the descriptors of the accepted ends (non-blocking, as the net
// package leaves them). Nothing reads the other ends: the messages fit in
// the kernel's buffers.
func connect(n int) ([]int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	defer ln.Close()
	var fds []int
	for range n {
		client, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			return nil, fmt.Errorf("dial: %w", err)
		}
		server, err := ln.Accept()
		if err != nil {
			return nil, fmt.Errorf("accept: %w", err)
		}
		raw, err := server.(*net.TCPConn).SyscallConn()
		if err != nil {
			return nil, err
		}
		raw.Control(func(fd uintptr) { fds = append(fds, int(fd)) })
		keep = append(keep, client, server) // the descriptors stay open while referenced
	}
	return fds, nil
}

var keep []net.Conn

// cpuMicros returns this process's user and system CPU time so far.
func cpuMicros() (user, sys int64) {
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		log.Fatal(err)
	}
	s := string(stat)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	const microsPerTick = 1_000_000 / 100 // USER_HZ is 100 on Linux
	return utime * microsPerTick, stime * microsPerTick
}
