package websocket

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
)

const testMax = 1 << 16

var serverCfg = ReaderConfig{Server: true, MaxMessageSize: testMax}

type readerCase struct {
	name   string
	cfg    *ReaderConfig // nil: serverCfg
	wire   []byte
	want   []got
	code   int // expected failure, 0 for none
	errAt  int // if >0: bytes delivered (one at a time) when the failure is reported
	noSplt bool
}

func runReaderCases(t *testing.T, cases []readerCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := serverCfg
			if tc.cfg != nil {
				cfg = *tc.cfg
			}
			var res feedResult
			if tc.noSplt {
				res = feed(t, cfg, tc.wire, nil)
			} else {
				res = feedAll(t, cfg, tc.wire)
			}
			if fmt.Sprint(res.events) != fmt.Sprint(tc.want) {
				t.Errorf("events %v, want %v", res.events, tc.want)
			}
			if res.code != tc.code {
				t.Errorf("close code %d, want %d", res.code, tc.code)
			}
			if tc.errAt > 0 {
				var cuts []int
				for i := 1; i < len(tc.wire); i++ {
					cuts = append(cuts, i)
				}
				if r := feed(t, cfg, tc.wire, cuts); r.errAt != tc.errAt {
					t.Errorf("failure reported after %d bytes, want %d", r.errAt, tc.errAt)
				}
			}
		})
	}
}

func rep(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }

// withLen64 re-encodes a small masked frame with a non-minimal 64-bit length.
func withLen64(op Opcode, payload []byte) []byte {
	f := []byte{bFin | byte(op), 0x80 | 127}
	f = binary.BigEndian.AppendUint64(f, uint64(len(payload)))
	f = append(f, testMaskKey[:]...)
	start := len(f)
	f = append(f, payload...)
	xorMask(testMaskKey, 0, f[start:])
	return f
}

func TestReaderFraming(t *testing.T) { // Autobahn 1.x
	var cases []readerCase
	for _, n := range []int{0, 125, 126, 127, 128, 65535, 65536} {
		p := strings.Repeat("*", n)
		cases = append(cases,
			readerCase{name: fmt.Sprintf("text_%d_bytes", n), wire: cf(bFin|1, []byte(p)), want: []got{msg(OpText, p)}, noSplt: n > 200},
			readerCase{name: fmt.Sprintf("binary_%d_bytes", n), wire: cf(bFin|2, rep(0xfe, n)), want: []got{msg(OpBinary, string(rep(0xfe, n)))}, noSplt: n > 200})
	}
	cases = append(cases,
		readerCase{name: "non_minimal_64bit_length_accepted", wire: withLen64(OpText, []byte("hi")), want: []got{msg(OpText, "hi")}},
		readerCase{name: "non_minimal_16bit_length_accepted", wire: func() []byte {
			f := []byte{bFin | 1, 0x80 | 126, 0, 2}
			f = append(f, testMaskKey[:]...)
			p := []byte("ok")
			xorMask(testMaskKey, 0, p)
			return append(f, p...)
		}(), want: []got{msg(OpText, "ok")}},
		readerCase{name: "64bit_length_high_bit_is_1002", wire: []byte{bFin | 2, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 1}, code: CloseProtocolError, errAt: 10},
		readerCase{name: "unmasked_client_frame_is_1002", wire: sf(bFin|1, []byte("hi")), code: CloseProtocolError, errAt: 2},
		readerCase{name: "client_rejects_masked_server_frame", cfg: &ReaderConfig{}, wire: cf(bFin|1, []byte("hi")), code: CloseProtocolError, errAt: 2},
		readerCase{name: "client_reads_unmasked_server_frame", cfg: &ReaderConfig{}, wire: sf(bFin|1, []byte("hi")), want: []got{msg(OpText, "hi")}},
		readerCase{name: "several_frames_in_one_read", wire: cat(cf(bFin|1, []byte("a")), cf(bFin|2, []byte("b")), cf(bFin|9, nil)), want: []got{msg(OpText, "a"), msg(OpBinary, "b"), ping("")}},
	)
	runReaderCases(t, cases)
}

