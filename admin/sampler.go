package admin

import (
	"errors"
	"math"
	"os"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"time"

	"chat/framework/ioloop"
	"chat/rooms"
	"chat/store"
)

// The sampler's window: one sample a second, ten minutes of them.
const (
	SampleInterval = time.Second
	HistorySize    = 600
	// slowShown is how many of the loop's recent slow callbacks a sample
	// carries, the slowest first.
	slowShown = 10
)

// Sample is the server at one moment, as the live panel draws it and
// /metrics exports it. Rates ("per second") are counter deltas since the
// previous sample divided by the time between the two, so the first
// sample's rates are zero. Times are in milliseconds, as floats, for the
// page; /metrics converts them to seconds.
type Sample struct {
	At int64 `json:"at"` // when it was taken, Unix milliseconds

	// Traffic, from the delivery engine (rooms.Engine.Stats).
	ConnsWS   int `json:"conns_ws"`   // WebSockets open now (members of a room's hub)
	ConnsSSE  int `json:"conns_sse"`  // Server-Sent Events streams open now
	ConnsPoll int `json:"conns_poll"` // long polls parked now, waiting for an event
	// UsersOnline is who is present, summed over the active rooms: one
	// person in two rooms counts twice; a person who left less than the
	// presence grace ago still counts.
	UsersOnline int `json:"users_online"`
	// RoomsActive counts the rooms whose hub is loaded: someone is
	// connected, or was within the engine's HubIdle (a minute).
	RoomsActive      int     `json:"rooms_active"`
	MessagesPerSec   float64 `json:"messages_per_s"`   // posts accepted (stored) per second
	DeliveriesPerSec float64 `json:"deliveries_per_s"` // events handed to connections per second: one event to 100 members is 100
	RefusalsPerSec   float64 `json:"refusals_per_s"`   // posts refused per second (rate limit, mute, lock, slow mode, bad input)

	// The loop itself (ioloop.Stats). Lag is how late work ran after it
	// became due, over the loop's last 1024 lag samples; Busy the share of
	// the last ~10 s the loop spent running callbacks, timers and I/O
	// handlers rather than waiting in the poller.
	LagP50Ms        float64 `json:"lag_p50_ms"`
	LagP99Ms        float64 `json:"lag_p99_ms"`
	LagMaxMs        float64 `json:"lag_max_ms"`
	Busy            float64 `json:"busy"`            // 0..1
	IOBusy          float64 `json:"io_busy"`         // the I/O handlers' part of Busy
	CallbacksPerSec float64 `json:"callbacks_per_s"` // callbacks run per second
	TimersPerSec    float64 `json:"timers_per_s"`    // timers fired per second
	IOEventsPerSec  float64 `json:"io_events_per_s"` // I/O readiness events dispatched per second
	QueuedCallbacks int     `json:"queued_callbacks"`
	PendingTimers   int     `json:"pending_timers"`
	LoopConns       int     `json:"loop_conns"` // sockets registered with the loop: every door's connections and the listeners
	Coroutines      int     `json:"coroutines"`
	// Slow are the slowest of the loop's recent callbacks that held it
	// longer than its SlowCallback threshold (the loop keeps the last 32),
	// slowest first, with where they were scheduled. The history frame
	// leaves them out (null there; a live sample has a list, maybe empty).
	Slow      []SlowCall       `json:"slow"`
	Executors []ExecutorSample `json:"executors"`

	// The store's group-commit writer (store.WriterStats). A commit's
	// time runs from BEGIN to the end of COMMIT, fsync included; the
	// recent figures cover the latest 256 commits.
	CommitLastMs  float64 `json:"commit_last_ms"`
	CommitMeanMs  float64 `json:"commit_mean_ms"`
	CommitP99Ms   float64 `json:"commit_p99_ms"`
	BatchLast     int     `json:"batch_last"`    // writes in the latest commit
	BatchMean     float64 `json:"batch_mean"`    // mean writes per commit, recent commits
	CommitsPerSec float64 `json:"commits_per_s"` // transactions committed per second
	WritesPerSec  float64 `json:"writes_per_s"`  // writes committed per second
	StoreQueue    int     `json:"store_queue"`   // writes waiting for the writer now

	// The process (runtime/metrics, and /proc for RSS: no ReadMemStats,
	// which stops the world).
	HeapBytes  uint64  `json:"heap_bytes"` // heap objects, live and not yet swept
	RSSBytes   uint64  `json:"rss_bytes"`  // resident set size; 0 where /proc is missing
	Goroutines int     `json:"goroutines"` // every goroutine: the loop, executor workers, coroutines, the store's writer
	GCPerSec   float64 `json:"gc_per_s"`   // garbage collections completed per second
	// GCPauseMaxMs is the longest GC stop-the-world pause since the
	// previous sample, as the upper bound of the runtime's histogram
	// bucket that holds it (buckets are a few percent wide); 0 when no
	// pause happened.
	GCPauseMaxMs float64 `json:"gc_pause_max_ms"`

	// Totals are the counters the rates come from, since the process
	// started, for /metrics.
	Totals Totals `json:"totals"`
}

