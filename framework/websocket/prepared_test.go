package websocket

import (
	"bytes"
	"testing"
)

func TestPreparedFramesShareBytesAcrossConnections(t *testing.T) {
	payload := bytes.Repeat([]byte(`{"room":"lobby","body":"hello everyone"} `), 20)
	pm := NewPreparedFrames(OpText, payload)
	noTakeover := DeflateParams{ServerNoContextTakeover: true, ClientNoContextTakeover: true}
	takeover := DeflateParams{}
	plainA := NewWriter(WriterConfig{Server: true}).PreparedFrame(pm)
	plainB := NewWriter(WriterConfig{Server: true}).PreparedFrame(pm)
	if &plainA[0] != &plainB[0] || &plainA[0] != &pm.Frame()[0] {
		t.Fatal("uncompressed connections must share the frame bytes")
	}
	defA := NewWriter(WriterConfig{Server: true, Deflate: &noTakeover}).PreparedFrame(pm)
	defB := NewWriter(WriterConfig{Server: true, Deflate: &noTakeover}).PreparedFrame(pm)
	if &defA[0] != &defB[0] || defA[0]&bRsv1 == 0 || len(defA) >= len(plainA) {
		t.Fatal("no-takeover deflate connections must share one compressed frame")
	}
	tw := NewWriter(WriterConfig{Server: true, Deflate: &takeover, DeflateConfig: DeflateConfig{ServerContextTakeover: true}})
	own1, own2 := tw.PreparedFrame(pm), tw.PreparedFrame(pm)
	if &own1[0] == &defA[0] || len(own2) >= len(own1) {
		t.Fatal("a takeover connection compresses for itself, and the second copy benefits from its window")
	}
	// Every variant decodes to the message on a client.
	for name, c := range map[string]struct {
		params *DeflateParams
		wire   []byte
	}{
		"plain": {nil, plainA}, "shared_deflate": {&noTakeover, defA}, "takeover": {&takeover, cat(own1, own2)},
	} {
		r := NewReader(ReaderConfig{Deflate: c.params})
		for _, m := range readAll(t, r, c.wire) {
			if !bytes.Equal(m, payload) {
				t.Fatalf("%s: message differs", name)
			}
		}
	}
	// A client must mask, so it encodes per connection.
	cw := NewWriter(WriterConfig{MaskKey: func() [4]byte { return testMaskKey }})
	got := readAll(t, NewReader(ReaderConfig{Server: true}), cw.PreparedFrame(pm))
	if len(got) != 1 || !bytes.Equal(got[0], payload) {
		t.Fatal("client prepared frame")
	}
}

func TestPreparedSmallMessageStaysUncompressed(t *testing.T) {
	pm := NewPreparedFrames(OpText, []byte("hi"))
	w := NewWriter(WriterConfig{Server: true, Deflate: &DeflateParams{ServerNoContextTakeover: true}})
	if f := w.PreparedFrame(pm); &f[0] != &pm.Frame()[0] {
		t.Fatal("below the threshold the uncompressed shared frame is used")
	}
}
