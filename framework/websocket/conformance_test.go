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
	"testing"
	"time"

	"chat/framework/asynctest"
	"chat/framework/httpserver"
	"chat/framework/websocket"
)

// The conformance suite: a raw-frame client against the server, one table
// per group of the published Autobahn test cases. Each case sends frames
// and asserts the exact outcome: the echo, a pong, or the close code.

const testMaxMessage = 256 << 10

// echo is the server side: every message comes back.
type echo struct{}

func (echo) OnOpen(*websocket.Conn) {}
func (echo) OnMessage(c *websocket.Conn, op websocket.Opcode, data []byte) {
	c.WriteMessage(op, data)
}
func (echo) OnClose(*websocket.Conn, int, string) {}

// startEchoServer serves the echo at /ws and returns its host:port.
func startEchoServer(t testing.TB, opts websocket.Options) string {
	t.Helper()
	return asynctest.NewServer(t, httpserver.HandlerFunc(func(w *httpserver.ResponseWriter, r *httpserver.Request) {
		websocket.Upgrade(w, r, echo{}, &opts)
	})).Addr
}

// rawClient speaks frames byte by byte.
type rawClient struct {
	t    testing.TB
	conn net.Conn
	r    *bufio.Reader
}

func dialRaw(t testing.TB, addr, extensions string) *rawClient {
	t.Helper()
	return dialRawTo(t, addr, "/ws", extensions)
}

// dialRawTo is dialRaw for a given path.
func dialRawTo(t testing.TB, addr, path, extensions string) *rawClient {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	req := "GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
	if extensions != "" {
		req += "Sec-WebSocket-Extensions: " + extensions + "\r\n"
	}
	io.WriteString(conn, req+"\r\n")
	r := bufio.NewReader(conn)
	resp, err := http.ReadResponse(r, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("handshake: %v %v", resp, err)
	}
	if got := resp.Header.Get("Sec-WebSocket-Accept"); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("Sec-WebSocket-Accept = %q", got)
	}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	return &rawClient{t: t, conn: conn, r: r}
}

// frame builds a client frame (masked unless unmasked is set).
type frame struct {
	op       websocket.Opcode
	notFin   bool
	rsv      byte // RSV bits as in the first header byte (0x40, 0x20, 0x10)
	payload  []byte
	unmasked bool
}

func (f frame) encode() []byte {
	b0 := byte(f.op) | f.rsv
	if !f.notFin {
		b0 |= 0x80
	}
	out := []byte{b0}
	maskBit := byte(0x80)
	if f.unmasked {
		maskBit = 0
	}
	n := len(f.payload)
	switch {
	case n <= 125:
		out = append(out, maskBit|byte(n))
	case n <= 0xffff:
		out = append(out, maskBit|126, byte(n>>8), byte(n))
	default:
		out = append(out, maskBit|127)
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	if f.unmasked {
		return append(out, f.payload...)
	}
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	out = append(out, key[:]...)
	for i, c := range f.payload {
		out = append(out, c^key[i%4])
	}
	return out
}

func (rc *rawClient) send(frames ...frame) {
	for _, f := range frames {
		if _, err := rc.conn.Write(f.encode()); err != nil {
			return // the server may already have failed the connection
		}
	}
}

type received struct {
	op      websocket.Opcode
	rsv1    bool
	payload []byte
}

// read returns the next server frame.
func (rc *rawClient) read() (received, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(rc.r, hdr[:]); err != nil {
		return received{}, err
	}
	if hdr[1]&0x80 != 0 {
		return received{}, errors.New("server frame is masked")
	}
	n := int(hdr[1] & 0x7f)
	switch n {
	case 126:
		var ext [2]byte
		io.ReadFull(rc.r, ext[:])
		n = int(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		io.ReadFull(rc.r, ext[:])
		n = int(binary.BigEndian.Uint64(ext[:]))
	}
	payload := make([]byte, n)
	_, err := io.ReadFull(rc.r, payload)
	return received{op: websocket.Opcode(hdr[0] & 0x0f), rsv1: hdr[0]&0x40 != 0, payload: payload}, err
}

// expectClose reads until the close frame, checks its code, then checks
// the server closes the TCP connection.
func (rc *rawClient) expectClose(code int) {
	rc.t.Helper()
	for {
		f, err := rc.read()
		if err != nil {
			rc.t.Fatalf("want close %d, connection ended: %v", code, err)
		}
		if f.op != websocket.OpClose {
			continue
		}
		got := websocket.CloseNoStatus
		if len(f.payload) >= 2 {
			got = int(binary.BigEndian.Uint16(f.payload))
		}
		if got != code {
			rc.t.Fatalf("close code %d (%q); want %d", got, f.payload, code)
		}
		if _, err := rc.read(); err == nil {
			rc.t.Fatal("frame after the close frame")
		}
		return
	}
}

func (rc *rawClient) expectFrame(op websocket.Opcode, payload []byte) {
	rc.t.Helper()
	f, err := rc.read()
	if err != nil {
		rc.t.Fatalf("want %v frame: %v", op, err)
	}
	if f.op != op || !bytes.Equal(f.payload, payload) {
		rc.t.Fatalf("got op %v payload %q; want op %v payload %q", f.op, trim(f.payload), op, trim(payload))
	}
}

func trim(b []byte) []byte {
	if len(b) > 40 {
		return append(b[:40:40], "..."...)
	}
	return b
}

type outcome struct {
	echo  []frame // expected frames back (op and payload)
	close int     // expected close code, 0 for none
}

type conformanceCase struct {
	name string
	send []frame
	want outcome
}

func closeFrame(code int, reason string) frame {
	p := binary.BigEndian.AppendUint16(nil, uint16(code))
	return frame{op: websocket.OpClose, payload: append(p, reason...)}
}

func runCases(t *testing.T, cases []conformanceCase, extensions string) {
	addr := startEchoServer(t, websocket.Options{MaxMessageSize: testMaxMessage})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rc := dialRaw(t, addr, extensions)
			rc.send(tc.send...)
			for _, f := range tc.want.echo {
				rc.expectFrame(f.op, f.payload)
			}
			code := tc.want.close
			if code == 0 {
				rc.send(closeFrame(websocket.CloseNormal, ""))
				code = websocket.CloseNormal
			}
			rc.expectClose(code)
		})
	}
}

