package websocket

import (
	"bytes"
	"testing"
)

func TestAppendFrameRoundTripsThroughParseFrameHeader(t *testing.T) {
	for _, n := range []int{0, 1, 125, 126, 127, 0xffff, 0x10000} {
		for _, masked := range []bool{false, true} {
			payload := bytes.Repeat([]byte{0xa5}, n)
			var key *[4]byte
			if masked {
				key = &testMaskKey
			}
			f := AppendFrame(nil, OpBinary, true, true, payload, key)
			if len(f) != FrameSize(n, masked) {
				t.Fatalf("n=%d masked=%v: %d bytes, FrameSize says %d", n, masked, len(f), FrameSize(n, masked))
			}
			h, ok, err := ParseFrameHeader(f)
			if !ok || err != nil || !h.Fin || !h.Rsv1 || h.Opcode != OpBinary || h.Masked != masked || h.Length != n || h.HeaderLen+n != len(f) {
				t.Fatalf("n=%d masked=%v: %+v %v %v", n, masked, h, ok, err)
			}
			got := f[h.HeaderLen:]
			if masked {
				xorMask(h.MaskKey, 0, got)
			}
			if !bytes.Equal(got, payload) {
				t.Fatalf("n=%d: payload changed", n)
			}
		}
	}
}

func TestParseFrameHeaderNeedsWholeHeader(t *testing.T) {
	f := AppendFrame(nil, OpText, true, false, make([]byte, 300), &testMaskKey)
	for i := 0; i < 8; i++ {
		if _, ok, err := ParseFrameHeader(f[:i]); ok || err != nil {
			t.Fatalf("%d bytes: ok=%v err=%v", i, ok, err)
		}
	}
	if _, ok, _ := ParseFrameHeader(f[:8]); !ok {
		t.Fatal("8 bytes hold the whole header")
	}
}

func TestXorMaskMatchesBytewiseAtEveryOffsetAndLength(t *testing.T) {
	key := [4]byte{1, 2, 3, 4}
	src := make([]byte, 300)
	for i := range src {
		src[i] = byte(i * 31)
	}
	for pos := 0; pos < 4; pos++ {
		for n := 0; n <= len(src); n++ {
			a := append([]byte(nil), src[:n]...)
			b := append([]byte(nil), src[:n]...)
			if pa, pb := xorMask(key, pos, a), xorMaskBytewise(key, pos, b); pa != pb || !bytes.Equal(a, b) {
				t.Fatalf("pos=%d n=%d differs", pos, n)
			}
		}
	}
	// Unmasking in pieces equals unmasking at once.
	whole := append([]byte(nil), src...)
	xorMask(key, 0, whole)
	pieces := append([]byte(nil), src...)
	p := 0
	for start, cut := 0, 0; start < len(pieces); start = cut {
		cut = min(len(pieces), start+7+start%5)
		p = xorMask(key, p, pieces[start:cut])
	}
	if !bytes.Equal(whole, pieces) {
		t.Fatal("masking in pieces differs")
	}
}

func TestTextValidatorMatchesReferenceAtEverySplit(t *testing.T) {
	inputs := append([]string{"", "plain ascii text longer than eight", "κόσμε", "\U0010ffff\u0800\u0080x", "a\xc3"}, invalidUTF8...)
	for _, s := range inputs {
		p := []byte(s)
		want := firstInvalidUTF8(p)
		for cut := 0; cut <= len(p); cut++ {
			var v textValidator
			gotBad := -1
			if i := v.scan(p[:cut]); i >= 0 {
				gotBad = i + 1
			} else if i := v.scan(p[cut:]); i >= 0 {
				gotBad = cut + i + 1
			}
			if gotBad != want {
				t.Fatalf("%q cut %d: first bad byte ends prefix %d, want %d", s, cut, gotBad, want)
			}
			if want < 0 && v.complete() != validText(p) {
				t.Fatalf("%q: complete %v", s, v.complete())
			}
		}
	}
}

