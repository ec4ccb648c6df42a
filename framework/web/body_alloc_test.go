package web_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"

	"chat/framework/ioloop"
	"chat/framework/web"
)

// TestContextBodyIsNotCopied: a handler writing a 32 KiB body through the
// Context in pieces writes straight into the server's pooled response
// buffer, so a request allocates a small, constant amount, not the body
// again (a Context-side buffer grown to 32 KiB and copied at Finish).
func TestContextBodyIsNotCopied(t *testing.T) {
	if !ioloop.EpollBackend {
		t.Skip("the portable backend copies every write by design")
	}
	const piece, pieces, requests = 8 << 10, 4, 200
	chunk := []byte(strings.Repeat("q", piece))
	app := startApp(t, web.Config{Routes: []web.Spec{{Pattern: "/b", New: web.Func(func(c *web.Context) {
		c.SetHeader("Content-Type", "application/octet-stream")
		c.SetHeader("Etag", `"fixed"`) // no hashing: only the copies are measured
		for range pieces {
			c.Write(chunk)
		}
	})}}})
	conn, err := net.Dial("tcp", app.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := []byte("GET /b HTTP/1.1\r\nHost: a\r\n\r\n")
	r := bufio.NewReader(conn)
	size := 0
	for range 2 { // warm the pools; learn the response's length
		conn.Write(req)
		n, err := responseLength(r)
		if err != nil {
			t.Fatal(err)
		}
		size = n
	}
	buf := make([]byte, size)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range requests {
		conn.Write(req)
		if _, err := io.ReadFull(r, buf); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	perRequest := (after.TotalAlloc - before.TotalAlloc) / requests
	t.Logf("%d bytes allocated per request with a %d KiB body", perRequest, piece*pieces>>10)
	if perRequest > 8<<10 {
		t.Fatalf("%d bytes allocated per request with a %d KiB body written through the Context; want the body written into the pooled buffer, not copied",
			perRequest, piece*pieces>>10)
	}
}

// responseLength reads one response with a Content-Length body and
// returns how many bytes it took on the wire.
func responseLength(r *bufio.Reader) (int, error) {
	total, length := 0, 0
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return 0, err
		}
		total += len(line)
		if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
			fmt.Sscan(v, &length)
		}
		if line == "\r\n" {
			break
		}
	}
	n, err := io.CopyN(io.Discard, r, int64(length))
	return total + int(n), err
}
