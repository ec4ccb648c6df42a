package websocket_test

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	gorilla "github.com/gorilla/websocket"

	"chat/framework/httpserver"
	"chat/framework/ioloop/looptest"
	"chat/framework/websocket"
)

// FuzzMessageReader is a stateful fuzz of the whole frame reader: the input
// is a stream of client (masked) frames, sent after a real handshake to a
// server on loopback, and fed to gorilla/websocket's server-side reader as
// the oracle. Both must deliver the same messages (type and payload) and
// end the same way: the close code the peer sent, the code the connection
// failed with, or 1006 when the stream ended without a close frame. The
// reader is driven only through the package's exported API (Upgrade and a
// Handler), so fragments, control frames between them, UTF-8 across
// fragments, close payloads, permessage-deflate and the size limit are
// exercised exactly as a client would reach them.
//
// The first input byte chooses the connection: bit 0 negotiates
// permessage-deflate. The rest is the frame stream.
//
// gorilla's reader differs from RFC 6455 and from ours in a few places;
// each is handled in expectedReadResult (deliberateDifference,
// minimalControlLengths), gorillaRead (inflating) or compareReadResults
// (a stream ending inside a frame), with the rule it comes from. One is a
// bug of ours, marked as such in deliberateDifference.
func FuzzMessageReader(f *testing.F) {
	for _, tc := range frameReaderCases {
		f.Add(tc.input())
	}
	server := startRecordingServer(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 || len(data) > 8<<10 {
			return
		}
		deflate, stream := data[0]&1 != 0, data[1:]
		ours := server.read(t, deflate, stream)
		compareReadResults(t, deflate, stream, ours, func(prefix []byte) readResult {
			return server.read(t, deflate, prefix)
		})
	})
}

// TestMessageReaderCases runs the seed table with its expected outcomes
// written out, so a change that makes both readers agree on something
// wrong still fails here.
func TestMessageReaderCases(t *testing.T) {
	server := startRecordingServer(t)
	for _, tc := range frameReaderCases {
		t.Run(tc.name, func(t *testing.T) {
			ours := server.read(t, tc.deflate, tc.stream())
			if tc.want.code != 0 && !ours.equal(tc.want) {
				t.Errorf("server read %v, want %v", ours, tc.want)
			}
			compareReadResults(t, tc.deflate, tc.stream(), ours, func(prefix []byte) readResult {
				return server.read(t, tc.deflate, prefix)
			})
		})
	}
}

// fuzzMaxMessage is the message limit of both readers: small, so the
// limit is within the fuzzer's reach and decompression stays cheap.
const fuzzMaxMessage = 1024

// readMessage is one delivered message.
type readMessage struct {
	op      int // 1 text, 2 binary
	payload string
}

// readResult is what a reader made of a stream: the messages it
// delivered, then how the connection ended (a close code; 1006 when the
// stream ended without a close frame).
type readResult struct {
	messages []readMessage
	code     int
	// flateError: the oracle's inflater failed (it inflates while
	// reading; we inflate whole messages, so the failure shows later).
	flateError bool
}

func (r readResult) equal(o readResult) bool {
	return r.code == o.code && r.sameMessages(o)
}

func (r readResult) sameMessages(o readResult) bool {
	if len(r.messages) != len(o.messages) {
		return false
	}
	for i := range r.messages {
		if r.messages[i] != o.messages[i] {
			return false
		}
	}
	return true
}

func (r readResult) String() string {
	var b strings.Builder
	for _, m := range r.messages {
		fmt.Fprintf(&b, "[%d %q] ", m.op, truncateForLog(m.payload))
	}
	fmt.Fprintf(&b, "then %d", r.code)
	return b.String()
}

// quoteStream quotes a stream for a failure message, cut to 300 bytes.
func quoteStream(b []byte) string {
	if len(b) > 300 {
		return fmt.Sprintf("%q... (%d bytes)", b[:300], len(b))
	}
	return fmt.Sprintf("%q", b)
}

func truncateForLog(s string) string {
	if len(s) > 40 {
		return s[:40] + "..." + strconv.Itoa(len(s))
	}
	return s
}