func TestReaderPingsAndPongs(t *testing.T) { // Autobahn 2.x
	runReaderCases(t, []readerCase{
		{name: "empty_ping", wire: cf(bFin|9, nil), want: []got{ping("")}},
		{name: "ping_with_text_payload", wire: cf(bFin|9, []byte("Hello, world!")), want: []got{ping("Hello, world!")}},
		{name: "ping_with_binary_payload", wire: cf(bFin|9, []byte{0, 0xff, 0xfe, 0xfd, 0xfc}), want: []got{ping("\x00\xff\xfe\xfd\xfc")}},
		{name: "ping_125_bytes", wire: cf(bFin|9, rep(0xfe, 125)), want: []got{ping(string(rep(0xfe, 125)))}},
		{name: "ping_126_bytes_is_1002_at_the_header", wire: cf(bFin|9, rep(0xfe, 126)), code: CloseProtocolError, errAt: 4},
		{name: "unsolicited_pong", wire: cf(bFin|10, []byte("unsolicited")), want: []got{pong("unsolicited")}},
		{name: "ten_pings", wire: bytes.Repeat(cf(bFin|9, []byte("x")), 10), want: []got{ping("x"), ping("x"), ping("x"), ping("x"), ping("x"), ping("x"), ping("x"), ping("x"), ping("x"), ping("x")}},
	})
}

func TestReaderReservedBits(t *testing.T) { // Autobahn 3.x
	hello := []byte("Hello, world!")
	runReaderCases(t, []readerCase{
		{name: "rsv1_text_without_deflate", wire: cf(bFin|bRsv1|1, hello), code: CloseProtocolError, errAt: 2},
		{name: "rsv2_after_a_good_message", wire: cat(cf(bFin|1, hello), cf(bFin|bRsv2|1, hello), cf(bFin|9, nil)), want: []got{msg(OpText, "Hello, world!")}, code: CloseProtocolError},
		{name: "rsv3_binary", wire: cf(bFin|bRsv3|2, hello), code: CloseProtocolError},
		{name: "rsv1_rsv2_ping", wire: cf(bFin|bRsv1|bRsv2|9, hello), code: CloseProtocolError},
		{name: "all_rsv_close", wire: cf(bFin|0x70|8, []byte{0x03, 0xe8}), code: CloseProtocolError},
		{name: "rsv1_on_control_with_deflate", cfg: &ReaderConfig{Server: true, Deflate: &DeflateParams{}}, wire: cf(bFin|bRsv1|9, nil), code: CloseProtocolError},
		{name: "rsv1_on_continuation_with_deflate", cfg: &ReaderConfig{Server: true, Deflate: &DeflateParams{}}, wire: cat(cf(1, []byte("a")), cf(bFin|bRsv1|0, []byte("b"))), code: CloseProtocolError},
	})
}

func TestReaderOpcodes(t *testing.T) { // Autobahn 4.x
	var cases []readerCase
	for _, op := range []byte{3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF} {
		cases = append(cases, readerCase{
			name: fmt.Sprintf("reserved_opcode_%#x_after_a_message", op),
			wire: cat(cf(bFin|1, []byte("ok")), cf(bFin|op, []byte("x")), cf(bFin|9, nil)),
			want: []got{msg(OpText, "ok")}, code: CloseProtocolError,
		})
	}
	runReaderCases(t, cases)
}

