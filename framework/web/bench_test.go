package web_test

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"testing"

	"chat/framework/ioloop/looptest"
	"chat/framework/web"
)

// BenchmarkServeHello measures one keep-alive GET /hello round trip
// through the web layer (routing, handler lifecycle, Context.WriteString,
// Finish) over loopback, client and server in this process. It is for
// allocations per request and relative changes; bench/http/run.sh measures
// throughput against net/http.
func BenchmarkServeHello(b *testing.B) {
	l := looptest.Start(b)
	app, err := web.NewApplication(web.Config{Loop: l, Routes: []web.Spec{
		{Pattern: "/hello", New: web.Func(func(c *web.Context) {
			c.SetHeader("Content-Type", "text/plain; charset=utf-8")
			c.WriteString("Hello, world")
		})},
	}})
	if err != nil {
		b.Fatal(err)
	}
	srv := app.NewServer()
	var addr net.Addr
	looptest.Do(b, l, func() {
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
	first := readHelloResponse(b, r)
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

func readHelloResponse(b *testing.B, r *bufio.Reader) []byte {
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
	if _, err := io.ReadFull(r, body); err != nil || !bytes.Equal(body, []byte("Hello, world")) {
		b.Fatalf("body %q, %v", body, err)
	}
	return append(out, body...)
}
