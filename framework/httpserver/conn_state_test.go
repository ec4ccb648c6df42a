package httpserver_test

import (
	"bufio"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"chat/framework/httpserver"
	"chat/framework/ioloop"
	"chat/framework/ioloop/looptest"
	"chat/framework/iostream"
)

// Distinct timeouts for the state table, so each cell shows which one it
// is bound by.
const (
	stateHeaderTimeout = 100 * time.Millisecond
	stateBodyTimeout   = 130 * time.Millisecond
	stateIdleTimeout   = 160 * time.Millisecond
	stateLinger        = 400 * time.Millisecond
)

// stateConn is one client connection driven into a phase of the server's
// connection state machine.
type stateConn struct {
	t      *testing.T
	l      *ioloop.Loop
	srv    *httpserver.Server
	c      *net.TCPConn
	r      *bufio.Reader
	parked chan *httpserver.ResponseWriter
	w      *httpserver.ResponseWriter // the parked response (phase handling)
	hooks  atomic.Int32               // OnConnectionClose hooks that ran
	ran    atomic.Int32               // /ok requests handled
}

func newStateConn(t *testing.T) *stateConn {
	sc := &stateConn{t: t, parked: make(chan *httpserver.ResponseWriter, 1)}
	addr, l, srv := serve(t, sc.handle, func(s *httpserver.Server) {
		s.HeaderTimeout, s.BodyTimeout, s.IdleTimeout = stateHeaderTimeout, stateBodyTimeout, stateIdleTimeout
		s.LingerTimeout = stateLinger
	})
	sc.l, sc.srv = l, srv
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	sc.c = c.(*net.TCPConn)
	sc.c.SetReadBuffer(4096) // so a large response overruns the write limit
	sc.r = bufio.NewReader(sc.c)
	return sc
}

func (sc *stateConn) handle(w *httpserver.ResponseWriter, r *httpserver.Request) {
	switch r.Path {
	case "/park":
		w.OnConnectionClose(func() { sc.hooks.Add(1) })
		sc.parked <- w
	case "/hijack":
		sc.hijack(w)
	default:
		sc.ran.Add(1)
		w.Header().Set("Content-Type", "text/plain")
		w.WriteString("ok " + r.Method + " " + r.Path + " " + string(r.Body))
		w.Finish()
	}
}

// hijack takes the stream over and echoes what the client sends.
func (sc *stateConn) hijack(w *httpserver.ResponseWriter) {
	stream, err := w.Hijack()
	if err != nil {
		sc.t.Error(err)
		return
	}
	stream.Write([]byte("HIJACKED\n"))
	var echo iostream.ReadCallback
	echo = func(data []byte, err error) {
		if err != nil {
			stream.Close(nil)
			return
		}
		stream.Write(append([]byte("echo:"), data...))
		stream.ReadPartial(0, echo)
	}
	stream.ReadPartial(0, echo)
}

func (sc *stateConn) send(s string) {
	if _, err := io.WriteString(sc.c, s); err != nil {
		sc.t.Fatalf("client write: %v", err)
	}
}

// expectReply reads until want has arrived (a prefix) within limit; an
// empty want means nothing may arrive within limit.
func (sc *stateConn) expectReply(want string, limit time.Duration) {
	sc.t.Helper()
	sc.c.SetReadDeadline(time.Now().Add(limit))
	var got []byte
	buf := make([]byte, 4096)
	for len(got) < max(len(want), 1) {
		n, err := sc.r.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			break
		}
	}
	if !strings.HasPrefix(string(got), want) || (want == "" && len(got) > 0) {
		sc.t.Fatalf("client got %.60q within %v; want %q", got, limit, want)
	}
}

// active is the server's count of open connections.
func (sc *stateConn) active() int {
	var n int
	looptest.Do(sc.t, sc.l, func() { n = int(sc.srv.Stats().Active) })
	return n
}

