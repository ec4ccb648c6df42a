package ioloop_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"chat/framework/ioloop"
	"chat/framework/ioloop/looptest"
)

// listenAndDial listens on 127.0.0.1:0 on the loop, dials it with a plain
// net.Conn and returns both ends.
func listenAndDial(t *testing.T, l *ioloop.Loop) (*ioloop.Conn, net.Conn) {
	t.Helper()
	accepted := make(chan *ioloop.Conn, 1)
	var addr string
	looptest.Do(t, l, func() {
		ln, err := l.Listen("tcp", "127.0.0.1:0", ioloop.ListenOptions{})
		if err != nil {
			t.Fatalf("Listen: %v", err)
		}
		addr = ln.Addr().String()
		ln.SetAcceptHandler(func(c *ioloop.Conn) { accepted <- c; ln.Close() })
	})
	client, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { client.Close() })
	return looptest.Wait(t, accepted, "accepted connection"), client
}

// drain reads the connection until it would block and returns how many
// bytes it read and whether the peer is gone.
func drain(c *ioloop.Conn) (int, bool) {
	var buf [512]byte
	total := 0
	for {
		n, err := c.Read(buf[:])
		total += n
		if errors.Is(err, ioloop.ErrWouldBlock) {
			return total, false
		}
		if err != nil {
			return total, true
		}
	}
}

// burn holds the loop with CPU work, as a handler that does real work on
// every event would.
func burn(d time.Duration) {
	for start := time.Now(); time.Since(start) < d; {
	}
}

// A loop whose I/O handlers burn CPU on every event is busy nearly all the
// time and its I/O waits behind that work: Stats must say so.
func TestStatsSeeASaturatedLoop(t *testing.T) {
	l := looptest.StartWith(t, ioloop.Options{SlowCallback: -1})
	const (
		perEvent = 2 * time.Millisecond // CPU each readiness event costs
		clients  = 4
		inFlight = 2   // bytes each client keeps unanswered, so the loop never runs dry
		events   = 150 // handler runs to measure over
	)
	handled := make(chan struct{})
	runs := 0
	var addr string
	looptest.Do(t, l, func() {
		ln, err := l.Listen("tcp", "127.0.0.1:0", ioloop.ListenOptions{})
		if err != nil {
			t.Fatalf("Listen: %v", err)
		}
		addr = ln.Addr().String()
		reply := bytes.Repeat([]byte{'r'}, clients*inFlight)
		ln.SetAcceptHandler(func(c *ioloop.Conn) {
			owed := 0 // reply bytes not yet taken by the socket
			c.SetHandler(ioloop.EventHandlerFunc(func(ioloop.Events) {
				n, gone := drain(c)
				if gone {
					c.Close()
					return
				}
				if n > 0 {
					burn(perEvent)
					if runs++; runs == events {
						close(handled)
					}
				}
				if owed += n; owed > 0 { // one reply byte per byte read
					written, _ := c.Write(reply[:min(owed, len(reply))])
					owed -= written
				}
			}))
		})
	})
	stop := make(chan struct{})
	var clientsDone sync.WaitGroup
	for range clients {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("Dial: %v", err)
		}
		clientsDone.Add(1)
		go func() { // answer every reply byte with a new request byte
			defer clientsDone.Done()
			defer conn.Close()
			conn.Write(bytes.Repeat([]byte{'q'}, inFlight))
			var buf [64]byte
			for {
				n, err := conn.Read(buf[:])
				if err != nil {
					return
				}
				select {
				case <-stop:
					return
				default:
				}
				conn.Write(buf[:n])
			}
		}()
	}
	looptest.Wait(t, handled, "handler runs")
	st := l.Stats()
	close(stop)
	clientsDone.Wait()
	if st.BusyFraction < 0.8 || st.IOBusyFraction < 0.7 {
		t.Errorf("BusyFraction %.3f, IOBusyFraction %.3f; want >= 0.8 and >= 0.7 for a loop whose I/O handlers never let it sleep",
			st.BusyFraction, st.IOBusyFraction)
	}
	if st.LagP99 < perEvent {
		t.Errorf("LagP99 %v (p50 %v, max %v); want >= %v: ready I/O waits behind handlers that each hold the loop %v",
			st.LagP99, st.LagP50, st.LagMax, perEvent, perEvent)
	}
	t.Logf("BusyFraction %.3f IOBusyFraction %.3f lag p50 %v p99 %v max %v, %d I/O events",
		st.BusyFraction, st.IOBusyFraction, st.LagP50, st.LagP99, st.LagMax, st.IOEvents)
}

// describedHandler names itself the way a stream names its pending read's
// callback.
type describedHandler struct {
	conn    *ioloop.Conn
	name    string
	closeIt bool
	panicIt bool
	ran     chan struct{}
}

