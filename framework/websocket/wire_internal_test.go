package websocket

import (
	"bytes"
	"testing"
	"unicode/utf8"
)

func TestUTF8ValidatorMatchesUTF8ValidAtEverySplit(t *testing.T) {
	inputs := []string{
		"plain ascii", "κόσμε", "\xe2\x82\xac\U0001F600", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
		"ok\xff", "\xe2\x82", "a\xf0\x9f\x98", "\xf0\x9f\x98\x80\xf0", "\x80", "\xc2",
	}
	for _, in := range inputs {
		want := utf8.ValidString(in)
		for split := 0; split <= len(in); split++ {
			var v utf8Validator
			got := v.write([]byte(in[:split])) && v.write([]byte(in[split:])) && v.done()
			if got != want {
				t.Errorf("%q split at %d: valid=%v; want %v", in, split, got, want)
			}
		}
	}
}

func FuzzUTF8Validator(f *testing.F) {
	f.Add([]byte("κόσμε"), 3)
	f.Add([]byte("\xf4\x90\x80\x80"), 1)
	f.Fuzz(func(t *testing.T, in []byte, split int) {
		if split < 0 || split > len(in) {
			split = len(in) / 2
		}
		var v utf8Validator
		got := v.write(in[:split]) && v.write(in[split:]) && v.done()
		if got != utf8.Valid(in) {
			t.Fatalf("%q split %d: %v; utf8.Valid says %v", in, split, got, utf8.Valid(in))
		}
	})
}

func TestMaskBytesMatchesTheBytewiseDefinition(t *testing.T) {
	key := [4]byte{1, 2, 3, 4}
	for n := 0; n < 40; n++ {
		for start := 0; start < 4; start++ {
			data := bytes.Repeat([]byte{0xAA}, n)
			want := make([]byte, n)
			for i := range want {
				want[i] = 0xAA ^ key[(start+i)%4]
			}
			maskBytes(key, start, data)
			if !bytes.Equal(data, want) {
				t.Fatalf("n=%d start=%d: %x; want %x", n, start, data, want)
			}
		}
	}
}

func TestDeflateNegotiation(t *testing.T) {
	tests := []struct {
		offer  string
		accept bool
	}{
		{"permessage-deflate", true},
		{"permessage-deflate; client_max_window_bits", true},
		{"permessage-deflate; client_max_window_bits=10; server_no_context_takeover", true},
		{`permessage-deflate; server_max_window_bits="15"`, true},
		{"permessage-deflate; server_max_window_bits=10", false}, // compress/flate cannot
		{"permessage-deflate; server_max_window_bits=10, permessage-deflate", true},
		{"permessage-deflate; client_no_context_takeover=1", false},
		{"permessage-deflate; unknown_param", false},
		{"permessage-deflate; server_no_context_takeover; server_no_context_takeover", false},
		{"x-webkit-deflate-frame", false},
		{"", false},
	}
	for _, tc := range tests {
		if got := acceptDeflateOffer([]string{tc.offer}); got != tc.accept {
			t.Errorf("offer %q: accepted=%v; want %v", tc.offer, got, tc.accept)
		}
	}
}

func FuzzDeflateOffer(f *testing.F) {
	f.Add("permessage-deflate; client_max_window_bits, permessage-deflate")
	f.Add(`permessage-deflate; server_max_window_bits="1\"5"`)
	f.Fuzz(func(t *testing.T, offer string) {
		acceptDeflateOffer([]string{offer}) // must not panic
		acceptDeflateResponse([]string{offer})
	})
}

func TestCompressRoundTrip(t *testing.T) {
	for _, msg := range [][]byte{nil, []byte("a"), bytes.Repeat([]byte("chat "), 10000)} {
		got, err := decompress(compress(msg), 1<<20)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("round trip of %d bytes: %d bytes, %v", len(msg), len(got), err)
		}
	}
	if _, err := decompress(compress(make([]byte, 2000)), 1000); err == nil {
		t.Fatal("decompressing past the limit succeeded")
	}
}

// FuzzFrameReader feeds arbitrary bytes to the frame parser: it must never
// panic, never accept a frame over the limit, and a frame it accepts must
// encode back to the same header.
func FuzzFrameReader(f *testing.F) {
	f.Add([]byte{0x81, 0x85, 1, 2, 3, 4, 'h', 'e', 'l', 'l', 'o'}, true, false)
	f.Add([]byte{0x01, 0x7e, 0x00, 0x80}, false, true)
	f.Add([]byte{0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4}, true, false)
	f.Fuzz(func(t *testing.T, data []byte, server, deflate bool) {
		const limit = 4096
		h, err := parseFrameHeader(data, server, deflate, limit)
		if err != nil {
			return
		}
		if h.length > limit || h.headerSize > maxHeaderSize || h.headerSize > len(data) {
			t.Fatalf("accepted header %+v beyond limits", h)
		}
		var mask *[4]byte
		if h.masked {
			mask = &h.mask
		}
		re := appendFrameHeader(nil, h.opcode, h.fin, h.rsv1, h.length, mask)
		again, err := parseFrameHeader(re, server, deflate, limit)
		if err != nil || again.length != h.length || again.opcode != h.opcode || again.fin != h.fin || again.mask != h.mask {
			t.Fatalf("re-encoded header %x parses as %+v, %v; want %+v", re, again, err, h)
		}
	})
}

func BenchmarkMaskBytes(b *testing.B) {
	data := make([]byte, 4096)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		maskBytes([4]byte{1, 2, 3, 4}, 0, data)
	}
}

func BenchmarkPreparedFrame(b *testing.B) {
	payload := bytes.Repeat([]byte("x"), 100)
	b.ReportAllocs()
	for b.Loop() {
		NewPreparedMessage(OpText, payload).frame(false, 128)
	}
}
