package asynctest_test

import (
	"errors"
	"testing"
	"time"

	"chat/framework/asynctest"
	"chat/framework/concurrent"
	"chat/framework/ioloop"
)

// A connect to HangingAddr neither completes nor fails until its own
// timeout, for distinct timeouts.
func TestHangingAddr(t *testing.T) {
	l := asynctest.Start(t)
	addr := asynctest.HangingAddr(t, l)
	for _, timeout := range []time.Duration{60 * time.Millisecond, 180 * time.Millisecond} {
		start := time.Now()
		_, err := asynctest.Await(t, l, func() *concurrent.Future[*ioloop.Conn] {
			return l.Dial("tcp", addr, ioloop.DialOptions{Timeout: timeout})
		})
		elapsed := time.Since(start)
		if !errors.Is(err, ioloop.ErrDialTimeout) {
			t.Fatalf("Dial %s: %v, want ErrDialTimeout", addr, err)
		}
		if elapsed < timeout || elapsed > 3*timeout {
			t.Fatalf("Dial with timeout %v ended after %v", timeout, elapsed)
		}
	}
}
