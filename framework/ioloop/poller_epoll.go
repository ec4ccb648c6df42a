//go:build linux && !ioloop_portable

package ioloop

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// poller is the Linux backend: one epoll instance, an eventfd that
// AddCallback writes to wake a sleeping loop, and a table from file
// descriptor to handler. Everything except wake is loop-only.
//
// The loop never blocks an OS thread in epoll_wait. Its own epoll_wait
// calls always use a zero timeout; to sleep, it parks in Go's scheduler
// until the epoll descriptor itself turns readable (an epoll fd is readable
// when it has ready events), through the runtime's netpoller. A thread
// blocked in a raw system call keeps its P until the runtime's monitor
// takes it back (20 µs to 10 ms later), which would starve the executor's
// workers under GOMAXPROCS=1; parking costs nothing of the sort.
type poller struct {
	epfd        int
	epollFile   *os.File        // epfd, registered with Go's netpoller
	epollRaw    syscall.RawConn // waits on epollFile without blocking a thread
	deadlineSet bool            // epollFile has a read deadline to clear
	// collectOnReady is the function epollRaw.Read calls when the epoll fd
	// turns readable, made once so sleeping allocates nothing; it leaves
	// its results in readyCount and readyErr.
	collectOnReady func(uintptr) bool
	readyCount     int
	readyErr       error
	wakefd         int
	events         [256]unix.EpollEvent
	ready          int         // events[:ready] collected by wait, not yet dispatched
	handlers       []fdHandler // indexed by fd; nil for fds the loop does not own
	wakeBuf        [8]byte
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
	if err := unix.SetNonblock(epfd, true); err != nil {
		unix.Close(epfd)
		unix.Close(wakefd)
		return nil, fmt.Errorf("set epoll fd non-blocking: %w", err)
	}
	// os.NewFile registers a non-blocking descriptor with the runtime's
	// netpoller; from here on epollFile owns (and closes) epfd.
	file := os.NewFile(uintptr(epfd), "ioloop-epoll")
	raw, err := file.SyscallConn()
	if err != nil {
		file.Close()
		unix.Close(wakefd)
		return nil, fmt.Errorf("epoll fd raw conn: %w", err)
	}
	p := &poller{epfd: epfd, epollFile: file, epollRaw: raw, wakefd: wakefd}
	p.collectOnReady = func(uintptr) bool {
		p.readyCount, p.readyErr = p.collect()
		return p.readyCount > 0 || p.readyErr != nil // false: nothing yet, park until readable
	}
	return p, nil
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

// handlerTableStep is how many descriptors the handler table grows by.
const handlerTableStep = 1024

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
	if fd >= len(p.handlers) {
		// Grow in steps of handlerTableStep rather than doubling: the
		// table is indexed by descriptor and lives as long as the loop,
		// so with 10,000 connections doubling would leave up to 160 KB
		// of it unused.
		grown := make([]fdHandler, (fd/handlerTableStep+1)*handlerTableStep)
		copy(grown, p.handlers)
		p.handlers = grown
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

// wait collects ready events, sleeping for at most timeout (negative: no
// limit) when there are none, and keeps them for dispatch. It reports
// whether it slept. Loop-only.
func (p *poller) wait(timeout time.Duration) (bool, error) {
	n, err := p.collect()
	slept := false
	if err == nil && n == 0 && timeout != 0 {
		n, err = p.sleep(timeout)
		slept = true
	}
	if err != nil {
		return slept, err
	}
	p.ready = n
	return slept, nil
}

// dispatch runs the handlers of the events wait collected and returns how
// many I/O events it dispatched (the wake-up eventfd is not one). Epoll
// does not say when an event became ready: the time is left zero for
// dispatchReady to bound. Loop-only.
func (p *poller) dispatch(l *Loop) (int, time.Time) {
	n := p.ready
	p.ready = 0
	dispatched := 0
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
		dispatched++
	}
	return dispatched, time.Time{}
}

// collect runs epoll_wait without blocking.
func (p *poller) collect() (int, error) {
	for {
		n, err := unix.EpollWait(p.epfd, p.events[:], 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("epoll_wait: %w", err)
		}
		return n, nil
	}
}

// sleep parks the loop goroutine until the epoll fd has ready events or
// timeout passes, then collects them.
func (p *poller) sleep(timeout time.Duration) (int, error) {
	switch {
	case timeout > 0:
		p.epollFile.SetReadDeadline(time.Now().Add(timeout))
		p.deadlineSet = true
	case p.deadlineSet:
		p.epollFile.SetReadDeadline(time.Time{})
		p.deadlineSet = false
	}
	p.readyCount, p.readyErr = 0, nil
	err := p.epollRaw.Read(p.collectOnReady)
	n := p.readyCount
	switch {
	case p.readyErr != nil:
		return 0, p.readyErr
	case errors.Is(err, os.ErrDeadlineExceeded):
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("wait for epoll readiness: %w", err)
	}
	return n, nil
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

// closeRegistered closes every connection and listener still registered,
// for the loop's Close. Each one's Close forgets its fd.
func (p *poller) closeRegistered() {
	for _, h := range p.handlers {
		if h != nil {
			h.Close()
		}
	}
}

func (p *poller) close() error {
	unix.Close(p.wakefd)
	return p.epollFile.Close()
}

// EpollBackend reports which backend this build uses: true for epoll.
const EpollBackend = true
