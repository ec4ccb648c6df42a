package websocket

import (
	"bytes"
	"compress/flate"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestParseExtensions(t *testing.T) {
	tests := []struct {
		name   string
		header string
		want   string // fmt of the parsed list, or "error"
	}{
		{"empty", "", "[]"},
		{"bare_extension", "permessage-deflate", "[{permessage-deflate []}]"},
		{"params_with_and_without_values", "permessage-deflate; client_max_window_bits; server_max_window_bits=10",
			"[{permessage-deflate [{client_max_window_bits  false} {server_max_window_bits 10 true}]}]"},
		{"quoted_value", `permessage-deflate; server_max_window_bits="10"`, "[{permessage-deflate [{server_max_window_bits 10 true}]}]"},
		{"several_offers", "permessage-deflate; server_no_context_takeover, permessage-deflate, x-webkit-deflate-frame",
			"[{permessage-deflate [{server_no_context_takeover  false}]} {permessage-deflate []} {x-webkit-deflate-frame []}]"},
		{"case_and_spaces", " Permessage-Deflate ;\tClient_Max_Window_Bits ", "[{permessage-deflate [{client_max_window_bits  false}]}]"},
		{"empty_list_elements", ", permessage-deflate ,", "[{permessage-deflate []}]"},
		{"missing_param_name", "permessage-deflate; =10", "error"},
		{"unterminated_quote", `permessage-deflate; a="10`, "error"},
		{"quoted_non_token", `permessage-deflate; a="1 0"`, "error"},
		{"junk_after_name", "permessage-deflate x", "error"},
		{"empty_value", "permessage-deflate; a=", "error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			exts, err := ParseExtensions(tc.header)
			got := fmt.Sprint(exts)
			if err != nil {
				got = "error"
			} else if exts == nil {
				got = "[]"
			}
			if got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestNegotiateDeflate(t *testing.T) {
	takeover := DeflateConfig{ServerContextTakeover: true, ClientContextTakeover: true}
	tests := []struct {
		name  string
		offer string
		cfg   DeflateConfig
		want  string // response, "" = declined
	}{
		{"browser_offer_default_config_turns_takeover_off", "permessage-deflate; client_max_window_bits", DeflateConfig{},
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
		{"takeover_allowed_both_ways", "permessage-deflate; client_max_window_bits", takeover, "permessage-deflate"},
		{"client_demands_no_server_takeover", "permessage-deflate; server_no_context_takeover", takeover, "permessage-deflate; server_no_context_takeover"},
		{"client_offers_no_client_takeover", "permessage-deflate; client_no_context_takeover", takeover, "permessage-deflate; client_no_context_takeover"},
		{"server_window_15_is_echoed", "permessage-deflate; server_max_window_bits=15", takeover, "permessage-deflate; server_max_window_bits=15"},
		{"server_window_below_15_is_declined", "permessage-deflate; server_max_window_bits=10", takeover, ""},
		{"declined_offer_falls_back_to_the_next", "permessage-deflate; server_max_window_bits=10, permessage-deflate", takeover, "permessage-deflate"},
		{"client_window_value_ignored", "permessage-deflate; client_max_window_bits=9", takeover, "permessage-deflate"},
		{"unknown_param_declines", "permessage-deflate; foo", takeover, ""},
		{"duplicate_param_declines", "permessage-deflate; server_no_context_takeover; server_no_context_takeover", takeover, ""},
		{"value_on_flag_declines", "permessage-deflate; server_no_context_takeover=1", takeover, ""},
		{"window_out_of_range_declines", "permessage-deflate; client_max_window_bits=16", takeover, ""},
		{"window_leading_zero_declines", "permessage-deflate; client_max_window_bits=09", takeover, ""},
		{"server_window_without_value_declines", "permessage-deflate; server_max_window_bits", takeover, ""},
		{"other_extension_only", "x-webkit-deflate-frame", takeover, ""},
		{"malformed_header", "permessage-deflate;;", takeover, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, ok := NegotiateDeflate(tc.offer, tc.cfg)
			got := ""
			if ok {
				got = p.String()
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestClientDeflateResponse(t *testing.T) {
	cfg := DeflateConfig{}
	offer := FormatDeflateOffer(cfg)
	if offer != "permessage-deflate; server_no_context_takeover; client_no_context_takeover" {
		t.Fatalf("offer %q", offer)
	}
	tests := []struct {
		name     string
		response string
		enabled  bool
		err      bool
	}{
		{"declined", "", false, false},
		{"accepted", "permessage-deflate; server_no_context_takeover; client_no_context_takeover", true, false},
		{"accepted_with_server_window", "permessage-deflate; server_no_context_takeover; server_max_window_bits=9", true, false},
		{"missing_requested_server_no_context_takeover", "permessage-deflate", false, true},
		{"client_window_not_offered", "permessage-deflate; server_no_context_takeover; client_max_window_bits=10", false, true},
		{"extension_not_offered", "x-foo", false, true},
		{"twice", "permessage-deflate; server_no_context_takeover, permessage-deflate; server_no_context_takeover", false, true},
		{"unknown_param", "permessage-deflate; server_no_context_takeover; bar", false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, enabled, err := ParseDeflateResponse(tc.response, cfg)
			if enabled != tc.enabled || (err != nil) != tc.err {
				t.Errorf("enabled %v err %v", enabled, err)
			}
		})
	}
}

// deflateMessages are messages a chat would send, plus edge sizes.
func deflateMessages(rng *rand.Rand) [][]byte {
	msgs := [][]byte{nil, []byte("a"), []byte(`{"type":"message","room":"lobby","body":"hello"}`)}
	for i := 0; i < 40; i++ {
		var b strings.Builder
		for b.Len() < rng.IntN(3000)+10 {
			b.WriteString([]string{"hello ", "world ", "κόσμε ", `{"id":42} `, "\U0001F600 "}[rng.IntN(5)])
		}
		msgs = append(msgs, []byte(b.String()))
	}
	random := make([]byte, 70000) // incompressible, over 64 KiB
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	return append(msgs, random[:200], random, bytes.Repeat([]byte("ab"), 40000))
}

// TestDeflateRoundTrip sends many messages client to server and server to
// client, in every takeover combination, whole and fragmented, and checks
// the Reader on the other end gets them back.
func TestDeflateRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	msgs := deflateMessages(rng)
	for _, serverTakeover := range []bool{false, true} {
		for _, clientTakeover := range []bool{false, true} {
			cfg := DeflateConfig{ServerContextTakeover: serverTakeover, ClientContextTakeover: clientTakeover}
			params, ok := NegotiateDeflate(FormatDeflateOffer(cfg), cfg)
			if !ok {
				t.Fatal("not negotiated")
			}
			for _, server := range []bool{false, true} {
				name := fmt.Sprintf("server_takeover=%v/client_takeover=%v/sender_is_server=%v", serverTakeover, clientTakeover, server)
				t.Run(name, func(t *testing.T) {
					w := NewWriter(WriterConfig{Server: server, Deflate: &params, DeflateConfig: cfg, CompressionThreshold: -1, MaskKey: func() [4]byte { return testMaskKey }})
					r := NewReader(ReaderConfig{Server: !server, Deflate: &params, MaxMessageSize: 1 << 20})
					wantTakeover := (server && serverTakeover) || (!server && clientTakeover)
					if w.compressor.takeover != wantTakeover || r.receiveTakeover != wantTakeover {
						t.Fatalf("takeover writer %v reader %v, want %v", w.compressor.takeover, r.receiveTakeover, wantTakeover)
					}
					compressed := 0
					for i, m := range msgs {
						op := OpText
						if i == len(msgs)-3 || i == len(msgs)-2 {
							op = OpBinary
						}
						frame := w.AppendMessage(nil, op, m)
						if frame[0]&bRsv1 != 0 {
							compressed++
						}
						if i%3 == 1 {
							frame = refragment(t, frame, 1+i%7)
						}
						got := readAll(t, r, frame)
						if len(got) != 1 || !bytes.Equal(got[0], m) {
							t.Fatalf("message %d (%d bytes) came back as %d messages", i, len(m), len(got))
						}
					}
					if compressed < len(msgs)/2 {
						t.Fatalf("only %d of %d messages compressed", compressed, len(msgs))
					}
				})
			}
		}
	}
}

// refragment splits a single compressed or plain frame into n fragments
// (re-masked with the same key), the way a peer may fragment a
// compressed message at arbitrary byte boundaries.
func refragment(t *testing.T, frame []byte, n int) []byte {
	h, ok, err := ParseFrameHeader(frame)
	if !ok || err != nil {
		t.Fatal("bad frame")
	}
	payload := append([]byte(nil), frame[h.HeaderLen:]...)
	var key *[4]byte
	if h.Masked {
		key = &h.MaskKey
		xorMask(h.MaskKey, 0, payload)
	}
	var out []byte
	size := len(payload)/n + 1
	for i := 0; i == 0 || len(payload) > 0; i++ {
		chunk := payload[:min(size, len(payload))]
		payload = payload[len(chunk):]
		op := OpContinuation
		if i == 0 {
			op = h.Opcode
		}
		out = AppendFrame(out, op, len(payload) == 0, i == 0 && h.Rsv1, chunk, key)
	}
	return out
}

// readAll runs wire through r and returns the messages (copied).
func readAll(t testing.TB, r *Reader, wire []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for len(wire) > 0 {
		adv, tok, err := r.Split(wire, false)
		if err != nil {
			t.Fatalf("split: %v", err)
		}
		if tok == nil {
			t.Fatalf("incomplete frame")
		}
		ev, err := r.ReadFrame(tok)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if ev.Kind == EventMessage {
			out = append(out, append([]byte{}, ev.Data...))
		}
		wire = wire[adv:]
	}
	return out
}

func deflateRawForTest(p []byte) []byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	w.Write(p)
	w.Flush()
	return bytes.TrimSuffix(buf.Bytes(), deflateSyncTail[:])
}

func TestReaderCompression(t *testing.T) { // Autobahn 12.x/13.x, receiving side
	params := DeflateParams{ServerNoContextTakeover: true, ClientNoContextTakeover: true}
	cfg := ReaderConfig{Server: true, Deflate: &params, MaxMessageSize: 4096}
	hello := deflateRawForTest([]byte("Hello"))
	bomb := deflateRawForTest(make([]byte, 1<<20)) // 1 MiB of zeros: about 1 KiB compressed
	badText := deflateRawForTest([]byte("valid start \xed\xa0\x80 then more text that goes on and on"))
	longBad := deflateRawForTest(append(bytes.Repeat([]byte("é"), 2000), 0xff))
	runReaderCases(t, []readerCase{
		{name: "compressed_text", cfg: &cfg, wire: cf(bFin|bRsv1|1, hello), want: []got{msg(OpText, "Hello")}},
		{name: "compressed_empty_message", cfg: &cfg, wire: cf(bFin|bRsv1|2, []byte{0x00}), want: []got{msg(OpBinary, "")}},
		{name: "compressed_fragments", cfg: &cfg, wire: cat(cf(bRsv1|1, hello[:2]), cf(bFin|0, hello[2:])), want: []got{msg(OpText, "Hello")}},
		{name: "uncompressed_message_allowed", cfg: &cfg, wire: cf(bFin|1, []byte("plain")), want: []got{msg(OpText, "plain")}},
		{name: "garbage_compressed_data_is_1007", cfg: &cfg, wire: cf(bFin|bRsv1|2, []byte{0xff, 0xff, 0xff}), code: CloseInvalidPayload},
		{name: "zip_bomb_is_1009", cfg: &cfg, wire: cf(bFin|bRsv1|2, bomb), code: CloseMessageTooBig, noSplt: true},
		{name: "invalid_utf8_after_inflation_is_1007", cfg: &cfg, wire: cf(bFin|bRsv1|1, badText), code: CloseInvalidPayload},
		{name: "compressed_text_ending_mid_character_is_1007", cfg: &cfg, wire: cf(bFin|bRsv1|1, deflateRawForTest([]byte("ab\xe2\x82"))), code: CloseInvalidPayload},
		// The invalid byte is in the first fragments: the connection fails
		// before the message's last fragment arrives.
		{name: "invalid_utf8_in_unfinished_compressed_message_fails_fast", cfg: &cfg, wire: cat(cf(bRsv1|1, longBad), cf(0, []byte{})), code: CloseInvalidPayload, noSplt: true},
	})
}

func TestCompressionThreshold(t *testing.T) {
	params := DeflateParams{ServerNoContextTakeover: true, ClientNoContextTakeover: true}
	long := bytes.Repeat([]byte("chat "), 100)
	for _, tc := range []struct {
		name       string
		threshold  int
		size       int
		compressed bool
	}{
		{"below_default_threshold_sent_plain", 0, 100, false},
		{"at_default_threshold_compressed", 0, 128, true},
		{"threshold_off_compresses_small", -1, 60, true},
		{"custom_threshold", 400, 300, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := NewWriter(WriterConfig{Server: true, Deflate: &params, CompressionThreshold: tc.threshold})
			f := w.AppendMessage(nil, OpText, long[:tc.size])
			if got := f[0]&bRsv1 != 0; got != tc.compressed {
				t.Errorf("compressed %v, want %v", got, tc.compressed)
			}
		})
	}
	w := NewWriter(WriterConfig{Server: true, Deflate: &params, CompressionThreshold: -1})
	random := make([]byte, 300)
	for i := range random {
		random[i] = byte(i*7919 + i*i)
	}
	if f := w.AppendMessage(nil, OpBinary, random); f[0]&bRsv1 != 0 && len(f) > FrameSize(len(random), false) {
		t.Errorf("incompressible message grew when compressed")
	}
}

// FuzzNegotiateDeflate: the extension parser must not panic, and an
// offer the server accepts yields a response the client side accepts.
// (FuzzDeflateOffer is taken by wire_internal_test.go's target for the
// older negotiator.)
func FuzzNegotiateDeflate(f *testing.F) {
	for _, s := range []string{"", "permessage-deflate", "permessage-deflate; client_max_window_bits",
		`permessage-deflate; server_max_window_bits="15"; client_no_context_takeover, x`, "a;b=c;d=\"e\",f",
		"permessage-deflate; server_max_window_bits=10, permessage-deflate", `p; q="\"`} {
		f.Add(s, false, false)
	}
	f.Fuzz(func(t *testing.T, header string, st, ct bool) {
		exts, err := ParseExtensions(header)
		if err == nil {
			for _, e := range exts {
				if e.Name == "" {
					t.Fatal("empty extension name")
				}
			}
		}
		cfg := DeflateConfig{ServerContextTakeover: st, ClientContextTakeover: ct}
		params, ok := NegotiateDeflate(header, cfg)
		if !ok {
			return
		}
		if params.ServerMaxWindowBits != 0 && params.ServerMaxWindowBits != 15 {
			t.Fatalf("server window %d accepted", params.ServerMaxWindowBits)
		}
		// The client that would send this offer with no_context_takeover
		// flags matching it accepts the response.
		clientCfg := DeflateConfig{ServerContextTakeover: true, ClientContextTakeover: true}
		back, enabled, err := ParseDeflateResponse(params.String(), clientCfg)
		if err != nil || !enabled || back != params {
			t.Fatalf("response %q re-parsed as %+v %v %v", params.String(), back, enabled, err)
		}
	})
}