func text(s string) frame { return frame{op: websocket.OpText, payload: []byte(s)} }

func TestAutobahnFraming(t *testing.T) { // group 1
	var cases []conformanceCase
	for _, n := range []int{0, 125, 126, 127, 128, 65535, 65536, 100000} {
		payload := bytes.Repeat([]byte("*"), n)
		for _, op := range []websocket.Opcode{websocket.OpText, websocket.OpBinary} {
			cases = append(cases, conformanceCase{
				name: fmt.Sprintf("op %d, %d bytes", op, n),
				send: []frame{{op: op, payload: payload}},
				want: outcome{echo: []frame{{op: op, payload: payload}}},
			})
		}
	}
	runCases(t, cases, "")
}

func TestAutobahnPingsAndPongs(t *testing.T) { // group 2
	runCases(t, []conformanceCase{
		{"ping without payload", []frame{{op: websocket.OpPing}}, outcome{echo: []frame{{op: websocket.OpPong}}}},
		{"ping with payload", []frame{{op: websocket.OpPing, payload: []byte("hi")}}, outcome{echo: []frame{{op: websocket.OpPong, payload: []byte("hi")}}}},
		{"ping with 125 bytes", []frame{{op: websocket.OpPing, payload: bytes.Repeat([]byte{0xfe}, 125)}},
			outcome{echo: []frame{{op: websocket.OpPong, payload: bytes.Repeat([]byte{0xfe}, 125)}}}},
		{"ping with 126 bytes", []frame{{op: websocket.OpPing, payload: make([]byte, 126)}}, outcome{close: 1002}},
		{"unsolicited pong is ignored", []frame{{op: websocket.OpPong, payload: []byte("x")}, text("after")}, outcome{echo: []frame{text("after")}}},
		{"fragmented ping", []frame{{op: websocket.OpPing, notFin: true}}, outcome{close: 1002}},
		{"ten pings", repeat(frame{op: websocket.OpPing, payload: []byte("p")}, 10), outcome{echo: repeat(frame{op: websocket.OpPong, payload: []byte("p")}, 10)}},
	}, "")
}

func repeat(f frame, n int) []frame {
	out := make([]frame, n)
	for i := range out {
		out[i] = f
	}
	return out
}

func TestAutobahnReservedBits(t *testing.T) { // group 3
	runCases(t, []conformanceCase{
		{"RSV1 without an extension", []frame{{op: websocket.OpText, rsv: 0x40, payload: []byte("x")}}, outcome{close: 1002}},
		{"RSV2", []frame{{op: websocket.OpText, rsv: 0x20, payload: []byte("x")}}, outcome{close: 1002}},
		{"RSV3 after a good message", []frame{text("ok"), {op: websocket.OpText, rsv: 0x10}}, outcome{echo: []frame{text("ok")}, close: 1002}},
		{"RSV on a ping", []frame{{op: websocket.OpPing, rsv: 0x30}}, outcome{close: 1002}},
	}, "")
}

