package tcpserver

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
	"chat/framework/ioloop/looptest"
	"chat/framework/iostream"
)

// heldDial is a dialer whose connect completes when the test says, and
// whose cancel is only counted: it plays a connect that completes after
// Connect gave up on it, which a cancel cannot always prevent.
type heldDial struct {
	deliver func(*ioloop.Conn, error)
	cancels int
}

func (d *heldDial) dial(_ *ioloop.Loop, _ string, _ ioloop.DialOptions, deliver func(*ioloop.Conn, error)) func() {
	d.deliver = deliver
	return func() { d.cancels++ }
}

// realConn returns a registered loop connection and the peer's end of it.
func realConn(t *testing.T, l *ioloop.Loop) (*ioloop.Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	conn, err := looptest.Await(t, l, func() *concurrent.Future[*ioloop.Conn] {
		return l.Dial("tcp", ln.Addr().String(), ioloop.DialOptions{})
	})
	if err != nil {
		t.Fatal(err)
	}
	peer, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { peer.Close() })
	return conn, peer
}

// TestConnectOwnsWhatArrivesLate walks Connect through the orders in which
// its timer, its caller's cancel and the dial's result can come. Whatever
// the order, the future resolves once; a connection the dial produces after
// the future failed is closed (its peer reads EOF) and never delivered.
func TestConnectOwnsWhatArrivesLate(t *testing.T) {
	const timeout = 40 * time.Millisecond
	dialErr := errors.New("connection refused")
	tests := []struct {
		name        string
		cancel      bool  // the caller cancels before the dial finishes
		waitTimeout bool  // the timeout passes before the dial finishes
		dialFails   error // the dial fails with this instead of connecting
		wantErr     error // nil: a stream is delivered
		wantCancels int
	}{
		{name: "connected in time", wantErr: nil},
		{name: "dial failed", dialFails: dialErr, wantErr: dialErr},
		{name: "timed out, then connected", waitTimeout: true, wantErr: ErrConnectTimeout, wantCancels: 1},
		{name: "cancelled, then connected", cancel: true, wantErr: concurrent.ErrCancelled, wantCancels: 1},
		{name: "cancelled, then the dial failed", cancel: true, dialFails: dialErr, wantErr: concurrent.ErrCancelled, wantCancels: 1},
		{name: "timed out, then the dial failed", waitTimeout: true, dialFails: dialErr, wantErr: ErrConnectTimeout, wantCancels: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := looptest.Start(t)
			conn, peer := realConn(t, l)
			d := &heldDial{}
			type result struct {
				stream *iostream.Stream
				err    error
			}
			results := make(chan result, 2)
			var f *concurrent.Future[*iostream.Stream]
			looptest.Do(t, l, func() {
				f = connect(l, "example.test:80", ConnectOptions{Timeout: timeout}, d.dial)
				f.OnResult(func(s *iostream.Stream, err error) { results <- result{s, err} })
				if tc.cancel {
					f.Cancel()
				}
			})
			var r result
			if tc.waitTimeout {
				r = looptest.Wait(t, results, "the timeout")
			}
			looptest.Do(t, l, func() {
				if tc.dialFails != nil {
					d.deliver(nil, tc.dialFails)
					conn.Close()
				} else {
					d.deliver(conn, nil)
				}
			})
			// Let the timeout pass as well, so a timer left armed shows.
			passed := make(chan struct{})
			l.AddCallback(func() { l.CallLater(2*timeout, func() { close(passed) }) })
			looptest.Wait(t, passed, "twice the timeout")

			if !tc.waitTimeout {
				r = looptest.Wait(t, results, "Connect's result")
			}
			select {
			case extra := <-results:
				t.Fatalf("Connect's future resolved twice: %v, then %v", r, extra)
			default:
			}
			looptest.Do(t, l, func() {
				if d.cancels != tc.wantCancels {
					t.Errorf("the dial was cancelled %d times, want %d", d.cancels, tc.wantCancels)
				}
				if _, err := f.Result(); !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
					t.Errorf("Connect's future: %v, want %v", err, tc.wantErr)
				}
				if r.stream != nil && r.stream.Closed() {
					t.Errorf("the delivered stream was closed: %v", r.stream.CloseCause())
				}
			})
			if tc.wantErr != nil && r.stream != nil {
				t.Fatalf("a stream was delivered with the error %v", r.err)
			}
			if tc.wantErr == nil {
				if r.stream == nil || r.err != nil {
					t.Fatalf("Connect: %v, %v; want a stream", r.stream, r.err)
				}
				looptest.Do(t, l, func() { r.stream.Close(nil) })
			}
			// The loop connection was closed (by Connect, a failed dial,
			// or the test after a delivered stream): the peer reads EOF.
			peer.SetReadDeadline(time.Now().Add(looptest.Watchdog))
			if n, err := peer.Read(make([]byte, 1)); err != io.EOF {
				t.Errorf("the connection's peer read %d bytes, %v; want EOF: the connection was left open", n, err)
			}
		})
	}
}

func TestConnectTimeoutDefaults(t *testing.T) {
	tests := []struct {
		set, want time.Duration
	}{
		{0, DefaultConnectTimeout},
		{250 * time.Millisecond, 250 * time.Millisecond},
		{-1, -1}, // no timer: only the kernel bounds the connect
	}
	for _, tc := range tests {
		if got := (ConnectOptions{Timeout: tc.set}).timeout(); got != tc.want {
			t.Errorf("Timeout %v resolves to %v, want %v", tc.set, got, tc.want)
		}
	}
	if DefaultConnectTimeout != 20*time.Second {
		t.Errorf("DefaultConnectTimeout = %v; the docs promise 20 s", DefaultConnectTimeout)
	}
}
