package websocket_test

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"chat/framework/concurrent"
	"chat/framework/ioloop/looptest"
	"chat/framework/websocket"
)

// lateServer accepts the dial's TCP connection but answers its handshake
// only when the test releases it, and reports how the client's side of
// that connection ended.
type lateServer struct {
	ln        net.Listener
	blocker   net.Conn      // fills the accept queue (connect stage), or nil
	requested chan struct{} // the handshake request arrived
	release   chan struct{} // closed by the test: accept and answer now
	ended     chan string   // what became of the dial's connection
}

const (
	closedBeforeRequest  = "closed by the client before it sent a handshake request"
	closedAfterResponse  = "closed by the client after the 101 response"
	stillOpen            = "still open 3 s after the 101 response"
	sentAfterTheResponse = "client sent bytes after the 101 response"
)

func startLateServer(t *testing.T, ln net.Listener, blocker net.Conn) *lateServer {
	s := &lateServer{ln: ln, blocker: blocker, requested: make(chan struct{}, 1),
		release: make(chan struct{}), ended: make(chan string, 1)}
	t.Cleanup(func() { ln.Close() })
	go s.serve()
	return s
}

func (s *lateServer) serve() {
	if s.blocker != nil {
		// The dial's SYN is dropped while the queue is full; once the
		// blocker is accepted, the client's next SYN retransmission
		// (about a second, or three, after it began) gets through.
		<-s.release
		b, err := s.ln.Accept()
		if err != nil {
			return
		}
		b.Close()
		s.blocker.Close()
	}
	conn, err := s.ln.Accept()
	if err != nil {
		return
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	req, err := http.ReadRequest(br)
	if err != nil {
		s.ended <- closedBeforeRequest + ": " + err.Error()
		return
	}
	s.requested <- struct{}{}
	<-s.release
	fmt.Fprintf(conn, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
		websocket.AcceptKey(req.Header.Get("Sec-WebSocket-Key")))
	conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	_, err = br.ReadByte()
	switch {
	case err == nil:
		s.ended <- sentAfterTheResponse
	case errors.Is(err, os.ErrDeadlineExceeded):
		s.ended <- stillOpen
	default:
		s.ended <- closedAfterResponse
	}
}

// opens counts OnOpen calls; nothing else is expected.
type opens chan *websocket.Conn

func (o opens) OnOpen(c *websocket.Conn)                            { o <- c }
func (o opens) OnMessage(*websocket.Conn, websocket.Opcode, []byte) {}
func (o opens) OnClose(*websocket.Conn, int, string)                {}

// TestDialThatFailedNeverOpens: once Dial's future has failed, by its
// timeout or the caller's Cancel, no handler method runs for the attempt
// and its socket is closed, whether the TCP connect or the handshake was
// still under way.
func TestDialThatFailedNeverOpens(t *testing.T) {
	const handshakeTimeout = 150 * time.Millisecond
	cases := []struct {
		name       string
		connecting bool // the TCP connect is still under way (else the handshake)
		cancel     bool // the caller cancels (else the timeout fires)
		want       string
	}{
		{"timeout while connecting", true, false, ""},
		{"cancelled while connecting", true, true, ""},
		{"timeout during the handshake", false, false, closedAfterResponse},
		{"cancelled during the handshake", false, true, closedAfterResponse},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var srv *lateServer
			if tc.connecting {
				ln, blocker := fullListener(t)
				srv = startLateServer(t, ln, blocker)
			} else {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				srv = startLateServer(t, ln, nil)
			}
			l := looptest.Start(t)
			opened := make(opens, 1)
			type result struct {
				err error
				at  time.Time
			}
			results := make(chan result, 1)
			var future *concurrent.Future[*websocket.Conn]
			start := time.Now()
			looptest.Do(t, l, func() {
				future = websocket.Dial(l, "ws://"+srv.ln.Addr().String()+"/", websocket.DialOptions{
					Handler: opened, HandshakeTimeout: handshakeTimeout,
				})
				future.OnResult(func(_ *websocket.Conn, err error) { results <- result{err, time.Now()} })
				if tc.cancel && tc.connecting {
					future.Cancel()
				}
			})
			if tc.cancel && !tc.connecting {
				looptest.Wait(t, srv.requested, "handshake request")
				looptest.Do(t, l, func() { future.Cancel() })
			}
			r := looptest.Wait(t, results, "Dial's future")
			switch {
			case tc.cancel && !errors.Is(r.err, concurrent.ErrCancelled):
				t.Errorf("cancelled Dial failed with %v; want ErrCancelled", r.err)
			case !tc.cancel && !errors.Is(r.err, concurrent.ErrTimeout):
				t.Errorf("Dial failed with %v; want ErrTimeout", r.err)
			case !tc.cancel:
				if d := r.at.Sub(start); d < handshakeTimeout || d > 3*handshakeTimeout {
					t.Errorf("Dial timed out after %v; want HandshakeTimeout (%v)", d, handshakeTimeout)
				}
			}
			if tc.connecting {
				// The connect was given up, not left to finish: its
				// socket is closed now, so it never reaches the server.
				looptest.Do(t, l, func() {
					if n := l.OpenConns(); n != 0 {
						t.Errorf("after the Dial failed the loop holds %d connections; want 0", n)
					}
				})
				close(srv.release) // let the server goroutine end with its listener
			} else {
				close(srv.release)
				if got := looptest.Wait(t, srv.ended, "the dial's connection"); got[:min(len(got), len(tc.want))] != tc.want {
					t.Errorf("the dial's connection was %s; want %s", got, tc.want)
				}
			}
			looptest.Do(t, l, func() {}) // anything queued on the loop has run
			select {
			case <-opened:
				t.Error("OnOpen ran for a Dial whose future had failed")
			default:
			}
		})
	}
}