// compareReadResults checks ours against the oracle on stream. readOurs
// reads a prefix of the stream with our server (used when the stream ends
// inside a frame).
func compareReadResults(t *testing.T, deflate bool, stream []byte, ours readResult, readOurs func([]byte) readResult) {
	t.Helper()
	frames := walkFrames(stream)
	if last := len(frames) - 1; last >= 0 && !frames[last].complete {
		// The stream ends inside a frame. The readers check a header at
		// different points (gorilla its first two bytes at once and the
		// limit after the mask key, we once the length is in, and the
		// payload only when whole), so the incomplete frame may end either
		// in 1006 or in the failure its header shows (1002, or 1009 for a
		// length over the limit; a 64-bit length with the high bit set,
		// which RFC 6455 §5.2 forbids, is 1002 for us and gorilla's read
		// limit for it). Everything before it must agree exactly, and the
		// incomplete frame can deliver nothing.
		prefix := stream[:frames[last].offset]
		oursBefore := readOurs(prefix)
		compareComplete(t, deflate, prefix, oursBefore)
		if oursBefore.code != 1006 {
			if !ours.equal(oursBefore) {
				t.Fatalf("ours after a failure changed with bytes appended: %v, before %v\nstream %s", ours, oursBefore, quoteStream(stream))
			}
			return
		}
		if !ours.sameMessages(oursBefore) || (ours.code != 1006 && ours.code != 1002 && ours.code != 1009) {
			t.Fatalf("ours %v on a stream ending inside a frame, %v before that frame\nstream %s", ours, oursBefore, quoteStream(stream))
		}
		return
	}
	compareComplete(t, deflate, stream, ours)
}

// compareComplete checks ours on a stream of whole frames.
func compareComplete(t *testing.T, deflate bool, stream []byte, ours readResult) {
	t.Helper()
	want := expectedReadResult(deflate, stream)
	if !ours.equal(want) {
		t.Fatalf("ours   %v\nwant   %v\ndeflate %v stream %s", ours, want, deflate, quoteStream(stream))
	}
}

// expectedReadResult is gorilla's reading of stream, adjusted where this
// package deliberately differs: at the first frame where a rule of ours
// applies, the expected result is gorilla's reading of the stream up to
// that frame, ended by our rule's code (unless gorilla had already ended).
func expectedReadResult(deflate bool, stream []byte) readResult {
	stream = minimalControlLengths(stream)
	frames := walkFrames(stream)
	for _, fr := range frames {
		code := deliberateDifference(fr)
		if code == 0 {
			continue
		}
		before := gorillaRead(deflate, stream[:fr.offset])
		if before.code == 1006 {
			before.code = code
		}
		return before
	}
	return gorillaRead(deflate, stream)
}

// minimalControlLengths re-encodes the 16- and 64-bit length of a control
// frame whose payload fits 125 bytes in the 7-bit form. RFC 6455 §5.5
// bounds a control frame's payload length at 125, which such a frame
// keeps; the longer form only breaks §5.2's "minimal number of bytes",
// which neither reader enforces for data frames. We accept it; gorilla
// rejects a control frame whose 7-bit length field is over 125.
func minimalControlLengths(stream []byte) []byte {
	var out []byte
	last := 0
	for _, fr := range walkFrames(stream) {
		if !fr.complete || fr.opcode < 8 || fr.lengthBits == 7 || fr.length > 125 {
			continue
		}
		b := stream[fr.offset:]
		out = append(out, stream[last:fr.offset]...)
		out = append(out, b[0], b[1]&0x80|byte(fr.length))
		rest := fr.headerLen - 4
		if fr.lengthBits == 64 {
			rest = fr.headerLen - 10
		}
		out = append(out, b[fr.headerLen-rest:fr.headerLen+int(fr.length)]...)
		last = fr.offset + fr.headerLen + int(fr.length)
	}
	if out == nil {
		return stream
	}
	return append(out, stream[last:]...)
}

// deliberateDifference returns the close code our reader ends with at
// frame fr where gorilla's does something else, or 0.
func deliberateDifference(fr walkedFrame) int {
	if fr.rsv != 0 || !fr.masked || fr.opcode < 8 || fr.opcode > 10 {
		return 0 // both fail on the header, ours first on its bits
	}
	switch {
	case fr.fin && fr.opcode == 8 && len(fr.payload) == 1:
		// RFC 6455 §5.5.1: a close body starts with a 2-byte code; gorilla
		// takes a 1-byte body as no code (1005).
		return 1002
	case fr.fin && fr.opcode == 8 && len(fr.payload) >= 2 && binary.BigEndian.Uint16(fr.payload) == 1014:
		// 1014 (Bad Gateway) is in IANA's registry of close codes;
		// gorilla's list of codes it accepts stops at 1013. So the reason
		// is checked next (RFC 6455 §8.1: 1007 if not UTF-8).
		if !utf8.Valid(fr.payload[2:]) {
			return 1007
		}
		return 1014
	}
	return 0
}

