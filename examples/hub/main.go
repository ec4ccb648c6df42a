// Command hub is a WebSocket broadcast hub on the framework alone: every
// text message a client sends goes to every connected client, framed once
// (a PreparedMessage) and written to each. It is the framework's entry in
// the WebSocket benchmark (bench/ws), beside the same hub written on
// gorilla/websocket and on nbio (bench/peers), and a short example of
// broadcast on the loop.
//
//	go run ./examples/hub -addr 127.0.0.1:8000   # ws://127.0.0.1:8000/ws, stats at /stats
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"

	"chat/framework/httpserver"
	"chat/framework/ioloop"
	"chat/framework/websocket"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	compress := flag.Bool("compress", false, "offer permessage-deflate")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile here until SIGINT")
	memProfile := flag.String("memprofile", "", "write a heap profile (every allocation sampled) here at SIGINT")
	flag.Parse()
	if *memProfile != "" {
		runtime.MemProfileRate = 1
		defer writeHeapProfile(*memProfile)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	loop, err := ioloop.New(ioloop.Options{})
	if err != nil {
		log.Fatal(err)
	}
	srv := newServer(loop, *compress)
	loop.AddCallback(func() {
		bound, err := srv.Listen(*addr)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("listening %s pid %d\n", bound, os.Getpid())
	})
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() { <-signals; loop.Stop() }()
	if err := loop.Run(); err != nil {
		log.Fatal(err)
	}
}

func writeHeapProfile(path string) {
	f, err := os.Create(path)
	if err != nil {
		log.Print(err)
		return
	}
	defer f.Close()
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		log.Print(err)
	}
}

// newServer builds the hub's HTTP server: /ws joins the hub, /echo echoes,
// /stats reports connections, goroutines and heap in use.
func newServer(loop *ioloop.Loop, compress bool) *httpserver.Server {
	h := &hub{}
	// Shared by every connection; keepalive at the defaults (a ping after
	// 30 s of silence), as the peers have.
	opts := &websocket.Options{DisableCompression: !compress}
	return &httpserver.Server{Loop: loop, MaxConnections: 50000, Handler: httpserver.HandlerFunc(func(w *httpserver.ResponseWriter, r *httpserver.Request) {
		switch r.Path {
		case "/ws":
			websocket.Upgrade(w, r, h, opts)
		case "/echo":
			websocket.Upgrade(w, r, echoer{}, opts)
		case "/stats":
			h.writeStats(w)
		default:
			w.SendError(404, "")
		}
	})}
}

// hub holds the open connections. Loop-owned: no mutex.
type hub struct {
	members websocket.Group
}

func (h *hub) OnOpen(c *websocket.Conn) { h.members.Add(c) }

func (h *hub) OnClose(c *websocket.Conn, code int, reason string) { h.members.Remove(c) }

// OnMessage broadcasts a text message: framed once, written to everyone.
func (h *hub) OnMessage(c *websocket.Conn, op websocket.Opcode, data []byte) {
	if op != websocket.OpText {
		return
	}
	// data is only valid during this call; the prepared frame keeps a copy.
	h.members.Broadcast(websocket.NewPreparedMessage(op, append([]byte(nil), data...)))
}

// echoer sends every message back to its sender: /echo, for the echo
// benchmark.
type echoer struct{}

func (echoer) OnOpen(*websocket.Conn)               {}
func (echoer) OnClose(*websocket.Conn, int, string) {}
func (echoer) OnMessage(c *websocket.Conn, op websocket.Opcode, data []byte) {
	c.WriteMessage(op, data)
}

func (h *hub) writeStats(w *httpserver.ResponseWriter) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"conns": h.members.Len(), "goroutines": runtime.NumGoroutine(), "heap_inuse": m.HeapInuse,
	})
	w.Finish()
}
