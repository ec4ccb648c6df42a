//go:build linux && !ioloop_portable

// The portable backend copies every write into a chunk of its own, by
// design, so allocations per response are measured on epoll only.

package httpserver_test

import (
	"bufio"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"chat/framework/httpserver"
)

// Item 19: a response body goes from the handler's Write to the kernel
// without another copy or allocation per request: on keep-alive the body
// buffer comes from the server's pool with room for the head in front.
func TestResponseBodyIsNotCopiedOnTheWayOut(t *testing.T) {
	const size, requests = 32 << 10, 200
	body := strings.Repeat("q", size)
	addr, _, _ := serve(t, func(w *httpserver.ResponseWriter, r *httpserver.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Etag", `"fixed"`) // no hashing: only the copies are measured
		w.WriteString(body)
		w.Finish()
	}, nil)
	c := dial(t, addr)
	req := []byte("GET /b HTTP/1.1\r\nHost: a\r\n\r\n")
	c.Write(req)
	r := bufio.NewReader(c)
	first, _ := readOneResponse(t, r)
	if first.ContentLength != size {
		t.Fatalf("Content-Length %d", first.ContentLength)
	}
	// Every response has the same length: the head's (the Date may
	// change, not its length) plus the body.
	c.Write(req)
	whole, err := readRaw(r)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len(whole))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range requests {
		c.Write(req)
		if _, err := io.ReadFull(r, buf); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	perRequest := (after.TotalAlloc - before.TotalAlloc) / requests
	t.Logf("%d bytes allocated per request with a %d KiB body", perRequest, size>>10)
	if perRequest > 8<<10 {
		t.Fatalf("%d bytes allocated per request with a %d KiB body; want the body buffer reused", perRequest, size>>10)
	}
}

// readRaw reads one response with a Content-Length body and returns its
// bytes as they came.
func readRaw(r *bufio.Reader) ([]byte, error) {
	var out []byte
	length := 0
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		out = append(out, line...)
		if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
			fmt.Sscan(v, &length)
		}
		if line == "\r\n" {
			break
		}
	}
	body := make([]byte, length)
	_, err := io.ReadFull(r, body)
	return append(out, body...), err
}
