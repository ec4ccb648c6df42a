package accounts

import (
	"fmt"
	"testing"
	"time"
)

// The throttle's tables are bounded: past the bound the entry touched
// longest ago goes; the sweep drops what is older than its cutoff, and
// only that.
func TestLRUBounded(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	l := newLRU[int](3)
	for i := range 5 {
		*l.touch(fmt.Sprint(i), now.Add(time.Duration(i)*time.Second)) = i
	}
	if l.len() != 3 || l.get("0") != nil || l.get("1") != nil || *l.get("4") != 4 {
		t.Fatalf("after 5 touches of a table of 3: len %d", l.len())
	}
	l.touch("2", now.Add(10*time.Second)) // 2 is now the newest; 3 the oldest
	l.touch("5", now.Add(11*time.Second))
	if l.get("3") != nil || l.get("2") == nil {
		t.Fatal("evicted the wrong entry")
	}
	l.dropTouchedBefore(now.Add(10 * time.Second))
	if l.len() != 2 || l.get("4") != nil || l.get("2") == nil || l.get("5") == nil {
		t.Fatalf("sweep left %d entries", l.len())
	}
	if len(l.entries) != l.order.Len() {
		t.Fatalf("map %d and list %d disagree", len(l.entries), l.order.Len())
	}
}

// The delays: none for the free failures, then 1 s doubling to the cap,
// counted from the last failure; nothing once the window passed.
func TestFailureDelays(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	var f failures
	for i := 1; i <= 40; i++ {
		f.add(now)
		want := time.Duration(0)
		if n := i - throttleFreeFailures; n >= 0 {
			want = throttleMaxDelay
			if n < 9 {
				want = time.Second << n
			}
		}
		if got := f.wait(now, throttleFreeFailures); got != want {
			t.Fatalf("after %d failures: wait %v, want %v", i, got, want)
		}
	}
	if got := f.wait(now.Add(throttleWindow), throttleFreeFailures); got != 0 {
		t.Fatalf("after the window: wait %v", got)
	}
	f.add(now.Add(throttleWindow))
	if f.count != 1 {
		t.Fatalf("a failure after the window counts %d, want 1", f.count)
	}
	var none *failures
	if none.wait(now, throttleFreeFailures) != 0 {
		t.Fatal("no failures should mean no wait")
	}
}

// A window of the rate limiter: limit events, then the wait until the
// window ends; a refund gives one back; no limit allows everything.
func TestRateLimiter(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	r := newRateLimiter(2, time.Minute)
	for i := range 2 {
		if w := r.take("a", now.Add(time.Duration(i)*time.Second)); w != 0 {
			t.Fatalf("event %d refused: %v", i, w)
		}
	}
	if w := r.take("a", now.Add(20*time.Second)); w != 40*time.Second {
		t.Fatalf("third event: wait %v, want 40s", w)
	}
	if w := r.take("b", now); w != 0 {
		t.Fatal("another key shares the window")
	}
	r.refund("a")
	if w := r.take("a", now.Add(30*time.Second)); w != 0 {
		t.Fatal("a refunded event was not given back")
	}
	if w := r.take("a", now.Add(time.Minute)); w != 0 {
		t.Fatal("a new window did not start")
	}
	off := newRateLimiter(0, time.Minute)
	for range 100 {
		if off.take("a", now) != 0 {
			t.Fatal("a limit of zero refused")
		}
	}
}
