//go:build race

package ioloop_test

import (
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"chat/framework/ioloop"
	"chat/framework/ioloop/looptest"
)

// raceHelperEnv selects the misuse TestRaceHelperMisusesBuffers commits
// when this test binary runs itself as a subprocess.
const raceHelperEnv = "IOLOOP_RACE_HELPER"

// The race detector must see the bytes the loop hands to and takes from
// the kernel: a user who keeps a read slice past its callback, or changes
// a buffer while the loop writes it, is reported. Each case runs this test
// binary again (it is already built with -race) so the expected report
// does not fail this process.
func TestRaceDetectorSeesSocketBuffers(t *testing.T) {
	if os.Getenv(raceHelperEnv) != "" {
		t.Skip("running as the helper")
	}
	tests := []struct {
		name, misuse string
	}{
		{"read slice kept past its callback", "read"},
		{"write buffer changed while the loop writes it", "write"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestRaceHelperMisusesBuffers$", "-test.count=1", "-test.v")
			cmd.Env = append(os.Environ(), raceHelperEnv+"="+tc.misuse, "GORACE=halt_on_error=0")
			out, _ := cmd.CombinedOutput()
			if !strings.Contains(string(out), "WARNING: DATA RACE") {
				t.Fatalf("the race detector did not report the %s misuse; helper output:\n%s", tc.misuse, out)
			}
			if !strings.Contains(string(out), "HELPER-DONE") {
				t.Fatalf("helper did not finish its misuse; output:\n%s", out)
			}
		})
	}
}

// TestRaceHelperMisusesBuffers is not a test of its own: run by
// TestRaceDetectorSeesSocketBuffers, it commits one buffer misuse on a
// real loop connection, with no synchronisation between the user's
// goroutine and the loop after the buffer changes hands.
func TestRaceHelperMisusesBuffers(t *testing.T) {
	misuse := os.Getenv(raceHelperEnv)
	if misuse == "" {
		t.Skip("only run as TestRaceDetectorSeesSocketBuffers's subprocess")
	}
	l := looptest.Start(t)
	accepted := make(chan *ioloop.Conn, 1)
	var addr string
	looptest.Do(t, l, func() {
		ln, err := l.Listen("tcp", "127.0.0.1:0", ioloop.ListenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		addr = ln.Addr().String()
		ln.SetAcceptHandler(func(c *ioloop.Conn) { accepted <- c })
	})
	client, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	conn := looptest.Wait(t, accepted, "accepted conn")
	switch misuse {
	case "read":
		keepReadSlice(t, l, conn, client)
	case "write":
		changeWriteBuffer(t, l, conn, client)
	}
	t.Log("HELPER-DONE")
}

// keepReadSlice: the handler gives its read slice to another goroutine,
// which goes on reading it while the loop reads the next bytes into the
// same buffer.
func keepReadSlice(t *testing.T, l *ioloop.Loop, conn *ioloop.Conn, client net.Conn) {
	kept := make(chan []byte, 1)
	secondRead := make(chan struct{})
	var buf [64]byte
	reads := 0
	looptest.Do(t, l, func() {
		conn.SetHandler(ioloop.EventHandlerFunc(func(ioloop.Events) {
			for {
				n, err := conn.Read(buf[:])
				if err != nil {
					return
				}
				if reads++; reads == 1 {
					kept <- buf[:n]
				} else {
					close(secondRead)
				}
			}
		}))
	})
	client.Write([]byte("first"))
	slice := <-kept
	userDone := make(chan int)
	go func() { // the user's goroutine: no synchronisation with the loop
		sum := 0
		deadline := time.Now().Add(200 * time.Millisecond)
		for time.Now().Before(deadline) {
			for _, b := range slice {
				sum += int(b)
			}
		}
		userDone <- sum
	}()
	time.Sleep(20 * time.Millisecond) // not synchronisation: lets the user's reads start first
	client.Write([]byte("second"))
	looptest.Wait(t, secondRead, "second read")
	<-userDone
}

// changeWriteBuffer: the user's goroutine fills a buffer that the loop is
// writing to the socket.
func changeWriteBuffer(t *testing.T, l *ioloop.Loop, conn *ioloop.Conn, client net.Conn) {
	buf := make([]byte, 64)
	userDone := make(chan struct{})
	go func() {
		defer close(userDone)
		deadline := time.Now().Add(200 * time.Millisecond)
		for i := 0; time.Now().Before(deadline); i++ {
			buf[i%len(buf)] = byte(i)
		}
	}()
	written := make(chan struct{})
	time.Sleep(20 * time.Millisecond) // not synchronisation: the user's writes start first
	l.AddCallback(func() {
		l.CallLater(time.Millisecond, func() { // a timer: no edge from the user's goroutine
			conn.Write(buf)
			close(written)
		})
	})
	looptest.Wait(t, written, "loop write")
	client.Read(make([]byte, 64))
	<-userDone
}
