// Package iostream is a buffered, non-blocking byte stream over a loop
// connection: the counterpart of Tornado's tornado.iostream.IOStream.
//
// A Stream reads with callbacks: ReadUntil a delimiter, ReadBytes n,
// ReadPartial, ReadUntilClose, and ReadScan, which takes a
// bufio.SplitFunc so protocol parsers (HTTP heads, WebSocket frames) plug
// straight in. ReadScanner takes the split function and the callback as
// one Scanner, so a connection that reads frame after frame can be its own
// scanner and allocate nothing per read. A read's callback runs once enough
// bytes have arrived; the bytes it gets point into the stream's buffer and
// are valid until the callback returns. Only one read is pending at a time, and a callback that
// starts the next read is served from the buffer without recursion, so a
// peer that pipelines a thousand requests cannot grow the stack. Reads are
// served in turns: after 64 callbacks or 256 KiB read from the socket the
// stream yields to the loop and carries on from a loop callback, so one
// fast sender cannot hold the loop while other connections and timers wait.
//
// Write hands bytes to the kernel at once when nothing is queued (one
// system call) and queues the rest until the socket turns writable; its
// Future resolves once the kernel has every byte. PendingWriteBytes is the
// backpressure signal; past Options.MaxPendingWriteBytes the stream closes
// rather than grow without bound. An idle stream holds no read buffer:
// buffers come from a pool while bytes are in flight.
//
// Lifecycle: a stream is open until Close — by its owner, or by itself on
// a reset, a write error, the write limit, or the peer's EOF while no read
// is waiting. Closing fails the waiting read and queued writes with
// ErrStreamClosed and then runs the close callbacks once, with the cause,
// each as a loop callback of its own: one that panics is logged and
// counted by the loop and the others still run.
//
// Goroutines: a Stream is loop-owned. Every method must be called on its
// loop's goroutine and every callback runs there.
package iostream
