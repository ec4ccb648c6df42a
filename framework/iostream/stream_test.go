package iostream_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"chat/framework/ioloop"
	"chat/framework/ioloop/looptest"
	"chat/framework/iostream"
	"chat/framework/tcpserver"
)

// pair is one connection: the server side is a Stream on the test's loop,
// the client side a plain net.Conn the test drives from its goroutine.
type pair struct {
	loop   *ioloop.Loop
	stream *iostream.Stream
	client net.Conn
}

// newPair listens on 127.0.0.1:0 with a loop-backed server, dials it with
// net.Dial and returns both ends once the server has its stream.
func newPair(t *testing.T, opts iostream.Options) *pair {
	t.Helper()
	l := looptest.Start(t)
	streams := make(chan *iostream.Stream, 1)
	var addr net.Addr
	looptest.Do(t, l, func() {
		srv := &tcpserver.Server{Loop: l, StreamOptions: opts, Handler: func(s *iostream.Stream) { streams <- s }}
		var err error
		if addr, err = srv.Listen("127.0.0.1:0"); err != nil {
			t.Fatalf("Listen: %v", err)
		}
		t.Cleanup(func() { l.AddCallback(srv.Close) })
	})
	client, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { client.Close() })
	return &pair{loop: l, stream: looptest.Wait(t, streams, "accepted stream"), client: client}
}

type readResult struct {
	data string
	err  error
}

// read starts a read on the loop and returns a channel with its result.
func (p *pair) read(t *testing.T, start func(s *iostream.Stream, cb iostream.ReadCallback)) <-chan readResult {
	t.Helper()
	ch := make(chan readResult, 1)
	looptest.Do(t, p.loop, func() {
		start(p.stream, func(data []byte, err error) { ch <- readResult{string(data), err} })
	})
	return ch
}

// buffered asks the loop how many bytes the stream holds.
func (p *pair) buffered(t *testing.T) int {
	var n int
	looptest.Do(t, p.loop, func() { n = p.stream.Buffered() })
	return n
}

// waitBuffered waits until the stream has read at least n bytes, by asking
// the loop after each look (each ask is a round trip through the loop,
// which is what lets the stream's read handler run in between).
func (p *pair) waitBuffered(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(looptest.Watchdog)
	for p.buffered(t) < n {
		if time.Now().After(deadline) {
			t.Fatalf("stream never buffered %d bytes", n)
		}
	}
}

func write(t *testing.T, c net.Conn, s string) {
	t.Helper()
	if _, err := io.WriteString(c, s); err != nil {
		t.Fatalf("client write: %v", err)
	}
}

func TestReadUntilWithTheDelimiterSplitAtEveryByte(t *testing.T) {
	const head = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
	const msg = head + "BODY!"
	for split := 1; split < len(msg); split++ {
		t.Run(fmt.Sprint(split), func(t *testing.T) {
			p := newPair(t, iostream.Options{})
			got := p.read(t, func(s *iostream.Stream, cb iostream.ReadCallback) { s.ReadUntil([]byte("\r\n\r\n"), 1024, cb) })
			write(t, p.client, msg[:split])
			if split < len(head) {
				p.waitBuffered(t, split) // the first piece arrived on its own
			}
			write(t, p.client, msg[split:])
			if r := looptest.Wait(t, got, "ReadUntil"); r.data != head || r.err != nil {
				t.Fatalf("ReadUntil = %q, %v; want the head", r.data, r.err)
			}
			body := p.read(t, func(s *iostream.Stream, cb iostream.ReadCallback) { s.ReadBytes(5, cb) })
			if r := looptest.Wait(t, body, "ReadBytes"); r.data != "BODY!" || r.err != nil {
				t.Fatalf("ReadBytes = %q, %v; want BODY!", r.data, r.err)
			}
		})
	}
}

