package ioloop

import (
	"testing"
	"time"
)

// The schedule advances by exactly one interval from the previous
// deadline, however late a run was, and skips whole missed intervals.
func TestPeriodicCallbackDoesNotDrift(t *testing.T) {
	l, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	const interval = 10 * time.Millisecond
	p := NewPeriodicCallback(l, interval, func() {})
	p.Start()
	first := p.next
	tests := []struct {
		name     string
		lateness time.Duration
		wantNext time.Duration // from first
	}{
		{"on time", 0, interval},
		{"a little late", 3 * time.Millisecond, 2 * interval},
		{"two and a half intervals late", 25 * time.Millisecond, 5 * interval},
	}
	for _, tc := range tests {
		// Pretend the run happened late by moving the phase back.
		p.timer.Cancel()
		p.timer = nil
		behind := time.Until(p.next) + tc.lateness
		p.next = p.next.Add(-behind)
		first = first.Add(-behind)
		p.schedule()
		if got := p.next.Sub(first); got != tc.wantNext {
			t.Errorf("%s: next run %v after the first; want %v", tc.name, got, tc.wantNext)
		}
	}
}