// expectClosedWithin waits (checking every few ms) for the server to close
// the connection.
func (sc *stateConn) expectClosedWithin(limit time.Duration) {
	sc.t.Helper()
	start := time.Now()
	for sc.active() != 0 {
		if time.Since(start) > limit {
			sc.t.Errorf("the server kept the connection open for %v", limit)
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The phases, each reached by what the client sends.
var statePhases = map[string]func(sc *stateConn){
	"idle": func(sc *stateConn) { // kept alive after a response
		sc.send("GET /ok HTTP/1.1\r\nHost: a\r\n\r\n")
		readOneResponse(sc.t, sc.r)
	},
	"head": func(sc *stateConn) { sc.send("GET /ok HTTP/1.1\r\nHost: a") },
	"body": func(sc *stateConn) { sc.send("POST /ok HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n\r\nabc") },
	"handling": func(sc *stateConn) {
		sc.send("GET /park HTTP/1.1\r\nHost: a\r\n\r\n")
		sc.w = looptest.Wait(sc.t, sc.parked, "parked request")
	},
	"closing": func(sc *stateConn) { // a 400 was answered; the server lingers
		sc.send("GET / HTTP/1.1\r\n\r\n")
		sc.expectReply("HTTP/1.1 400 ", time.Second)
		io.Copy(io.Discard, sc.r) // through the server's FIN
	},
	"closing after 408": func(sc *stateConn) { // a read was waiting when it timed out
		sc.send("POST /ok HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n\r\nabc")
		sc.expectReply("HTTP/1.1 408 ", 3*stateBodyTimeout)
		io.Copy(io.Discard, sc.r)
	},
	"hijacked": func(sc *stateConn) {
		sc.send("GET /hijack HTTP/1.1\r\nHost: a\r\n\r\n")
		sc.expectReply("HIJACKED\n", time.Second)
	},
}

// The events.
var stateEvents = map[string]func(sc *stateConn, phase string){
	"bytes": func(sc *stateConn, phase string) {
		sc.send(map[string]string{
			"idle": "GET /ok HTTP/1.1\r\nHost: a\r\n\r\n", "head": "\r\n\r\n", "body": "def",
			"handling": "GET /ok HTTP/1.1\r\nHost: a\r\n\r\n", "closing": "GET /ok HTTP/1.1\r\nHost: a\r\n\r\n",
			"hijacked": "ping", "closing after 408": "defGET /ok HTTP/1.1\r\nHost: a\r\n\r\n",
		}[phase])
	},
	"EOF":   func(sc *stateConn, _ string) { sc.c.CloseWrite() },
	"reset": func(sc *stateConn, _ string) { sc.c.SetLinger(0); sc.c.Close() },
	"timer": func(*stateConn, string) {},
	"Finish": func(sc *stateConn, _ string) {
		looptest.Do(sc.t, sc.l, func() { sc.w.WriteString("done"); sc.w.Finish() })
	},
	"Hijack": func(sc *stateConn, _ string) { looptest.Do(sc.t, sc.l, func() { sc.hijack(sc.w) }) },
	"write error": func(sc *stateConn, _ string) { // past the stream's write limit
		looptest.Do(sc.t, sc.l, func() {
			sc.w.Header().Set("Content-Type", "application/octet-stream")
			sc.w.WriteString(strings.Repeat("w", 24<<20))
			sc.w.Finish()
		})
	},
}

// TestConnectionStateTable drives the connection state machine through
// every phase x event pair that can happen, over real sockets. Cells left
// out cannot happen: Finish, Hijack and a write error need a handler
// holding the request (handling); a hijacked stream is its new owner's.
func TestConnectionStateTable(t *testing.T) {
	const soon = time.Second // bound where the bound is not the point
	type want struct {
		reply      string        // what the client reads next (prefix); "" nothing
		replyLimit time.Duration // within this; for "" how long nothing arrives
		open       bool          // the connection is still open after that
		closeLimit time.Duration // otherwise the server closes it within this
		ran        int32         // /ok requests the event caused to be handled
		hook       bool          // the parked response's close hooks ran
	}
	closed := func(reply string, replyLimit, closeLimit time.Duration) want {
		return want{reply: reply, replyLimit: replyLimit, closeLimit: closeLimit}
	}
	tests := []struct {
		phase, event string
		want         want
	}{
		{"idle", "bytes", want{reply: "HTTP/1.1 200 ", replyLimit: soon, open: true, ran: 1}},
		{"idle", "EOF", closed("", soon, soon)},
		{"idle", "reset", closed("", 0, soon)},
		{"idle", "timer", closed("", 3*stateIdleTimeout, 3*stateIdleTimeout)},

		{"head", "bytes", want{reply: "HTTP/1.1 200 ", replyLimit: soon, open: true, ran: 1}},
		{"head", "EOF", closed("HTTP/1.1 400 ", soon, soon)}, // a truncated head
		{"head", "reset", closed("", 0, soon)},
		{"head", "timer", closed("HTTP/1.1 408 ", 3*stateHeaderTimeout, 3*stateLinger)},

		{"body", "bytes", want{reply: "HTTP/1.1 200 ", replyLimit: soon, open: true, ran: 1}},
		{"body", "EOF", closed("", soon, soon)},
		{"body", "reset", closed("", 0, soon)},
		{"body", "timer", closed("HTTP/1.1 408 ", 3*stateBodyTimeout, 3*stateLinger)},

		// A pipelined request waits for the parked response: nothing runs.
		{"handling", "bytes", want{reply: "", replyLimit: 3 * stateIdleTimeout, open: true}},
		{"handling", "EOF", want{closeLimit: soon, hook: true}},
		{"handling", "reset", want{closeLimit: soon, hook: true}},
		// No timeout runs while a handler holds the request.
		{"handling", "timer", want{reply: "", replyLimit: 3 * stateIdleTimeout, open: true}},
		{"handling", "Finish", want{reply: "HTTP/1.1 200 ", replyLimit: soon, open: true}},
		{"handling", "Hijack", want{reply: "HIJACKED\n", replyLimit: soon, open: true}},
		// The stream closes inside Finish: the response finished, so no
		// close hook runs as well.
		{"handling", "write error", want{reply: "HTTP/1.1 200 ", replyLimit: soon, closeLimit: soon}},

		// After an error nothing is dispatched; the linger ends it.
		{"closing", "bytes", closed("", 0, 3*stateLinger)},
		{"closing", "EOF", closed("", 0, stateLinger/2)}, // at once, not after the linger
		{"closing", "reset", closed("", 0, soon)},
		{"closing", "timer", closed("", 0, 3*stateLinger)},

		// The rest of the body the 408 answered, and another request.
		{"closing after 408", "bytes", closed("", 0, 3*stateLinger)},
		{"closing after 408", "EOF", closed("", 0, stateLinger/2)},
		{"closing after 408", "timer", closed("", 0, 3*stateLinger)},

		{"hijacked", "bytes", want{reply: "echo:ping", replyLimit: soon, open: true}},
		{"hijacked", "EOF", closed("", soon, soon)}, // the new owner closes
		{"hijacked", "reset", closed("", 0, soon)},
		// The server's timers no longer apply.
		{"hijacked", "timer", want{reply: "", replyLimit: 3 * stateIdleTimeout, open: true}},
	}
	for _, tc := range tests {
		t.Run(tc.phase+"/"+tc.event, func(t *testing.T) {
			sc := newStateConn(t)
			statePhases[tc.phase](sc)
			ranBefore := sc.ran.Load()
			stateEvents[tc.event](sc, tc.phase)
			w := tc.want
			if tc.event != "reset" && (w.reply != "" || w.replyLimit > 0) {
				sc.expectReply(w.reply, w.replyLimit)
			}
			if w.open {
				if n := sc.active(); n != 1 {
					t.Fatalf("the connection closed; want it open")
				}
			} else {
				sc.expectClosedWithin(w.closeLimit)
			}
			looptest.Do(t, sc.l, func() {}) // close callbacks have run
			if ran := sc.ran.Load() - ranBefore; ran != w.ran {
				t.Errorf("%d requests handled after the event; want %d", ran, w.ran)
			}
			if hook := sc.hooks.Load() > 0; hook != w.hook {
				t.Errorf("close hook ran: %v; want %v", hook, w.hook)
			}
		})
	}
}

// TestPipelinedRequestRunsAfterTheParkedOneFinishes completes the
// handling x bytes cell: the request that waited is answered, after the
// parked one.
func TestPipelinedRequestRunsAfterTheParkedOneFinishes(t *testing.T) {
	sc := newStateConn(t)
	statePhases["handling"](sc)
	sc.send("GET /ok HTTP/1.1\r\nHost: a\r\n\r\n")
	stateEvents["Finish"](sc, "handling")
	sc.c.SetReadDeadline(time.Now().Add(time.Second))
	for _, want := range []string{"done", "ok GET /ok "} {
		_, body := readOneResponse(t, sc.r)
		if body != want {
			t.Fatalf("body %q; want %q", body, want)
		}
	}
}
