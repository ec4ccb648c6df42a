package websocket

import (
	"compress/flate"
	"io"
	"sync"
)

// The compression side of permessage-deflate (RFC 7692 §7.2).
//
// A sender compresses a message with a sync flush, which ends the output
// with an empty stored block 0x00 0x00 0xff 0xff; those four bytes are
// stripped before sending. The receiver appends them back and then, as a
// trick to make compress/flate report a clean io.EOF, a final empty
// stored block (0x01 0x00 0x00 0xff 0xff).

// deflateCompressionLevel favours speed: chat messages are short and the
// loop is shared with every other connection.
const deflateCompressionLevel = flate.BestSpeed

// deflateWindow is the LZ77 window of compress/flate, and the size of the
// dictionary a receiver keeps for a peer using context takeover.
const deflateWindow = 32 << 10

var (
	deflateSyncTail  = [4]byte{0x00, 0x00, 0xff, 0xff}
	deflateFinalTail = [9]byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}
)

// pooledFlateWriters holds compressors for messages compressed without
// context takeover: an idle connection holds none.
var pooledFlateWriters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, deflateCompressionLevel)
	return w
}}

// pooledFlateReaders holds decompressors; the dictionary, when a peer uses
// context takeover, is kept by the Reader and handed to Reset.
var pooledFlateReaders = sync.Pool{New: func() any {
	return flate.NewReader(nil)
}}

// appendWriter is an io.Writer appending to a slice.
type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// deflateCompressor compresses one direction's messages. Without context
// takeover it borrows a pooled flate.Writer per message; with it, it owns
// one for the connection's life (call release when the connection ends).
// Not safe for concurrent use; owned by the loop.
type deflateCompressor struct {
	takeover bool
	w        *flate.Writer // only with takeover
	out      appendWriter
}

// appendCompressed appends the compressed payload of one message (sync
// tail stripped) to dst.
func (c *deflateCompressor) appendCompressed(dst, msg []byte) []byte {
	if !c.takeover {
		return appendDeflated(dst, msg)
	}
	if c.w == nil {
		c.w, _ = flate.NewWriter(nil, deflateCompressionLevel)
		c.w.Reset(&c.out)
	}
	c.out.b = dst
	c.w.Write(msg) // appendWriter never fails
	c.w.Flush()
	dst = c.out.b
	c.out.b = nil
	return dst[:len(dst)-len(deflateSyncTail)]
}

// release drops a context-takeover compressor.
func (c *deflateCompressor) release() { c.w = nil }

// appendDeflated compresses msg on its own (no context) with a pooled
// writer and appends the payload, sync tail stripped, to dst.
func appendDeflated(dst, msg []byte) []byte {
	w := pooledFlateWriters.Get().(*flate.Writer)
	out := appendWriter{b: dst}
	w.Reset(&out)
	w.Write(msg)
	w.Flush()
	w.Reset(nil) // drop the reference to out before pooling
	pooledFlateWriters.Put(w)
	return out.b[:len(out.b)-len(deflateSyncTail)]
}

// pieceReader reads a sequence of byte slices as one stream. It is an
// io.ByteReader so compress/flate reads it directly, without wrapping it
// in a bufio.Reader of its own.
type pieceReader struct {
	pieces [2][]byte
	i      int
}

func (r *pieceReader) ReadByte() (byte, error) {
	for r.i < len(r.pieces) {
		if p := r.pieces[r.i]; len(p) > 0 {
			r.pieces[r.i] = p[1:]
			return p[0], nil
		}
		r.i++
	}
	return 0, io.EOF
}

func (r *pieceReader) Read(b []byte) (int, error) {
	for r.i < len(r.pieces) {
		if p := r.pieces[r.i]; len(p) > 0 {
			n := copy(b, p)
			r.pieces[r.i] = p[n:]
			return n, nil
		}
		r.i++
	}
	return 0, io.EOF
}