func TestReaderFragmentation(t *testing.T) { // Autobahn 5.x
	runReaderCases(t, []readerCase{
		{name: "fragmented_ping_is_1002", wire: cat(cf(9, []byte("frag1")), cf(bFin|0, []byte("frag2"))), code: CloseProtocolError, errAt: 2},
		{name: "fragmented_pong_is_1002", wire: cat(cf(10, []byte("frag1")), cf(bFin|0, []byte("frag2"))), code: CloseProtocolError},
		{name: "text_in_two_fragments", wire: cat(cf(1, []byte("frag")), cf(bFin|0, []byte("ment"))), want: []got{msg(OpText, "fragment")}},
		{name: "binary_in_three_fragments", wire: cat(cf(2, []byte("a")), cf(0, nil), cf(bFin|0, []byte("c"))), want: []got{msg(OpBinary, "ac")}},
		{name: "ping_between_fragments_delivered_first", wire: cat(cf(1, []byte("fr")), cf(bFin|9, []byte("p")), cf(bFin|0, []byte("ag"))), want: []got{ping("p"), msg(OpText, "frag")}},
		{name: "pong_and_ping_between_fragments", wire: cat(cf(1, []byte("a")), cf(bFin|10, nil), cf(0, []byte("b")), cf(bFin|9, nil), cf(bFin|0, []byte("c"))), want: []got{pong(""), ping(""), msg(OpText, "abc")}},
		{name: "close_between_fragments_ends_reading", wire: cat(cf(1, []byte("a")), cf(bFin|8, []byte{0x03, 0xe8})), want: []got{closed(1000, "")}},
		{name: "continuation_without_start_is_1002", wire: cf(bFin|0, []byte("x")), code: CloseProtocolError, errAt: 2},
		{name: "nonfinal_continuation_without_start_is_1002", wire: cat(cf(0, []byte("x")), cf(bFin|0, []byte("y"))), code: CloseProtocolError},
		{name: "text_then_new_text_inside_fragmented_message_is_1002", wire: cat(cf(1, []byte("a")), cf(bFin|1, []byte("b"))), code: CloseProtocolError},
		{name: "binary_then_text_inside_fragmented_message_is_1002", wire: cat(cf(2, []byte("a")), cf(1, []byte("b"))), code: CloseProtocolError},
		{name: "continuation_after_finished_message_is_1002", wire: cat(cf(bFin|1, []byte("a")), cf(bFin|0, []byte("b"))), want: []got{msg(OpText, "a")}, code: CloseProtocolError},
		{name: "many_one_byte_fragments", wire: func() []byte {
			w := cf(1, []byte("0"))
			for i := 1; i < 99; i++ {
				w = append(w, cf(0, []byte{byte('0' + i%10)})...)
			}
			return append(w, cf(bFin|0, []byte("9"))...)
		}(), want: []got{msg(OpText, func() string {
			var b strings.Builder
			for i := 0; i < 100; i++ {
				b.WriteByte(byte('0' + i%10))
			}
			return b.String()
		}())}, noSplt: true},
	})
}

// The Autobahn 6.x invalid-UTF-8 sequences (a sample of each class).
var invalidUTF8 = []string{
	"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64",     // surrogate
	"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80\x65\x64\x69\x74\x65\x64", // above U+10FFFF
	"\x80", "\xbf", "\x80\xbf", "\xc0\xaf", "\xe0\x80\xaf", "\xf0\x80\x80\xaf", "\xf8\x88\x80\x80\xaf",
	"\xc1\xbf", "\xe0\x9f\xbf", "\xed\xa0\x80", "\xed\xbf\xbf", "\xf4\x90\x80\x80", "\xfe", "\xff",
	"\xc0 ", "\xe0\x80 ", "\xdf", "\xef\xbf", "\xf4\x8f\xbf", "a\xf5b", "\xf0\x9f\x98\x80\x80",
}

