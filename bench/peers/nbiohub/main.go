// Command nbiohub is a benchmark peer: the same WebSocket broadcast hub as
// gorillahub, written the way github.com/lesismal/nbio users write one.
//
// Design (event-driven, no goroutine per connection):
//
//   - nbhttp.Engine owns the sockets: a poller goroutine (epoll) reads every
//     connection and parses HTTP and WebSocket frames; callbacks run on a
//     shared goroutine pool, serialised per connection. An idle connection
//     costs a few heap objects, not two goroutine stacks.
//   - The websocket.Upgrader's OnOpen/OnMessage/OnClose callbacks maintain a
//     mutex-protected set of connections. OnMessage broadcasts by calling
//     WriteMessage on every connection. nbio writes are non-blocking: what
//     the kernel does not take at once is queued inside nbio and flushed by
//     the poller, so one slow reader cannot stall the broadcast. A client
//     whose queue exceeds maxWriteBuffer is closed by nbio (the analogue of
//     gorillahub dropping a client whose send channel is full).
//   - Holding the hub mutex across the fan-out gives every client the same
//     message order, like gorillahub's single hub goroutine.
//
// Protocol and flags are documented in bench/peers/README.md.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/lesismal/nbio/logging"
	"github.com/lesismal/nbio/nbhttp"
	"github.com/lesismal/nbio/nbhttp/websocket"

	"chat/bench/peers/hubstats"
)

// Same liveness policy and limits as gorillahub.
const (
	pongWait       = 60 * time.Second    // close a connection silent this long
	pingPeriod     = (pongWait * 9) / 10 // send pings this often
	maxMessageSize = 64 << 10            // largest message accepted from a peer
	maxWriteBuffer = 1 << 20             // queued bytes before a slow client is closed
)

// hub is the set of open connections.
type hub struct {
	mu    sync.Mutex
	conns map[*websocket.Conn]struct{}
}

// broadcast writes msg to every connection. WriteMessage frames the message
// for each connection; failed writes are ignored because nbio closes the
// connection itself and OnClose removes it.
func (h *hub) broadcast(msg []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.conns {
		_ = c.WriteMessage(websocket.TextMessage, msg)
	}
}

func (h *hub) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

// newEngine builds (but does not start) an engine serving /ws, /echo and
// /stats.
func newEngine(addr string, compress bool) *nbhttp.Engine {
	h := &hub{conns: make(map[*websocket.Conn]struct{})}

	upgrader := websocket.NewUpgrader()
	upgrader.CheckOrigin = func(*http.Request) bool { return true }
	upgrader.EnableCompression(compress)
	upgrader.MessageLengthLimit = maxMessageSize
	// KeepaliveTime is nbio's read deadline, re-armed on every frame
	// received (pongs included). Its default is 120s and it is always on.
	upgrader.KeepaliveTime = pongWait
	upgrader.OnOpen(func(c *websocket.Conn) {
		c.SetSession(c.Keepalive(pingPeriod)) // a ping timer per connection
		h.mu.Lock()
		h.conns[c] = struct{}{}
		h.mu.Unlock()
	})
	upgrader.OnMessage(func(c *websocket.Conn, typ websocket.MessageType, data []byte) {
		if typ == websocket.TextMessage {
			h.broadcast(data)
		}
	})
	upgrader.OnClose(func(c *websocket.Conn, err error) {
		if t, ok := c.Session().(*time.Timer); ok {
			t.Stop()
		}
		h.mu.Lock()
		delete(h.conns, c)
		h.mu.Unlock()
	})

	echo := websocket.NewUpgrader()
	echo.CheckOrigin = func(*http.Request) bool { return true }
	echo.EnableCompression(compress)
	echo.MessageLengthLimit = maxMessageSize
	echo.KeepaliveTime = pongWait
	echo.OnMessage(func(c *websocket.Conn, typ websocket.MessageType, data []byte) {
		_ = c.WriteMessage(typ, data)
	})

	mux := http.NewServeMux()
	mux.HandleFunc("GET /echo", func(w http.ResponseWriter, r *http.Request) {
		_, _ = echo.Upgrade(w, r, nil)
	})
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		// On success the connection now belongs to the upgrader's callbacks;
		// on failure Upgrade has already replied with an error.
		_, _ = upgrader.Upgrade(w, r, nil)
	})
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		hubstats.Write(w, h.count())
	})

	return nbhttp.NewEngine(nbhttp.Config{
		Network: "tcp",
		Addrs:   []string{addr},
		Handler: mux,
		// Hand the read buffer back to nbio's pool after OnMessage returns;
		// safe because broadcast has copied data into every write queue.
		ReleaseWebsocketPayload: true,
		MaxWriteBufferSize:      maxWriteBuffer,
	})
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	compress := flag.Bool("compress", false, "negotiate permessage-deflate")
	flag.Parse()

	// nbio logs to stdout by default; stdout is reserved for the address line.
	logging.Output = os.Stderr
	engine := newEngine(*addr, *compress)
	if err := engine.Start(); err != nil {
		log.Fatal(err)
	}
	// Start resolves ":0" and records the bound address in AddrConfigs.
	fmt.Fprintf(os.Stdout, "listening %s pid %d\n", engine.AddrConfigs[0].Addr, os.Getpid())
	os.Stdout.Sync()
	select {} // the engine runs in its own goroutines
}
