//go:build !linux || ioloop_portable

package ioloop

import (
	"net"
	"sync"
	"time"
)

// poller is the portable backend. There is no readiness API to sleep in:
// each connection has goroutines that do blocking I/O through the net
// package and post what happened (a chunk read, a write done, a connection
// accepted) to the poller's ready list, which the loop takes and
// dispatches like epoll's events. The loop's only sleep is waiting for a
// post, a wake-up or the next timer.
type poller struct {
	wakeCh chan struct{} // capacity 1: one pending wake-up is enough

	mu         sync.Mutex
	ready      []readyEvent // posted by connection goroutines, not yet dispatched
	readySince time.Time    // when ready went from empty to non-empty (for lag)
	closed     bool         // the loop closed: posts are dropped
	spare      []readyEvent // loop-owned: the slice swapped in for the next batch

	// registered holds the open connections and listeners, for the loop's
	// Close. Loop-owned.
	registered map[eventTarget]struct{}
}

// readyEvent is one thing a connection's goroutine has to tell the loop.
// The loop applies it to its target (loop-owned state) and then runs the
// target's handler with the events apply returns.
type readyEvent struct {
	target eventTarget
	kind   readyKind
	chunk  []byte   // readDone: the bytes read
	err    error    // readDone, writeDone: the call's error
	nc     net.Conn // accepted: the new connection
}

type readyKind uint8

const (
	readDone readyKind = iota
	writeDone
	accepted
)

// eventTarget is a *Conn or *Listener of this backend.
type eventTarget interface {
	fdHandler
	// apply records ev in the target's loop-owned state and returns the
	// events to deliver to its handler (none: nothing to deliver).
	apply(ev *readyEvent) Events
}

func newPoller() (*poller, error) {
	return &poller{wakeCh: make(chan struct{}, 1), registered: make(map[eventTarget]struct{})}, nil
}

// wake makes a sleeping wait return. Safe from any goroutine.
func (p *poller) wake() {
	select {
	case p.wakeCh <- struct{}{}:
	default:
	}
}

// post queues ev for the loop and wakes it. After the loop closed, ev is
// dropped (an accepted connection closed). Safe from any goroutine.
func (p *poller) post(ev readyEvent) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		if ev.nc != nil {
			ev.nc.Close()
		}
		return
	}
	if len(p.ready) == 0 {
		p.readySince = time.Now()
	}
	p.ready = append(p.ready, ev)
	p.mu.Unlock()
	p.wake()
}

// wait sleeps until a post, a wake-up or timeout (negative: no limit),
// unless events are already posted. It reports whether it slept.
func (p *poller) wait(timeout time.Duration) (bool, error) {
	p.mu.Lock()
	if len(p.ready) > 0 {
		timeout = 0
	}
	p.mu.Unlock()
	switch {
	case timeout < 0:
		<-p.wakeCh
	case timeout == 0:
		select {
		case <-p.wakeCh:
		default:
		}
		return false, nil
	default:
		t := time.NewTimer(timeout)
		select {
		case <-p.wakeCh:
		case <-t.C:
		}
		t.Stop()
	}
	return true, nil
}

// dispatch applies the posted events and runs their targets' handlers. It
// returns how many it dispatched and when the first was posted.
func (p *poller) dispatch(l *Loop) (int, time.Time) {
	p.mu.Lock()
	batch, since := p.ready, p.readySince
	p.ready = p.spare[:0]
	p.mu.Unlock()
	for i := range batch {
		ev := &batch[i]
		if events := ev.target.apply(ev); events != 0 {
			l.dispatchIO(ev.target, events)
		}
		batch[i] = readyEvent{} // let the chunk and connection go
	}
	p.spare = batch[:0]
	return len(batch), since
}

// closeRegistered closes every connection and listener still registered
// and drops what was posted, for the loop's Close.
func (p *poller) closeRegistered() {
	p.mu.Lock()
	p.closed = true
	dropped := p.ready
	p.ready = nil
	p.mu.Unlock()
	for _, ev := range dropped {
		if ev.nc != nil {
			ev.nc.Close()
		}
	}
	for target := range p.registered {
		target.Close() // deletes itself from registered
	}
}

func (p *poller) close() error { return nil }

// EpollBackend reports which backend this build uses: false for portable.
const EpollBackend = false
