package ioloop

import (
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// ErrLoopClosed is returned when a loop is used after Close.
var ErrLoopClosed = errors.New("ioloop: loop closed")

// Options configures a Loop. The zero value is ready to use.
type Options struct {
	// SlowCallback is how long one callback, timer or I/O handler may hold
	// the loop before it is logged and recorded as slow. Zero means 100ms;
	// negative disables.
	SlowCallback time.Duration
	// ExecutorWorkers is the worker count of the default executor. Zero
	// means 4 per CPU: the default executor is for short blocking calls.
	ExecutorWorkers int
	// ExecutorQueue bounds the default executor's queue. Zero means 1024.
	ExecutorQueue int
	// Logger receives panics and slow callbacks. Nil means slog.Default().
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.SlowCallback == 0 {
		o.SlowCallback = 100 * time.Millisecond
	}
	if o.ExecutorWorkers <= 0 {
		o.ExecutorWorkers = 4 * runtime.GOMAXPROCS(0)
	}
	if o.ExecutorQueue <= 0 {
		o.ExecutorQueue = 1024
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Loop is the event loop: Tornado's IOLoop. One goroutine, the one that
// calls Run, runs every callback, timer and I/O handler, one at a time.
//
// AddCallback and Stop are safe from any goroutine, and so are Close,
// Stats and the executor methods documented as such. Every other method
// must be called on the loop goroutine (or before Run starts, while only
// one goroutine knows the loop).
//
// A loop's life has four states:
//
//   - new: after New. Callbacks, timers, listeners and connections may be
//     set up; nothing runs yet.
//   - running: while Run runs, on the goroutine that called it.
//   - stopped: Run has returned after Stop. Everything registered stays
//     as it was, and Run may be called again.
//   - closed: after Close, for good. Close stops a running loop and waits
//     for Run to return, so `go loop.Run(); defer loop.Close()` is a
//     complete shutdown (a deferred Stop before it is harmless). It then
//     ends the coroutines still suspended (their pending Await never
//     returns; their deferred calls run), closes every connection and
//     listener still registered (their handlers are not called), drops
//     pending timers and queued callbacks, stops the executors' workers
//     (after the jobs they hold finish) and releases the poller. Afterwards Run returns ErrLoopClosed and
//     AddCallback drops its callback, counted in Stats.DroppedCallbacks,
//     so a goroutine that outlives the loop cannot grow it.
type Loop struct {
	opts   Options
	poller *poller // per-OS: epoll on Linux, a wait on a channel elsewhere

	// mu guards the callback queue and the sleep handshake with the poller.
	mu            sync.Mutex
	queue         []func()  // callbacks added since the loop last took the queue
	queueSince    time.Time // when queue went from empty to non-empty (for lag)
	sleeping      bool      // the loop is blocked (or about to block) in the poller
	wakeSent      bool      // a wake-up is on its way; further adders need not send one
	stopping      bool
	queueClosed   bool // Close has run: AddCallback drops
	running       atomic.Bool
	closed        atomic.Bool
	loopGoroutine atomic.Uint64 // id of the goroutine in Run; checked under -race
	spareQueue    []func()      // loop-owned: the slice swapped in for the next batch
	timers        timerHeap     // loop-owned
	timerSeq      uint64        // loop-owned: orders timers with equal deadlines
	defaultExec   *Executor
	executorsMu   sync.Mutex
	executors     []*Executor
	stats         statsRecorder
	openConns     atomic.Int64
	locals        map[any]any      // loop-owned: see Local
	coroutines    map[*Co]struct{} // turn-owned: live coroutines, ended by Close
	turnGoroutine atomic.Uint64    // the coroutine goroutine holding the turn; -race builds only

	// lifeMu guards the lifecycle: the running and closed flags change
	// under it, and runDone is closed when the current Run returns.
	lifeMu   sync.Mutex
	runDone  chan struct{}
	closedCh chan struct{} // closed by Close, for RunSync's waiters
}

// New creates a loop. It does not start it: call Run on the goroutine that
// should become the loop goroutine.
func New(opts Options) (*Loop, error) {
	opts = opts.withDefaults()
	p, err := newPoller()
	if err != nil {
		return nil, fmt.Errorf("ioloop: create poller: %w", err)
	}
	l := &Loop{opts: opts, poller: p, closedCh: make(chan struct{})}
	l.stats.init()
	l.defaultExec = l.NewExecutor("default", opts.ExecutorWorkers, opts.ExecutorQueue)
	return l, nil
}

// AddCallback schedules fn to run on the loop goroutine in a later
// iteration. It is safe to call from any goroutine: it is the one way into
// the loop from outside. Callbacks run in the order they were added.
// After Close, fn is dropped (never run) and counted in
// Stats.DroppedCallbacks; callbacks still queued when Close runs are
// dropped the same way.
func (l *Loop) AddCallback(fn func()) { l.addCallback(fn) }

// addCallback is AddCallback reporting whether fn was queued (false: the
// loop is closed).
func (l *Loop) addCallback(fn func()) bool {
	l.mu.Lock()
	if l.queueClosed {
		l.mu.Unlock()
		l.stats.droppedCallbacks.Add(1)
		return false
	}
	if len(l.queue) == 0 {
		l.queueSince = time.Now()
	}
	l.queue = append(l.queue, fn)
	if l.sleeping && !l.wakeSent {
		// Woken under the lock, at most once per sleep, so that Close
		// (which takes the lock before releasing the poller) cannot close
		// the wake-up descriptor under a write to it.
		l.wakeSent = true
		l.poller.wake()
	}
	l.mu.Unlock()
	return true
}

// Stop asks the loop to return from Run. Callbacks already queued still run
// (and those they queue in turn, for a bounded number of rounds); timers
// and I/O are not waited for. Safe from any goroutine. Stop before Run
// makes the next Run return as soon as it has run the queued callbacks.
func (l *Loop) Stop() {
	l.AddCallback(func() {
		l.mu.Lock()
		l.stopping = true
		l.mu.Unlock()
	})
}

// Run runs the loop on the calling goroutine until Stop (or Close). Every
// callback, timer and I/O handler runs inside Run. It returns
// ErrLoopClosed after Close, and an error if the loop is already running.
func (l *Loop) Run() error {
	if err := l.beginRun(); err != nil {
		return err
	}
	defer l.endRun()

	// Each step is timed for Stats, reusing timestamps across steps so the
	// accounting costs no extra clock reads: the end of one iteration's
	// I/O dispatch is the start of the next iteration.
	now := time.Now()
	lastLook := now // when the loop last collected ready I/O
	for {
		// 1. Take the callbacks queued so far. Callbacks they add wait for
		// the next iteration, so a callback that re-adds itself cannot
		// starve timers and I/O.
		iterationStart := now
		batch, queuedAt, stopping := l.takeQueue()
		if len(batch) > 0 {
			l.stats.recordLag(iterationStart.Sub(queuedAt))
		}
		l.runBatch(batch)
		if stopping {
			l.drainForStop()
			return nil
		}

		// 2. Run the timers that are due. A timer's lateness is loop lag too.
		l.runDueTimers(time.Now())

		// 3. Sleep in the poller until I/O, the next timer, or a wake-up
		// from AddCallback. The sleep handshake (sleeping, wakeSent) lives
		// in pollWait. Only the sleep counts as idle.
		sleepStart := time.Now()
		slept, err := l.pollWait()
		if err != nil {
			return fmt.Errorf("ioloop: poll: %w", err)
		}

		// 4. Run the handlers of the ready I/O. Their time is busy time,
		// and how long the I/O waited for them is loop lag.
		ioStart := time.Now()
		l.dispatchReady(ioStart, slept, lastLook)
		lastLook = ioStart
		now = time.Now()
		l.stats.recordIteration(now, sleepStart.Sub(iterationStart), ioStart.Sub(sleepStart), now.Sub(ioStart))
	}
}

// dispatchReady runs the handlers of the I/O the poller collected and
// samples its lag: one sample per batch, how long the batch's readiness
// had been waiting when the loop turned to it. The portable backend knows
// when its first event was posted. Epoll does not say when a socket became
// ready, so the sample is bounded from above: zero when the events woke
// the sleeping loop, else the time since the loop last looked, since the
// events came in while it was busy with other work.
func (l *Loop) dispatchReady(ioStart time.Time, slept bool, lastLook time.Time) {
	n, readySince := l.poller.dispatch(l)
	if n == 0 {
		return
	}
	l.stats.ioEvents.Add(uint64(n))
	if readySince.IsZero() {
		readySince = lastLook
		if slept {
			readySince = ioStart
		}
	}
	l.stats.recordLag(ioStart.Sub(readySince))
}

// beginRun moves the loop to running, or says why it cannot run.
func (l *Loop) beginRun() error {
	l.lifeMu.Lock()
	defer l.lifeMu.Unlock()
	if l.closed.Load() {
		return ErrLoopClosed
	}
	if l.running.Load() {
		return errors.New("ioloop: Run called while the loop is running")
	}
	l.running.Store(true)
	l.loopGoroutine.Store(goroutineID())
	l.runDone = make(chan struct{})
	return nil
}

// endRun moves the loop to stopped and releases Close's wait.
func (l *Loop) endRun() {
	l.lifeMu.Lock()
	defer l.lifeMu.Unlock()
	l.loopGoroutine.Store(0)
	l.running.Store(false)
	close(l.runDone)
}

// takeQueue swaps the queue out under the lock, returning the batch, when
// its first callback was queued, and whether Stop was requested.
func (l *Loop) takeQueue() ([]func(), time.Time, bool) {
	l.mu.Lock()
	batch := l.queue
	queuedAt := l.queueSince
	l.queue = l.spareQueue[:0]
	stopping := l.stopping
	l.mu.Unlock()
	return batch, queuedAt, stopping
}

// runBatch runs one batch of callbacks and recycles its slice.
func (l *Loop) runBatch(batch []func()) {
	for i, fn := range batch {
		l.runProtected(fn)
		batch[i] = nil // let the closure be collected
	}
	l.stats.callbacksRun.Add(uint64(len(batch)))
	if cap(batch) <= 4096 { // do not keep a huge slice after a burst
		l.spareQueue = batch[:0]
	} else {
		l.spareQueue = nil
	}
}

// drainForStop runs what is queued when Stop takes effect, including what
// those callbacks queue, for at most a few rounds so a callback that keeps
// re-adding itself cannot keep Run from returning.
func (l *Loop) drainForStop() {
	const maxRounds = 100
	for round := 0; round < maxRounds; round++ {
		batch, _, _ := l.takeQueue()
		if len(batch) == 0 {
			break
		}
		l.runBatch(batch)
	}
	l.mu.Lock()
	l.stopping = false // a later Run starts afresh
	l.mu.Unlock()
}

// pollWait blocks in the poller until something is ready or the next
// timer is due, leaving the ready I/O for dispatchReady. It reports
// whether it had to sleep (nothing was ready when it looked).
func (l *Loop) pollWait() (bool, error) {
	timeout := l.pollTimeout()
	l.mu.Lock()
	if len(l.queue) > 0 || l.stopping {
		timeout = 0 // work is already waiting: just collect ready I/O
	}
	// Announce the sleep under the lock: an AddCallback after this point
	// sees sleeping and wakes the poller, one before it was seen above.
	l.sleeping = timeout != 0
	l.mu.Unlock()

	slept, err := l.poller.wait(timeout)

	l.mu.Lock()
	l.sleeping = false
	l.wakeSent = false
	l.mu.Unlock()
	return slept, err
}

// pollTimeout is how long the poller may sleep: until the next timer, or
// forever (-1) when none is set.
func (l *Loop) pollTimeout() time.Duration {
	next, ok := l.timers.nextDeadline()
	if !ok {
		return -1
	}
	d := time.Until(next)
	if d < 0 {
		return 0
	}
	return d
}

// runProtected runs one callback, recovering a panic so the loop survives
// it, and records the callback if it held the loop too long.
func (l *Loop) runProtected(fn func()) {
	start := time.Now()
	defer func() {
		if r := recover(); r != nil {
			l.stats.panics.Add(1)
			l.opts.Logger.Error("ioloop: callback panicked",
				"panic", r, "callback", FuncName(fn), "stack", string(debug.Stack()))
		}
		if d := time.Since(start); l.opts.SlowCallback > 0 && d > l.opts.SlowCallback {
			where := FuncName(fn)
			l.stats.recordSlow(start, d, where)
			l.opts.Logger.Warn("ioloop: slow callback", "duration", d, "callback", where)
		}
	}()
	fn()
}

// FuncName names a function value by where it was defined, e.g.
// "chat/framework/iostream.(*Stream).Write.func1 (/src/stream.go:120)", so
// a slow or panicking closure can be traced to its source. The loop uses it
// only on those rare paths, and so should others (a HandlerDescriber naming
// the callback it runs): it costs a symbol lookup and a formatted string.
// fn must be a function value; nil gives "nil". Safe from any goroutine.
func FuncName(fn any) string {
	if fn == nil {
		return "nil"
	}
	v := reflect.ValueOf(fn)
	if v.Kind() != reflect.Func {
		return fmt.Sprintf("%T (not a function)", fn)
	}
	if v.IsNil() {
		return "nil"
	}
	pc := v.Pointer()
	if f := runtime.FuncForPC(pc); f != nil {
		file, line := f.FileLine(pc)
		return fmt.Sprintf("%s (%s:%d)", f.Name(), file, line)
	}
	return "unknown"
}

// Close ends the loop for good; see Loop for the lifecycle. If Run is in
// progress, Close stops it and waits for it to return. It then closes the
// connections and listeners still registered, drops pending timers and
// queued callbacks, stops the executors' workers (waiting for the jobs in
// hand) and releases the poller. Before all that it ends the coroutines
// still suspended (see Go), waiting for each goroutine's deferred calls.
// Safe from any goroutine except the loop goroutine itself, where it
// would wait for its own return: there it returns an error and does
// nothing (call Stop, and Close after Run returns). The same holds for a
// coroutine, which holds the loop's turn: it must not call Close (in
// -race builds Close detects it and returns the error; otherwise it
// deadlocks). Closing twice is harmless.
func (l *Loop) Close() error {
	proceed, err := l.stopAndMarkClosed()
	if !proceed {
		return err
	}

	l.mu.Lock()
	l.queueClosed = true
	l.stats.droppedCallbacks.Add(uint64(len(l.queue)))
	l.queue, l.spareQueue = nil, nil
	l.mu.Unlock()
	close(l.closedCh)

	// Run has returned and cannot start again: the loop-owned state is
	// this goroutine's now. Suspended coroutines go first, so that their
	// deferred calls still find their connections and timers in place.
	l.endCoroutines()
	l.poller.closeRegistered()
	for _, t := range l.timers {
		t.index, t.fn = -1, nil
	}
	l.timers = nil
	l.stats.timers.Store(0)
	l.locals = nil
	l.executorsMu.Lock()
	for _, ex := range l.executors {
		ex.shutdown()
	}
	l.executorsMu.Unlock()
	return l.poller.close()
}

// stopAndMarkClosed stops Run if it is running and waits for it to
// return, then marks the loop closed in the same critical section that
// found it stopped, so that a Run starting on another goroutine meanwhile
// either runs first (and is stopped and waited for) or finds the loop
// closed; it can never run while Close tears the loop down. lifeMu is
// held only between waits. It reports whether the caller may tear the
// loop down: not on the loop goroutine (or a coroutine holding the turn),
// which cannot wait for itself (an error), nor when the loop was closed
// already (nil: closing twice is harmless).
func (l *Loop) stopAndMarkClosed() (proceed bool, err error) {
	for {
		l.lifeMu.Lock()
		if !l.running.Load() {
			already := l.closed.Load()
			l.closed.Store(true)
			l.lifeMu.Unlock()
			return !already, nil
		}
		if id := goroutineID(); l.loopGoroutine.Load() == id || l.turnHolder() == id {
			l.lifeMu.Unlock()
			return false, errors.New("ioloop: Close called on the loop goroutine; call Stop, then Close after Run returns")
		}
		done := l.runDone
		l.lifeMu.Unlock()
		l.Stop()
		<-done
	}
}

// Running reports whether Run is in progress (the running state). Safe
// from any goroutine.
func (l *Loop) Running() bool { return l.running.Load() }

// Logger returns the loop's logger, for packages built on the loop.
func (l *Loop) Logger() *slog.Logger { return l.opts.Logger }

// DefaultExecutor returns the executor created with the loop.
func (l *Loop) DefaultExecutor() *Executor { return l.defaultExec }
