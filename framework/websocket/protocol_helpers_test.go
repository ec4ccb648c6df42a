package websocket

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"unicode/utf8"
)

// testMaskKey masks every client frame the tests build.
var testMaskKey = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// Frame-building shorthands for the first header byte.
const (
	bFin  = 0x80
	bRsv1 = 0x40
	bRsv2 = 0x20
	bRsv3 = 0x10
)

// cf builds a masked client frame whose first header byte is b0 (FIN,
// RSV bits and opcode as given, so invalid combinations can be built).
func cf(b0 byte, payload []byte) []byte {
	f := AppendFrame(nil, Opcode(b0&0x0f), b0&bFin != 0, b0&bRsv1 != 0, payload, &testMaskKey)
	f[0] = b0
	return f
}

// sf builds an unmasked (server) frame.
func sf(b0 byte, payload []byte) []byte {
	f := AppendFrame(nil, Opcode(b0&0x0f), false, false, payload, nil)
	f[0] = b0
	return f
}

func cat(frames ...[]byte) []byte { return bytes.Join(frames, nil) }

// got is an event with its data copied, comparable in tests.
type got struct {
	Kind   EventKind
	Opcode Opcode
	Data   string
	Code   int
	Reason string
}

func (g got) String() string {
	return fmt.Sprintf("{%d op=%d %q code=%d %q}", g.Kind, g.Opcode, g.Data, g.Code, g.Reason)
}

func msg(op Opcode, s string) got { return got{Kind: EventMessage, Opcode: op, Data: s} }
func ping(s string) got           { return got{Kind: EventPing, Data: s} }
func pong(s string) got           { return got{Kind: EventPong, Data: s} }
func closed(code int, r string) got {
	return got{Kind: EventClose, Code: code, Reason: r, Data: closeData(code, r)}
}

func closeData(code int, r string) string { return string(AppendClosePayload(nil, code, r)) }

// outcome of feeding a connection's bytes to a Reader.
type feedResult struct {
	events  []got
	code    int // close code of the failure, 0 if none
	errAt   int // bytes delivered when the failure was reported
	pending bool
}

// feed simulates a stream: wire arrives in pieces ending at the given cut
// points (plus the end), the stream's buffer grows, and after each
// arrival Split is called on everything unconsumed until it asks for
// more, exactly as iostream.ReadScan does. It stops at the first error.
func feed(t testing.TB, cfg ReaderConfig, wire []byte, cuts []int) feedResult {
	t.Helper()
	r := NewReader(cfg)
	var res feedResult
	consumed := 0
	for i := 0; i <= len(cuts); i++ {
		end := len(wire)
		if i < len(cuts) {
			end = cuts[i]
		}
		buf := append([]byte(nil), wire[consumed:end]...) // a fresh buffer each time, like a compacting stream
		off := 0
		for {
			adv, tok, err := r.Split(buf[off:], false)
			if err == nil && tok != nil {
				var ev Event
				ev, err = r.ReadFrame(tok)
				if err == nil && ev.Kind != EventNone {
					res.events = append(res.events, got{ev.Kind, ev.Opcode, string(ev.Data), ev.CloseCode, ev.CloseReason})
				}
			}
			if err != nil {
				var ce *CloseError
				if !errors.As(err, &ce) {
					t.Fatalf("non-close error %v", err)
				}
				res.code, res.errAt = ce.Code, end
				return res
			}
			if tok == nil {
				break
			}
			off += adv
			if ev := res.events; len(ev) > 0 && ev[len(ev)-1].Kind == EventClose {
				return res
			}
		}
		consumed += off
	}
	res.pending = consumed < len(wire) || r.InMessage()
	return res
}

// feedAll checks that wire gives the same result delivered in one piece,
// one byte at a time, and cut once at every boundary, and returns it.
func feedAll(t *testing.T, cfg ReaderConfig, wire []byte) feedResult {
	t.Helper()
	whole := feed(t, cfg, wire, nil)
	var bytewise []int
	for i := 1; i < len(wire); i++ {
		bytewise = append(bytewise, i)
	}
	for _, cuts := range [][]int{bytewise} {
		if r := feed(t, cfg, wire, cuts); !sameOutcome(r, whole) {
			t.Fatalf("byte-at-a-time: %+v, whole: %+v", r, whole)
		}
	}
	if len(wire) < 4096 {
		for k := 1; k < len(wire); k++ {
			if r := feed(t, cfg, wire, []int{k}); !sameOutcome(r, whole) {
				t.Fatalf("cut at %d: %+v, whole: %+v", k, r, whole)
			}
		}
	}
	return whole
}

func sameOutcome(a, b feedResult) bool {
	return fmt.Sprint(a.events) == fmt.Sprint(b.events) && a.code == b.code
}

// firstInvalidUTF8 is a reference for fail-fast positions: the length of
// the shortest prefix of p that no valid UTF-8 text starts with, or -1.
func firstInvalidUTF8(p []byte) int {
	for k := 1; k <= len(p); k++ {
		if !viablePrefix(p[:k]) {
			return k
		}
	}
	return -1
}

func viablePrefix(p []byte) bool {
	if utf8.Valid(p) {
		return true
	}
	// Only the byte after a lead byte has a restricted range; any later
	// continuation byte may be 0x80.
	for n := 1; n <= 3; n++ {
		for first := 0x80; first <= 0xBF; first++ {
			q := append(append([]byte(nil), p...), byte(first))
			q = append(q, bytes.Repeat([]byte{0x80}, n-1)...)
			if utf8.Valid(q) {
				return true
			}
		}
	}
	return false
}
