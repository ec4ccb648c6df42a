package ioloop

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Window sizes for the figures in Stats.
const (
	// lagSamples is how many recent lag samples the percentiles are taken
	// over: one per batch of callbacks, one per fired timer and one per
	// batch of I/O events.
	lagSamples = 1024
	// busyBuckets one-second buckets make up the busy-fraction window.
	busyBuckets = 10
	// slowLogSize is how many recent slow callbacks are remembered.
	slowLogSize = 32
)

// Stats is a snapshot of the loop's health, safe to take from any
// goroutine (an admin dashboard polls it).
type Stats struct {
	CallbacksRun uint64 // callbacks run since New
	TimersRun    uint64 // timers fired since New
	IOEvents     uint64 // I/O readiness events dispatched since New
	Panics       uint64 // callbacks and coroutines that panicked (and were recovered)

	// Loop lag: how late work ran compared with when it became due, over
	// the last lagSamples samples: a batch of callbacks from when its first
	// was queued, a timer from its deadline, a batch of ready I/O from when
	// it became ready. On epoll, which does not say when a socket became
	// ready, I/O that woke the sleeping loop counts zero and I/O found
	// ready while the loop was busy counts the time since the loop last
	// looked (an upper bound). High lag means the loop is overloaded or
	// something blocks it.
	LagP50, LagP99, LagMax time.Duration

	// BusyFraction is the share of wall time the loop spent running
	// callbacks, timers and I/O handlers rather than sleeping in the
	// poller, over the last ~10 s. IOBusyFraction is the I/O handlers'
	// part of it.
	BusyFraction   float64
	IOBusyFraction float64

	// QueuedCallbacks is how many callbacks wait for the loop's next
	// iteration; PendingTimers how many timers are scheduled.
	QueuedCallbacks int
	PendingTimers   int
	// DroppedCallbacks counts callbacks that never ran because the loop
	// was closed (added after Close, or still queued when it ran).
	DroppedCallbacks uint64

	OpenConns     int // connections registered with the loop
	Coroutines    int // live coroutines (started by Go, not yet ended): one goroutine each
	Executors     []ExecutorStats
	SlowCallbacks []SlowCallback // most recent last
}

// SlowCallback records one callback, timer or I/O handler that held the
// loop longer than Options.SlowCallback.
type SlowCallback struct {
	At       time.Time
	Duration time.Duration
	// Where names the code: a callback's function and the file:line it was
	// defined at; for an I/O handler its HandlerDescriber answer, or its
	// function or type.
	Where string
}

// statsRecorder collects the figures. Counters are atomics bumped by the
// loop; windows sit under mu, taken by the loop about once per iteration
// and by readers in Stats.
type statsRecorder struct {
	callbacksRun atomic.Uint64
	timersRun    atomic.Uint64
	ioEvents     atomic.Uint64
	panics       atomic.Uint64
	timers       atomic.Int64 // pending timers; the heap is loop-owned
	coroutines   atomic.Int64 // live coroutines; the set is loop-owned
	// droppedCallbacks counts callbacks added after Close, or still queued
	// when it ran.
	droppedCallbacks atomic.Uint64

	mu       sync.Mutex
	lag      []time.Duration // ring buffer
	lagNext  int
	lagFull  bool
	buckets  [busyBuckets]busyBucket
	slow     []SlowCallback
	slowNext int
}

type busyBucket struct {
	second          int64 // unix second this bucket counts
	busy, io, total time.Duration
}

func (s *statsRecorder) init() {
	s.lag = make([]time.Duration, lagSamples)
}

func (s *statsRecorder) recordLag(d time.Duration) {
	if d < 0 {
		d = 0
	}
	s.mu.Lock()
	s.lag[s.lagNext] = d
	s.lagNext++
	if s.lagNext == len(s.lag) {
		s.lagNext, s.lagFull = 0, true
	}
	s.mu.Unlock()
}

// recordIteration adds one loop iteration ending at end: busy running
// callbacks and timers, then waited in the poller, then io running I/O
// handlers.
func (s *statsRecorder) recordIteration(end time.Time, busy, waited, io time.Duration) {
	now := end.Unix()
	s.mu.Lock()
	b := &s.buckets[now%busyBuckets]
	if b.second != now {
		*b = busyBucket{second: now}
	}
	b.busy += busy + io
	b.io += io
	b.total += busy + waited + io
	s.mu.Unlock()
}

func (s *statsRecorder) recordSlow(at time.Time, d time.Duration, where string) {
	s.mu.Lock()
	entry := SlowCallback{At: at, Duration: d, Where: where}
	if len(s.slow) < slowLogSize {
		s.slow = append(s.slow, entry)
	} else {
		s.slow[s.slowNext] = entry
		s.slowNext = (s.slowNext + 1) % slowLogSize
	}
	s.mu.Unlock()
}

// Stats returns a snapshot of the loop's figures. Safe from any goroutine.
func (l *Loop) Stats() Stats {
	s := &l.stats
	out := Stats{
		CallbacksRun:     s.callbacksRun.Load(),
		TimersRun:        s.timersRun.Load(),
		IOEvents:         s.ioEvents.Load(),
		Panics:           s.panics.Load(),
		OpenConns:        int(l.openConns.Load()),
		Coroutines:       int(s.coroutines.Load()),
		PendingTimers:    int(s.timers.Load()),
		DroppedCallbacks: s.droppedCallbacks.Load(),
	}
	l.mu.Lock()
	out.QueuedCallbacks = len(l.queue)
	l.mu.Unlock()
	l.executorsMu.Lock()
	for _, ex := range l.executors {
		out.Executors = append(out.Executors, ex.Stats())
	}
	l.executorsMu.Unlock()

	s.mu.Lock()
	n := s.lagNext
	if s.lagFull {
		n = len(s.lag)
	}
	lags := slices.Clone(s.lag[:n])
	now := time.Now().Unix()
	var busy, io, total time.Duration
	for _, b := range s.buckets {
		if now-b.second < busyBuckets {
			busy += b.busy
			io += b.io
			total += b.total
		}
	}
	// Oldest first: the ring's tail, then its head.
	out.SlowCallbacks = append(slices.Clone(s.slow[s.slowNext:]), s.slow[:s.slowNext]...)
	s.mu.Unlock()

	if total > 0 {
		out.BusyFraction = float64(busy) / float64(total)
		out.IOBusyFraction = float64(io) / float64(total)
	}
	if len(lags) > 0 {
		slices.Sort(lags)
		out.LagP50 = lags[len(lags)*50/100]
		out.LagP99 = lags[min(len(lags)*99/100, len(lags)-1)]
		out.LagMax = lags[len(lags)-1]
	}
	return out
}
