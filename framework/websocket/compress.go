package websocket

import (
	"bytes"
	"compress/flate"
	"io"
	"strconv"
	"strings"
	"sync"
)

// permessage-deflate (RFC 7692), always without context takeover in both
// directions: every message is compressed and decompressed on its own.
// That costs a little ratio and buys three things: an idle connection
// holds no compressor or decompressor state (they come from pools), a
// broadcast is compressed once for every receiver, and Go's compress/flate,
// which always uses a 32 KiB window, can honour every peer. The server
// adds both no_context_takeover parameters to its answer, which RFC 7692
// §7.1.1 allows even when the client did not ask.

const deflateExtension = "permessage-deflate"

// serverDeflateResponse is the Sec-WebSocket-Extensions answer when the
// server accepts an offer.
const serverDeflateResponse = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"

// clientDeflateOffer is what Dial offers.
const clientDeflateOffer = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"

// extension is one element of a Sec-WebSocket-Extensions list.
type extension struct {
	name   string
	params map[string]string // a parameter without a value maps to ""
	dup    bool              // a parameter appeared twice: the offer is invalid
}

// parseExtensions reads Sec-WebSocket-Extensions header values:
// comma-separated extensions, each with ;-separated parameters, values as
// tokens or quoted strings. Malformed elements are dropped.
func parseExtensions(values []string) []extension {
	var out []extension
	for _, v := range values {
		for _, elem := range splitOutsideQuotes(v, ',') {
			parts := splitOutsideQuotes(elem, ';')
			name := strings.ToLower(strings.TrimSpace(parts[0]))
			if name == "" {
				continue
			}
			ext := extension{name: name, params: map[string]string{}}
			for _, p := range parts[1:] {
				key, value, _ := strings.Cut(p, "=")
				key = strings.ToLower(strings.TrimSpace(key))
				value = strings.Trim(strings.TrimSpace(value), `"`)
				if _, seen := ext.params[key]; seen {
					ext.dup = true
				}
				ext.params[key] = value
			}
			out = append(out, ext)
		}
	}
	return out
}

// splitOutsideQuotes splits s at sep, ignoring separators inside quotes.
func splitOutsideQuotes(s string, sep byte) []string {
	var parts []string
	inQuotes, start := false, 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '"':
			inQuotes = !inQuotes
		case s[i] == '\\' && inQuotes:
			i++
		case s[i] == sep && !inQuotes:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// acceptDeflateOffer reports whether the server can accept the client's
// offers: the first well-formed permessage-deflate offer that does not ask
// the server for a window smaller than compress/flate's 32 KiB.
func acceptDeflateOffer(values []string) bool {
	for _, ext := range parseExtensions(values) {
		if ext.name == deflateExtension && !ext.dup && deflateParamsOK(ext.params, true) {
			return true
		}
	}
	return false
}

func deflateParamsOK(params map[string]string, serverSide bool) bool {
	for key, value := range params {
		switch key {
		case "server_no_context_takeover", "client_no_context_takeover":
			if value != "" {
				return false
			}
		case "server_max_window_bits":
			bits, err := strconv.Atoi(value)
			if err != nil || bits < 8 || bits > 15 {
				return false
			}
			if serverSide && bits < 15 {
				return false // we cannot compress with a smaller window
			}
		case "client_max_window_bits":
			if value == "" && serverSide {
				continue // the client may use any window; we inflate any
			}
			if bits, err := strconv.Atoi(value); err != nil || bits < 8 || bits > 15 {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// acceptDeflateResponse checks the server's answer to Dial's offer: it must
// keep server_no_context_takeover, since this client inflates each
// message on its own.
func acceptDeflateResponse(values []string) (enabled bool, ok bool) {
	exts := parseExtensions(values)
	if len(exts) == 0 {
		return false, true
	}
	if len(exts) > 1 || exts[0].name != deflateExtension || exts[0].dup || !deflateParamsOK(exts[0].params, false) {
		return false, false
	}
	_, noTakeover := exts[0].params["server_no_context_takeover"]
	return true, noTakeover
}

// deflateTail ends every sync-flushed deflate stream; RFC 7692 has the
// sender strip it and the receiver put it back.
var deflateTail = []byte{0x00, 0x00, 0xff, 0xff}

var flateWriters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, flate.BestSpeed)
	return w
}}

// compress deflates p as one message (no context) and returns the
// payload to send.
func compress(p []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(len(p)/2 + 16)
	w := flateWriters.Get().(*flate.Writer)
	w.Reset(&buf)
	w.Write(p)
	w.Flush()
	flateWriters.Put(w)
	out := buf.Bytes()
	return out[:len(out)-len(deflateTail)]
}

var flateReaders = sync.Pool{New: func() any { return flate.NewReader(nil) }}

// decompress inflates one message's payload, failing with 1009 if it would
// exceed limit bytes (a small compressed message can expand enormously).
func decompress(p []byte, limit int) ([]byte, error) {
	// The stripped tail, then a final empty stored block so the reader
	// sees a clean end of stream.
	src := io.MultiReader(bytes.NewReader(p), bytes.NewReader(deflateTail), bytes.NewReader([]byte{0x01, 0x00, 0x00, 0xff, 0xff}))
	r := flateReaders.Get().(io.ReadCloser)
	defer flateReaders.Put(r)
	r.(flate.Resetter).Reset(src, nil)
	out, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, &CloseError{Code: CloseInvalidPayload, Reason: "bad deflate data"}
	}
	if len(out) > limit {
		return nil, &CloseError{Code: CloseMessageTooBig, Reason: "message too big after decompression"}
	}
	return out, nil
}