// walkedFrame is one frame of a stream as a plain splitter sees it,
// without judging it.
type walkedFrame struct {
	offset     int
	fin, rsv1  bool
	rsv        byte // the RSV bits as in the first header byte
	masked     bool
	opcode     byte
	length     uint64
	lengthBits int // 7, 16 or 64
	headerLen  int
	payload    []byte // unmasked, control frames only
	complete   bool   // the whole frame is in the stream
	// assembled is how many payload bytes of a fragmented data message
	// came before this frame (0 outside a message).
	assembled int
}

// walkFrames splits stream into frames, stopping after the first one that
// is incomplete or whose length cannot be honoured.
func walkFrames(stream []byte) []walkedFrame {
	var frames []walkedFrame
	assembled, inMessage := 0, false
	for pos := 0; pos < len(stream); {
		fr := walkedFrame{offset: pos, assembled: assembled}
		b := stream[pos:]
		if len(b) < 2 {
			return append(frames, fr)
		}
		fr.fin, fr.rsv1, fr.rsv, fr.opcode = b[0]&0x80 != 0, b[0]&0x40 != 0, b[0]&0x70, b[0]&0x0f
		fr.masked = b[1]&0x80 != 0
		masked := fr.masked
		fr.length, fr.lengthBits = uint64(b[1]&0x7f), 7
		head := 2
		switch fr.length {
		case 126:
			if len(b) < 4 {
				return append(frames, fr)
			}
			fr.length, fr.lengthBits, head = uint64(binary.BigEndian.Uint16(b[2:])), 16, 4
		case 127:
			if len(b) < 10 {
				return append(frames, fr)
			}
			fr.length, fr.lengthBits, head = binary.BigEndian.Uint64(b[2:]), 64, 10
		}
		var mask [4]byte
		if masked {
			if len(b) < head+4 {
				return append(frames, fr)
			}
			copy(mask[:], b[head:])
			head += 4
		}
		if fr.length > uint64(len(b)-head) {
			return append(frames, fr)
		}
		end := head + int(fr.length)
		fr.complete, fr.headerLen = true, head
		if fr.opcode >= 8 {
			fr.payload = append([]byte(nil), b[head:end]...)
			if masked {
				for i := range fr.payload {
					fr.payload[i] ^= mask[i&3]
				}
			}
		} else {
			if fr.opcode != 0 || inMessage {
				assembled += int(fr.length)
			}
			inMessage = !fr.fin
			if fr.fin {
				assembled = 0
			}
		}
		frames = append(frames, fr)
		pos += end
	}
	return frames
}

// gorillaRead reads stream with gorilla's server-side reader, read limit
// fuzzMaxMessage, adding the checks gorilla leaves to the application:
// UTF-8 of text, as it arrives.
//
// On a deflate connection gorilla does not inflate: it would deliver a
// message as soon as its deflate data ends, before the message's last
// frame (and so before that frame's errors), where RFC 7692 §6.2 inflates
// the whole message's payload. So gorilla reads the stream with RSV1
// cleared on each message's first frame (RSV1 anywhere else stays, and
// fails there as RFC 7692 §6.1 says it must), and the messages whose
// first frame had it are inflated here, once whole: RFC 7692 §7.2.2's
// procedure, bounded by the limit, then checked as UTF-8 if text.
func gorillaRead(deflate bool, stream []byte) readResult {
	var compressed []bool
	if deflate {
		stream, compressed = clearFirstFrameRSV1(stream)
	}
	conn := &streamConn{r: bytes.NewReader(stream)}
	var up gorilla.Upgrader
	req, _ := http.NewRequest("GET", "http://fuzz.example/", nil)
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	c, err := up.Upgrade(&hijackableWriter{conn: conn, header: http.Header{}}, req, nil)
	if err != nil {
		panic("gorilla upgrade: " + err.Error())
	}
	c.SetReadLimit(fuzzMaxMessage)
	var res readResult
	for i := 0; ; i++ {
		op, r, err := c.NextReader()
		if err != nil {
			res.code = gorillaCloseCode(err)
			return res
		}
		payload, code := readGorillaMessage(r, op == gorilla.TextMessage, i < len(compressed) && compressed[i])
		if code != 0 {
			res.code = code
			return res
		}
		res.messages = append(res.messages, readMessage{op: op, payload: payload})
	}
}

// clearFirstFrameRSV1 returns a copy of stream with RSV1 cleared on every
// frame that starts a data message, and for each such message whether it
// was set.
func clearFirstFrameRSV1(stream []byte) ([]byte, []bool) {
	out := append([]byte(nil), stream...)
	var compressed []bool
	for _, fr := range walkFrames(stream) {
		if fr.opcode == 1 || fr.opcode == 2 {
			compressed = append(compressed, fr.rsv1)
			out[fr.offset] &^= 0x40
		}
	}
	return out, compressed
}

