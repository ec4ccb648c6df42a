// Command gorillahub is a benchmark peer: a WebSocket broadcast hub written
// the way most gorilla/websocket users write one, closely following
// gorilla's own chat example (github.com/gorilla/websocket/examples/chat).
//
// Design (goroutine per connection):
//
//   - Every connection gets two goroutines: readPump reads frames and hands
//     text messages to the hub; writePump drains the client's buffered send
//     channel and sends periodic pings. Only writePump writes to the socket,
//     only readPump reads from it, as gorilla requires.
//   - A single hub goroutine owns the set of clients and fans every message
//     out to every send channel. A client whose channel is full (a slow
//     reader) is dropped instead of stalling everyone else.
//   - The message is framed once per broadcast with websocket.PreparedMessage,
//     so N receivers cost N socket writes but only one framing.
//
// Protocol and flags are documented in bench/peers/README.md.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"chat/bench/peers/hubstats"
)

// Timeouts and limits as in gorilla's chat example, except maxMessageSize,
// which is raised from 512 bytes so benchmark payloads fit.
const (
	writeWait      = 10 * time.Second    // time allowed to write one message
	pongWait       = 60 * time.Second    // time allowed to read the next pong
	pingPeriod     = (pongWait * 9) / 10 // send pings this often; must be < pongWait
	maxMessageSize = 64 << 10            // largest message accepted from a peer
	sendBuffer     = 256                 // per-client queue; full means "slow, drop it"
)

// client is one WebSocket connection and its outbound queue.
type client struct {
	hub  *hub
	conn *websocket.Conn
	send chan *websocket.PreparedMessage
}

// hub owns the client set. All fields but conns are touched only by run.
type hub struct {
	clients    map[*client]struct{}
	broadcast  chan *websocket.PreparedMessage
	register   chan *client
	unregister chan *client
	conns      atomic.Int64 // len(clients), readable from /stats
}

func newHub() *hub {
	return &hub{
		clients:    make(map[*client]struct{}),
		broadcast:  make(chan *websocket.PreparedMessage),
		register:   make(chan *client),
		unregister: make(chan *client),
	}
}

// run is the hub's event loop. Closing c.send tells c's writePump to quit.
func (h *hub) run() {
	for {
		select {
		case c := <-h.register:
			h.clients[c] = struct{}{}
		case c := <-h.unregister:
			if _, ok := h.clients[c]; ok {
				delete(h.clients, c)
				close(c.send)
			}
		case m := <-h.broadcast:
			for c := range h.clients {
				select {
				case c.send <- m:
				default: // send buffer full: drop the slow client
					delete(h.clients, c)
					close(c.send)
				}
			}
		}
		h.conns.Store(int64(len(h.clients)))
	}
}

// readPump forwards the client's text messages to the hub until the
// connection fails, then unregisters the client.
func (c *client) readPump() {
	defer func() {
		c.hub.unregister <- c
		c.conn.Close()
	}()
	c.conn.SetReadLimit(maxMessageSize)
	c.conn.SetReadDeadline(time.Now().Add(pongWait))
	c.conn.SetPongHandler(func(string) error {
		return c.conn.SetReadDeadline(time.Now().Add(pongWait))
	})
	for {
		typ, data, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		// Any frame proves liveness, not only pongs.
		c.conn.SetReadDeadline(time.Now().Add(pongWait))
		if typ != websocket.TextMessage {
			continue
		}
		m, err := websocket.NewPreparedMessage(websocket.TextMessage, data)
		if err != nil {
			return
		}
		c.hub.broadcast <- m
	}
}

// writePump is the connection's only writer: queued messages and pings.
func (c *client) writePump() {
	ticker := time.NewTicker(pingPeriod)
	defer func() {
		ticker.Stop()
		c.conn.Close()
	}()
	for {
		select {
		case m, ok := <-c.send:
			c.conn.SetWriteDeadline(time.Now().Add(writeWait))
			if !ok { // the hub dropped us
				c.conn.WriteMessage(websocket.CloseMessage, []byte{})
				return
			}
			if err := c.conn.WritePreparedMessage(m); err != nil {
				return
			}
		case <-ticker.C:
			c.conn.SetWriteDeadline(time.Now().Add(writeWait))
			if err := c.conn.WriteMessage(websocket.PingMessage, nil); err != nil {
				return
			}
		}
	}
}

// newHandler starts a hub and returns the HTTP handler serving /ws, /echo
// and /stats.
func newHandler(compress bool) http.Handler {
	h := newHub()
	go h.run()
	upgrader := websocket.Upgrader{
		ReadBufferSize:  1024,
		WriteBufferSize: 1024,
		// Prepared messages bypass the write buffer, so a pool means idle
		// connections hold no write buffer at all (gorilla's documented knob).
		WriteBufferPool:   &sync.Pool{},
		CheckOrigin:       func(*http.Request) bool { return true },
		EnableCompression: compress,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return // Upgrade has already replied with an error
		}
		c := &client{hub: h, conn: conn, send: make(chan *websocket.PreparedMessage, sendBuffer)}
		h.register <- c
		go c.writePump()
		go c.readPump()
	})
	mux.HandleFunc("GET /echo", func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		// gorilla's echo example: this handler's goroutine reads and writes.
		conn.SetReadLimit(maxMessageSize)
		for {
			typ, data, err := conn.ReadMessage()
			if err != nil {
				return
			}
			if err := conn.WriteMessage(typ, data); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		hubstats.Write(w, int(h.conns.Load()))
	})
	return mux
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	compress := flag.Bool("compress", false, "negotiate permessage-deflate")
	flag.Parse()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stdout, "listening %s pid %d\n", ln.Addr(), os.Getpid())
	os.Stdout.Sync()
	srv := &http.Server{Handler: newHandler(*compress), ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.Serve(ln))
}
