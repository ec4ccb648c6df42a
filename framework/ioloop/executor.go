package ioloop

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"chat/framework/concurrent"
)

// ErrQueueFull is the error of a future whose work was refused because its
// executor's queue was full. It fails at once, so a caller under overload
// answers quickly (an HTTP handler turns it into 503) instead of waiting.
var ErrQueueFull = errors.New("ioloop: executor queue full")

// ErrExecutorClosed is the error of work submitted after the loop closed.
var ErrExecutorClosed = errors.New("ioloop: executor closed")

// Executor runs blocking functions on a fixed pool of worker goroutines,
// Tornado's run_in_executor. Each executor has its own workers and its own
// bounded queue, so one kind of blocking work (say the SQLite writer, with
// exactly one worker) cannot starve another. Stats is safe from any
// goroutine; RunInExecutor must be called on the loop goroutine.
type Executor struct {
	loop    *Loop
	name    string
	workers int
	// background workers run on OS threads of their own at a lower
	// priority (NewBackgroundExecutor).
	background bool
	jobs       chan func()
	busy       atomic.Int64
	completed  atomic.Uint64
	rejected   atomic.Uint64
	closeOnce  sync.Once
	done       sync.WaitGroup
}

// NewExecutor starts an executor with its own workers and a queue of
// queueSize waiting jobs (both at least 1). Safe from any goroutine.
func (l *Loop) NewExecutor(name string, workers, queueSize int) *Executor {
	return l.newExecutor(name, workers, queueSize, false)
}

// backgroundNice is the niceness of a background executor's threads
// (0 is the usual, 19 the lowest priority).
const backgroundNice = 10

// NewBackgroundExecutor starts an executor like NewExecutor whose workers
// each hold an OS thread of their own at a lower priority (nice 10 on
// Linux; elsewhere the usual one), for CPU-bound work such as password
// hashing: whenever the loop's thread and a worker both want a processor,
// the kernel runs the loop first, so its lag stays low while the work
// takes every cycle left over. Measured by accounts' TestSigninLoopLag,
// fifty bcrypt sign-ins at cost 12 on a two-core machine that other work
// kept at a load average of 5 to 9: the loop's lag p99 was 4.6 to 6.5 ms
// with an ordinary executor and 1.5 to 1.7 ms with a background one (on
// the same machine at rest, about 1 ms either way). Safe from any
// goroutine.
func (l *Loop) NewBackgroundExecutor(name string, workers, queueSize int) *Executor {
	return l.newExecutor(name, workers, queueSize, true)
}

func (l *Loop) newExecutor(name string, workers, queueSize int, background bool) *Executor {
	workers = max(workers, 1)
	queueSize = max(queueSize, 1)
	ex := &Executor{loop: l, name: name, workers: workers, background: background, jobs: make(chan func(), queueSize)}
	ex.done.Add(workers)
	for range workers {
		go ex.work()
	}
	l.executorsMu.Lock()
	l.executors = append(l.executors, ex)
	l.executorsMu.Unlock()
	return ex
}

func (ex *Executor) work() {
	defer ex.done.Done()
	if ex.background {
		// Never unlocked: when the worker ends (the loop closed), its
		// thread ends with it rather than run other goroutines niced.
		runtime.LockOSThread()
		lowerThreadPriority()
	}
	for job := range ex.jobs {
		ex.busy.Add(1)
		job()
		ex.busy.Add(-1)
		ex.completed.Add(1)
	}
}

// submit queues job without blocking; false means the queue is full or the
// executor closed.
func (ex *Executor) submit(job func()) (ok bool) {
	defer func() {
		if recover() != nil { // send on a closed channel: the loop closed
			ok = false
		}
	}()
	select {
	case ex.jobs <- job:
		return true
	default:
		ex.rejected.Add(1)
		return false
	}
}

func (ex *Executor) shutdown() {
	ex.closeOnce.Do(func() { close(ex.jobs) })
	ex.done.Wait()
}

// Name returns the executor's name.
func (ex *Executor) Name() string { return ex.name }

// RunInExecutor runs fn on one of ex's workers and returns a future that
// resolves, on the loop, with fn's result. fn must not touch loop-owned
// objects: it runs on another goroutine. A panic in fn becomes the
// future's error. When the queue is full the future fails at once with
// ErrQueueFull. Loop goroutine only.
func RunInExecutor[T any](ex *Executor, fn func() (T, error)) *concurrent.Future[T] {
	ex.loop.AssertOnLoop()
	future := logFuturePanics(ex.loop, concurrent.New[T]())
	job := func() {
		var value T
		err := callRecovering(func() (err error) {
			value, err = fn()
			return err
		})
		ex.loop.AddCallback(func() { future.Set(value, err) })
	}
	if !ex.submit(job) {
		if ex.loop.closed.Load() {
			future.Fail(ErrExecutorClosed)
		} else {
			future.Fail(fmt.Errorf("%w: %q holds %d jobs", ErrQueueFull, ex.name, cap(ex.jobs)))
		}
	}
	return future
}

// callRecovering calls fn and turns a panic into an error carrying the
// stack, so a bug in blocking code fails one request, not the process.
func callRecovering(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("ioloop: executor job panicked: %v\n%s", r, debug.Stack())
		}
	}()
	return fn()
}

// ExecutorStats describes one executor at a moment.
type ExecutorStats struct {
	Name          string
	Workers       int
	BusyWorkers   int
	QueueDepth    int
	QueueCapacity int
	Completed     uint64
	Rejected      uint64 // refused with ErrQueueFull
}

// Stats reports the executor's current load. Safe from any goroutine.
func (ex *Executor) Stats() ExecutorStats {
	return ExecutorStats{
		Name:          ex.name,
		Workers:       ex.workers,
		BusyWorkers:   int(ex.busy.Load()),
		QueueDepth:    len(ex.jobs),
		QueueCapacity: cap(ex.jobs),
		Completed:     ex.completed.Load(),
		Rejected:      ex.rejected.Load(),
	}
}