// readGorillaMessage reads one message to its end, returning its payload
// or the close code it fails with.
func readGorillaMessage(r io.Reader, text, compressed bool) (string, int) {
	var data []byte
	buf := make([]byte, 512)
	for {
		n, err := r.Read(buf)
		data = append(data, buf[:n]...)
		if text && !compressed && !utf8ValidPrefix(data) {
			return "", 1007
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", gorillaCloseCode(err)
		}
	}
	if compressed {
		var code int
		if data, code = inflateMessage(data); code != 0 {
			return "", code
		}
	}
	if text && !utf8.Valid(data) {
		return "", 1007
	}
	return string(data), 0
}

// inflateMessage inflates a whole message's payload: the 4 bytes the
// sender stripped put back, then an empty final stored block so the
// stream ends cleanly. More than fuzzMaxMessage bytes is 1009, data that
// does not inflate 1007.
func inflateMessage(p []byte) ([]byte, int) {
	src := io.MultiReader(bytes.NewReader(p), bytes.NewReader([]byte{0, 0, 0xff, 0xff, 1, 0, 0, 0xff, 0xff}))
	out, err := io.ReadAll(io.LimitReader(flate.NewReader(src), fuzzMaxMessage+1))
	switch {
	case err != nil:
		return nil, 1007
	case len(out) > fuzzMaxMessage:
		return nil, 1009
	}
	return out, 0
}

// gorillaCloseCode maps a gorilla read error to the close code: a peer's
// close frame carries it, a broken stream is 1006, the read limit 1009, an
// invalid close reason 1007 (RFC 6455 §8.1), any other protocol error
// 1002.
func gorillaCloseCode(err error) int {
	var ce *gorilla.CloseError
	switch {
	case errors.As(err, &ce):
		return ce.Code
	case errors.Is(err, gorilla.ErrReadLimit):
		return 1009
	case strings.Contains(err.Error(), "invalid utf8 payload in close frame"):
		return 1007
	}
	return 1002
}

// utf8ValidPrefix reports whether b is valid UTF-8 or could become valid
// with more bytes: valid up to an incomplete last character that some
// continuation would complete.
func utf8ValidPrefix(b []byte) bool {
	if utf8.Valid(b) {
		return true
	}
	start := len(b) - 1
	for start > 0 && len(b)-start < utf8.UTFMax && !utf8.RuneStart(b[start]) {
		start--
	}
	if !utf8.Valid(b[:start]) {
		return false
	}
	tail := b[start:]
	size := 0
	switch lead := tail[0]; {
	case lead >= 0xc2 && lead <= 0xdf:
		size = 2
	case lead >= 0xe0 && lead <= 0xef:
		size = 3
	case lead >= 0xf0 && lead <= 0xf4:
		size = 4
	}
	if size == 0 || len(tail) >= size {
		return false
	}
	// Only the second byte is constrained beyond 0x80-0xBF: try each.
	for second := byte(0x80); second <= 0xbf; second++ {
		try := append([]byte(nil), tail...)
		if len(try) == 1 {
			try = append(try, second)
		}
		for len(try) < size {
			try = append(try, 0x80)
		}
		if utf8.Valid(try) {
			return true
		}
		if len(tail) > 1 {
			break
		}
	}
	return false
}

// streamConn is the net.Conn gorilla reads the stream from; what it
// writes (pongs, close frames, the handshake) is dropped.
type streamConn struct {
	r *bytes.Reader
}

func (c *streamConn) Read(p []byte) (int, error)        { return c.r.Read(p) }
func (c *streamConn) Write(p []byte) (int, error)       { return len(p), nil }
func (c *streamConn) Close() error                      { return nil }
func (c *streamConn) LocalAddr() net.Addr               { return &net.TCPAddr{} }
func (c *streamConn) RemoteAddr() net.Addr              { return &net.TCPAddr{} }
func (c *streamConn) SetDeadline(time.Time) error       { return nil }
func (c *streamConn) SetReadDeadline(time.Time) error   { return nil }
func (c *streamConn) SetWriteDeadline(time.Time) error  { return nil }
func (w *hijackableWriter) Header() http.Header         { return w.header }
func (w *hijackableWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *hijackableWriter) WriteHeader(int)             {}
func (w *hijackableWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return w.conn, bufio.NewReadWriter(bufio.NewReader(w.conn), bufio.NewWriter(w.conn)), nil
}

