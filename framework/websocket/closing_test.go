package websocket_test

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"chat/framework/asynctest"
	"chat/framework/httpserver"
	"chat/framework/ioloop/looptest"
	"chat/framework/websocket"
)

// scripted is a server handler whose OnOpen is the test's, and which
// reports what reached OnMessage and how the connection ended.
type scripted struct {
	onOpen   func(c *websocket.Conn)
	messages chan string
	closed   chan closeReport
}

type closeReport struct {
	code   int
	reason string
}

func newScripted(onOpen func(c *websocket.Conn)) *scripted {
	return &scripted{onOpen: onOpen, messages: make(chan string, 100), closed: make(chan closeReport, 1)}
}

func (s *scripted) OnOpen(c *websocket.Conn) {
	if s.onOpen != nil {
		s.onOpen(c)
	}
}
func (s *scripted) OnMessage(c *websocket.Conn, op websocket.Opcode, data []byte) {
	s.messages <- string(data)
	c.WriteMessage(op, data)
}
func (s *scripted) OnClose(c *websocket.Conn, code int, reason string) {
	s.closed <- closeReport{code, reason}
}

func startScripted(t *testing.T, h websocket.Handler, opts *websocket.Options) string {
	t.Helper()
	return asynctest.NewServer(t, httpserver.HandlerFunc(func(w *httpserver.ResponseWriter, r *httpserver.Request) {
		websocket.Upgrade(w, r, h, opts)
	})).Addr
}

// readClose reads the next frame, which must be a close frame, and returns
// its code and reason.
func (rc *rawClient) readClose() (int, string) {
	rc.t.Helper()
	f, err := rc.read()
	if err != nil {
		rc.t.Fatalf("want a close frame: %v", err)
	}
	if f.op != websocket.OpClose || len(f.payload) < 2 {
		rc.t.Fatalf("got op %v payload %q; want a close frame with a code", f.op, trim(f.payload))
	}
	return int(binary.BigEndian.Uint16(f.payload)), string(f.payload[2:])
}

// expectEOF reads the next frame and wants a clean end of the TCP
// connection instead (a FIN, not a reset), returning when it came.
func (rc *rawClient) expectEOF(since time.Time) time.Time {
	rc.t.Helper()
	f, err := rc.read()
	at := time.Now()
	if err == nil {
		rc.t.Fatalf("got op %v payload %q after the closing handshake; want EOF", f.op, trim(f.payload))
	}
	if !errors.Is(err, io.EOF) {
		rc.t.Fatalf("connection ended after %v with %v; want a clean EOF", at.Sub(since), err)
	}
	return at
}

// TestCloseInOnOpenCompletesTheHandshake: a server that closes a
// connection from OnOpen (room full, banned user) keeps reading, so the
// client's close reply ends the connection at once with a clean FIN; data
// the client sends meanwhile is discarded and its ping unanswered; a
// client that never replies is cut off after CloseTimeout.
func TestCloseInOnOpenCompletesTheHandshake(t *testing.T) {
	const closeTimeout = 900 * time.Millisecond
	cases := []struct {
		name        string
		beforeReply []frame // what the client sends after the server's close
		reply       bool
	}{
		{"client replies at once", nil, true},
		{"client sends data and a ping, then replies",
			[]frame{text("late"), {op: websocket.OpPing, payload: []byte("p")}, {op: websocket.OpBinary, notFin: true, payload: []byte("frag")}, {op: websocket.OpContinuation, payload: []byte("ment")}}, true},
		{"client never replies", nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newScripted(func(c *websocket.Conn) { c.Close(4003, "room full") })
			addr := startScripted(t, h, &websocket.Options{CloseTimeout: closeTimeout})
			// Before the dial: the server closes (and starts its timer) in
			// OnOpen, which may run before the dial returns.
			start := time.Now()
			rc := dialRaw(t, addr, "")
			if code, reason := rc.readClose(); code != 4003 || reason != "room full" {
				t.Fatalf("close %d %q; want 4003 \"room full\"", code, reason)
			}
			rc.send(tc.beforeReply...)
			if !tc.reply {
				at := rc.expectEOF(start)
				if d := at.Sub(start); d < closeTimeout || d > 3*closeTimeout {
					t.Fatalf("a silent client was cut off after %v; want CloseTimeout (%v)", d, closeTimeout)
				}
				return
			}
			replied := time.Now()
			rc.send(closeFrame(4003, ""))
			if d := rc.expectEOF(replied).Sub(replied); d > closeTimeout/3 {
				t.Fatalf("TCP closed %v after the client's close reply; want well under CloseTimeout (%v)", d, closeTimeout)
			}
			if got := looptest.Wait(t, h.closed, "OnClose"); got.code != 4003 {
				t.Fatalf("OnClose with %d; want 4003", got.code)
			}
			select {
			case m := <-h.messages:
				t.Fatalf("OnMessage(%q) after Close", m)
			default:
			}
		})
	}
}