// Totals are running counts since start.
type Totals struct {
	Posts      uint64 `json:"posts"`
	Deliveries uint64 `json:"deliveries"`
	Refusals   uint64 `json:"refusals"`
	Callbacks  uint64 `json:"callbacks"`
	Timers     uint64 `json:"timers"`
	IOEvents   uint64 `json:"io_events"`
	Panics     uint64 `json:"panics"` // callbacks and coroutines that panicked and were recovered
	Commits    int64  `json:"commits"`
	Writes     int64  `json:"writes"`
	GCCycles   uint64 `json:"gc_cycles"`
	GCPauses   uint64 `json:"gc_pauses"` // GC stop-the-world pauses
}

// SlowCall is one callback that held the loop too long.
type SlowCall struct {
	At    int64   `json:"at"` // when it started, Unix milliseconds
	Ms    float64 `json:"ms"` // how long it held the loop
	Where string  `json:"where"`
}

// ExecutorSample is one executor's load (ioloop.ExecutorStats): the store
// reads, the passwords' bcrypt, the default one.
type ExecutorSample struct {
	Name           string  `json:"name"`
	Workers        int     `json:"workers"`
	Busy           int     `json:"busy"`      // workers running a job now
	Queue          int     `json:"queue"`     // jobs waiting now
	Capacity       int     `json:"capacity"`  // the queue's bound: a job past it is rejected
	Completed      uint64  `json:"completed"` // jobs done since start
	Rejected       uint64  `json:"rejected"`  // jobs refused with ErrQueueFull since start
	RejectedPerSec float64 `json:"rejected_per_s"`
}

// Sampler takes a Sample every second on the loop and keeps the last
// HistorySize (ten minutes). It is loop-owned: Start, Stop, Tick, History
// and Latest run on the loop; LatestFrom is for other goroutines (the
// Prometheus collector).
type Sampler struct {
	loop   *ioloop.Loop
	engine *rooms.Engine
	store  *store.Store

	periodic *ioloop.PeriodicCallback
	ring     []Sample // HistorySize slots
	next     int      // where the next sample goes
	n        int      // samples held
	prev     reading
	havePrev bool
	// onSample, if set, gets every new sample (the live panel broadcasts
	// it).
	onSample func(Sample)
	// mem is reused by every read of runtime/metrics.
	mem []metrics.Sample
}

// The runtime/metrics the sampler reads, in the order of Sampler.mem.
var runtimeMetrics = []string{
	"/memory/classes/heap/objects:bytes",
	"/sched/goroutines:goroutines",
	"/gc/cycles/total:gc-cycles",
	"/sched/pauses/total/gc:seconds",
}

// NewSampler returns a sampler of the loop, the engine and the store. It
// takes nothing until Start (or Tick).
func NewSampler(loop *ioloop.Loop, engine *rooms.Engine, st *store.Store) *Sampler {
	s := &Sampler{loop: loop, engine: engine, store: st, ring: make([]Sample, HistorySize)}
	s.mem = make([]metrics.Sample, len(runtimeMetrics))
	for i, name := range runtimeMetrics {
		s.mem[i].Name = name
	}
	s.periodic = ioloop.NewPeriodicCallback(loop, SampleInterval, func() { s.Tick(time.Now()) })
	return s
}

// Start takes a first sample now (the base of the first rates) and then
// one every SampleInterval. Starting a running sampler does nothing.
// Loop-only.
func (s *Sampler) Start() {
	s.loop.AssertOnLoop()
	if s.periodic.Running() {
		return
	}
	if !s.havePrev {
		s.prev, s.havePrev = s.read(time.Now()), true
	}
	s.periodic.Start()
}

// Stop ends the sampling; the history stays. Loop-only.
func (s *Sampler) Stop() { s.periodic.Stop() }

