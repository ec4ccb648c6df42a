package rooms

import (
	"testing"
	"time"
)

// The token bucket step by step on a fixed clock: the burst, the wait it
// names, refill, a refund for a write that stored nothing, and the sweep
// that forgets full buckets.
func TestLimiterSteps(t *testing.T) {
	t0 := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	l := newLimiter(RateLimit{Burst: 3, PerSecond: 2})
	steps := []struct {
		at       time.Duration
		do       string // take, refund, sweep
		wantOK   bool
		wantWait time.Duration
		buckets  int
	}{
		{0, "take", true, 0, 1},
		{0, "take", true, 0, 1},
		{0, "take", true, 0, 1},
		{0, "take", false, 500 * time.Millisecond, 1},
		{250 * time.Millisecond, "take", false, 250 * time.Millisecond, 1},
		{500 * time.Millisecond, "take", true, 0, 1},
		{500 * time.Millisecond, "refund", false, 0, 1},
		{500 * time.Millisecond, "take", true, 0, 1},
		{500 * time.Millisecond, "sweep", false, 0, 1}, // not full: kept
		{2 * time.Second, "sweep", false, 0, 0},        // full again: forgotten
		{2 * time.Second, "take", true, 0, 1},
	}
	for i, s := range steps {
		now := t0.Add(s.at)
		switch s.do {
		case "take":
			ok, wait := l.take(7, now)
			if ok != s.wantOK || wait != s.wantWait {
				t.Fatalf("step %d at %v: take = %v, %v; want %v, %v", i, s.at, ok, wait, s.wantOK, s.wantWait)
			}
		case "refund":
			l.refund(7)
		case "sweep":
			l.sweep(now)
		}
		if len(l.buckets) != s.buckets {
			t.Fatalf("step %d: %d buckets; want %d", i, len(l.buckets), s.buckets)
		}
	}
}
