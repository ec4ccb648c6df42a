package websocket_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	gorilla "github.com/gorilla/websocket"

	"chat/framework/concurrent"
	"chat/framework/ioloop/looptest"
	"chat/framework/websocket"
)

// Interoperability with an independent implementation, both ways, with and
// without compression: gorilla's client against our server, and our client
// against gorilla's server.

var interopMessages = []struct {
	op   int
	data []byte
}{
	{gorilla.TextMessage, []byte("hello")},
	{gorilla.TextMessage, []byte(strings.Repeat("compressible chat text ", 200))},
	{gorilla.BinaryMessage, bytes.Repeat([]byte{0, 1, 2, 0xff}, 40000)},
	{gorilla.TextMessage, []byte("")},
}

func TestGorillaClientAgainstOurServer(t *testing.T) {
	addr := startEchoServer(t, websocket.Options{MaxMessageSize: testMaxMessage})
	for _, compress := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "deflate"}[compress], func(t *testing.T) {
			dialer := gorilla.Dialer{EnableCompression: compress}
			conn, resp, err := dialer.Dial("ws://"+addr+"/ws", nil)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer conn.Close()
			negotiated := strings.Contains(resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate")
			if negotiated != compress {
				t.Fatalf("deflate negotiated = %v; want %v", negotiated, compress)
			}
			for _, m := range interopMessages {
				if err := conn.WriteMessage(m.op, m.data); err != nil {
					t.Fatal(err)
				}
				op, data, err := conn.ReadMessage()
				if err != nil || op != m.op || !bytes.Equal(data, m.data) {
					t.Fatalf("echo of %d bytes: op %d, %d bytes, %v", len(m.data), op, len(data), err)
				}
			}
			conn.WriteMessage(gorilla.CloseMessage, gorilla.FormatCloseMessage(4000, "done"))
			if _, _, err := conn.ReadMessage(); !gorilla.IsCloseError(err, 4000) {
				t.Fatalf("close: %v; want our echo of 4000", err)
			}
		})
	}
}

// recorder is a client-side handler collecting what arrives.
type recorder struct {
	messages chan []byte
	closed   chan int
}

func newRecorder() *recorder {
	return &recorder{messages: make(chan []byte, 16), closed: make(chan int, 1)}
}

func (r *recorder) OnOpen(*websocket.Conn) {}
func (r *recorder) OnMessage(c *websocket.Conn, op websocket.Opcode, data []byte) {
	r.messages <- append([]byte{byte(op)}, data...)
}
func (r *recorder) OnClose(c *websocket.Conn, code int, reason string) { r.closed <- code }

func TestOurClientAgainstGorillaServer(t *testing.T) {
	for _, compress := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "deflate"}[compress], func(t *testing.T) {
			upgrader := gorilla.Upgrader{EnableCompression: compress}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				conn, err := upgrader.Upgrade(w, r, nil)
				if err != nil {
					return
				}
				defer conn.Close()
				for {
					op, data, err := conn.ReadMessage()
					if err != nil {
						return
					}
					conn.WriteMessage(op, data)
				}
			}))
			defer srv.Close()
			l := looptest.Start(t)
			rec := newRecorder()
			url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/"
			conn, err := looptest.Await(t, l, func() *concurrent.Future[*websocket.Conn] {
				return websocket.Dial(l, url, websocket.DialOptions{Handler: rec, Options: websocket.Options{DisableCompression: !compress, MaxMessageSize: testMaxMessage}})
			})
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			if conn.Compressed() != compress {
				t.Fatalf("Compressed() = %v; want %v", conn.Compressed(), compress)
			}
			for _, m := range interopMessages {
				looptest.Do(t, l, func() { conn.WriteMessage(websocket.Opcode(m.op), m.data) })
				got := looptest.Wait(t, rec.messages, "echo")
				if int(got[0]) != m.op || !bytes.Equal(got[1:], m.data) {
					t.Fatalf("echo of %d bytes: op %d, %d bytes", len(m.data), got[0], len(got)-1)
				}
			}
			looptest.Do(t, l, func() { conn.Close(websocket.CloseNormal, "bye") })
			if code := looptest.Wait(t, rec.closed, "close"); code != websocket.CloseNormal {
				t.Fatalf("closed with %d; want 1000", code)
			}
		})
	}
}

func TestOurClientAgainstOurServer(t *testing.T) {
	addr := startEchoServer(t, websocket.Options{})
	l := looptest.Start(t)
	rec := newRecorder()
	conn, err := looptest.Await(t, l, func() *concurrent.Future[*websocket.Conn] {
		return websocket.Dial(l, "ws://"+addr+"/ws", websocket.DialOptions{Handler: rec})
	})
	if err != nil {
		t.Fatal(err)
	}
	looptest.Do(t, l, func() {
		pm := websocket.NewPreparedMessage(websocket.OpText, []byte(strings.Repeat("prepared ", 50)))
		conn.WritePrepared(pm) // a client must mask: it encodes its own frame
	})
	if got := looptest.Wait(t, rec.messages, "echo"); string(got[1:]) != strings.Repeat("prepared ", 50) {
		t.Fatalf("echo %q", got)
	}
	looptest.Do(t, l, func() { conn.Close(4001, "") })
	if code := looptest.Wait(t, rec.closed, "close"); code != 4001 {
		t.Fatalf("close code %d", code)
	}
}

func TestSubprotocolSelection(t *testing.T) {
	addr := startEchoServer(t, websocket.Options{Subprotocols: []string{"chat.v2", "chat.v1"}})
	tests := []struct {
		offered []string
		want    string
	}{
		{[]string{"chat.v1", "chat.v2"}, "chat.v2"}, // the server's preference wins
		{[]string{"chat.v1"}, "chat.v1"},
		{[]string{"other"}, ""},
		{nil, ""},
	}
	for _, tc := range tests {
		d := gorilla.Dialer{Subprotocols: tc.offered}
		conn, _, err := d.Dial("ws://"+addr+"/ws", nil)
		if err != nil {
			t.Fatalf("offered %v: %v", tc.offered, err)
		}
		if got := conn.Subprotocol(); got != tc.want {
			t.Errorf("offered %v: chose %q; want %q", tc.offered, got, tc.want)
		}
		conn.Close()
	}
}