func TestClosePayload(t *testing.T) {
	long := bytes.Repeat([]byte("é"), 100) // 200 bytes
	p := AppendClosePayload(nil, CloseNormal, string(long))
	if len(p) > MaxControlPayload || !validText(p[2:]) {
		t.Fatalf("reason not cut at a character boundary to fit: %d bytes", len(p))
	}
	if got := AppendClosePayload(nil, CloseNoStatus, "ignored"); len(got) != 0 {
		t.Fatal("CloseNoStatus must send an empty payload")
	}
	code, reason, err := ParseClosePayload(AppendClosePayload(nil, 4000, "bye"))
	if code != 4000 || reason != "bye" || err != nil {
		t.Fatal(code, reason, err)
	}
}

// FuzzReaderSplit feeds arbitrary bytes, in arbitrary pieces, to the
// Reader in every configuration. It must not panic, must keep its
// buffers within the message limit, and every frame it accepts must
// re-encode to an equivalent frame. (FuzzFrameReader is taken by
// wire_internal_test.go's target for the older parser.)
func FuzzReaderSplit(f *testing.F) {
	seeds := [][]byte{
		cf(bFin|1, []byte("hello")),
		cat(cf(1, []byte("fr")), cf(bFin|9, nil), cf(bFin|0, []byte("ag"))),
		cf(bFin|bRsv1|1, deflateRawForTest([]byte("Hello Hello Hello"))),
		cat(cf(bRsv1|1, deflateRawForTest([]byte("κόσμε κόσμε"))[:3]), cf(bFin|0, deflateRawForTest([]byte("κόσμε κόσμε"))[3:])),
		cf(bFin|8, AppendClosePayload(nil, 1000, "bye")),
		withLen64(OpBinary, []byte{1, 2, 3}),
		sf(bFin|2, []byte{1, 2, 3}),
		{bFin | 2, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 1},
	}
	for i, s := range seeds {
		f.Add(s, byte(i), byte(3))
	}
	f.Fuzz(func(t *testing.T, wire []byte, mode, step byte) {
		const max = 4096
		cfg := ReaderConfig{Server: mode&1 == 0, MaxMessageSize: max}
		if mode&2 != 0 {
			cfg.Deflate = &DeflateParams{ClientNoContextTakeover: mode&4 != 0, ServerNoContextTakeover: mode&8 != 0}
		}
		r := NewReader(cfg)
		chunk := int(step%64) + 1
		consumed, end := 0, 0
		for end < len(wire) {
			end = min(len(wire), end+chunk)
			for {
				adv, tok, err := r.Split(wire[consumed:end], end == len(wire))
				if err != nil || tok == nil {
					if err != nil {
						return
					}
					break
				}
				orig := append([]byte(nil), tok...)
				ev, err := r.ReadFrame(tok)
				checkReencodes(t, orig, tok)
				if err != nil {
					return
				}
				if ev.Kind == EventMessage && len(ev.Data) > max {
					t.Fatalf("message of %d bytes over the %d limit", len(ev.Data), max)
				}
				if cap(r.buf) > r.wireLimit(true) {
					t.Fatalf("assembly buffer grew to %d", cap(r.buf))
				}
				consumed += adv
				if ev.Kind == EventClose {
					return
				}
			}
		}
	})
}

// checkReencodes checks that the accepted frame orig (as received) and
// unmasked (after ReadFrame unmasked it in place) re-encode equivalently.
func checkReencodes(t *testing.T, orig, unmasked []byte) {
	h, ok, err := ParseFrameHeader(orig)
	if !ok || err != nil {
		t.Fatalf("accepted frame does not parse: %v", err)
	}
	var key *[4]byte
	if h.Masked {
		key = &h.MaskKey
	}
	payload := unmasked[h.HeaderLen:]
	re := AppendFrame(nil, h.Opcode, h.Fin, h.Rsv1, payload, key)
	h2, ok, err := ParseFrameHeader(re)
	h2.HeaderLen = h.HeaderLen
	if !ok || err != nil || h2 != h || !bytes.Equal(re[len(re)-len(payload):], orig[h.HeaderLen:]) {
		t.Fatalf("re-encoded frame differs: %+v vs %+v", h2, h)
	}
}
