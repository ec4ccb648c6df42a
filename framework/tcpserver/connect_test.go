package tcpserver_test

import (
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"

	"chat/framework/concurrent"
	"chat/framework/ioloop/looptest"
	"chat/framework/iostream"
	"chat/framework/tcpserver"
)

// fullListener returns the address of a loopback socket that listens with
// a backlog of 0 and never accepts, with its queue already holding one
// connection: the kernel drops further SYNs, so a connect to it hangs, as
// one to a host that does not answer does.
func fullListener(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	address := fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
	filler, err := net.Dial("tcp", address)
	if err != nil {
		t.Fatalf("fill the accept queue: %v", err)
	}
	t.Cleanup(func() { filler.Close() })
	return address
}

// TestConnectTimesOut connects to a listener that never answers, with
// distinct timeouts: each fails with ErrConnectTimeout no sooner than its
// timeout and well before three times it.
func TestConnectTimesOut(t *testing.T) {
	address := fullListener(t)
	l := looptest.Start(t)
	for _, timeout := range []time.Duration{60 * time.Millisecond, 150 * time.Millisecond} {
		t.Run(timeout.String(), func(t *testing.T) {
			type result struct {
				stream  *iostream.Stream
				err     error
				elapsed time.Duration
			}
			done := make(chan result, 1)
			start := time.Now()
			l.AddCallback(func() {
				tcpserver.Connect(l, address, tcpserver.ConnectOptions{Timeout: timeout}).OnResult(func(s *iostream.Stream, err error) {
					done <- result{s, err, time.Since(start)}
				})
			})
			var r result
			select {
			case r = <-done:
			case <-time.After(3 * timeout):
				t.Fatalf("Connect with a %v timeout to a listener that never answers: no result within %v", timeout, 3*timeout)
			}
			if r.err == nil {
				l.AddCallback(func() { r.stream.Close(nil) })
				t.Fatalf("Connect succeeded against a listener whose queue is full; the test needs a connect that hangs")
			}
			if !errors.Is(r.err, tcpserver.ErrConnectTimeout) || !errors.Is(r.err, concurrent.ErrTimeout) {
				t.Errorf("error %v; want ErrConnectTimeout (and concurrent.ErrTimeout)", r.err)
			}
			if r.elapsed < timeout {
				t.Errorf("failed after %v, before its %v timeout", r.elapsed, timeout)
			}
		})
	}
}

// TestConnectThatGaveUpLeavesNoSocket times out or cancels connects to a
// listener that never answers: afterwards the loop holds no connection,
// so the socket that was still connecting was closed, not leaked.
func TestConnectThatGaveUpLeavesNoSocket(t *testing.T) {
	address := fullListener(t)
	l := looptest.Start(t)
	cases := []struct {
		name string
		opts tcpserver.ConnectOptions
		stop func(*concurrent.Future[*iostream.Stream])
	}{
		{"timeout", tcpserver.ConnectOptions{Timeout: 50 * time.Millisecond}, func(*concurrent.Future[*iostream.Stream]) {}},
		{"cancel", tcpserver.ConnectOptions{}, func(f *concurrent.Future[*iostream.Stream]) { f.Cancel() }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan error, 1)
			l.AddCallback(func() {
				f := tcpserver.Connect(l, address, tc.opts)
				f.OnResult(func(_ *iostream.Stream, err error) { done <- err })
				tc.stop(f)
			})
			select {
			case err := <-done:
				if err == nil {
					t.Fatal("Connect succeeded against a listener whose queue is full")
				}
			case <-time.After(2 * time.Second):
				t.Fatal("Connect neither timed out nor reported its cancel")
			}
			open := make(chan int, 1)
			l.AddCallback(func() { open <- l.OpenConns() })
			if n := <-open; n != 0 {
				t.Errorf("after the connect gave up the loop holds %d connections; want 0 (the connecting socket leaked)", n)
			}
		})
	}
}
