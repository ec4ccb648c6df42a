package websocket

import (
	"encoding/binary"
	"errors"
)

// MaxFrameHeaderSize is the longest frame header: 2 bytes, 8 bytes of
// extended payload length and a 4-byte masking key (RFC 6455 §5.2).
const MaxFrameHeaderSize = 14

// MaxControlPayload is the largest payload a control frame may carry
// (RFC 6455 §5.5).
const MaxControlPayload = 125

// FrameHeader is a decoded frame header. It is a plain value; ParseFrameHeader
// fills it and AppendFrameHeader writes one.
type FrameHeader struct {
	Fin        bool
	Rsv1       bool // "per-message compressed" under permessage-deflate
	Rsv2, Rsv3 bool // never valid here: no extension this package knows uses them
	Opcode     Opcode
	Masked     bool
	MaskKey    [4]byte
	Length     int // payload length in bytes
	HeaderLen  int // bytes the header occupies on the wire (2 to 14)
}

// errFrameLengthHighBit is a 64-bit length with its most significant bit
// set, which RFC 6455 §5.2 forbids.
var errFrameLengthHighBit = &CloseError{Code: CloseProtocolError, Reason: "64-bit frame length with the high bit set"}

// ParseFrameHeader decodes the frame header at the start of b. It checks
// only the syntax (the 64-bit length's high bit, and that the length fits
// an int); the rules that depend on the connection (masking, reserved
// bits, fragmentation, sizes) are the Reader's. When b holds only part of
// a header it returns ok == false and no error. Non-minimal length
// encodings (a 16-bit length below 126, a 64-bit one below 65536) are
// accepted, as RFC 6455 requires of nobody to reject them.
func ParseFrameHeader(b []byte) (h FrameHeader, ok bool, err error) {
	h, stage, err := parseFrameHeaderPrefix(b)
	return h, stage == headerComplete, err
}

// How much of a header parseFrameHeaderPrefix could decode.
const (
	headerNone        = iota // fewer than 2 bytes
	headerFirstBytes         // flags, opcode and MASK known; length maybe not
	headerLengthKnown        // Length known; masking key still missing
	headerComplete
)

// parseFrameHeaderPrefix decodes as much of a header as b holds, so the
// Reader can fail a frame on its first bytes without waiting for the rest.
func parseFrameHeaderPrefix(b []byte) (h FrameHeader, stage int, err error) {
	if len(b) < 2 {
		return h, headerNone, nil
	}
	h.Fin = b[0]&0x80 != 0
	h.Rsv1 = b[0]&0x40 != 0
	h.Rsv2 = b[0]&0x20 != 0
	h.Rsv3 = b[0]&0x10 != 0
	h.Opcode = Opcode(b[0] & 0x0f)
	h.Masked = b[1]&0x80 != 0
	n := 2
	switch l := b[1] & 0x7f; l {
	case 126:
		if len(b) < 4 {
			return h, headerFirstBytes, nil
		}
		h.Length = int(binary.BigEndian.Uint16(b[2:]))
		n = 4
	case 127:
		if len(b) < 10 {
			return h, headerFirstBytes, nil
		}
		l64 := binary.BigEndian.Uint64(b[2:])
		if l64>>63 != 0 {
			return h, headerFirstBytes, errFrameLengthHighBit
		}
		if l64 > uint64(maxInt) {
			// Only reachable on 32-bit platforms; far beyond any limit.
			return h, headerFirstBytes, &CloseError{Code: CloseMessageTooBig, Reason: "frame too big"}
		}
		h.Length = int(l64)
		n = 10
	default:
		h.Length = int(l)
	}
	if h.Masked {
		n += 4
		if len(b) < n {
			return h, headerLengthKnown, nil
		}
		copy(h.MaskKey[:], b[n-4:n])
	}
	h.HeaderLen = n
	return h, headerComplete, nil
}

const maxInt = int(^uint(0) >> 1)

// AppendFrameHeader appends the header for a payload of length bytes.
// A non-nil maskKey sets the MASK bit and appends the key; the caller
// masks the payload (AppendFrame does both).
func AppendFrameHeader(dst []byte, op Opcode, fin, rsv1 bool, length int, maskKey *[4]byte) []byte {
	b0 := byte(op) & 0x0f
	if fin {
		b0 |= 0x80
	}
	if rsv1 {
		b0 |= 0x40
	}
	var b1 byte
	if maskKey != nil {
		b1 = 0x80
	}
	switch {
	case length <= 125:
		dst = append(dst, b0, b1|byte(length))
	case length <= 0xffff:
		dst = append(dst, b0, b1|126, byte(length>>8), byte(length))
	default:
		dst = append(dst, b0, b1|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(length))
	}
	if maskKey != nil {
		dst = append(dst, maskKey[:]...)
	}
	return dst
}

// AppendFrame appends one complete frame carrying payload. With a non-nil
// maskKey (client to server) the appended copy is masked; payload itself
// is never modified.
func AppendFrame(dst []byte, op Opcode, fin, rsv1 bool, payload []byte, maskKey *[4]byte) []byte {
	dst = AppendFrameHeader(dst, op, fin, rsv1, len(payload), maskKey)
	start := len(dst)
	dst = append(dst, payload...)
	if maskKey != nil {
		xorMask(*maskKey, 0, dst[start:])
	}
	return dst
}

// FrameSize is the number of bytes AppendFrame appends for a payload of
// length bytes, so callers can size a buffer once.
func FrameSize(length int, masked bool) int {
	n := 2 + length
	switch {
	case length > 0xffff:
		n += 8
	case length > 125:
		n += 2
	}
	if masked {
		n += 4
	}
	return n
}

// errShortFrame is returned by the Reader's Split at EOF with a partial frame.
var errShortFrame = errors.New("websocket: connection ended inside a frame")
