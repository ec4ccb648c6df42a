//go:build linux && !ioloop_portable

package ioloop

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"syscall"

	"golang.org/x/sys/unix"

	"chat/framework/concurrent"
)

// Conn is a non-blocking TCP connection registered with the loop's epoll.
// See conn.go for the contract. Loop-only.
type Conn struct {
	connCore
}

// newConn registers an open non-blocking socket with the loop.
func (l *Loop) newConn(fd int) (*Conn, error) {
	c := &Conn{connCore{loop: l, fd: int32(fd)}}
	if err := l.poller.register(fd, c); err != nil {
		return nil, err
	}
	l.openConns.Add(1)
	return c, nil
}

func (c *Conn) handleEvents(ev Events) { c.deliver(ev) }

// Loop returns the loop the connection is registered with.
func (c *Conn) Loop() *Loop { return c.loop }

// Read reads what the socket holds, without blocking.
func (c *Conn) Read(p []byte) (int, error) {
	if c.closed {
		return 0, ErrConnClosed
	}
	for {
		n, err := rawRead(int(c.fd), p)
		switch {
		case err == nil && n == 0 && len(p) > 0:
			return 0, io.EOF
		case err == nil:
			return n, nil
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return 0, ErrWouldBlock
		default:
			return 0, fmt.Errorf("read: %w", err)
		}
	}
}

// Write writes as much of p as the socket takes now.
func (c *Conn) Write(p []byte) (int, error) {
	if c.closed {
		return 0, ErrConnClosed
	}
	if len(p) == 0 {
		return 0, nil
	}
	// The common case first, with everything else in writeRest: the
	// socket takes all of p in one system call. A broadcast runs this
	// once per receiver, and after each write system call the code it
	// runs next is fetched afresh (the kernel's work has evicted it), so
	// the fewer instructions on this path, the better.
	n, errno := rawWrite(int(c.fd), p)
	if errno == 0 && n == len(p) {
		return n, nil
	}
	return c.writeRest(p, max(n, 0), errno)
}

// writeRest finishes a write whose first system call did not take all of
// p: written bytes are already out, and errno is that call's result. It
// writes on after a partial write or EINTR and stops at EAGAIN or an
// error, returning how much of p the kernel has.
func (c *Conn) writeRest(p []byte, written int, errno syscall.Errno) (int, error) {
	for {
		switch errno {
		case 0, unix.EINTR:
		case unix.EAGAIN:
			return written, ErrWouldBlock
		default:
			return written, fmt.Errorf("write: %w", errno)
		}
		if written == len(p) {
			return written, nil
		}
		var n int
		n, errno = rawWrite(int(c.fd), p[written:])
		written += max(n, 0)
	}
}

// Writev writes the buffers in order with one writev system call (more
// only if the kernel takes part of them), as much as the socket takes now.
func (c *Conn) Writev(bufs [][]byte) (int, error) {
	if c.closed {
		return 0, ErrConnClosed
	}
	if len(bufs) == 1 {
		return c.Write(bufs[0])
	}
	for {
		n, err := unix.Writev(int(c.fd), bufs)
		switch {
		case err == nil:
			return n, nil
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return max(n, 0), ErrWouldBlock
		default:
			return max(n, 0), fmt.Errorf("writev: %w", err)
		}
	}
}

// CloseWrite shuts down the sending side; the peer reads EOF.
func (c *Conn) CloseWrite() error {
	if c.closed {
		return ErrConnClosed
	}
	if err := unix.Shutdown(int(c.fd), unix.SHUT_WR); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// Close unregisters and closes the socket. Closing twice is harmless.
func (c *Conn) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	c.loop.poller.forget(int(c.fd))
	c.loop.openConns.Add(-1)
	if err := unix.Close(int(c.fd)); err != nil {
		return fmt.Errorf("close: %w", err)
	}
	return nil
}