func TestReaderUTF8Handling(t *testing.T) { // Autobahn 6.x
	valid := []string{"", "Hello-µ@ßöäüàá-UTF-8!!", "κόσμε", "\u0080", "\u07ff", "\u0800", "\uffff", "\U00010000", "\U0010ffff", "\uFEFF", "\xef\xbf\xbe"}
	var cases []readerCase
	for i, s := range valid {
		cases = append(cases,
			readerCase{name: fmt.Sprintf("valid_%d_single_frame", i), wire: cf(bFin|1, []byte(s)), want: []got{msg(OpText, s)}},
			readerCase{name: fmt.Sprintf("valid_%d_one_byte_fragments", i), wire: fragmentBytewise(OpText, []byte(s)), want: []got{msg(OpText, s)}},
			readerCase{name: fmt.Sprintf("valid_%d_close_reason", i), wire: cf(bFin|8, AppendClosePayload(nil, 1000, s)), want: []got{closed(1000, s)}},
		)
	}
	for i, s := range invalidUTF8 {
		p := []byte(s)
		bad := firstInvalidUTF8(p)
		single := cf(bFin|1, p)
		c := readerCase{name: fmt.Sprintf("invalid_%d_single_frame", i), wire: single, code: CloseInvalidPayload}
		if bad > 0 {
			c.errAt = len(single) - len(p) + bad // fails on the first certainly-bad byte, mid-frame
		}
		// Fragmented so that the message never finishes: fail-fast must
		// still fire when the bad byte is certain.
		unfinished := cf(1, p)
		u := readerCase{name: fmt.Sprintf("invalid_%d_unfinished_fragmented", i), wire: unfinished}
		if bad > 0 {
			u.code, u.errAt = CloseInvalidPayload, len(unfinished)-len(p)+bad
		}
		cases = append(cases, c, u,
			readerCase{name: fmt.Sprintf("invalid_%d_one_byte_fragments", i), wire: fragmentBytewise(OpText, p), code: CloseInvalidPayload},
			readerCase{name: fmt.Sprintf("invalid_%d_close_reason", i), wire: cf(bFin|8, append([]byte{0x03, 0xe8}, p...)), code: CloseInvalidPayload},
			readerCase{name: fmt.Sprintf("invalid_%d_in_binary_is_fine", i), wire: cf(bFin|2, p), want: []got{msg(OpBinary, s)}},
		)
	}
	runReaderCases(t, cases)
}

// fragmentBytewise sends p as one fragment per byte.
func fragmentBytewise(op Opcode, p []byte) []byte {
	if len(p) == 0 {
		return cf(bFin|byte(op), nil)
	}
	var w []byte
	for i := range p {
		b0 := byte(0)
		if i == 0 {
			b0 = byte(op)
		}
		if i == len(p)-1 {
			b0 |= bFin
		}
		w = append(w, cf(b0, p[i:i+1])...)
	}
	return w
}

func TestReaderCloseHandling(t *testing.T) { // Autobahn 7.x
	cases := []readerCase{
		{name: "empty_close_is_no_status", wire: cf(bFin|8, nil), want: []got{{Kind: EventClose, Code: CloseNoStatus}}},
		{name: "one_byte_payload_is_1002", wire: cf(bFin|8, []byte{0x03}), code: CloseProtocolError},
		{name: "close_with_reason", wire: cf(bFin|8, AppendClosePayload(nil, 1000, "bye")), want: []got{closed(1000, "bye")}},
		{name: "close_with_123_byte_reason", wire: cf(bFin|8, AppendClosePayload(nil, 1000, strings.Repeat("*", 123))), want: []got{closed(1000, strings.Repeat("*", 123))}},
		{name: "close_then_text_is_not_read", wire: cat(cf(bFin|8, []byte{0x03, 0xe8}), cf(bFin|1, []byte("late"))), want: []got{closed(1000, "")}},
		{name: "close_after_message", wire: cat(cf(bFin|1, []byte("hi")), cf(bFin|8, []byte{0x03, 0xe8})), want: []got{msg(OpText, "hi"), closed(1000, "")}},
	}
	for _, code := range []int{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999} {
		cases = append(cases, readerCase{name: fmt.Sprintf("valid_code_%d", code), wire: cf(bFin|8, AppendClosePayload(nil, code, "")), want: []got{closed(code, "")}})
	}
	for _, code := range []int{0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535} {
		p := binary.BigEndian.AppendUint16(nil, uint16(code))
		cases = append(cases, readerCase{name: fmt.Sprintf("invalid_code_%d_is_1002", code), wire: cf(bFin|8, p), code: CloseProtocolError})
	}
	runReaderCases(t, cases)
}

