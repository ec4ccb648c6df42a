package main

import (
	"syscall"
	"testing"
)

// TestConnectGivesWritableSockets checks the descriptors the floor loop
// writes to: each takes a message whole.
func TestConnectGivesWritableSockets(t *testing.T) {
	fds, err := connect(20)
	if err != nil {
		t.Fatal(err)
	}
	if len(fds) != 20 {
		t.Fatalf("%d descriptors, want 20", len(fds))
	}
	msg := []byte("seventy bytes or so")
	for _, fd := range fds {
		if n, err := syscall.Write(fd, msg); err != nil || n != len(msg) {
			t.Fatalf("write to fd %d: %d, %v", fd, n, err)
		}
	}
	if user, sys := cpuMicros(); user < 0 || sys < 0 {
		t.Fatalf("cpu %d %d", user, sys)
	}
}
