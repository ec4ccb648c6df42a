package iostream_test

import (
	"bufio"
	"bytes"
	"net"
	"slices"
	"testing"
	"time"

	"chat/framework/ioloop/looptest"
	"chat/framework/iostream"
	"chat/framework/tcpserver"
)

// busyWait holds the loop for d without sleeping, like a handler whose work
// (a broadcast to a room, say) costs d of CPU.
func busyWait(d time.Duration) {
	for start := time.Now(); time.Since(start) < d; {
	}
}

// TestAFloodingClientDoesNotStarveTheLoop has one client send 200,000 short
// lines, each costing its handler 20 µs, while another client pings and a
// timer ticks on the same loop. The flood alone is 4 s of work; the ping
// must be answered and the timer must fire as if the loop were nearly idle,
// while the flood is still being served.
func TestAFloodingClientDoesNotStarveTheLoop(t *testing.T) {
	const (
		floodLines = 200_000
		lineCost   = 20 * time.Microsecond
		samples    = 10
		timerDelay = 10 * time.Millisecond
		// A ping crosses the loop in well under a millisecond when it is
		// idle; a fair loop adds at most a few turns of the flood.
		maxMedianPing = 25 * time.Millisecond
		// The timer's deadline plus the same allowance: it fires within
		// 3x its delay.
		maxMedianTimerLateness = 2 * timerDelay
	)
	l := looptest.Start(t)
	var flood *iostream.Stream // loop-owned
	handled := 0               // flood lines handled; loop-owned
	floodStarted := make(chan struct{})
	lateness := make(chan time.Duration, samples)

	var tick func(n int)
	tick = func(n int) {
		due := time.Now().Add(timerDelay)
		l.CallLater(timerDelay, func() {
			lateness <- time.Since(due)
			if n+1 < samples {
				tick(n + 1)
			}
		})
	}
	var floodLine iostream.ReadCallback
	floodLine = func(_ []byte, err error) {
		if err != nil {
			return
		}
		busyWait(lineCost)
		if handled++; handled == 100 {
			close(floodStarted)
			tick(0)
		}
		flood.ReadUntil([]byte("\n"), 0, floodLine)
	}
	srv := &tcpserver.Server{Loop: l, Handler: func(s *iostream.Stream) {
		s.ReadUntil([]byte("\n"), 0, func(role []byte, err error) {
			switch string(role) {
			case "flood\n":
				flood = s
				s.ReadUntil([]byte("\n"), 0, floodLine)
			case "echo\n":
				echoLines(s)
			}
		})
	}}
	var addr net.Addr
	looptest.Do(t, l, func() {
		var err error
		if addr, err = srv.Listen("127.0.0.1:0"); err != nil {
			t.Fatalf("Listen: %v", err)
		}
	})
	t.Cleanup(func() {
		l.AddCallback(func() {
			srv.Close()
			if flood != nil {
				flood.Close(nil)
			}
		})
	})

	flooder := dial(t, addr)
	go func() {
		flooder.Write(append([]byte("flood\n"), bytes.Repeat([]byte("x\n"), floodLines)...))
	}()
	pinger := dial(t, addr)
	write(t, pinger, "echo\n")
	replies := bufio.NewReader(pinger)
	looptest.Wait(t, floodStarted, "the flood's first lines")

	var pings []time.Duration
	for range samples {
		start := time.Now()
		write(t, pinger, "ping\n")
		if line, err := replies.ReadString('\n'); err != nil || line != "ping\n" {
			t.Fatalf("echo = %q, %v", line, err)
		}
		pings = append(pings, time.Since(start))
	}
	var late []time.Duration
	for range samples {
		late = append(late, looptest.Wait(t, lateness, "timer"))
	}
	var handledAtEnd int
	looptest.Do(t, l, func() { handledAtEnd = handled })

	t.Logf("ping round trips %v; timer lateness %v; flood lines handled by then %d of %d", pings, late, handledAtEnd, floodLines)
	if handledAtEnd == floodLines {
		t.Errorf("the flood was over before the pings and timers were served: the loop served them only once it had nothing else to do")
	}
	if m := median(pings); m > maxMedianPing {
		t.Errorf("median ping round trip %v during the flood; want <= %v", m, maxMedianPing)
	}
	if m := median(late); m > maxMedianTimerLateness {
		t.Errorf("median timer lateness %v during the flood; want <= %v", m, maxMedianTimerLateness)
	}
}

// echoLines echoes every line until the peer leaves.
func echoLines(s *iostream.Stream) {
	var next iostream.ReadCallback
	next = func(line []byte, err error) {
		if err != nil {
			s.Close(err)
			return
		}
		s.Write(append([]byte(nil), line...))
		s.ReadUntil([]byte("\n"), 0, next)
	}
	s.ReadUntil([]byte("\n"), 0, next)
}

func dial(t *testing.T, addr net.Addr) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func median(ds []time.Duration) time.Duration {
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	return sorted[len(sorted)/2]
}
