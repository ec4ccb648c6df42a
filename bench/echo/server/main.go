// Command server is the echo server the echo benchmark measures, in two
// implementations behind one flag so they are compared like for like:
//
//	-impl loop       the framework: one event loop, no goroutine per connection
//	-impl goroutine  the usual Go way: net.Listener and a goroutine per connection
//
// Every line a client sends is echoed back. The line "STATS" is answered
// instead with the server's heap in use (after a GC) and its goroutine
// count, so the load tool can measure memory per idle connection.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"runtime"

	"chat/framework/ioloop"
	"chat/framework/iostream"
	"chat/framework/tcpserver"
)

func main() {
	impl := flag.String("impl", "loop", "loop or goroutine")
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	flag.Parse()
	switch *impl {
	case "loop":
		runLoop(*addr)
	case "goroutine":
		runGoroutines(*addr)
	default:
		log.Fatalf("unknown -impl %q", *impl)
	}
}

var statsCommand = []byte("STATS\n")

// statsLine reports heap in use after a collection, and goroutines.
func statsLine() []byte {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return fmt.Appendf(nil, "heap=%d goroutines=%d\n", m.HeapInuse, runtime.NumGoroutine())
}

func announce(a net.Addr) {
	fmt.Printf("listening %s pid %d\n", a, os.Getpid())
}

func runLoop(addr string) {
	l, err := ioloop.New(ioloop.Options{})
	if err != nil {
		log.Fatal(err)
	}
	srv := &tcpserver.Server{
		Loop:           l,
		MaxConnections: 50000,
		ListenOptions:  ioloop.ListenOptions{Backlog: 4096},
		Handler: func(s *iostream.Stream) {
			var next iostream.ReadCallback
			next = func(line []byte, err error) {
				if err != nil {
					s.Close(err)
					return
				}
				if bytes.Equal(line, statsCommand) {
					s.Write(statsLine())
				} else {
					// line points into the stream's buffer: the write
					// needs its own copy.
					s.QueueWrite(append([]byte(nil), line...))
				}
				s.ReadUntil([]byte("\n"), 0, next)
			}
			s.ReadUntil([]byte("\n"), 0, next)
		},
	}
	l.AddCallback(func() {
		a, err := srv.Listen(addr)
		if err != nil {
			log.Fatal(err)
		}
		announce(a)
	})
	if err := l.Run(); err != nil {
		log.Fatal(err)
	}
}

func runGoroutines(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatal(err)
	}
	announce(ln.Addr())
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go func() {
			defer c.Close()
			r := bufio.NewReader(c)
			for {
				line, err := r.ReadSlice('\n')
				if err != nil {
					return
				}
				if bytes.Equal(line, statsCommand) {
					line = statsLine()
				}
				if _, err := c.Write(line); err != nil {
					return
				}
			}
		}()
	}
}