func TestReadKinds(t *testing.T) {
	tests := []struct {
		name  string
		send  string
		start func(s *iostream.Stream, cb iostream.ReadCallback)
		close bool // client closes after sending
		want  string
	}{
		{"ReadBytes takes exactly n", "abcdef", func(s *iostream.Stream, cb iostream.ReadCallback) { s.ReadBytes(4, cb) }, false, "abcd"},
		{"ReadPartial takes what is there", "xy", func(s *iostream.Stream, cb iostream.ReadCallback) { s.ReadPartial(100, cb) }, false, "xy"},
		{"ReadPartial respects max", "abcdef", func(s *iostream.Stream, cb iostream.ReadCallback) { s.ReadPartial(2, cb) }, false, "ab"},
		{"ReadScan with bufio.ScanLines", "first line\r\nsecond", func(s *iostream.Stream, cb iostream.ReadCallback) { s.ReadScan(bufio.ScanLines, cb) }, false, "first line"},
		{"ReadScan at EOF gets the last token", "no newline", func(s *iostream.Stream, cb iostream.ReadCallback) { s.ReadScan(bufio.ScanLines, cb) }, true, "no newline"},
		{"ReadUntilClose", "all of it", func(s *iostream.Stream, cb iostream.ReadCallback) { s.ReadUntilClose(cb) }, true, "all of it"},
		{"ReadUntil with a multi-byte delimiter", "a--b--c", func(s *iostream.Stream, cb iostream.ReadCallback) { s.ReadUntil([]byte("--"), 0, cb) }, false, "a--"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPair(t, iostream.Options{})
			got := p.read(t, tc.start)
			write(t, p.client, tc.send)
			if tc.close {
				p.client.(*net.TCPConn).CloseWrite()
			}
			if r := looptest.Wait(t, got, "read"); r.data != tc.want || r.err != nil {
				t.Fatalf("got %q, %v; want %q, nil", r.data, r.err, tc.want)
			}
		})
	}
}

func TestChainedReadsServePipelinedDataFromTheBuffer(t *testing.T) {
	p := newPair(t, iostream.Options{})
	const lines = 2000
	var all strings.Builder
	for i := range lines {
		fmt.Fprintf(&all, "line %d\n", i)
	}
	done := make(chan []string, 1)
	looptest.Do(t, p.loop, func() {
		var got []string
		var next iostream.ReadCallback
		next = func(data []byte, err error) {
			if err != nil {
				done <- append(got, "error: "+err.Error())
				return
			}
			got = append(got, string(data))
			if len(got) == lines {
				done <- got
				return
			}
			p.stream.ReadUntil([]byte("\n"), 0, next) // chained inside the callback
		}
		p.stream.ReadUntil([]byte("\n"), 0, next)
	})
	write(t, p.client, all.String()) // one write: every line arrives at once
	got := looptest.Wait(t, done, "all lines")
	if len(got) != lines || got[lines-1] != fmt.Sprintf("line %d\n", lines-1) {
		t.Fatalf("got %d lines, last %q", len(got), got[len(got)-1])
	}
}

func TestReadLimits(t *testing.T) {
	opts := iostream.Options{MaxBufferSize: 64}
	tests := []struct {
		name    string
		send    string
		close   bool
		start   func(s *iostream.Stream, cb iostream.ReadCallback)
		wantErr error
	}{
		{"ReadUntil past its max", strings.Repeat("x", 20), false,
			func(s *iostream.Stream, cb iostream.ReadCallback) { s.ReadUntil([]byte("\n"), 10, cb) }, iostream.ErrDelimiterNotFound},
		{"ReadUntil past the buffer limit", strings.Repeat("x", 100), false,
			func(s *iostream.Stream, cb iostream.ReadCallback) { s.ReadUntil([]byte("\n"), 0, cb) }, iostream.ErrDelimiterNotFound},
		{"ReadBytes larger than the buffer", "abc", false,
			func(s *iostream.Stream, cb iostream.ReadCallback) { s.ReadBytes(65, cb) }, iostream.ErrBufferFull},
		{"ReadScan that never finds a token", strings.Repeat("y", 100), false,
			func(s *iostream.Stream, cb iostream.ReadCallback) { s.ReadScan(bufio.ScanLines, cb) }, iostream.ErrBufferFull},
		{"ReadUntilClose over the limit", strings.Repeat("z", 100), false,
			func(s *iostream.Stream, cb iostream.ReadCallback) { s.ReadUntilClose(cb) }, iostream.ErrBufferFull},
		{"EOF before the delimiter", "partial", true,
			func(s *iostream.Stream, cb iostream.ReadCallback) { s.ReadUntil([]byte("\n"), 0, cb) }, io.EOF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPair(t, opts)
			got := p.read(t, tc.start)
			write(t, p.client, tc.send)
			if tc.close {
				p.client.(*net.TCPConn).CloseWrite()
			}
			if r := looptest.Wait(t, got, "read"); !errors.Is(r.err, tc.wantErr) {
				t.Fatalf("err = %v; want %v", r.err, tc.wantErr)
			}
		})
	}
}