// Tick takes one sample as of now, keeps it and hands it to the panel.
// The periodic callback calls it with the time; tests call it directly
// with times of their own, so a rate's interval is exactly what they say.
// Loop-only.
func (s *Sampler) Tick(now time.Time) Sample {
	s.loop.AssertOnLoop()
	cur := s.read(now)
	prev := cur
	if s.havePrev {
		prev = s.prev
	}
	sample := derive(prev, cur)
	s.prev, s.havePrev = cur, true
	s.ring[s.next] = sample
	s.next = (s.next + 1) % len(s.ring)
	s.n = min(s.n+1, len(s.ring))
	if s.onSample != nil {
		s.onSample(sample)
	}
	return sample
}

// History returns the samples held, oldest first. Loop-only.
func (s *Sampler) History() []Sample {
	out := make([]Sample, 0, s.n)
	if s.n == len(s.ring) {
		out = append(out, s.ring[s.next:]...)
	}
	return append(out, s.ring[:s.next]...)
}

// Latest returns the newest sample, or, before the first, one taken now
// (its rates zero) and not kept. Loop-only.
func (s *Sampler) Latest() Sample {
	s.loop.AssertOnLoop()
	if s.n == 0 {
		cur := s.read(time.Now())
		return derive(cur, cur)
	}
	return s.ring[(s.next-1+len(s.ring))%len(s.ring)]
}

// ErrLoopBusy is LatestFrom's answer when the loop did not run its
// callback in time.
var ErrLoopBusy = errors.New("admin: the loop did not answer in time")

// LatestFrom is Latest for another goroutine: it asks the loop with
// AddCallback and waits at most wait for the answer. It must not be
// called on the loop, which would wait for itself.
func (s *Sampler) LatestFrom(wait time.Duration) (Sample, error) {
	answer := make(chan Sample, 1) // buffered: a late answer does not block the loop
	s.loop.AddCallback(func() { answer <- s.Latest() })
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case sample := <-answer:
		return sample, nil
	case <-timer.C:
		return Sample{}, ErrLoopBusy
	}
}

// reading is the raw figures at one moment, from which samples derive.
type reading struct {
	at        time.Time
	loop      ioloop.Stats
	engine    rooms.Stats
	writer    store.WriterStats
	heap      uint64
	routines  uint64
	gcCycles  uint64
	pauses    []uint64  // the GC pause histogram's counts
	pauseEdge []float64 // its bucket boundaries, seconds (shared, never written)
	rss       uint64
}

// read takes the raw figures. Loop-only (Engine.Stats is).
func (s *Sampler) read(now time.Time) reading {
	r := reading{at: now, loop: s.loop.Stats(), engine: s.engine.Stats(), writer: s.store.WriterStats(), rss: ResidentBytes()}
	metrics.Read(s.mem)
	for _, m := range s.mem {
		switch m.Name {
		case runtimeMetrics[0]:
			r.heap = uint64Of(m.Value)
		case runtimeMetrics[1]:
			r.routines = uint64Of(m.Value)
		case runtimeMetrics[2]:
			r.gcCycles = uint64Of(m.Value)
		case runtimeMetrics[3]:
			if m.Value.Kind() == metrics.KindFloat64Histogram {
				h := m.Value.Float64Histogram()
				// Read may reuse the histogram's memory: keep a copy.
				r.pauses = slices.Clone(h.Counts)
				r.pauseEdge = h.Buckets
			}
		}
	}
	return r
}

func uint64Of(v metrics.Value) uint64 {
	if v.Kind() == metrics.KindUint64 {
		return v.Uint64()
	}
	return 0
}

