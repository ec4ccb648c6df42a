package websocket

import (
	"encoding/binary"
	"fmt"
)

// Close codes defined beside those in wire.go (RFC 6455 §7.4.1 and the
// IANA registry). CloseNormal .. CloseTryAgainLater, CloseError and the
// Opcode constants live in wire.go and are shared with this layer.
const (
	CloseServiceRestart = 1012
	CloseBadGateway     = 1014
	CloseTLSHandshake   = 1015 // never sent: "the TLS handshake failed"
)

// CloseCodeValid reports whether code may appear in a close frame on the
// wire: 1000-1003, 1007-1014 and the 3000-4999 ranges for libraries and
// applications. 1004 is reserved, 1005, 1006 and 1015 are only reported
// locally, and everything else below 3000 is unassigned.
func CloseCodeValid(code int) bool {
	switch {
	case code >= 1000 && code <= 1003:
		return true
	case code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// maxCloseReason is the longest reason that fits a control frame after
// the 2-byte code.
const maxCloseReason = MaxControlPayload - 2

// AppendClosePayload appends a close frame's payload: nothing for
// CloseNoStatus (or code 0), else the big-endian code and the reason cut
// to 123 bytes at a character boundary. The caller picks a sendable code
// (CloseCodeValid); this function does not police it.
func AppendClosePayload(dst []byte, code int, reason string) []byte {
	if code == 0 || code == CloseNoStatus {
		return dst
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(code))
	if len(reason) > maxCloseReason {
		cut := maxCloseReason
		// Back off to the start of a character (at most 3 bytes).
		for cut > 0 && reason[cut]&0xC0 == 0x80 {
			cut--
		}
		reason = reason[:cut]
	}
	return append(dst, reason...)
}

// ParseClosePayload decodes a received close frame's payload (already
// unmasked). An empty payload means no code: it returns CloseNoStatus. A
// 1-byte payload or an invalid code is a *CloseError with
// CloseProtocolError; a reason that is not UTF-8 is CloseInvalidPayload.
func ParseClosePayload(p []byte) (code int, reason string, err error) {
	switch len(p) {
	case 0:
		return CloseNoStatus, "", nil
	case 1:
		return 0, "", &CloseError{Code: CloseProtocolError, Reason: "close frame with a 1-byte payload"}
	}
	code = int(binary.BigEndian.Uint16(p))
	if !CloseCodeValid(code) {
		return 0, "", &CloseError{Code: CloseProtocolError, Reason: fmt.Sprintf("invalid close code %d", code)}
	}
	if !validText(p[2:]) {
		return 0, "", &CloseError{Code: CloseInvalidPayload, Reason: "close reason is not valid UTF-8"}
	}
	return code, string(p[2:]), nil
}

// CloseState is where a connection stands in the closing handshake
// (RFC 6455 §7).
type CloseState uint8

const (
	// CloseStateOpen: no close frame sent or received.
	CloseStateOpen CloseState = iota
	// CloseStateSent: we sent a close frame and wait for the peer's (with a
	// timeout); incoming data messages may still arrive and are delivered.
	CloseStateSent
	// CloseStateDone: both close frames have crossed (or the peer closed
	// and we replied). The server closes TCP now; a client waits briefly
	// for the server to close first (RFC 6455 §7.1.1).
	CloseStateDone
)

func (s CloseState) String() string {
	switch s {
	case CloseStateOpen:
		return "open"
	case CloseStateSent:
		return "close sent"
	case CloseStateDone:
		return "closed"
	}
	return fmt.Sprintf("CloseState(%d)", uint8(s))
}

// CloseHandshake tracks the closing handshake of one connection and
// decides which close frame, if any, to send. The zero value is an open
// connection. Code and Reason hold the status that ends the connection:
// the peer's if it spoke first, else ours. Not safe for concurrent use;
// owned by the loop.
type CloseHandshake struct {
	state  CloseState
	Code   int
	Reason string
}

// State reports the handshake's progress.
func (h *CloseHandshake) State() CloseState { return h.state }

// Start begins closing from our side (an application Close, or failing
// the connection on a *CloseError). It returns the close payload to send,
// and send == false if a close frame was already sent, in which case
// nothing must be written. Sending data frames after Start is forbidden.
func (h *CloseHandshake) Start(code int, reason string) (payload []byte, send bool) {
	if h.state != CloseStateOpen {
		return nil, false
	}
	h.state = CloseStateSent
	h.Code, h.Reason = code, reason
	return AppendClosePayload(nil, code, reason), true
}

// Received records the peer's close frame (as decoded by the Reader). If
// we had not sent one, it returns the reply to send: the peer's code
// echoed (an empty payload when the peer sent none), per RFC 6455 §5.5.1.
// Either way the handshake is then done.
func (h *CloseHandshake) Received(code int, reason string) (reply []byte, send bool) {
	switch h.state {
	case CloseStateOpen:
		h.state = CloseStateDone
		h.Code, h.Reason = code, reason
		return AppendClosePayload(nil, code, ""), true
	case CloseStateSent:
		h.state = CloseStateDone
	}
	return nil, false
}
