package websocket

import (
	"bytes"
	"fmt"
	"testing"
)

func BenchmarkXorMask(b *testing.B) {
	for _, n := range []int{16, 1024, 64 << 10} {
		buf := make([]byte, n)
		b.Run(fmt.Sprintf("word/%d", n), func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				xorMask(testMaskKey, 1, buf)
			}
		})
		b.Run(fmt.Sprintf("bytewise/%d", n), func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				xorMaskBytewise(testMaskKey, 1, buf)
			}
		})
	}
}

func BenchmarkAppendFrame(b *testing.B) {
	payload := bytes.Repeat([]byte("x"), 100)
	dst := make([]byte, 0, 256)
	b.Run("server_100B", func(b *testing.B) {
		for b.Loop() {
			dst = AppendFrame(dst[:0], OpText, true, false, payload, nil)
		}
	})
	b.Run("client_masked_100B", func(b *testing.B) {
		for b.Loop() {
			dst = AppendFrame(dst[:0], OpText, true, false, payload, &testMaskKey)
		}
	})
	params := DeflateParams{ServerNoContextTakeover: true, ClientNoContextTakeover: true}
	w := NewWriter(WriterConfig{Server: true, Deflate: &params})
	msg := bytes.Repeat([]byte(`{"room":"lobby","body":"hi"} `), 20)
	b.Run("server_deflate_600B", func(b *testing.B) {
		for b.Loop() {
			dst = w.AppendMessage(dst[:0], OpText, msg)
		}
	})
}

// BenchmarkPreparedFrames is one broadcast to 1000 connections: encode
// once, then hand each connection its bytes.
func BenchmarkPreparedFrames(b *testing.B) {
	msg := bytes.Repeat([]byte(`{"room":"lobby","body":"hi"} `), 20)
	params := DeflateParams{ServerNoContextTakeover: true, ClientNoContextTakeover: true}
	for _, tc := range []struct {
		name string
		w    *Writer
	}{
		{"plain", NewWriter(WriterConfig{Server: true})},
		{"deflate_no_takeover", NewWriter(WriterConfig{Server: true, Deflate: &params})},
	} {
		b.Run(tc.name+"/1000_conns", func(b *testing.B) {
			for b.Loop() {
				pm := NewPreparedFrames(OpText, msg)
				for range 1000 {
					_ = tc.w.PreparedFrame(pm)
				}
			}
		})
	}
}

func BenchmarkReadTextMessage100B(b *testing.B) {
	frame := cf(bFin|1, bytes.Repeat([]byte("chat "), 20))
	buf := make([]byte, len(frame))
	r := NewReader(serverCfg)
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		copy(buf, frame) // ReadFrame unmasks in place
		_, tok, err := r.Split(buf, false)
		if err != nil {
			b.Fatal(err)
		}
		if ev, err := r.ReadFrame(tok); err != nil || ev.Kind != EventMessage {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadCompressedTextMessage(b *testing.B) {
	params := DeflateParams{ServerNoContextTakeover: true, ClientNoContextTakeover: true}
	w := NewWriter(WriterConfig{Deflate: &params, MaskKey: func() [4]byte { return testMaskKey }})
	frame := w.AppendMessage(nil, OpText, bytes.Repeat([]byte(`{"room":"lobby","body":"hi"} `), 20))
	buf := make([]byte, len(frame))
	r := NewReader(ReaderConfig{Server: true, Deflate: &params})
	for b.Loop() {
		copy(buf, frame)
		_, tok, _ := r.Split(buf, false)
		if ev, err := r.ReadFrame(tok); err != nil || ev.Kind != EventMessage {
			b.Fatal(err)
		}
	}
}