// Abort closes the socket with a TCP reset instead of an orderly FIN (it
// sets SO_LINGER to zero first): for peers that broke the protocol.
func (c *Conn) Abort() error {
	if !c.closed {
		unix.SetsockoptLinger(int(c.fd), unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
	}
	return c.Close()
}

// RemoteAddr returns the peer's address. It asks the kernel on each call
// (getpeername) rather than keep the address in every connection: callers
// that need it often keep their own copy, so idle connections do not.
func (c *Conn) RemoteAddr() net.Addr {
	if c.closed {
		return nil
	}
	sa, err := unix.Getpeername(int(c.fd))
	if err != nil {
		return nil
	}
	return sockaddrToTCP(sa)
}

// LocalAddr returns the local address.
func (c *Conn) LocalAddr() net.Addr {
	if c.closed {
		return nil
	}
	sa, err := unix.Getsockname(int(c.fd))
	if err != nil {
		return nil
	}
	return sockaddrToTCP(sa)
}

func sockaddrToTCP(sa unix.Sockaddr) net.Addr {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return &net.TCPAddr{IP: net.IP(sa.Addr[:]).To16(), Port: sa.Port}
	case *unix.SockaddrInet6:
		return &net.TCPAddr{IP: net.IP(sa.Addr[:]), Port: sa.Port}
	}
	return nil
}

func tcpToSockaddr(addr netip.AddrPort) (unix.Sockaddr, int) {
	ip := addr.Addr()
	if ip.Is4() || ip.Is4In6() {
		return &unix.SockaddrInet4{Port: int(addr.Port()), Addr: ip.Unmap().As4()}, unix.AF_INET
	}
	sa := &unix.SockaddrInet6{Port: int(addr.Port()), Addr: ip.As16()}
	return sa, unix.AF_INET6
}

// Listener is a listening TCP socket registered with the loop. Its methods
// are loop-only.
type Listener struct {
	loop     *Loop
	fd       int
	addr     net.Addr
	onAccept func(*Conn)
	retry    *Timer // the one pending retry after an accept error, or nil
	pending  bool   // a Readable edge arrived before SetAcceptHandler
	again    bool   // an acceptSome callback is queued (the batch ran out)
	paused   bool   // accepting failed and has not succeeded since (logged once)
	closed   bool
}

// Listen opens a listening TCP socket on address ("host:port"; an empty
// host listens on every address, IPv6 and IPv4) and registers it with the
// loop. Nothing is accepted until SetAcceptHandler. A host name is resolved
// here, blocking: call Listen during setup.
func (l *Loop) Listen(network, address string, opts ListenOptions) (*Listener, error) {
	tcpAddr, err := net.ResolveTCPAddr(network, address)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", address, err)
	}
	fd, err := listenSocket(network, tcpAddr, opts)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", address, err)
	}
	sa, _ := unix.Getsockname(fd)
	ln := &Listener{loop: l, fd: fd, addr: sockaddrToTCP(sa)}
	if err := l.poller.register(fd, ln); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("listen %s: %w", address, err)
	}
	return ln, nil
}

// listenSocket creates, configures, binds and listens. An unspecified host
// on network "tcp" gets one dual-stack IPv6 socket, as Go's net package does.
func listenSocket(network string, addr *net.TCPAddr, opts ListenOptions) (int, error) {
	ip, _ := netip.AddrFromSlice(addr.IP)
	if addr.IP == nil {
		if network == "tcp4" {
			ip = netip.IPv4Unspecified()
		} else {
			ip = netip.IPv6Unspecified()
		}
	}
	dualStack := ip.IsUnspecified() && ip.Is6() && network != "tcp6"
	sa, family := tcpToSockaddr(netip.AddrPortFrom(ip, uint16(addr.Port)))
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("socket: %w", err)
	}
	setup := func() error {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
			return fmt.Errorf("SO_REUSEADDR: %w", err)
		}
		if opts.ReusePort {
			if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
				return fmt.Errorf("SO_REUSEPORT: %w", err)
			}
		}
		if family == unix.AF_INET6 {
			v6only := 1
			if dualStack {
				v6only = 0
			}
			if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, v6only); err != nil {
				return fmt.Errorf("IPV6_V6ONLY: %w", err)
			}
		}
		if err := unix.Bind(fd, sa); err != nil {
			return fmt.Errorf("bind: %w", err)
		}
		if err := unix.Listen(fd, opts.backlog()); err != nil {
			return fmt.Errorf("listen: %w", err)
		}
		return nil
	}
	if err := setup(); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// Addr returns the address the listener is bound to (with the real port
