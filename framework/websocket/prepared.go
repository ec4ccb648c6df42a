package websocket

// PreparedFrames is a server-to-client message encoded once and written
// to many connections (a broadcast). Server frames are unmasked, so the
// same bytes suit every connection: the uncompressed frame is built at
// once; the compressed variant, for connections that negotiated
// permessage-deflate with server_no_context_takeover, is built on first
// use. A connection whose server keeps its compression context cannot
// share compressed bytes (its window differs from every other's):
// Writer.PreparedFrame compresses the payload for it alone.
//
// (It is not named PreparedMessage because broadcast.go already declares
// that type for the existing Conn.)
//
// The frame bytes are immutable once built, so write queues may hold them
// without copying. Building the compressed variant lazily mutates the
// value: a PreparedFrames is owned by the loop like the connections it is
// written to.
type PreparedFrames struct {
	op            Opcode
	plain         []byte // the uncompressed frame; the payload is its tail
	headerLen     int
	deflated      []byte
	deflatedBuilt bool
}

// NewPreparedFrames encodes a message for broadcast. op is OpText or
// OpBinary (a control opcode is allowed for a ping to everyone, with at
// most 125 bytes; it is never compressed). payload is copied.
func NewPreparedFrames(op Opcode, payload []byte) *PreparedFrames {
	plain := AppendFrame(make([]byte, 0, FrameSize(len(payload), false)), op, true, false, payload, nil)
	return &PreparedFrames{op: op, plain: plain, headerLen: len(plain) - len(payload)}
}

// Opcode is the message's opcode.
func (p *PreparedFrames) Opcode() Opcode { return p.op }

// Payload is the message as given (a view into the frame: do not modify).
func (p *PreparedFrames) Payload() []byte { return p.plain[p.headerLen:] }

// Frame is the uncompressed frame.
func (p *PreparedFrames) Frame() []byte { return p.plain }

// DeflatedFrame is the frame compressed without context, for connections
// with permessage-deflate and server_no_context_takeover. When
// compression does not shrink the payload it is the uncompressed frame,
// which such a connection accepts too.
func (p *PreparedFrames) DeflatedFrame() []byte {
	if p.op.isControl() {
		return p.plain
	}
	if !p.deflatedBuilt {
		p.deflatedBuilt = true
		payload := p.Payload()
		compressed := appendDeflated(make([]byte, 0, len(payload)/2+16), payload)
		if len(compressed) < len(payload) {
			p.deflated = AppendFrame(make([]byte, 0, FrameSize(len(compressed), false)), p.op, true, true, compressed, nil)
		} else {
			p.deflated = p.plain
		}
	}
	return p.deflated
}
