package ioloop

import (
	"container/heap"
	"time"
)

// Timer is a callback scheduled for a moment in time, returned by CallAt and
// CallLater. Its methods must be called on the loop goroutine.
type Timer struct {
	loop     *Loop
	deadline time.Time
	seq      uint64 // breaks ties: equal deadlines fire in scheduling order
	fn       func()
	index    int // position in the heap; -1 once fired or cancelled
}

// Cancel stops the timer from firing. It reports whether the timer was
// still pending. Removing it from the heap is O(log n).
func (t *Timer) Cancel() bool {
	if t.index < 0 {
		return false
	}
	t.loop.AssertOnLoop()
	heap.Remove(&t.loop.timers, t.index)
	t.loop.stats.timers.Add(-1)
	t.fn = nil
	return true
}

// Pending reports whether the timer has neither fired nor been cancelled.
func (t *Timer) Pending() bool { return t.index >= 0 }

// Deadline returns when the timer fires (or would have fired).
func (t *Timer) Deadline() time.Time { return t.deadline }

// CallAt schedules fn to run on the loop at deadline (or as soon after as
// the loop is free). Loop goroutine only.
func (l *Loop) CallAt(deadline time.Time, fn func()) *Timer {
	l.AssertOnLoop()
	l.timerSeq++
	t := &Timer{loop: l, deadline: deadline, seq: l.timerSeq, fn: fn}
	heap.Push(&l.timers, t)
	l.stats.timers.Add(1)
	return t
}

// CallLater schedules fn to run on the loop after d. Loop goroutine only.
func (l *Loop) CallLater(d time.Duration, fn func()) *Timer {
	return l.CallAt(time.Now().Add(d), fn)
}

// CallLaterFunc is CallLater returning just the cancel function; it makes
// *Loop satisfy concurrent.Timers.
func (l *Loop) CallLaterFunc(d time.Duration, fn func()) (cancel func()) {
	t := l.CallLater(d, fn)
	return func() { t.Cancel() }
}

// runDueTimers fires every timer whose deadline is not after now, in
// deadline order. Timers scheduled by these callbacks for a deadline that is
// already due wait for the next iteration, so a zero-delay timer that
// re-arms itself cannot starve I/O.
func (l *Loop) runDueTimers(now time.Time) {
	fired := 0
	limit := l.timers.Len()
	for fired < limit && l.timers.Len() > 0 {
		t := l.timers[0]
		if t.deadline.After(now) {
			break
		}
		heap.Pop(&l.timers)
		l.stats.timers.Add(-1)
		fn := t.fn
		t.fn = nil
		l.stats.recordLag(now.Sub(t.deadline))
		l.runProtected(fn)
		fired++
	}
	l.stats.timersRun.Add(uint64(fired))
}

// timerHeap is a min-heap of timers by (deadline, seq); it implements
// container/heap.Interface and keeps each timer's index current so Cancel
// can remove it directly.
type timerHeap []*Timer

func (h timerHeap) Len() int { return len(h) }

func (h timerHeap) Less(i, j int) bool {
	if h[i].deadline.Equal(h[j].deadline) {
		return h[i].seq < h[j].seq
	}
	return h[i].deadline.Before(h[j].deadline)
}

func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}

func (h *timerHeap) Push(x any) {
	t := x.(*Timer)
	t.index = len(*h)
	*h = append(*h, t)
}

func (h *timerHeap) Pop() any {
	old := *h
	n := len(old)
	t := old[n-1]
	old[n-1] = nil
	t.index = -1
	*h = old[:n-1]
	return t
}

func (h timerHeap) nextDeadline() (time.Time, bool) {
	if len(h) == 0 {
		return time.Time{}, false
	}
	return h[0].deadline, true
}

// PeriodicCallback runs a function every interval on the loop, like
// Tornado's PeriodicCallback. Each run is scheduled from the previous
// deadline, not from when the previous run finished, so it does not drift;
// runs missed because the loop was busy are skipped, not bunched up.
// Its methods must be called on the loop goroutine.
type PeriodicCallback struct {
	loop     *Loop
	interval time.Duration
	fn       func()
	next     time.Time
	timer    *Timer
	active   bool // between Start and Stop
}

// NewPeriodicCallback prepares fn to run every interval once Start is
// called. The interval must be positive.
func NewPeriodicCallback(l *Loop, interval time.Duration, fn func()) *PeriodicCallback {
	if interval <= 0 {
		panic("ioloop: PeriodicCallback interval must be positive")
	}
	return &PeriodicCallback{loop: l, interval: interval, fn: fn}
}

// Start schedules the first run one interval from now. Starting a running
// callback does nothing.
func (p *PeriodicCallback) Start() {
	if p.active {
		return
	}
	p.active = true
	p.next = time.Now().Add(p.interval)
	p.timer = p.loop.CallAt(p.next, p.run)
}

// Stop cancels future runs.
func (p *PeriodicCallback) Stop() {
	p.active = false
	if p.timer != nil {
		p.timer.Cancel()
		p.timer = nil
	}
}

// Running reports whether the callback is scheduled.
func (p *PeriodicCallback) Running() bool { return p.active }

func (p *PeriodicCallback) run() {
	p.timer = nil
	defer p.schedule() // even if fn panics, the next run stays scheduled
	p.fn()
}

func (p *PeriodicCallback) schedule() {
	if !p.active || p.timer != nil { // fn called Stop, or Stop then Start
		return
	}
	now := time.Now()
	p.next = p.next.Add(p.interval)
	if !p.next.After(now) {
		// The loop fell behind by whole intervals: skip the missed runs
		// but stay on the original phase.
		missed := now.Sub(p.next)/p.interval + 1
		p.next = p.next.Add(missed * p.interval)
	}
	p.timer = p.loop.CallAt(p.next, p.run)
}