// TestProtocolErrorCloseReachesAClientThatKeepsSending: after failing a
// connection the server lingers reading, so a client still sending does
// not provoke a reset that would destroy the close frame before it is
// read.
func TestProtocolErrorCloseReachesAClientThatKeepsSending(t *testing.T) {
	const closeTimeout = 1500 * time.Millisecond
	h := newScripted(nil)
	addr := startScripted(t, h, &websocket.Options{CloseTimeout: closeTimeout})
	rc := dialRaw(t, addr, "")
	rc.send(frame{op: 3, payload: []byte("reserved opcode")})
	// Keep sending without reading for a while, as a client busy
	// streaming does: long enough for the server's failure to land.
	// A reset in answer (the server closed with the bytes unread) would
	// fail these writes, and on a real network could destroy the close
	// frame in flight; the server must take them until it is done.
	chunk := text(string(make([]byte, 1024))).encode()
	start := time.Now()
	for time.Since(start) < 300*time.Millisecond {
		rc.conn.SetWriteDeadline(time.Now().Add(time.Second))
		if _, err := rc.conn.Write(chunk); err != nil {
			t.Fatalf("write %v after the protocol error: %v; want the server to keep reading", time.Since(start), err)
		}
	}
	rc.conn.SetWriteDeadline(time.Time{})
	if code, _ := rc.readClose(); code != websocket.CloseProtocolError {
		t.Fatalf("close %d; want 1002", code)
	}
	rc.expectEOF(start)
	rc.conn.Close()
	if got := looptest.Wait(t, h.closed, "OnClose"); got.code != websocket.CloseProtocolError {
		t.Fatalf("OnClose with %d; want 1002", got.code)
	}
}

// TestConnStateByEvent drives a server connection into each of its
// states (open; closing, after Close; failed, after a protocol error) and
// sends it each event a client can: a data frame, a ping, a close frame,
// and EOF. Each cell says what the client sees next and how OnClose
// reports the end. Every connection ends well before CloseTimeout.
func TestConnStateByEvent(t *testing.T) {
	const closeTimeout = 3 * time.Second
	type state int
	const (
		open state = iota
		closing
		failed
	)
	type event int
	const (
		dataFrame event = iota
		ping
		closeReply
		eof
	)
	type want struct {
		frame   *frame // what comes back first, nil for nothing: the next read is EOF
		onClose int    // OnClose's code, 0 when the test ends with the connection open
	}
	pong := frame{op: websocket.OpPing + 1, payload: []byte("p")}
	closeEcho := closeFrame(websocket.CloseNormal, "")
	cases := []struct {
		state state
		event event
		want  want
	}{
		{open, dataFrame, want{frame: &frame{op: websocket.OpText, payload: []byte("x")}}},
		{open, ping, want{frame: &pong}},
		{open, closeReply, want{frame: &closeEcho, onClose: websocket.CloseNormal}},
		{open, eof, want{onClose: websocket.CloseAbnormal}},
		{closing, dataFrame, want{onClose: websocket.CloseNormal}},
		{closing, ping, want{onClose: websocket.CloseNormal}},
		{closing, closeReply, want{onClose: websocket.CloseNormal}},
		{closing, eof, want{onClose: 4000}},
		{failed, dataFrame, want{onClose: websocket.CloseProtocolError}},
		{failed, ping, want{onClose: websocket.CloseProtocolError}},
		{failed, closeReply, want{onClose: websocket.CloseProtocolError}},
		{failed, eof, want{onClose: websocket.CloseProtocolError}},
	}
	stateNames := []string{"open", "closing", "failed"}
	eventNames := []string{"data frame", "ping", "close frame", "EOF"}
	for _, tc := range cases {
		t.Run(stateNames[tc.state]+" x "+eventNames[tc.event], func(t *testing.T) {
			h := newScripted(nil)
			if tc.state == closing {
				h.onOpen = func(c *websocket.Conn) { c.Close(4000, "bye") }
			}
			addr := startScripted(t, h, &websocket.Options{CloseTimeout: closeTimeout})
			rc := dialRaw(t, addr, "")
			start := time.Now()
			switch tc.state {
			case closing:
				if code, _ := rc.readClose(); code != 4000 {
					t.Fatalf("close %d; want 4000", code)
				}
			case failed:
				rc.send(frame{op: 3})
				if code, _ := rc.readClose(); code != websocket.CloseProtocolError {
					t.Fatalf("close %d; want 1002", code)
				}
			}
			switch tc.event {
			case dataFrame:
				rc.send(text("x"))
			case ping:
				rc.send(frame{op: websocket.OpPing, payload: []byte("p")})
			case closeReply:
				rc.send(closeFrame(websocket.CloseNormal, ""))
			case eof:
				rc.conn.(*net.TCPConn).CloseWrite()
			}
			if tc.want.frame != nil {
				rc.expectFrame(tc.want.frame.op, tc.want.frame.payload)
			}
			if tc.want.onClose == 0 {
				return // still open, as it should be
			}
			if tc.event == dataFrame || tc.event == ping {
				// Nothing came back for it; now end the handshake.
				rc.send(closeFrame(websocket.CloseNormal, ""))
			}
			rc.expectEOF(start)
			if tc.state == failed {
				rc.conn.Close() // the lingering server reads the EOF
			}
			got := looptest.Wait(t, h.closed, "OnClose")
			if d := time.Since(start); d > closeTimeout/2 {
				t.Errorf("the connection took %v to end; want well under CloseTimeout (%v)", d, closeTimeout)
			}
			if got.code != tc.want.onClose {
				t.Errorf("OnClose with %d; want %d", got.code, tc.want.onClose)
			}
			select {
			case m := <-h.messages:
				if tc.state != open {
					t.Errorf("OnMessage(%q) after the close began", m)
				}
			default:
			}
		})
	}
}
