package websocket

import (
	"crypto/rand"
	"errors"
)

// DefaultCompressionThreshold: messages shorter than this are sent
// uncompressed even when permessage-deflate was negotiated; below it the
// deflate framing costs more than it saves and the CPU is wasted.
const DefaultCompressionThreshold = 128

// WriterConfig configures a Writer. The zero value writes a client's
// frames (masked) with no compression.
type WriterConfig struct {
	// Server: this end is the server, so frames go out unmasked.
	Server bool
	// Deflate is the negotiated permessage-deflate parameters, nil when
	// none was negotiated.
	Deflate *DeflateParams
	// DeflateConfig is this side's own takeover policy; context takeover
	// is used only when both it and the negotiated parameters allow.
	DeflateConfig DeflateConfig
	// CompressionThreshold: with deflate negotiated, messages shorter than
	// this go out uncompressed. Zero means DefaultCompressionThreshold; a
	// negative value switches the threshold off (everything is compressed).
	CompressionThreshold int
	// MaskKey returns a fresh masking key for each client frame. Nil means
	// crypto/rand, as RFC 6455 §5.3 requires of real clients; tests set it.
	MaskKey func() [4]byte
}

// Writer is the sending half of the protocol, with no I/O: it appends
// encoded frames to a byte slice the connection then writes to its
// stream. It owns the connection's compression context when context
// takeover is on (call Release when the connection ends). Not safe for
// concurrent use; owned by the loop.
type Writer struct {
	server     bool
	deflate    bool
	compressor deflateCompressor
	threshold  int
	maskKey    func() [4]byte
}

// NewWriter returns a Writer for one connection.
func NewWriter(cfg WriterConfig) *Writer {
	w := &Writer{server: cfg.Server, threshold: cfg.CompressionThreshold, maskKey: cfg.MaskKey}
	if w.threshold == 0 {
		w.threshold = DefaultCompressionThreshold
	}
	if cfg.Deflate != nil {
		w.deflate = true
		w.compressor.takeover = cfg.Deflate.sendTakeover(cfg.Server, cfg.DeflateConfig)
	}
	if w.maskKey == nil {
		w.maskKey = randomMaskKey
	}
	return w
}

func randomMaskKey() (k [4]byte) {
	rand.Read(k[:]) // never fails (crypto/rand panics on failure itself)
	return k
}

// ErrControlTooBig is a ping, pong or close payload over 125 bytes.
var ErrControlTooBig = errors.New("websocket: control frame payload over 125 bytes")

// shouldCompress reports whether a data message of n bytes is compressed.
func (w *Writer) shouldCompress(n int) bool {
	return w.deflate && (w.threshold < 0 || n >= w.threshold)
}

// AppendMessage appends a text or binary message as one frame, compressed
// when permessage-deflate is on and the message reaches the threshold.
// Without context takeover a message that would not shrink is sent
// uncompressed (with takeover it cannot be: the peer's window must see
// every compressed byte we compressed).
func (w *Writer) AppendMessage(dst []byte, op Opcode, payload []byte) []byte {
	if !w.shouldCompress(len(payload)) {
		return w.appendFrame(dst, op, false, payload)
	}
	// Compress behind room for the longest header, then write the real
	// header and slide the compressed bytes down to meet it.
	start := len(dst)
	dst = append(dst, make([]byte, MaxFrameHeaderSize)...)
	dst = w.compressor.appendCompressed(dst, payload)
	compressed := dst[start+MaxFrameHeaderSize:]
	if !w.compressor.takeover && len(compressed) >= len(payload) {
		return w.appendFrame(dst[:start], op, false, payload)
	}
	var key *[4]byte
	if !w.server {
		k := w.maskKey()
		key = &k
	}
	var header [MaxFrameHeaderSize]byte
	h := AppendFrameHeader(header[:0], op, true, true, len(compressed), key)
	copy(dst[start:], h)
	n := copy(dst[start+len(h):], compressed)
	dst = dst[:start+len(h)+n]
	if key != nil {
		xorMask(*key, 0, dst[start+len(h):])
	}
	return dst
}

func (w *Writer) appendFrame(dst []byte, op Opcode, rsv1 bool, payload []byte) []byte {
	if w.server {
		return AppendFrame(dst, op, true, rsv1, payload, nil)
	}
	k := w.maskKey()
	return AppendFrame(dst, op, true, rsv1, payload, &k)
}

// AppendControl appends a ping, pong or close frame (never compressed).
func (w *Writer) AppendControl(dst []byte, op Opcode, payload []byte) ([]byte, error) {
	if len(payload) > MaxControlPayload {
		return dst, ErrControlTooBig
	}
	return w.appendFrame(dst, op, false, payload), nil
}

// AppendClose appends a close frame with code and reason (the reason cut
// to fit); code CloseNoStatus sends an empty close frame.
func (w *Writer) AppendClose(dst []byte, code int, reason string) []byte {
	var buf [MaxControlPayload]byte
	dst, _ = w.AppendControl(dst, OpClose, AppendClosePayload(buf[:0], code, reason))
	return dst
}

// PreparedFrame returns the bytes that carry pm on this connection. On a
// server connection without compression, or with permessage-deflate and
// server_no_context_takeover, they are pm's shared frame bytes: encoded
// once for every connection, immutable, to be queued as they are. With
// server context takeover (or on a client, which must mask) the message
// is encoded for this connection alone. Either way the caller must not
// modify the result.
func (w *Writer) PreparedFrame(pm *PreparedFrames) []byte {
	if !w.server {
		return w.AppendMessage(nil, pm.op, pm.Payload())
	}
	if !w.shouldCompress(len(pm.Payload())) || pm.op.isControl() {
		return pm.Frame()
	}
	if !w.compressor.takeover {
		return pm.DeflatedFrame()
	}
	return w.AppendMessage(make([]byte, 0, FrameSize(len(pm.Payload()), false)), pm.op, pm.Payload())
}

// Release drops a context-takeover compressor; call it when the
// connection ends.
func (w *Writer) Release() { w.compressor.release() }
