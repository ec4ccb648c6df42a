//go:build !linux || ioloop_portable

package ioloop

import "time"

// poller is the portable backend. There is no readiness API to sleep in:
// each connection has goroutines that do blocking I/O through the net
// package and report to the loop with AddCallback, so the loop's only
// sleep is waiting for a wake-up or the next timer.
type poller struct {
	wakeCh chan struct{} // capacity 1: one pending wake-up is enough
}

func newPoller() (*poller, error) {
	return &poller{wakeCh: make(chan struct{}, 1)}, nil
}

// wake makes a sleeping wait return. Safe from any goroutine.
func (p *poller) wake() {
	select {
	case p.wakeCh <- struct{}{}:
	default:
	}
}

// wait sleeps until a wake-up or timeout (negative: no limit). I/O events
// arrive as callbacks, so there is nothing to dispatch here.
func (p *poller) wait(l *Loop, timeout time.Duration) error {
	switch {
	case timeout < 0:
		<-p.wakeCh
	case timeout == 0:
		select {
		case <-p.wakeCh:
		default:
		}
	default:
		t := time.NewTimer(timeout)
		select {
		case <-p.wakeCh:
		case <-t.C:
		}
		t.Stop()
	}
	return nil
}

func (p *poller) close() error { return nil }

// EpollBackend reports which backend this build uses: false for portable.
const EpollBackend = false