// when port 0 was asked for).
func (ln *Listener) Addr() net.Addr { return ln.addr }

// SetAcceptHandler starts accepting: fn runs on the loop for every new
// connection, which it now owns. Loop-only.
func (ln *Listener) SetAcceptHandler(fn func(*Conn)) {
	ln.onAccept = fn
	if ln.pending {
		ln.pending = false
		ln.acceptSome()
	}
}

func (ln *Listener) describe() string { return "accept handler " + FuncName(ln.onAccept) }

func (ln *Listener) handleEvents(ev Events) {
	if ev&Readable == 0 {
		return
	}
	if ln.onAccept == nil {
		ln.pending = true
		return
	}
	ln.acceptSome()
}

// acceptBatch bounds how many connections one readiness event accepts
// before the loop serves other work; the rest are taken in a callback.
const acceptBatch = 128

// accept takes one connection, non-blocking and close-on-exec, without
// asking for the peer's address: unix.Accept4 allocates two objects per
// connection to return it, and RemoteAddr asks the kernel when someone
// needs it. The listening socket is non-blocking, so the call never
// blocks and needs no scheduler bookkeeping.
func accept(listenFD int) (int, error) {
	fd, _, errno := unix.RawSyscall6(unix.SYS_ACCEPT4, uintptr(listenFD), 0, 0, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(fd), nil
}

// acceptSome accepts until the kernel's queue is empty (the edge-triggered
// rule), or acceptBatch connections, then yields to the loop and comes
// back in a callback. Each accept handler runs protected (handOver): a
// panic in one is logged and the rest of the queue is still taken; should
// anything else panic, the deferred re-arm still comes back for the rest,
// since no new edge may ever arrive for connections already queued.
func (ln *Listener) acceptSome() {
	finished := false // the queue is empty, or a retry timer will resume
	defer func() {
		if !finished && !ln.closed && !ln.again {
			ln.again = true
			ln.loop.AddCallback(ln.acceptAgain)
		}
	}()
	for range acceptBatch {
		if ln.closed {
			finished = true
			return
		}
		fd, err := accept(ln.fd)
		switch {
		case err == unix.EAGAIN:
			ln.paused = false
			finished = true
			return
		case err == unix.EINTR || err == unix.ECONNABORTED:
			continue
		case err != nil:
			ln.pauseAccepting(err)
			finished = true
			return
		}
		ln.paused = false
		unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		conn, err := ln.loop.newConn(fd)
		if err != nil {
			unix.Close(fd)
			ln.loop.opts.Logger.Error("ioloop: register accepted connection", "error", err)
			continue
		}
		ln.loop.handOver(ln.onAccept, conn)
	}
}

// acceptAgain continues a batch that ran out.
func (ln *Listener) acceptAgain() {
	ln.again = false
	if ln.onAccept != nil {
		ln.acceptSome()
	}
}

// pauseAccepting stops accepting for acceptRetryDelay after an accept
// error: the connections stay queued in the kernel meanwhile. Out of
// descriptors (EMFILE, ENFILE) and out of memory are the usual causes;
// any other error is retried the same way, because the queued connections
// would otherwise wait for an edge that may never come. One retry timer
// at most is pending, however many edges arrive meanwhile, and the pause
// is logged when it starts, not on every retry that fails again.
func (ln *Listener) pauseAccepting(err error) {
	if !ln.paused {
		ln.paused = true
		ln.loop.opts.Logger.Warn("ioloop: accept paused", "error", err, "retry_in", acceptRetryDelay)
	}
	if ln.retry != nil && ln.retry.Pending() {
		return
	}
	ln.retry = ln.loop.CallLater(acceptRetryDelay, ln.retryAccept)
}

func (ln *Listener) retryAccept() {
	ln.retry = nil
	if !ln.closed && ln.onAccept != nil {
		ln.acceptSome()
	}
}

// Close stops accepting and closes the listening socket.
func (ln *Listener) Close() error {
	if ln.closed {
		return nil
	}
	ln.closed = true
	if ln.retry != nil {
		ln.retry.Cancel()
		ln.retry = nil
	}
	ln.loop.poller.forget(ln.fd)
	return unix.Close(ln.fd)
}

// Dial connects to address ("ip:port", or "host:port", resolved on the
// default executor) without blocking the loop. The future resolves on the
// loop with a registered Conn, or fails: with ErrDialTimeout once
// opts.Timeout passes (DefaultDialTimeout when zero). Cancelling the
// future stops the dial for real: the socket is closed, and a connection
// that completes afterwards is never delivered. Loop-only.
func (l *Loop) Dial(network, address string, opts DialOptions) *concurrent.Future[*Conn] {
	l.AssertOnLoop()
	d := l.startDial(address, opts)
	if ap, err := netip.ParseAddrPort(address); err == nil {
		l.connect(d, ap, opts)
		return d.future
	}
	resolved := RunInExecutor(l.defaultExec, func() (*net.TCPAddr, error) {
		return net.ResolveTCPAddr(network, address)
	})
	resolved.OnResult(func(a *net.TCPAddr, err error) {
		switch {
		case d.future.Done(): // timed out or cancelled meanwhile
		case err != nil:
			d.future.Fail(fmt.Errorf("dial %s: %w", address, err))
		default:
			l.connect(d, a.AddrPort(), opts)
		}
	})
	return d.future
}

// connect starts a non-blocking connect to addr for d.
func (l *Loop) connect(d *dialAttempt, addr netip.AddrPort, opts DialOptions) {
	sa, family := tcpToSockaddr(addr)
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		d.future.Fail(fmt.Errorf("dial %s: socket: %w", addr, err))
		return
	}
	fail := func(step string, err error) {
		unix.Close(fd)
		d.future.Fail(fmt.Errorf("dial %s: %s: %w", addr, step, err))
	}
	if opts.LocalAddr != nil {
		local, _ := tcpToSockaddr(opts.LocalAddr.AddrPort())
		if err := unix.Bind(fd, local); err != nil {
			fail("bind", err)
			return
		}
	}
	unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	err = unix.Connect(fd, sa)
	if err != nil && err != unix.EINPROGRESS && err != unix.EINTR {
		fail("connect", err)
		return
	}
	conn, regErr := l.newConn(fd)
	if regErr != nil {
		fail("register", regErr)
		return
	}
	if err == nil {
		d.future.Resolve(conn)
		return
	}
	// The connect completes (or fails) when the socket turns writable.
	// Until then a timeout or cancel closes the socket (abandon), so no
	// event reaches this handler after the future has failed.
	d.abandon = func() { conn.Close() }
	conn.SetHandler(EventHandlerFunc(func(ev Events) {
		if ev&(Writable|Hangup) == 0 {
			return
		}
		conn.handler = nil // events from here on wait for the caller's handler
		d.abandon = nil
		soErr, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
		if err == nil && soErr != 0 {
			err = unix.Errno(soErr)
		}
		if err != nil {
			conn.Close()
			d.future.Fail(fmt.Errorf("dial %s: connect: %w", addr, err))
			return
		}
		d.future.Resolve(conn)
	}))
}
