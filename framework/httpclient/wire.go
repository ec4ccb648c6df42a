package httpclient

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
	"chat/framework/iostream"
	"chat/framework/tcpserver"
)

// wire is one connection's bytes, loop side: a plain stream on the loop,
// or a TLS connection on goroutines of its own. It delivers what it reads
// to the receiver set by receive, in order, on the loop: data (valid only
// during the call) with a nil error, then once io.EOF (the server closed
// its side) or another error. A write failure is delivered the same way.
// Every method is loop-only.
type wire interface {
	receive(fn func(data []byte, err error))
	send(head, body []byte)
	close()
}

// readChunk is the most a plain wire asks of its stream per read.
const readChunk = 64 << 10

// tlsReadChunk is a TLS wire's plaintext buffer: a tls.Conn Read returns
// at most one record, and a record holds at most 16 KiB.
const tlsReadChunk = 16 << 10

// maxPendingWrite bounds a plain wire's queued request bytes: the request
// is in memory already, so this only stops a server that never reads from
// holding more than a large body's worth.
const maxPendingWrite = 256 << 20

// plainWire is an iostream.Stream: the socket is the loop's (epoll), and
// one read is kept pending while the connection is open, idle included, so
// the server's close of an idle connection is seen at once.
type plainWire struct {
	stream  *iostream.Stream
	deliver func([]byte, error)
}

func dialPlain(loop *ioloop.Loop, address string, timeout time.Duration) *concurrent.Future[wire] {
	connecting := tcpserver.Connect(loop, address, tcpserver.ConnectOptions{
		Timeout: timeout,
		Stream:  iostream.Options{MaxBufferSize: readChunk, MaxPendingWriteBytes: maxPendingWrite},
	})
	out := concurrent.New[wire]()
	connecting.OnResult(func(s *iostream.Stream, err error) {
		switch {
		case errors.Is(err, tcpserver.ErrConnectTimeout):
			out.Fail(fmt.Errorf("%w: %s within %v", ErrConnectTimeout, address, timeout))
		case err != nil:
			out.Fail(fmt.Errorf("%w: %w", ErrConnect, err))
		case !out.Resolve(&plainWire{stream: s}):
			s.Close(nil)
		}
	})
	out.AddDoneCallback(func(*concurrent.Future[wire]) { connecting.Cancel() })
	return out
}

func (w *plainWire) receive(fn func([]byte, error)) {
	w.deliver = fn
	w.stream.ReadPartial(readChunk, w.onRead)
}

func (w *plainWire) onRead(data []byte, err error) {
	w.deliver(data, err)
	if err == nil && !w.stream.Closed() {
		w.stream.ReadPartial(readChunk, w.onRead)
	}
}

func (w *plainWire) send(head, body []byte) {
	// A failed write closes the stream, which fails the pending read: the
	// receiver hears of it there.
	w.stream.Write(head)
	if len(body) > 0 {
		w.stream.Write(body)
	}
}

func (w *plainWire) close() { w.stream.Close(nil) }

// tlsWire runs crypto/tls on two goroutines of its own over a blocking
// net.Conn (see doc.go for why and what it costs): the reader reads
// plaintext and hands each chunk to the loop with AddCallback, then waits
// until the loop has consumed it (one chunk in flight, so reading is
// paced by the loop); the writer writes what the loop sends it. Closing
// closes the TCP socket, which ends both goroutines' I/O at once (no
// close_notify: a client's response framing never depends on one, and
// sending it could block).
type tlsWire struct {
	loop     *ioloop.Loop
	raw      net.Conn
	conn     *tls.Conn
	deliver  func([]byte, error)
	readMore chan struct{}  // the loop consumed the last chunk
	writes   chan [2][]byte // head and body of a request
	done     chan struct{}  // closed by close
	closed   bool
	started  bool
}

// tlsWriteQueue bounds the requests a TLS wire's writer may have queued. A
// connection carries one request at a time; a second can only queue while
// the first's body is still being written after its response arrived.
const tlsWriteQueue = 4

func dialTLS(loop *ioloop.Loop, address string, config *tls.Config, timeout time.Duration) *concurrent.Future[wire] {
	out := concurrent.New[wire]()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		var d net.Dialer
		raw, err := d.DialContext(ctx, "tcp", address)
		var conn *tls.Conn
		if err == nil {
			conn = tls.Client(raw, config)
			if err = conn.HandshakeContext(ctx); err != nil {
				raw.Close()
			}
		}
		loop.AddCallback(func() {
			if err != nil {
				out.Fail(fmt.Errorf("%w: %w", ErrConnect, err))
				return
			}
			w := &tlsWire{loop: loop, raw: raw, conn: conn, readMore: make(chan struct{}, 1),
				writes: make(chan [2][]byte, tlsWriteQueue), done: make(chan struct{})}
			if !out.Resolve(w) {
				raw.Close() // the fetch gave up on it
			}
		})
	}()
	var timer *ioloop.Timer
	if timeout > 0 {
		timer = loop.CallLater(timeout, func() {
			out.Fail(fmt.Errorf("%w: %s (TLS) within %v", ErrConnectTimeout, address, timeout))
		})
	}
	out.AddDoneCallback(func(*concurrent.Future[wire]) {
		if timer != nil {
			timer.Cancel()
		}
		cancel() // ends a dial or handshake still running; nothing once they are done
	})
	return out
}

func (w *tlsWire) receive(fn func([]byte, error)) {
	w.deliver = fn
	if !w.started {
		w.started = true
		go w.readLoop()
		go w.writeLoop()
	}
}

// readLoop runs on its own goroutine; it touches nothing of the loop's but
// the buffer it hands over, and only while the loop does not hold it.
func (w *tlsWire) readLoop() {
	buf := make([]byte, tlsReadChunk)
	for {
		n, err := w.conn.Read(buf)
		if n == 0 && err == nil {
			continue
		}
		chunk := buf[:n]
		w.loop.AddCallback(func() {
			if !w.closed {
				if n > 0 {
					w.deliver(chunk, nil)
				}
				if err != nil && !w.closed {
					w.deliver(nil, err)
				}
			}
			w.readMore <- struct{}{}
		})
		if err != nil {
			return
		}
		select {
		case <-w.readMore:
		case <-w.done:
			return
		}
	}
}

func (w *tlsWire) writeLoop() {
	for {
		select {
		case req := <-w.writes:
			_, err := w.conn.Write(req[0])
			if err == nil && len(req[1]) > 0 {
				_, err = w.conn.Write(req[1])
			}
			if err != nil {
				w.loop.AddCallback(func() {
					if !w.closed {
						w.deliver(nil, fmt.Errorf("write: %w", err))
					}
				})
				return
			}
		case <-w.done:
			return
		}
	}
}

func (w *tlsWire) send(head, body []byte) {
	if len(body) > 0 && len(body) < 16<<10 {
		head, body = append(head, body...), nil // one record, one system call
	}
	select {
	case w.writes <- [2][]byte{head, body}:
	default:
		// Never block the loop: a writer this far behind is a server that
		// does not read.
		w.loop.AddCallback(func() {
			if !w.closed {
				w.deliver(nil, errors.New("write: TLS write queue full"))
			}
		})
	}
}

func (w *tlsWire) close() {
	if w.closed {
		return
	}
	w.closed = true
	close(w.done)
	w.raw.Close() // safe from any goroutine; unblocks Read and Write
}