func TestAutobahnOpcodes(t *testing.T) { // group 4
	var cases []conformanceCase
	for _, op := range []websocket.Opcode{3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF} {
		cases = append(cases, conformanceCase{fmt.Sprintf("reserved opcode %#x", byte(op)),
			[]frame{text("before"), {op: op, payload: []byte("x")}}, outcome{echo: []frame{text("before")}, close: 1002}})
	}
	runCases(t, cases, "")
}

func TestAutobahnFragmentation(t *testing.T) { // group 5
	runCases(t, []conformanceCase{
		{"text in two fragments", []frame{{op: websocket.OpText, notFin: true, payload: []byte("frag")}, {op: websocket.OpContinuation, payload: []byte("ment")}},
			outcome{echo: []frame{text("fragment")}}},
		{"binary in three fragments", []frame{{op: websocket.OpBinary, notFin: true, payload: []byte{1}}, {op: websocket.OpContinuation, notFin: true, payload: []byte{2}}, {op: websocket.OpContinuation, payload: []byte{3}}},
			outcome{echo: []frame{{op: websocket.OpBinary, payload: []byte{1, 2, 3}}}}},
		{"ping between fragments", []frame{{op: websocket.OpText, notFin: true, payload: []byte("a")}, {op: websocket.OpPing, payload: []byte("p")}, {op: websocket.OpContinuation, payload: []byte("b")}},
			outcome{echo: []frame{{op: websocket.OpPong, payload: []byte("p")}, text("ab")}}},
		{"empty fragments", []frame{{op: websocket.OpText, notFin: true}, {op: websocket.OpContinuation, notFin: true}, {op: websocket.OpContinuation}},
			outcome{echo: []frame{text("")}}},
		{"continuation without a message", []frame{{op: websocket.OpContinuation, payload: []byte("x")}}, outcome{close: 1002}},
		{"text inside a fragmented message", []frame{{op: websocket.OpText, notFin: true, payload: []byte("a")}, text("b")}, outcome{close: 1002}},
		{"fragmented close", []frame{{op: websocket.OpClose, notFin: true}}, outcome{close: 1002}},
	}, "")
}

func TestAutobahnUTF8Handling(t *testing.T) { // group 6
	euro := "\xe2\x82\xac"
	runCases(t, []conformanceCase{
		{"valid multi-byte text", []frame{text("κόσμε " + euro + " \U0001F600")}, outcome{echo: []frame{text("κόσμε " + euro + " \U0001F600")}}},
		{"character split across fragments", []frame{{op: websocket.OpText, notFin: true, payload: []byte(euro[:1])}, {op: websocket.OpContinuation, notFin: true, payload: []byte(euro[1:2])}, {op: websocket.OpContinuation, payload: []byte(euro[2:])}},
			outcome{echo: []frame{text(euro)}}},
		{"invalid byte", []frame{text("ok\xffnot")}, outcome{close: 1007}},
		{"overlong encoding", []frame{text("\xc0\xaf")}, outcome{close: 1007}},
		{"surrogate", []frame{text("\xed\xa0\x80")}, outcome{close: 1007}},
		{"above U+10FFFF", []frame{text("\xf4\x90\x80\x80")}, outcome{close: 1007}},
		{"message ends inside a character", []frame{text(euro[:2])}, outcome{close: 1007}},
		// Fail fast: the third fragment is never sent; the server must
		// close on the second.
		{"invalid in the middle fragment", []frame{{op: websocket.OpText, notFin: true, payload: []byte("good")}, {op: websocket.OpContinuation, notFin: true, payload: []byte("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80")}},
			outcome{close: 1007}},
		{"impossible prefix at a fragment's end", []frame{{op: websocket.OpText, notFin: true, payload: []byte("a\xf4\x90")}}, outcome{close: 1007}},
		{"binary is not checked", []frame{{op: websocket.OpBinary, payload: []byte{0xff, 0xfe}}}, outcome{echo: []frame{{op: websocket.OpBinary, payload: []byte{0xff, 0xfe}}}}},
	}, "")
}

func TestAutobahnCloseHandling(t *testing.T) { // group 7
	var cases []conformanceCase
	cases = append(cases,
		conformanceCase{"close with no payload", []frame{{op: websocket.OpClose}}, outcome{close: websocket.CloseNoStatus}},
		conformanceCase{"close with a 1-byte payload", []frame{{op: websocket.OpClose, payload: []byte{3}}}, outcome{close: 1002}},
		conformanceCase{"close with an invalid UTF-8 reason", []frame{closeFrame(1000, "\xff")}, outcome{close: 1007}},
		conformanceCase{"text after close is ignored", []frame{closeFrame(1000, "bye"), text("late")}, outcome{close: 1000}},
	)
	for _, code := range []int{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999} {
		cases = append(cases, conformanceCase{fmt.Sprintf("valid code %d is echoed", code), []frame{closeFrame(code, "reason")}, outcome{close: code}})
	}
	for _, code := range []int{0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999, 5000, 65535} {
		cases = append(cases, conformanceCase{fmt.Sprintf("invalid code %d", code), []frame{closeFrame(code, "")}, outcome{close: 1002}})
	}
	runCases(t, cases, "")
}

