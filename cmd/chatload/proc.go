package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// procSample is what /proc says about the server process at a moment.
type procSample struct {
	userMicros, sysMicros int64 // CPU time
	writeSyscalls         int64 // write(2)-family system calls so far
	rss                   int64 // resident set size, bytes
}

// clockTicksPerSecond is USER_HZ, 100 on Linux.
const clockTicksPerSecond = 100

// readProc reads /proc/PID/stat (utime, stime), /proc/PID/io (syscw) and
// /proc/PID/status (VmRSS). Without a PID it returns zeros.
func readProc(pid int) (procSample, error) {
	var s procSample
	if pid == 0 {
		return s, nil
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, err
	}
	// Fields after the command name, which is in parentheses and may
	// contain spaces: state is field 3, utime 14 and stime 15.
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	s.userMicros = utime * 1_000_000 / clockTicksPerSecond
	s.sysMicros = stime * 1_000_000 / clockTicksPerSecond
	if io, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid)); err == nil {
		s.writeSyscalls = procField(string(io), "syscw:")
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	s.rss = procField(string(status), "VmRSS:") * 1024
	return s, nil
}

// waitQuiet waits until the server has used no CPU time for a whole
// 200 ms window (at most 10 s): a garbage collection or a scavenger run
// started by the connection phase has finished then. Without a PID it
// returns at once.
func waitQuiet(pid int) error {
	if pid == 0 {
		return nil
	}
	const window = 200 * time.Millisecond
	deadline := time.Now().Add(10 * time.Second)
	last, err := readProc(pid)
	if err != nil {
		return err
	}
	for time.Now().Before(deadline) {
		time.Sleep(window)
		now, err := readProc(pid)
		if err != nil {
			return err
		}
		if now.userMicros == last.userMicros && now.sysMicros == last.sysMicros {
			return nil
		}
		last = now
	}
	return nil
}

func procField(text, name string) int64 {
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, name); ok {
			n, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return n
		}
	}
	return 0
}

// heapInUse asks the server's /stats endpoint for its heap, 0 if unknown.
func heapInUse(url string) int64 {
	if url == "" {
		return 0
	}
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	var stats struct {
		HeapInuse int64 `json:"heap_inuse"`
	}
	json.NewDecoder(resp.Body).Decode(&stats)
	return stats.HeapInuse
}