// hijackableWriter is the http.ResponseWriter gorilla's Upgrade hijacks.
type hijackableWriter struct {
	conn   *streamConn
	header http.Header
}

// recordingServer is our server on loopback: each connection's handler
// records the messages and the close code, and reports them by
// connection id when the connection closes.
type recordingServer struct {
	addr    string
	nextID  atomic.Int64
	results chan recordedConn
}

type recordedConn struct {
	id     string
	result readResult
}

// messageRecorder is one connection's Handler; it runs on the loop.
type messageRecorder struct {
	id      string
	result  readResult
	results chan<- recordedConn
}

func (m *messageRecorder) OnOpen(*websocket.Conn) {}
func (m *messageRecorder) OnMessage(_ *websocket.Conn, op websocket.Opcode, data []byte) {
	m.result.messages = append(m.result.messages, readMessage{op: int(op), payload: string(data)})
}
func (m *messageRecorder) OnClose(_ *websocket.Conn, code int, _ string) {
	m.result.code = code
	select {
	case m.results <- recordedConn{id: m.id, result: m.result}:
	default: // never block the loop; the reader waiting for it times out
	}
}

func startRecordingServer(t testing.TB) *recordingServer {
	t.Helper()
	l := looptest.Start(t)
	s := &recordingServer{results: make(chan recordedConn, 64)}
	opts := &websocket.Options{MaxMessageSize: fuzzMaxMessage, PingInterval: -1, CloseTimeout: 2 * time.Second}
	srv := &httpserver.Server{Loop: l, Handler: httpserver.HandlerFunc(func(w *httpserver.ResponseWriter, r *httpserver.Request) {
		websocket.Upgrade(w, r, &messageRecorder{id: r.Query().Get("id"), results: s.results}, opts)
	})}
	var addr net.Addr
	var err error
	looptest.Do(t, l, func() { addr, err = srv.Listen("127.0.0.1:0") })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.AddCallback(srv.Close) })
	s.addr = addr.String()
	return s
}

// read opens a connection, sends stream after the handshake, half-closes,
// and returns what the server's handler saw.
func (s *recordingServer) read(t *testing.T, deflate bool, stream []byte) readResult {
	t.Helper()
	id := strconv.FormatInt(s.nextID.Add(1), 10)
	conn, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	extensions := ""
	if deflate {
		extensions = "Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; server_no_context_takeover\r\n"
	}
	fmt.Fprintf(conn, "GET /?id=%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n%s\r\n", id, s.addr, extensions)
	head, err := readResponseHead(bufio.NewReader(conn))
	if err != nil || !strings.HasPrefix(head, "HTTP/1.1 101 ") || strings.Contains(head, "permessage-deflate") != deflate {
		t.Fatalf("handshake: %q, %v", head, err)
	}
	if _, err := conn.Write(stream); err != nil {
		t.Fatalf("write: %v", err)
	}
	conn.(*net.TCPConn).CloseWrite()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case rec := <-s.results:
			if rec.id == id {
				return rec.result
			}
		case <-timeout:
			t.Fatalf("the server never closed connection %s", id)
		}
	}
}

func readResponseHead(r *bufio.Reader) (string, error) {
	var head strings.Builder
	for {
		line, err := r.ReadString('\n')
		head.WriteString(line)
		if err != nil || line == "\r\n" {
			return head.String(), err
		}
	}
}

// clientFrame is one frame a client sends; encode masks it.
type clientFrame struct {
	opcode   byte
	notFin   bool
	rsv      byte // RSV bits as in the first header byte (0x40 RSV1)
	payload  []byte
	unmasked bool
	// length64 forces the 64-bit length form with this value (the payload
	// is still what is sent).
	length64 uint64
	length16 bool // the 16-bit length form, whatever the payload's length
}