func TestSecondReadWhilePendingFails(t *testing.T) {
	p := newPair(t, iostream.Options{})
	p.read(t, func(s *iostream.Stream, cb iostream.ReadCallback) { s.ReadBytes(1, cb) })
	second := p.read(t, func(s *iostream.Stream, cb iostream.ReadCallback) { s.ReadBytes(1, cb) })
	if r := looptest.Wait(t, second, "second read"); !errors.Is(r.err, iostream.ErrReadPending) {
		t.Fatalf("second read: %v; want ErrReadPending", r.err)
	}
}

func TestPeerCloseWhileIdleClosesTheStreamWithEOF(t *testing.T) {
	p := newPair(t, iostream.Options{})
	causes := make(chan error, 1)
	looptest.Do(t, p.loop, func() { p.stream.AddCloseCallback(func(err error) { causes <- err }) })
	p.client.Close()
	if err := looptest.Wait(t, causes, "close callback"); !errors.Is(err, io.EOF) {
		t.Fatalf("close cause = %v; want io.EOF", err)
	}
}

func TestHalfCloseStillAllowsTheReply(t *testing.T) {
	p := newPair(t, iostream.Options{})
	looptest.Do(t, p.loop, func() {
		p.stream.ReadUntilClose(func(data []byte, err error) {
			if err != nil {
				t.Errorf("ReadUntilClose: %v", err)
			}
			reply := append([]byte("got "), data...)
			p.stream.Write(reply).OnResult(func(struct{}, error) { p.stream.Close(nil) })
		})
	})
	write(t, p.client, "ping")
	p.client.(*net.TCPConn).CloseWrite()
	reply, err := io.ReadAll(p.client)
	if err != nil || string(reply) != "got ping" {
		t.Fatalf("reply %q, %v; want \"got ping\"", reply, err)
	}
}

func TestPeerResetFailsThePendingRead(t *testing.T) {
	p := newPair(t, iostream.Options{})
	causes := make(chan error, 1)
	looptest.Do(t, p.loop, func() { p.stream.AddCloseCallback(func(err error) { causes <- err }) })
	got := p.read(t, func(s *iostream.Stream, cb iostream.ReadCallback) { s.ReadBytes(10, cb) })
	p.client.(*net.TCPConn).SetLinger(0)
	p.client.Close()
	r := looptest.Wait(t, got, "read")
	if r.err == nil || errors.Is(r.err, io.EOF) {
		t.Fatalf("read after reset: %v; want a reset error", r.err)
	}
	if cause := looptest.Wait(t, causes, "close callback"); cause == nil || errors.Is(cause, io.EOF) {
		t.Fatalf("close cause %v; want the reset", cause)
	}
}

