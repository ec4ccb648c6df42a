package ioloop_test

import (
	"bytes"
	"log/slog"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"chat/framework/ioloop"
	"chat/framework/ioloop/looptest"
)

// waitFor waits up to limit for ch to deliver; false if it did not.
func waitFor[T any](ch <-chan T, limit time.Duration) bool {
	select {
	case <-ch:
		return true
	case <-time.After(limit):
		return false
	}
}

// A connection handler that panics must not strand the connections queued
// behind it: no new connection arrives to make another readiness edge, so
// the listener has to carry on by itself.
func TestPanickingAcceptHandlerDoesNotStrandTheQueue(t *testing.T) {
	tests := []struct {
		name     string
		panicOn  map[int]bool // which accepted connections' handler panics (1-based)
		dialled  int
		wantLogs int
	}{
		{"first of five panics", map[int]bool{1: true}, 5, 1},
		{"every other of six panics", map[int]bool{1: true, 3: true, 5: true}, 6, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			var logMu sync.Mutex
			logger := slog.New(slog.NewTextHandler(lockedWriter{&logMu, &logs}, nil))
			l := looptest.StartWith(t, ioloop.Options{Logger: logger})
			handled := make(chan *ioloop.Conn, tc.dialled)
			var addr string
			looptest.Do(t, l, func() {
				ln, err := l.Listen("tcp", "127.0.0.1:0", ioloop.ListenOptions{})
				if err != nil {
					t.Fatal(err)
				}
				addr = ln.Addr().String()
				n := 0
				ln.SetAcceptHandler(func(c *ioloop.Conn) {
					n++
					handled <- c
					if tc.panicOn[n] {
						panic("accept handler exploded")
					}
					c.SetHandler(ioloop.EventHandlerFunc(func(ioloop.Events) {}))
				})
			})
			// Queue every connection in the kernel while the loop is held,
			// so they all wait behind the first handler.
			held, release := make(chan struct{}), make(chan struct{})
			l.AddCallback(func() { close(held); <-release })
			<-held
			for range tc.dialled {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
			}
			close(release)
			for i := range tc.dialled {
				if !waitFor(handled, 2*time.Second) {
					t.Fatalf("%d of %d queued connections reached the handler; the rest are stranded", i, tc.dialled)
				}
			}
			st := l.Stats()
			logMu.Lock()
			defer logMu.Unlock()
			if got := strings.Count(logs.String(), "accept handler exploded"); got != tc.wantLogs || st.Panics != uint64(tc.wantLogs) {
				t.Errorf("%d panics logged, Stats.Panics %d; want %d", got, st.Panics, tc.wantLogs)
			}
			if !strings.Contains(logs.String(), "accept_test.go") {
				t.Errorf("panic log does not name the handler's source:\n%s", logs.String())
			}
		})
	}
}

// fillDescriptors lowers the soft RLIMIT_NOFILE to a little above the
// descriptors in use and fills the rest with dups, so that the next accept
// fails with EMFILE. The returned function frees them and restores the
// limit.
func fillDescriptors(t *testing.T) func() {
	t.Helper()
	var saved syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &saved); err != nil {
		t.Skipf("getrlimit: %v", err)
	}
	highest := 0
	probe, err := syscall.Dup(0)
	if err != nil {
		t.Skipf("dup: %v", err)
	}
	highest = probe
	syscall.Close(probe)
	lowered := saved
	lowered.Cur = uint64(highest + 64)
	if lowered.Cur > saved.Max {
		t.Skip("the hard descriptor limit is too low to lower the soft one")
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lowered); err != nil {
		t.Skipf("setrlimit: %v", err)
	}
	var dups []int
	for {
		fd, err := syscall.Dup(0)
		if err != nil {
			break
		}
		dups = append(dups, fd)
	}
	return func() {
		for _, fd := range dups {
			syscall.Close(fd)
		}
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &saved)
	}
}

// Out of descriptors, accepting pauses and retries with one timer however
// many readiness edges arrive, logs the pause without flooding, and takes
// the queued connections once descriptors are free again.
func TestAcceptRetriesWithOneTimerWhenOutOfDescriptors(t *testing.T) {
	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&logMu, &logs}, nil))
	l := looptest.StartWith(t, ioloop.Options{Logger: logger})
	const clients = 5
	handled := make(chan struct{}, clients)
	var addr *net.TCPAddr
	looptest.Do(t, l, func() {
		ln, err := l.Listen("tcp", "127.0.0.1:0", ioloop.ListenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		addr = ln.Addr().(*net.TCPAddr)
		ln.SetAcceptHandler(func(c *ioloop.Conn) { handled <- struct{}{}; c.Close() })
	})
	// The client sockets exist before the descriptors run out; each
	// connect makes a new readiness edge on the listener.
	var sockets []int
	for range clients {
		fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		sockets = append(sockets, fd)
		defer syscall.Close(fd)
	}
	free := fillDescriptors(t)
	freed := false
	defer func() {
		if !freed {
			free()
		}
	}()
	sa := &syscall.SockaddrInet4{Port: addr.Port, Addr: [4]byte{127, 0, 0, 1}}
	for _, fd := range sockets {
		if err := syscall.Connect(fd, sa); err != nil {
			t.Fatalf("connect: %v", err)
		}
		looptest.Do(t, l, func() {}) // let the loop meet this edge before the next
		looptest.Do(t, l, func() {})
	}
	const window = 200 * time.Millisecond // out of descriptors this long
	elapsed := make(chan struct{})
	looptest.Do(t, l, func() { l.CallLater(window, func() { close(elapsed) }) })
	<-elapsed
	timers := l.Stats().PendingTimers
	// A descriptor freed meanwhile (a finalizer closing a file) lets one
	// connection through and ends that pause; the next EMFILE is a new one.
	pauses := 1 + len(handled)
	free()
	freed = true
	for i := range clients {
		if !waitFor(handled, 3*50*time.Millisecond+time.Second) {
			t.Fatalf("%d of %d connections accepted after descriptors were freed", i, clients)
		}
	}
	if timers > 1 {
		t.Errorf("%d retry timers pending while out of descriptors; want at most 1", timers)
	}
	logMu.Lock()
	defer logMu.Unlock()
	// Each pause logged once; a retry that fails again is not news.
	if n := strings.Count(logs.String(), "accept paused"); n < 1 || n > pauses {
		t.Errorf("%d 'accept paused' log lines in %v; want 1 per pause, at most %d", n, window, pauses)
	}
}