func (f clientFrame) encode() []byte {
	b0 := f.opcode | f.rsv
	if !f.notFin {
		b0 |= 0x80
	}
	var maskBit byte = 0x80
	if f.unmasked {
		maskBit = 0
	}
	out := []byte{b0}
	switch n := len(f.payload); {
	case f.length64 != 0:
		out = append(out, maskBit|127)
		out = binary.BigEndian.AppendUint64(out, f.length64)
	case n <= 125 && !f.length16:
		out = append(out, maskBit|byte(n))
	case n <= 0xffff:
		out = append(out, maskBit|126)
		out = binary.BigEndian.AppendUint16(out, uint16(n))
	default:
		out = append(out, maskBit|127)
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	if f.unmasked {
		return append(out, f.payload...)
	}
	mask := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	out = append(out, mask[:]...)
	for i, c := range f.payload {
		out = append(out, c^mask[i&3])
	}
	return out
}

func textFrame(s string) clientFrame   { return clientFrame{opcode: 1, payload: []byte(s)} }
func binaryFrame(b []byte) clientFrame { return clientFrame{opcode: 2, payload: b} }
func fragment(op byte, s string, fin bool) clientFrame {
	return clientFrame{opcode: op, payload: []byte(s), notFin: !fin}
}
func pingFrame(s string) clientFrame { return clientFrame{opcode: 9, payload: []byte(s)} }
func closeWith(code uint16, reason string) clientFrame {
	return clientFrame{opcode: 8, payload: append(binary.BigEndian.AppendUint16(nil, code), reason...)}
}

// deflated compresses p as one permessage-deflate message (tail stripped).
func deflated(p []byte) []byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestSpeed)
	w.Write(p)
	w.Flush()
	return bytes.TrimSuffix(buf.Bytes(), []byte{0, 0, 0xff, 0xff})
}

// deflatedFinal compresses p into a deflate stream that ends itself (a
// final block), as a sender may.
func deflatedFinal(p []byte) []byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestSpeed)
	w.Write(p)
	w.Close()
	return buf.Bytes()
}

// frameReaderCase is a seed: frames (or raw bytes) and, where written out,
// the outcome our reader must reach (code 0: only compared with gorilla).
type frameReaderCase struct {
	name    string
	deflate bool
	frames  []clientFrame
	raw     []byte // appended after frames
	want    readResult
}

func (tc frameReaderCase) stream() []byte {
	var b []byte
	for _, f := range tc.frames {
		b = append(b, f.encode()...)
	}
	return append(b, tc.raw...)
}

func (tc frameReaderCase) input() []byte {
	flags := byte(0)
	if tc.deflate {
		flags = 1
	}
	return append([]byte{flags}, tc.stream()...)
}

func msgs(pairs ...any) []readMessage {
	var out []readMessage
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, readMessage{op: pairs[i].(int), payload: pairs[i+1].(string)})
	}
	return out
}

var (
	bigText     = strings.Repeat("x", fuzzMaxMessage)
	euro        = "\u20ac" // 3 bytes: e2 82 ac
	zerosBig    = make([]byte, 4*fuzzMaxMessage)
	nearLimit   = strings.Repeat("n", fuzzMaxMessage-50)
	closeNormal = closeWith(1000, "bye")
)