func TestWriteBackpressureAgainstAPeerThatDoesNotRead(t *testing.T) {
	p := newPair(t, iostream.Options{MaxPendingWriteBytes: 64 << 20})
	// Every 4-byte word of the 16 MiB is its own index, so a byte lost,
	// repeated or reordered anywhere shows.
	const chunks = 16
	data := make([]byte, chunks<<20)
	for i := 0; i < len(data); i += 4 {
		binary.BigEndian.PutUint32(data[i:], uint32(i/4))
	}
	resolved := make(chan int, chunks)
	var pendingAfterWrites int
	looptest.Do(t, p.loop, func() {
		for i := range chunks {
			p.stream.Write(data[i<<20 : (i+1)<<20]).OnResult(func(_ struct{}, err error) {
				if err != nil {
					t.Errorf("write %d: %v", i, err)
				}
				resolved <- i
			})
		}
		pendingAfterWrites = p.stream.PendingWriteBytes()
	})
	if pendingAfterWrites == 0 {
		t.Fatal("16 MiB to a peer that does not read left nothing pending; kernel buffers are not that large")
	}
	if len(resolved) == chunks {
		t.Fatal("every write resolved while the peer was not reading")
	}
	// Now the peer reads: every byte arrives once, in order, and every
	// future resolves.
	received := make(chan []byte, 1)
	go func() {
		all, _ := io.ReadAll(p.client)
		received <- all
	}()
	for want := range chunks {
		if i := looptest.Wait(t, resolved, "write future"); i != want {
			t.Fatalf("write %d resolved before write %d", i, want)
		}
	}
	looptest.Do(t, p.loop, func() {
		if n := p.stream.PendingWriteBytes(); n != 0 {
			t.Errorf("PendingWriteBytes = %d after the kernel took everything", n)
		}
		p.stream.CloseAfterWrites()
	})
	got := looptest.Wait(t, received, "everything the peer read")
	if !bytes.Equal(got, data) {
		i := 0
		for i < min(len(got), len(data)) && got[i] == data[i] {
			i++
		}
		t.Fatalf("the peer read %d bytes of %d, the first difference at byte %d", len(got), len(data), i)
	}
}

func TestWriteLimitClosesTheStream(t *testing.T) {
	p := newPair(t, iostream.Options{MaxPendingWriteBytes: 1 << 20})
	causes := make(chan error, 1)
	chunk := make([]byte, 256<<10)
	looptest.Do(t, p.loop, func() {
		p.stream.AddCloseCallback(func(err error) { causes <- err })
		for range 64 { // 16 MiB: more than the kernel buffers plus the limit
			if p.stream.QueueWrite(chunk) != nil {
				break
			}
		}
	})
	if err := looptest.Wait(t, causes, "close"); !errors.Is(err, iostream.ErrWriteBufferFull) {
		t.Fatalf("close cause = %v; want ErrWriteBufferFull", err)
	}
}

func TestOperationsAfterCloseFail(t *testing.T) {
	p := newPair(t, iostream.Options{})
	pending := p.read(t, func(s *iostream.Stream, cb iostream.ReadCallback) { s.ReadBytes(1, cb) })
	looptest.Do(t, p.loop, func() { p.stream.Close(nil) })
	if r := looptest.Wait(t, pending, "pending read"); !errors.Is(r.err, iostream.ErrStreamClosed) {
		t.Fatalf("pending read: %v; want ErrStreamClosed", r.err)
	}
	after := p.read(t, func(s *iostream.Stream, cb iostream.ReadCallback) { s.ReadBytes(1, cb) })
	if r := looptest.Wait(t, after, "read after close"); !errors.Is(r.err, iostream.ErrStreamClosed) {
		t.Fatalf("read after close: %v; want ErrStreamClosed", r.err)
	}
	looptest.Do(t, p.loop, func() {
		if _, err := p.stream.Write([]byte("x")).Result(); !errors.Is(err, iostream.ErrStreamClosed) {
			t.Errorf("write after close: %v", err)
		}
	})
	if n, err := p.client.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("client read after server close: %d, %v; want EOF", n, err)
	}
}

func TestPanicInReadCallbackClosesOnlyThatStream(t *testing.T) {
	p := newPair(t, iostream.Options{})
	causes := make(chan error, 1)
	looptest.Do(t, p.loop, func() {
		p.stream.AddCloseCallback(func(err error) { causes <- err })
		p.stream.ReadBytes(1, func([]byte, error) { panic("handler bug") })
	})
	write(t, p.client, "x")
	if err := looptest.Wait(t, causes, "close"); err == nil || !strings.Contains(err.Error(), "handler bug") {
		t.Fatalf("close cause = %v; want the panic", err)
	}
	looptest.Do(t, p.loop, func() {}) // the loop still runs
}