func TestReaderFrameAfterCloseIsProtocolError(t *testing.T) {
	r := NewReader(serverCfg)
	wire := cat(cf(bFin|8, nil), cf(bFin|1, []byte("x")))
	adv, tok, _ := r.Split(wire, false)
	if ev, err := r.ReadFrame(tok); err != nil || ev.Kind != EventClose {
		t.Fatalf("%v %v", ev, err)
	}
	if _, _, err := r.Split(wire[adv:], false); err != errFrameAfterClose {
		t.Fatalf("err %v", err)
	}
}

func TestCloseHandshake(t *testing.T) {
	t.Run("we_initiate_then_peer_replies", func(t *testing.T) {
		var h CloseHandshake
		p, send := h.Start(CloseGoingAway, "bye")
		if !send || string(p) != "\x03\xe9bye" || h.State() != CloseStateSent {
			t.Fatalf("%q %v %v", p, send, h.State())
		}
		if _, send := h.Start(CloseNormal, ""); send {
			t.Fatal("second Start must not send")
		}
		if _, send := h.Received(CloseGoingAway, "bye"); send || h.State() != CloseStateDone || h.Code != CloseGoingAway {
			t.Fatalf("reply after our close: %v %v", send, h.State())
		}
	})
	t.Run("peer_initiates_and_code_is_echoed", func(t *testing.T) {
		var h CloseHandshake
		reply, send := h.Received(4001, "room closed")
		if !send || string(reply) != "\x0f\xa1" || h.State() != CloseStateDone || h.Reason != "room closed" {
			t.Fatalf("%q %v %v", reply, send, h.State())
		}
		if _, send := h.Start(CloseNormal, ""); send {
			t.Fatal("must not send a second close")
		}
	})
	t.Run("peer_without_status_gets_empty_reply", func(t *testing.T) {
		var h CloseHandshake
		if reply, send := h.Received(CloseNoStatus, ""); !send || len(reply) != 0 {
			t.Fatalf("%q %v", reply, send)
		}
	})
}

func TestReaderLimits(t *testing.T) { // Autobahn 9.x, scaled down
	small := ReaderConfig{Server: true, MaxMessageSize: 1000}
	runReaderCases(t, []readerCase{
		{name: "message_at_the_limit", cfg: &small, wire: cf(bFin|2, rep(1, 1000)), want: []got{msg(OpBinary, string(rep(1, 1000)))}, noSplt: true},
		{name: "frame_over_the_limit_fails_at_its_header", cfg: &small, wire: cf(bFin|2, rep(1, 1001)), code: CloseMessageTooBig, errAt: 4},
		{name: "huge_64bit_frame_fails_at_its_header", cfg: &small, wire: []byte{bFin | 2, 0x80 | 127, 0, 0, 0, 1, 0, 0, 0, 0}, code: CloseMessageTooBig, errAt: 10},
		{name: "fragments_over_the_limit_fail_at_the_header_that_exceeds_it", cfg: &small, wire: cat(cf(2, rep(1, 600)), cf(bFin|0, rep(1, 401))), code: CloseMessageTooBig, errAt: 8 + 600 + 4},
		{name: "fragments_at_the_limit", cfg: &small, wire: cat(cf(1, rep('a', 600)), cf(bFin|0, rep('b', 400))), want: []got{msg(OpText, string(rep('a', 600))+string(rep('b', 400)))}, noSplt: true},
	})
}

func TestReaderIdleHoldsNoBuffer(t *testing.T) {
	r := NewReader(serverCfg)
	wire := cat(cf(1, rep('a', 300)), cf(bFin|0, rep('b', 300)))
	for len(wire) > 0 {
		adv, tok, err := r.Split(wire, false)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.ReadFrame(tok); err != nil {
			t.Fatal(err)
		}
		wire = wire[adv:]
	}
	r.Release()
	if r.buf != nil || r.lent != nil || r.dict != nil || r.inMessage {
		t.Fatalf("idle reader holds buffers: buf=%d lent=%d dict=%d", cap(r.buf), cap(r.lent), cap(r.dict))
	}
}