var frameReaderCases = []frameReaderCase{
	// Messages and fragments.
	{name: "text and binary then close", frames: []clientFrame{textFrame("hello"), binaryFrame([]byte{0, 1, 2}), closeNormal},
		want: readResult{messages: msgs(1, "hello", 2, "\x00\x01\x02"), code: 1000}},
	{name: "empty text", frames: []clientFrame{textFrame(""), closeNormal}, want: readResult{messages: msgs(1, ""), code: 1000}},
	{name: "end without close", frames: []clientFrame{textFrame("a")}, want: readResult{messages: msgs(1, "a"), code: 1006}},
	{name: "text in three fragments", frames: []clientFrame{fragment(1, "frag", false), fragment(0, "men", false), fragment(0, "t", true), closeNormal},
		want: readResult{messages: msgs(1, "fragment"), code: 1000}},
	{name: "empty fragments", frames: []clientFrame{fragment(2, "", false), fragment(0, "", false), fragment(0, "", true), closeNormal},
		want: readResult{messages: msgs(2, ""), code: 1000}},
	{name: "ping and pong between fragments", frames: []clientFrame{fragment(1, "a", false), pingFrame("p"), {opcode: 10}, fragment(0, "b", true), closeNormal},
		want: readResult{messages: msgs(1, "ab"), code: 1000}},
	{name: "close between fragments", frames: []clientFrame{fragment(1, "a", false), closeWith(1001, "")},
		want: readResult{code: 1001}},
	{name: "continuation without message", frames: []clientFrame{fragment(0, "x", true)}, want: readResult{code: 1002}},
	{name: "new message inside fragmented one", frames: []clientFrame{fragment(1, "a", false), textFrame("b")}, want: readResult{code: 1002}},
	{name: "fragmented ping", frames: []clientFrame{{opcode: 9, notFin: true}}, want: readResult{code: 1002}},
	{name: "ping of 125 bytes", frames: []clientFrame{pingFrame(strings.Repeat("p", 125)), textFrame("after"), closeNormal},
		want: readResult{messages: msgs(1, "after"), code: 1000}},
	{name: "ping of 126 bytes", frames: []clientFrame{pingFrame(strings.Repeat("p", 126))}, want: readResult{code: 1002}},
	{name: "reserved opcode", frames: []clientFrame{{opcode: 3}}, want: readResult{code: 1002}},
	{name: "reserved control opcode", frames: []clientFrame{textFrame("a"), {opcode: 0xb}}, want: readResult{messages: msgs(1, "a"), code: 1002}},
	{name: "RSV2", frames: []clientFrame{{opcode: 1, rsv: 0x20}}, want: readResult{code: 1002}},
	{name: "RSV1 without deflate", frames: []clientFrame{{opcode: 1, rsv: 0x40, payload: []byte("x")}}, want: readResult{code: 1002}},
	{name: "unmasked frame", frames: []clientFrame{{opcode: 1, unmasked: true, payload: []byte("x")}}, want: readResult{code: 1002}},

	// UTF-8.
	{name: "character split across fragments", frames: []clientFrame{fragment(1, euro[:1], false), fragment(0, euro[1:2], false), fragment(0, euro[2:]+"!", true), closeNormal},
		want: readResult{messages: msgs(1, euro+"!"), code: 1000}},
	{name: "invalid UTF-8 in one frame", frames: []clientFrame{textFrame("ok"), textFrame("\xff")}, want: readResult{messages: msgs(1, "ok"), code: 1007}},
	{name: "invalid UTF-8 fails before the message ends", frames: []clientFrame{fragment(1, "a", false), fragment(0, "\xc3\x28", false)},
		want: readResult{code: 1007}},
	{name: "surrogate split across fragments", frames: []clientFrame{fragment(1, "\xed", false), fragment(0, "\xa0\x80", false)},
		want: readResult{code: 1007}},
	{name: "message ends inside a character", frames: []clientFrame{fragment(1, "a", false), fragment(0, euro[:2], true)},
		want: readResult{code: 1007}},
	{name: "binary need not be UTF-8", frames: []clientFrame{binaryFrame([]byte{0xff, 0xfe}), closeNormal},
		want: readResult{messages: msgs(2, "\xff\xfe"), code: 1000}},

	// Close payloads.
	{name: "close without payload", frames: []clientFrame{{opcode: 8}}, want: readResult{code: 1005}},
	{name: "close with a 1-byte payload", frames: []clientFrame{{opcode: 8, payload: []byte{3}}}, want: readResult{code: 1002}},
	{name: "close 1000 with reason", frames: []clientFrame{closeWith(1000, "done"), textFrame("ignored")}, want: readResult{code: 1000}},
	{name: "close code 999", frames: []clientFrame{closeWith(999, "")}, want: readResult{code: 1002}},
	{name: "close code 1005 sent", frames: []clientFrame{closeWith(1005, "")}, want: readResult{code: 1002}},
	{name: "close code 1014", frames: []clientFrame{closeWith(1014, "")}, want: readResult{code: 1014}},
	{name: "close code 1014 with a reason not UTF-8", frames: []clientFrame{closeWith(1014, "\xee")}, want: readResult{code: 1007}},
	{name: "close code 3000", frames: []clientFrame{closeWith(3000, "app")}, want: readResult{code: 3000}},
	{name: "close code 5000", frames: []clientFrame{closeWith(5000, "")}, want: readResult{code: 1002}},
	{name: "close reason not UTF-8", frames: []clientFrame{closeWith(1000, "\xff")}, want: readResult{code: 1007}},
	{name: "close reason of 123 bytes", frames: []clientFrame{closeWith(4000, strings.Repeat("r", 123))}, want: readResult{code: 4000}},

	// The size limit.
	{name: "message at the limit", frames: []clientFrame{textFrame(bigText), closeNormal}, want: readResult{messages: msgs(1, bigText), code: 1000}},
	{name: "message one over the limit", frames: []clientFrame{textFrame(bigText + "x")}, want: readResult{code: 1009}},
	{name: "fragments at the limit", frames: []clientFrame{fragment(1, bigText[:600], false), fragment(0, bigText[600:], true), closeNormal},
		want: readResult{messages: msgs(1, bigText), code: 1000}},
	{name: "fragments one over the limit", frames: []clientFrame{fragment(1, bigText[:600], false), fragment(0, bigText[600:]+"y", true)},
		want: readResult{code: 1009}},
	{name: "huge 64-bit length", frames: []clientFrame{{opcode: 2, length64: 1 << 40}}, want: readResult{code: 1009}},
	{name: "64-bit length with the high bit", frames: []clientFrame{{opcode: 2, length64: 1 << 63}}, want: readResult{code: 1002}},
	{name: "16-bit length form for a ping", frames: []clientFrame{{opcode: 9, length16: true, payload: []byte("p")}, textFrame("after"), closeNormal},
		want: readResult{messages: msgs(1, "after"), code: 1000}},
	{name: "64-bit length form for a short payload", frames: []clientFrame{{opcode: 1, length64: 2, payload: []byte("ok")}, closeNormal},
		want: readResult{messages: msgs(1, "ok"), code: 1000}},
	{name: "reserved control opcode inside a message near the limit", frames: []clientFrame{fragment(1, nearLimit, false), {opcode: 0xf, rsv: 0x40, unmasked: true, payload: make([]byte, 83)}},
		want: readResult{code: 1002}},
	{name: "ping inside a message near the limit", frames: []clientFrame{fragment(1, nearLimit, false), pingFrame(strings.Repeat("p", 100)), fragment(0, "z", true), closeNormal},
		want: readResult{messages: msgs(1, nearLimit+"z"), code: 1000}},
	{name: "ping with a 64-bit length past the message limit", frames: []clientFrame{{opcode: 9, length64: 1 << 20}},
		want: readResult{code: 1002}},

	// permessage-deflate.
	{name: "compressed text", deflate: true, frames: []clientFrame{{opcode: 1, rsv: 0x40, payload: deflated([]byte("hello hello hello"))}, closeNormal},
		want: readResult{messages: msgs(1, "hello hello hello"), code: 1000}},
	{name: "compressed binary in fragments", deflate: true, frames: func() []clientFrame {
		p := deflated(bytes.Repeat([]byte{7}, 300))
		return []clientFrame{{opcode: 2, rsv: 0x40, notFin: true, payload: p[:3]}, pingFrame(""), {opcode: 0, payload: p[3:]}, closeNormal}
	}(), want: readResult{messages: msgs(2, string(bytes.Repeat([]byte{7}, 300))), code: 1000}},
	{name: "uncompressed message on a deflate connection", deflate: true, frames: []clientFrame{textFrame("plain"), closeNormal},
		want: readResult{messages: msgs(1, "plain"), code: 1000}},
	{name: "over the limit once inflated", deflate: true, frames: []clientFrame{{opcode: 2, rsv: 0x40, payload: deflated(zerosBig)}},
		want: readResult{code: 1009}},
	{name: "compressed text not UTF-8", deflate: true, frames: []clientFrame{{opcode: 1, rsv: 0x40, payload: deflated([]byte("ok\xff"))}},
		want: readResult{code: 1007}},
	{name: "corrupt deflate data", deflate: true, frames: []clientFrame{{opcode: 2, rsv: 0x40, payload: []byte{0xff, 0xff, 0xff}}},
		want: readResult{code: 1007}},
	{name: "deflate data ends before the message's last frame", deflate: true, frames: []clientFrame{{opcode: 1, rsv: 0x40, notFin: true, payload: deflatedFinal([]byte("hi"))}},
		want: readResult{code: 1006}},
	{name: "deflate data ends before a bad last frame", deflate: true, frames: []clientFrame{{opcode: 1, rsv: 0x40, notFin: true, payload: deflatedFinal([]byte("hi"))}, {opcode: 0, rsv: 0x20}},
		want: readResult{code: 1002}},
	{name: "data after the final deflate block", deflate: true, frames: []clientFrame{{opcode: 1, rsv: 0x40, notFin: true, payload: deflatedFinal([]byte("hi"))}, {opcode: 0, payload: []byte{0xff}}, closeNormal},
		want: readResult{messages: msgs(1, "hi"), code: 1000}},
	{name: "RSV1 on a continuation", deflate: true, frames: []clientFrame{{opcode: 1, rsv: 0x40, notFin: true, payload: deflated([]byte("a"))}, {opcode: 0, rsv: 0x40}},
		want: readResult{code: 1002}},
	{name: "RSV1 on a ping", deflate: true, frames: []clientFrame{{opcode: 9, rsv: 0x40}}, want: readResult{code: 1002}},

	// Streams that end inside a frame.
	{name: "half a header", frames: []clientFrame{textFrame("a")}, raw: []byte{0x81}, want: readResult{messages: msgs(1, "a"), code: 1006}},
	{name: "header without its payload", raw: []byte{0x81, 0x85, 1, 2, 3, 4, 'h'}, want: readResult{code: 1006}},
	{name: "oversized header without its mask", raw: []byte{0x82, 0xfe, 0x10, 0x00}, want: readResult{code: 1009}},
}
