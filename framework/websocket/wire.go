package websocket

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Opcode is a frame's type (RFC 6455 §5.2).
type Opcode byte

// The opcodes RFC 6455 defines. Others are reserved and fail the
// connection with CloseProtocolError.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

func (op Opcode) isControl() bool { return op&0x8 != 0 }

func (op Opcode) valid() bool {
	switch op {
	case OpContinuation, OpText, OpBinary, OpClose, OpPing, OpPong:
		return true
	}
	return false
}

// Close codes (RFC 6455 §7.4.1).
const (
	CloseNormal             = 1000
	CloseGoingAway          = 1001
	CloseProtocolError      = 1002
	CloseUnsupportedData    = 1003
	CloseNoStatus           = 1005 // never sent: "the close frame had no code"
	CloseAbnormal           = 1006 // never sent: "closed without a close frame"
	CloseInvalidPayload     = 1007
	ClosePolicyViolation    = 1008
	CloseMessageTooBig      = 1009
	CloseMandatoryExtension = 1010
	CloseInternalError      = 1011
	CloseTryAgainLater      = 1013
)

// validCloseCode reports whether code may appear in a close frame.
func validCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1011, code == 1012, code == 1013, code == 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// CloseError is a protocol failure: the connection is closed with Code.
type CloseError struct {
	Code   int
	Reason string
}

func (e *CloseError) Error() string {
	return fmt.Sprintf("websocket: close %d: %s", e.Code, e.Reason)
}

func protocolError(reason string) error { return &CloseError{Code: CloseProtocolError, Reason: reason} }

// frameHeader is a parsed frame header.
type frameHeader struct {
	fin        bool
	rsv1       bool
	opcode     Opcode
	masked     bool
	mask       [4]byte
	length     int // payload length
	headerSize int
}

// maxHeaderSize is 2 bytes + 8 of extended length + 4 of mask.
const maxHeaderSize = 14

// errNeedMore means the buffer holds only part of a header.
var errNeedMore = errors.New("websocket: need more bytes")

// parseFrameHeader reads a frame header from the start of b, checking
// everything that can be checked before the payload arrives: reserved
// bits, opcodes, control-frame rules, masking and the size limit. So an
// oversized frame fails with 1009 before any of it is buffered. maxPayload
// is what is left of the message limit; it bounds data frames only.
func parseFrameHeader(b []byte, expectMasked, deflate bool, maxPayload int) (frameHeader, error) {
	if len(b) < 2 {
		return frameHeader{}, errNeedMore
	}
	h := frameHeader{
		fin:    b[0]&0x80 != 0,
		rsv1:   b[0]&0x40 != 0,
		opcode: Opcode(b[0] & 0x0f),
		masked: b[1]&0x80 != 0,
	}
	if b[0]&0x30 != 0 {
		return h, protocolError("reserved bits RSV2/RSV3 set")
	}
	if h.rsv1 && (!deflate || h.opcode.isControl() || h.opcode == OpContinuation) {
		return h, protocolError("RSV1 set without permessage-deflate on this frame")
	}
	if !h.opcode.valid() {
		return h, protocolError(fmt.Sprintf("reserved opcode %#x", byte(h.opcode)))
	}
	if h.masked != expectMasked {
		if expectMasked {
			return h, protocolError("client frame not masked")
		}
		return h, protocolError("server frame masked")
	}
	length := int(b[1] & 0x7f)
	pos := 2
	switch length {
	case 126:
		if len(b) < 4 {
			return h, errNeedMore
		}
		length = int(binary.BigEndian.Uint16(b[2:4]))
		pos = 4
	case 127:
		if len(b) < 10 {
			return h, errNeedMore
		}
		n := binary.BigEndian.Uint64(b[2:10])
		if n>>63 != 0 {
			return h, protocolError("64-bit length with the high bit set")
		}
		if n > uint64(max(maxPayload, 125)) {
			if h.opcode.isControl() {
				return h, protocolError("control frame over 125 bytes")
			}
			return h, &CloseError{Code: CloseMessageTooBig, Reason: "frame too big"}
		}
		length = int(n)
		pos = 10
	}
	if h.opcode.isControl() {
		if !h.fin {
			return h, protocolError("fragmented control frame")
		}
		if length > 125 {
			return h, protocolError("control frame over 125 bytes")
		}
	}
	if length > maxPayload && !h.opcode.isControl() {
		// Only data frames count against the message limit: a control
		// frame may come between a message's fragments (RFC 6455 §5.4),
		// is no part of the message, and is bounded by 125 bytes above.
		return h, &CloseError{Code: CloseMessageTooBig, Reason: "frame too big"}
	}
	if h.masked {
		if len(b) < pos+4 {
			return h, errNeedMore
		}
		copy(h.mask[:], b[pos:pos+4])
		pos += 4
	}
	h.length, h.headerSize = length, pos
	return h, nil
}

// appendFrameHeader appends a frame header for a payload of n bytes; a
// non-nil mask marks it masked (client to server).
func appendFrameHeader(dst []byte, op Opcode, fin, rsv1 bool, n int, mask *[4]byte) []byte {
	b0 := byte(op)
	if fin {
		b0 |= 0x80
	}
	if rsv1 {
		b0 |= 0x40
	}
	var maskBit byte
	if mask != nil {
		maskBit = 0x80
	}
	switch {
	case n <= 125:
		dst = append(dst, b0, maskBit|byte(n))
	case n <= 0xffff:
		dst = append(dst, b0, maskBit|126, byte(n>>8), byte(n))
	default:
		dst = append(dst, b0, maskBit|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	if mask != nil {
		dst = append(dst, mask[:]...)
	}
	return dst
}

// maskBytes XORs b in place with the mask, starting at mask offset pos,
// and returns the offset to continue from. It works 8 bytes at a time.
func maskBytes(mask [4]byte, pos int, b []byte) int {
	var key8 [8]byte
	for i := range key8 {
		key8[i] = mask[(pos+i)&3]
	}
	word := binary.NativeEndian.Uint64(key8[:])
	i := 0
	for ; i+8 <= len(b); i += 8 {
		v := binary.NativeEndian.Uint64(b[i:])
		binary.NativeEndian.PutUint64(b[i:], v^word)
	}
	for ; i < len(b); i++ {
		b[i] ^= mask[(pos+i)&3]
	}
	return (pos + len(b)) & 3
}

// closePayload builds a close frame's payload: the code and a reason cut
// to fit the 125-byte control-frame limit (at a UTF-8 boundary).
func closePayload(code int, reason string) []byte {
	if code == CloseNoStatus || code == 0 {
		return nil
	}
	if len(reason) > 123 {
		reason = reason[:123]
		for len(reason) > 0 && !validUTF8([]byte(reason)) {
			reason = reason[:len(reason)-1]
		}
	}
	p := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(reason)), uint16(code))
	return append(p, reason...)
}

// parseClosePayload reads a received close frame's code and reason.
func parseClosePayload(p []byte) (int, string, error) {
	switch {
	case len(p) == 0:
		return CloseNoStatus, "", nil
	case len(p) == 1:
		return 0, "", protocolError("close frame with a 1-byte payload")
	}
	code := int(binary.BigEndian.Uint16(p))
	if !validCloseCode(code) {
		return 0, "", protocolError(fmt.Sprintf("invalid close code %d", code))
	}
	if !validUTF8(p[2:]) {
		return 0, "", &CloseError{Code: CloseInvalidPayload, Reason: "close reason is not UTF-8"}
	}
	return code, string(p[2:]), nil
}