// TestRemovedCloseCallbacksDoNotRun removes callbacks in the middle and at
// the end: the others run once, in the order they were added, and a
// callback added after a removal at the end takes the freed place.
func TestRemovedCloseCallbacksDoNotRun(t *testing.T) {
	p := newPair(t, iostream.Options{})
	ran := make(chan string, 10)
	looptest.Do(t, p.loop, func() {
		add := func(name string) iostream.CloseCallbackID {
			return p.stream.AddCloseCallback(func(error) { ran <- name })
		}
		add("first")
		middle := add("middle")
		add("third")
		last := add("last")
		p.stream.RemoveCloseCallback(middle)
		p.stream.RemoveCloseCallback(last)
		p.stream.RemoveCloseCallback(last)  // twice: nothing more happens
		p.stream.RemoveCloseCallback(-1)    // the ID of a callback added after close
		p.stream.RemoveCloseCallback(12345) // never issued
		if id := add("added after"); id != last {
			t.Errorf("a callback added after removing the last one got ID %d, want %d", id, last)
		}
		p.stream.Close(nil)
		add("after close") // runs too: the stream is already closed
	})
	var got []string
	for range 4 {
		got = append(got, looptest.Wait(t, ran, "close callback"))
	}
	want := []string{"first", "third", "added after", "after close"}
	if !slices.Equal(got, want) {
		t.Fatalf("ran %v, want %v", got, want)
	}
	looptest.Do(t, p.loop, func() {}) // anything else queued has run by now
	select {
	case extra := <-ran:
		t.Fatalf("removed callback %q ran", extra)
	default:
	}
}

// TestAPanickingCloseCallbackDoesNotCancelTheOthers closes streams whose
// close callbacks panic at different places in the list: every other
// callback still runs, in order, and each panic is logged with its stack
// and counted as a loop panic.
func TestAPanickingCloseCallbackDoesNotCancelTheOthers(t *testing.T) {
	tests := []struct {
		name      string
		callbacks string // one letter per callback: p panics, o records its index
	}{
		{"first of three panics", "poo"},
		{"middle of three panics", "opo"},
		{"last of three panics", "oop"},
		{"two of four panic", "popo"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var log bytes.Buffer
			var logMu sync.Mutex
			l := looptest.StartWith(t, ioloop.Options{Logger: slog.New(slog.NewTextHandler(lockedWriter{&logMu, &log}, nil))})
			s := acceptOne(t, l)
			ran := make(chan int, len(tc.callbacks))
			var want []int
			panicsBefore := l.Stats().Panics
			looptest.Do(t, l, func() {
				for i, kind := range tc.callbacks {
					if kind == 'p' {
						s.AddCloseCallback(func(error) { panic(fmt.Sprintf("close callback %d broke", i)) })
						continue
					}
					want = append(want, i)
					s.AddCloseCallback(func(error) { ran <- i })
				}
				s.Close(nil)
			})
			looptest.Do(t, l, func() {}) // the close callbacks were queued before this
			close(ran)
			var got []int
			for i := range ran {
				got = append(got, i)
			}
			if !slices.Equal(got, want) {
				t.Errorf("callbacks %v ran, want %v", got, want)
			}
			panics := strings.Count(tc.callbacks, "p")
			if n := l.Stats().Panics - panicsBefore; n != uint64(panics) {
				t.Errorf("loop counted %d panics, want %d", n, panics)
			}
			logMu.Lock()
			defer logMu.Unlock()
			for i, kind := range tc.callbacks {
				if kind == 'p' && !strings.Contains(log.String(), fmt.Sprintf("close callback %d broke", i)) {
					t.Errorf("panic of callback %d not logged; log:\n%s", i, log.String())
				}
			}
			if !strings.Contains(log.String(), "goroutine ") {
				t.Errorf("the panic log has no stack:\n%s", log.String())
			}
		})
	}
}

// lockedWriter serialises a log buffer the loop writes and the test reads.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (lw lockedWriter) Write(p []byte) (int, error) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return lw.w.Write(p)
}

// acceptOne returns the server side of one loopback connection on l.
func acceptOne(t *testing.T, l *ioloop.Loop) *iostream.Stream {
	t.Helper()
	streams := make(chan *iostream.Stream, 1)
	var addr net.Addr
	looptest.Do(t, l, func() {
		srv := &tcpserver.Server{Loop: l, Handler: func(s *iostream.Stream) { streams <- s }}
		var err error
		if addr, err = srv.Listen("127.0.0.1:0"); err != nil {
			t.Fatalf("Listen: %v", err)
		}
		t.Cleanup(func() { l.AddCallback(srv.Close) })
	})
	dial(t, addr)
	return looptest.Wait(t, streams, "accepted stream")
}