// derive makes the sample of cur, with rates over the time since prev.
func derive(prev, cur reading) Sample {
	secs := cur.at.Sub(prev.at).Seconds()
	rate := func(then, now uint64) float64 {
		if secs <= 0 || now < then {
			return 0
		}
		return float64(now-then) / secs
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	ls, es, ws := cur.loop, cur.engine, cur.writer
	s := Sample{
		At:      cur.at.UnixMilli(),
		ConnsWS: es.Members, ConnsSSE: es.Streams, ConnsPoll: es.Waiters,
		UsersOnline: es.Online, RoomsActive: es.Hubs,
		MessagesPerSec:   rate(prev.engine.Posts, es.Posts),
		DeliveriesPerSec: rate(prev.engine.Deliveries, es.Deliveries),
		RefusalsPerSec:   rate(prev.engine.Refusals, es.Refusals),

		LagP50Ms: ms(ls.LagP50), LagP99Ms: ms(ls.LagP99), LagMaxMs: ms(ls.LagMax),
		Busy: ls.BusyFraction, IOBusy: ls.IOBusyFraction,
		CallbacksPerSec: rate(prev.loop.CallbacksRun, ls.CallbacksRun),
		TimersPerSec:    rate(prev.loop.TimersRun, ls.TimersRun),
		IOEventsPerSec:  rate(prev.loop.IOEvents, ls.IOEvents),
		QueuedCallbacks: ls.QueuedCallbacks, PendingTimers: ls.PendingTimers,
		LoopConns: ls.OpenConns, Coroutines: ls.Coroutines,
		Slow: slowest(ls.SlowCallbacks),

		CommitLastMs: ms(ws.LastCommit), CommitMeanMs: ms(ws.CommitMean), CommitP99Ms: ms(ws.CommitP99),
		BatchLast: ws.LastBatch, BatchMean: ws.BatchMean,
		CommitsPerSec: rate(uint64(max(prev.writer.Commits, 0)), uint64(max(ws.Commits, 0))),
		WritesPerSec:  rate(uint64(max(prev.writer.Writes, 0)), uint64(max(ws.Writes, 0))),
		StoreQueue:    ws.QueueLen,

		HeapBytes: cur.heap, RSSBytes: cur.rss, Goroutines: int(cur.routines),
		GCPerSec:     rate(prev.gcCycles, cur.gcCycles),
		GCPauseMaxMs: longestPause(prev.pauses, cur.pauses, cur.pauseEdge) * 1000,

		Totals: Totals{
			Posts: es.Posts, Deliveries: es.Deliveries, Refusals: es.Refusals,
			Callbacks: ls.CallbacksRun, Timers: ls.TimersRun, IOEvents: ls.IOEvents, Panics: ls.Panics,
			Commits: ws.Commits, Writes: ws.Writes, GCCycles: cur.gcCycles, GCPauses: sum(cur.pauses),
		},
	}
	prevExec := make(map[string]ioloop.ExecutorStats, len(prev.loop.Executors))
	for _, ex := range prev.loop.Executors {
		prevExec[ex.Name] = ex
	}
	for _, ex := range ls.Executors {
		xs := ExecutorSample{Name: ex.Name, Workers: ex.Workers, Busy: ex.BusyWorkers, Queue: ex.QueueDepth,
			Capacity: ex.QueueCapacity, Completed: ex.Completed, Rejected: ex.Rejected}
		if p, ok := prevExec[ex.Name]; ok {
			xs.RejectedPerSec = rate(p.Rejected, ex.Rejected)
		}
		s.Executors = append(s.Executors, xs)
	}
	return s
}

// slowest returns up to slowShown of the loop's slow callbacks, slowest
// first.
func slowest(calls []ioloop.SlowCallback) []SlowCall {
	sorted := slices.Clone(calls)
	slices.SortStableFunc(sorted, func(a, b ioloop.SlowCallback) int { return int(b.Duration - a.Duration) })
	out := make([]SlowCall, 0, min(len(sorted), slowShown))
	for _, c := range sorted[:min(len(sorted), slowShown)] {
		out = append(out, SlowCall{At: c.At.UnixMilli(), Ms: float64(c.Duration) / float64(time.Millisecond), Where: c.Where})
	}
	return out
}

// longestPause is the upper bound, in seconds, of the highest histogram
// bucket that gained a count between two readings; 0 if none did.
func longestPause(prev, cur []uint64, edges []float64) float64 {
	for i := len(cur) - 1; i >= 0; i-- {
		var before uint64
		if i < len(prev) {
			before = prev[i]
		}
		if cur[i] <= before || i+1 >= len(edges) {
			continue
		}
		if upper := edges[i+1]; !math.IsInf(upper, 1) {
			return upper
		}
		return edges[i] // the open-ended last bucket: its lower bound
	}
	return 0
}

func sum(counts []uint64) uint64 {
	var n uint64
	for _, c := range counts {
		n += c
	}
	return n
}

// ResidentBytes reads the process's resident set size from
// /proc/self/statm (its second field, in pages); 0 where there is none.
// Safe from any goroutine; the debug endpoint (cmd/chat) uses it too.
func ResidentBytes() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(b))
	if len(fields) < 2 {
		return 0
	}
	pages, err := strconv.ParseUint(fields[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * uint64(os.Getpagesize())
}
