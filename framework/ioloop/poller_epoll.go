//go:build linux && !ioloop_portable

package ioloop

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// poller is the Linux backend: one epoll instance, an eventfd that
// AddCallback writes to wake a sleeping loop, and a table from file
// descriptor to handler. Everything except wake is loop-only.
type poller struct {
	epfd     int
	wakefd   int
	events   [256]unix.EpollEvent
	handlers []fdHandler // indexed by fd; nil for fds the loop does not own
	wakeBuf  [8]byte
}

func newPoller() (*poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	// The eventfd is level-triggered: it stays readable until the loop
	// reads (and so resets) its counter.
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wakefd)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wakefd, &ev); err != nil {
		unix.Close(epfd)
		unix.Close(wakefd)
		return nil, fmt.Errorf("epoll_ctl add eventfd: %w", err)
	}
	return &poller{epfd: epfd, wakefd: wakefd}, nil
}

// wake makes a sleeping epoll_wait return. Safe from any goroutine.
func (p *poller) wake() {
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	for {
		_, err := unix.Write(p.wakefd, one[:])
		if err != unix.EINTR {
			return // EAGAIN means the counter is already non-zero: awake anyway
		}
	}
}

// register adds fd to epoll, edge-triggered for input, output and the
// peer's half-close, and routes its events to h. Registering all three once
// means the loop never calls epoll_ctl again for this fd: a write that
// would block simply waits for the next EPOLLOUT edge.
func (p *poller) register(fd int, h fdHandler) error {
	ev := unix.EpollEvent{
		Events: unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET,
		Fd:     int32(fd),
	}
	if err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return fmt.Errorf("epoll_ctl add fd %d: %w", fd, err)
	}
	for fd >= len(p.handlers) {
		p.handlers = append(p.handlers, make([]fdHandler, len(p.handlers)+64)...)
	}
	p.handlers[fd] = h
	return nil
}

// forget drops fd from the table. The caller closes the fd, which also
// removes it from epoll (we never dup these fds), so no epoll_ctl is
// needed. An event for fd already collected in this iteration may still be
// delivered to whoever gets the fd number next; handlers treat events as
// hints, so a stale one costs at most a read that would block.
func (p *poller) forget(fd int) {
	if fd < len(p.handlers) {
		p.handlers[fd] = nil
	}
}

// wait sleeps in epoll_wait for at most timeout (negative: no limit) and
// dispatches what is ready. Loop-only.
func (p *poller) wait(l *Loop, timeout time.Duration) error {
	ms := -1
	if timeout >= 0 {
		// Round up so a timer due in 0.4 ms does not become a busy loop of
		// zero-timeout polls.
		ms = int((timeout + time.Millisecond - 1) / time.Millisecond)
	}
	n, err := unix.EpollWait(p.epfd, p.events[:], ms)
	if err != nil {
		if errors.Is(err, unix.EINTR) {
			return nil
		}
		return fmt.Errorf("epoll_wait: %w", err)
	}
	for i := range n {
		ev := &p.events[i]
		fd := int(ev.Fd)
		if fd == p.wakefd {
			unix.Read(p.wakefd, p.wakeBuf[:]) // reset the counter
			continue
		}
		if fd >= len(p.handlers) || p.handlers[fd] == nil {
			continue
		}
		l.dispatchIO(p.handlers[fd], epollToEvents(ev.Events))
	}
	l.stats.ioEvents.Add(uint64(n))
	return nil
}

func epollToEvents(e uint32) Events {
	var out Events
	if e&(unix.EPOLLIN|unix.EPOLLPRI) != 0 {
		out |= Readable
	}
	if e&unix.EPOLLOUT != 0 {
		out |= Writable
	}
	if e&(unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		// A read will report EOF or the error, so a hang-up is readable.
		out |= Hangup | Readable
	}
	return out
}

func (p *poller) close() error {
	unix.Close(p.wakefd)
	return unix.Close(p.epfd)
}

// EpollBackend reports which backend this build uses: true for epoll.
const EpollBackend = true
