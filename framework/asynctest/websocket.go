package asynctest

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
	"chat/framework/websocket"
)

// WSClient is a WebSocket client connection for the test goroutine: the
// framework's own client (websocket.Dial) running on the loop, with its
// events handed over through a queue, Tornado's websocket_connect with
// read_message. Send and Close go to the loop through AddCallback; Read
// waits on the test goroutine. Messages queue without bound until read,
// so a test that reads late never stalls the loop.
//
// A WSClient still open at cleanup is closed (1000) before the server is.
type WSClient struct {
	t    testing.TB
	loop *ioloop.Loop
	conn *websocket.Conn // loop-owned

	mu       sync.Mutex
	queue    []Message
	arrived  chan struct{} // capacity 1: a message was queued
	closed   chan struct{} // closed after OnClose
	closeErr *websocket.CloseError
}

// Message is one WebSocket message received.
type Message struct {
	Op   websocket.Opcode
	Data []byte
}

// DialWebSocket opens a WebSocket to path on the server (header is
// "Name: value" lines: Origin, Cookie) and fails the test if the
// handshake does.
func (s *Server) DialWebSocket(path string, header ...string) *WSClient {
	s.t.Helper()
	h, err := headerLines(header)
	if err != nil {
		s.t.Fatal(err)
	}
	ws, err := s.DialWebSocketOptions(path, websocket.DialOptions{Header: h})
	if err != nil {
		s.t.Fatalf("dial WebSocket %s: %v", path, err)
	}
	return ws
}

// DialWebSocketOptions is DialWebSocket with the framework's dial options
// (subprotocols, compression, message size), returning the handshake's
// error (a *websocket.HandshakeError for a refusal) rather than failing
// the test. opts.Handler must be nil: the WSClient brings its own.
func (s *Server) DialWebSocketOptions(path string, opts websocket.DialOptions) (*WSClient, error) {
	s.t.Helper()
	if opts.Handler != nil {
		return nil, errors.New("asynctest: DialWebSocketOptions sets the Handler itself")
	}
	ws := &WSClient{t: s.t, loop: s.Loop, arrived: make(chan struct{}, 1), closed: make(chan struct{})}
	opts.Handler = wsHandler{ws}
	if opts.HandshakeTimeout == 0 {
		// Shorter than the Await's watchdog, so a stuck handshake
		// reports as the dial's own timeout.
		opts.HandshakeTimeout = Watchdog / 2
	}
	url := "ws://" + s.Addr + path
	conn, err := Await(s.t, s.Loop, func() *concurrent.Future[*websocket.Conn] {
		return websocket.Dial(s.Loop, url, opts)
	})
	if err != nil {
		return nil, err
	}
	ws.conn = conn
	s.t.Cleanup(ws.closeAtCleanup)
	return ws, nil
}

func headerLines(lines []string) (http.Header, error) {
	h := http.Header{}
	for _, line := range lines {
		name, value, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("asynctest: header %q is not a \"Name: value\" line", line)
		}
		h.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	return h, nil
}

// wsHandler is the connection's websocket.Handler: its methods run on the
// loop and hand each event to the WSClient.
type wsHandler struct{ ws *WSClient }

func (wsHandler) OnOpen(*websocket.Conn) {}

// OnMessage queues a copy of the message for Read.
func (h wsHandler) OnMessage(_ *websocket.Conn, op websocket.Opcode, data []byte) {
	ws := h.ws
	ws.mu.Lock()
	ws.queue = append(ws.queue, Message{Op: op, Data: append([]byte(nil), data...)})
	ws.mu.Unlock()
	select {
	case ws.arrived <- struct{}{}:
	default:
	}
}

// OnClose records the close code and wakes Read and WaitClosed.
func (h wsHandler) OnClose(_ *websocket.Conn, code int, reason string) {
	ws := h.ws
	ws.mu.Lock()
	ws.closeErr = &websocket.CloseError{Code: code, Reason: reason}
	ws.mu.Unlock()
	close(ws.closed)
}

// Send writes a text message.
func (ws *WSClient) Send(text string) {
	ws.t.Helper()
	ws.write(websocket.OpText, []byte(text))
}

// SendBinary writes a binary message.
func (ws *WSClient) SendBinary(data []byte) {
	ws.t.Helper()
	ws.write(websocket.OpBinary, append([]byte(nil), data...))
}

func (ws *WSClient) write(op websocket.Opcode, data []byte) {
	ws.t.Helper()
	var err error
	Do(ws.t, ws.loop, func() { err = ws.conn.WriteMessage(op, data) })
	if err != nil {
		ws.t.Fatalf("WebSocket write: %v", err)
	}
}

// Read returns the next message, failing the test if the connection
// closes first or nothing arrives within Watchdog.
func (ws *WSClient) Read() Message {
	ws.t.Helper()
	m, err := ws.ReadWithin(Watchdog)
	if err != nil {
		ws.t.Fatal(err)
	}
	return m
}

// ReadText returns the next message, which must be text.
func (ws *WSClient) ReadText() string {
	ws.t.Helper()
	m := ws.Read()
	if m.Op != websocket.OpText {
		ws.t.Fatalf("WebSocket message is opcode %d, want text: %q", m.Op, m.Data)
	}
	return string(m.Data)
}

// ReadWithin returns the next message or, if none arrives within limit,
// an error: the *websocket.CloseError once the connection has closed
// (messages queued before the close are read first), an error matching
// concurrent.ErrTimeout otherwise. For a test that expects silence.
func (ws *WSClient) ReadWithin(limit time.Duration) (Message, error) {
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	for {
		ws.mu.Lock()
		if len(ws.queue) > 0 {
			m := ws.queue[0]
			ws.queue = ws.queue[1:]
			ws.mu.Unlock()
			return m, nil
		}
		closeErr := ws.closeErr
		ws.mu.Unlock()
		if closeErr != nil {
			return Message{}, fmt.Errorf("WebSocket closed before a message arrived: %w", closeErr)
		}
		select {
		case <-ws.arrived:
		case <-ws.closed:
		case <-deadline.C:
			return Message{}, fmt.Errorf("no WebSocket message within %v: %w", limit, concurrent.ErrTimeout)
		}
	}
}

// Close starts the closing handshake with code and reason; WaitClosed
// waits for its end.
func (ws *WSClient) Close(code int, reason string) {
	ws.t.Helper()
	Do(ws.t, ws.loop, func() { ws.conn.Close(code, reason) })
}

// WaitClosed waits (at most Watchdog) for the connection to close, by
// either side, and returns the close code and reason OnClose got.
func (ws *WSClient) WaitClosed() (code int, reason string) {
	ws.t.Helper()
	Wait(ws.t, ws.closed, "WebSocket close")
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return ws.closeErr.Code, ws.closeErr.Reason
}

// closeAtCleanup closes a connection the test left open and waits for it
// to go, so the server closes with no WebSocket in flight.
func (ws *WSClient) closeAtCleanup() {
	if err := run(ws.loop, func() {
		if ws.conn.Open() {
			ws.conn.Close(websocket.CloseNormal, "test over")
		}
	}, Watchdog); err != nil {
		ws.t.Errorf("close the WebSocket: %v", err)
		return
	}
	select {
	case <-ws.closed:
	case <-time.After(Watchdog):
		ws.t.Errorf("the WebSocket did not close within %v", Watchdog)
	}
}