func TestAutobahnLimits(t *testing.T) { // group 9
	big := make([]byte, testMaxMessage+1)
	half := make([]byte, testMaxMessage/2+1)
	runCases(t, []conformanceCase{
		{"message at the limit", []frame{{op: websocket.OpBinary, payload: big[:testMaxMessage]}}, outcome{echo: []frame{{op: websocket.OpBinary, payload: big[:testMaxMessage]}}}},
		{"frame over the limit", []frame{{op: websocket.OpBinary, payload: big}}, outcome{close: 1009}},
		{"fragments over the limit", []frame{{op: websocket.OpBinary, notFin: true, payload: half}, {op: websocket.OpContinuation, payload: half}}, outcome{close: 1009}},
		{"unmasked client frame", []frame{{op: websocket.OpText, payload: []byte("x"), unmasked: true}}, outcome{close: 1002}},
	}, "")
}

// deflateRaw compresses as permessage-deflate does: a sync-flushed raw
// deflate stream without its 4-byte tail.
func deflateRaw(p []byte) []byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	w.Write(p)
	w.Flush()
	return bytes.TrimSuffix(buf.Bytes(), []byte{0, 0, 0xff, 0xff})
}

func inflateRaw(p []byte) []byte {
	r := flate.NewReader(io.MultiReader(bytes.NewReader(p), bytes.NewReader([]byte{0, 0, 0xff, 0xff, 1, 0, 0, 0xff, 0xff})))
	out, _ := io.ReadAll(r)
	return out
}

func TestAutobahnCompression(t *testing.T) { // groups 12 and 13
	addr := startEchoServer(t, websocket.Options{MaxMessageSize: testMaxMessage})
	offer := "permessage-deflate; client_max_window_bits"
	t.Run("compressed messages round trip", func(t *testing.T) {
		rc := dialRaw(t, addr, offer)
		for _, size := range []int{0, 16, 127, 128, 1000, 64 << 10} {
			msg := bytes.Repeat([]byte("chat text compresses well. "), size/27+1)[:size]
			rc.send(frame{op: websocket.OpText, rsv: 0x40, payload: deflateRaw(msg)})
			f, err := rc.read()
			if err != nil {
				t.Fatal(err)
			}
			got := f.payload
			if f.rsv1 {
				got = inflateRaw(got)
			}
			if !bytes.Equal(got, msg) || (size >= 128) != f.rsv1 {
				t.Fatalf("size %d: echo rsv1=%v, %d bytes; want %d bytes, compressed iff >= 128", size, f.rsv1, len(got), size)
			}
		}
		rc.send(closeFrame(1000, ""))
		rc.expectClose(1000)
	})
	runCases(t, []conformanceCase{
		{"RSV1 on a continuation", []frame{{op: websocket.OpText, notFin: true, rsv: 0x40, payload: deflateRaw([]byte("ab"))}, {op: websocket.OpContinuation, rsv: 0x40}}, outcome{close: 1002}},
		{"compressed invalid UTF-8", []frame{{op: websocket.OpText, rsv: 0x40, payload: deflateRaw([]byte("\xff\xfe"))}}, outcome{close: 1007}},
		{"zip bomb", []frame{{op: websocket.OpBinary, rsv: 0x40, payload: deflateRaw(make([]byte, 4*testMaxMessage))}}, outcome{close: 1009}},
		{"garbage deflate data", []frame{{op: websocket.OpBinary, rsv: 0x40, payload: []byte{0xff, 0xff, 0xff}}}, outcome{close: 1007}},
	}, offer)
}

func TestHandshakeRefusals(t *testing.T) {
	addr := startEchoServer(t, websocket.Options{})
	tests := []struct {
		name, extraHeaders string
		version            string
		wantStatus         int
	}{
		{"foreign origin", "Origin: http://evil.example\r\n", "13", 403},
		{"same origin", "Origin: http://" + addr + "\r\n", "13", 101},
		{"no origin (not a browser)", "", "13", 101},
		{"old protocol version", "", "8", 426},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			fmt.Fprintf(conn, "GET /ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: %s\r\n%s\r\n", addr, tc.version, tc.extraHeaders)
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d; want %d", resp.StatusCode, tc.wantStatus)
			}
			if tc.wantStatus == 426 && resp.Header.Get("Sec-WebSocket-Version") != "13" {
				t.Fatal("426 without Sec-WebSocket-Version: 13")
			}
		})
	}
}
