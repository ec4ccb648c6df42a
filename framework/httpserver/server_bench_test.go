package httpserver_test

import (
	"bufio"
	"io"
	"net"
	"testing"

	"chat/framework/httpserver"
	"chat/framework/ioloop/looptest"
)

// BenchmarkServeHello measures one keep-alive GET /hello round trip over
// loopback, client and server in this process. It is for allocations per
// request and relative changes; bench/http/run.sh measures throughput
// against net/http with the server pinned to its own core.
func BenchmarkServeHello(b *testing.B) {
	l := looptest.Start(b)
	srv := &httpserver.Server{Loop: l, Handler: httpserver.HandlerFunc(func(w *httpserver.ResponseWriter, r *httpserver.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteString("Hello, world")
		w.Finish()
	})}
	var addr net.Addr
	looptest.Do(b, l, func() {
		var err error
		if addr, err = srv.Listen("127.0.0.1:0"); err != nil {
			b.Fatal(err)
		}
	})
	c, err := net.Dial("tcp", addr.String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	req := []byte("GET /hello HTTP/1.1\r\nHost: localhost\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n")
	r := bufio.NewReader(c)
	// The response has a fixed size; learn it once, then read exactly that.
	c.Write(req)
	first := readResponse(b, r)
	buf := make([]byte, len(first))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		c.Write(req)
		if _, err := io.ReadFull(r, buf); err != nil {
			b.Fatal(err)
		}
	}
}

func readResponse(b *testing.B, r *bufio.Reader) []byte {
	var out []byte
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, line...)
		if string(line) == "\r\n" {
			break
		}
	}
	body := make([]byte, len("Hello, world"))
	io.ReadFull(r, body)
	return append(out, body...)
}