func (h *describedHandler) HandleEvents(ioloop.Events) {
	if n, _ := drain(h.conn); n == 0 {
		return
	}
	defer close(h.ran)
	handleSlowly(h.conn, h.closeIt, h.panicIt)
}

func (h *describedHandler) DescribeHandler() string { return h.name }

// slowIOHandler is a plain EventHandlerFunc doing the same.
func slowIOHandler(c *ioloop.Conn, closeIt, panicIt bool, ran chan struct{}) ioloop.EventHandlerFunc {
	return func(ioloop.Events) {
		if n, _ := drain(c); n == 0 {
			return
		}
		defer close(ran)
		handleSlowly(c, closeIt, panicIt)
	}
}

// handleSlowly holds the loop past Options.SlowCallback, then closes the
// connection or panics as asked.
func handleSlowly(c *ioloop.Conn, closeIt, panicIt bool) {
	time.Sleep(15 * time.Millisecond)
	if closeIt {
		c.Close()
	}
	if panicIt {
		panic("handler exploded")
	}
}

// Slow and panicking I/O handlers are named by what the user wrote: a
// HandlerDescriber's answer, or the EventHandlerFunc's function, even
// when the handler closed its connection before returning.
func TestSlowAndPanickingIOHandlersAreNamed(t *testing.T) {
	tests := []struct {
		name      string
		described bool
		closeIt   bool
		panicIt   bool
		want      string
	}{
		{"func handler", false, false, false, "slowIOHandler"},
		{"func handler that closes its conn", false, true, false, "slowIOHandler"},
		{"described handler", true, false, false, "read callback onChatLine"},
		{"described handler that closes its conn", true, true, false, "read callback onChatLine"},
		{"described handler that panics", true, false, true, "read callback onChatLine"},
		{"func handler that closes its conn and panics", false, true, true, "slowIOHandler"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			var logMu sync.Mutex
			logger := slog.New(slog.NewTextHandler(lockedWriter{&logMu, &logs}, nil))
			l := looptest.StartWith(t, ioloop.Options{SlowCallback: 5 * time.Millisecond, Logger: logger})
			conn, client := listenAndDial(t, l)
			ran := make(chan struct{})
			looptest.Do(t, l, func() {
				if tc.described {
					conn.SetHandler(&describedHandler{conn: conn, name: tc.want, closeIt: tc.closeIt, panicIt: tc.panicIt, ran: ran})
				} else {
					conn.SetHandler(slowIOHandler(conn, tc.closeIt, tc.panicIt, ran))
				}
			})
			client.Write([]byte("x"))
			looptest.Wait(t, ran, "handler")
			looptest.Do(t, l, func() {}) // the dispatch that ran it has returned and been recorded
			var where []string
			for _, sc := range l.Stats().SlowCallbacks {
				where = append(where, sc.Where)
			}
			if !containsWith(where, tc.want) {
				t.Errorf("slow records %q; want one naming %q", where, tc.want)
			}
			logMu.Lock()
			defer logMu.Unlock()
			if strings.Contains(logs.String(), "<nil>") {
				t.Errorf("log names a nil handler:\n%s", logs.String())
			}
			if tc.panicIt && !strings.Contains(logs.String(), "handler exploded") {
				t.Errorf("log lacks the panic:\n%s", logs.String())
			}
			for _, line := range strings.Split(logs.String(), "\n") {
				if strings.Contains(line, "panicked") && !strings.Contains(line, tc.want) {
					t.Errorf("panic log does not name %q: %s", tc.want, line)
				}
			}
		})
	}
}

func containsWith(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// Stats counts the callbacks waiting for the loop and the timers pending.
func TestStatsCountQueuedCallbacksAndPendingTimers(t *testing.T) {
	l := looptest.Start(t)
	var cancelled *ioloop.Timer
	looptest.Do(t, l, func() {
		for range 3 {
			l.CallLater(time.Hour, func() {})
		}
		cancelled = l.CallLater(time.Hour, func() {})
		l.CallLater(0, func() {}) // fires at once
	})
	looptest.Do(t, l, func() { cancelled.Cancel() })
	held, release := make(chan struct{}), make(chan struct{})
	l.AddCallback(func() { close(held); <-release })
	<-held
	for range 5 {
		l.AddCallback(func() {})
	}
	st := l.Stats()
	close(release)
	if st.QueuedCallbacks != 5 || st.PendingTimers != 3 {
		t.Fatalf("QueuedCallbacks %d, PendingTimers %d; want 5 and 3", st.QueuedCallbacks, st.PendingTimers)
	}
}

// FuncName names a function by its definition.
func TestFuncName(t *testing.T) {
	got := ioloop.FuncName(burn)
	if !strings.Contains(got, "ioloop_test.burn") || !strings.Contains(got, "stats_test.go") {
		t.Fatalf("FuncName(burn) = %q; want the function and its file", got)
	}
}
