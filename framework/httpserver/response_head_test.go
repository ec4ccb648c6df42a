package httpserver

import (
	"bufio"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestAppendResponseHead(t *testing.T) {
	for _, tc := range []struct {
		name         string
		major, minor int
		status       int
		header       Header
		want         string
	}{
		{"ok without fields", 1, 1, 200, nil, "HTTP/1.1 200 OK\r\n\r\n"},
		{"fields sorted, one line per value", 1, 1, 404, Header{"X-B": {"2"}, "Content-Length": {"0"}, "X-A": {"1", "3"}},
			"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nX-A: 1\r\nX-A: 3\r\nX-B: 2\r\n\r\n"},
		{"HTTP/1.0", 1, 0, 101, Header{"Upgrade": {"websocket"}}, "HTTP/1.0 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"},
		{"unknown status has empty reason", 1, 1, 599, nil, "HTTP/1.1 599 \r\n\r\n"},
		{"CRLF in value cannot split the response", 1, 1, 302, Header{"Location": {"/x\r\nSet-Cookie: evil=1"}},
			"HTTP/1.1 302 Found\r\nLocation: /x  Set-Cookie: evil=1\r\n\r\n"},
		{"invalid field name skipped", 1, 1, 200, Header{"Bad Name": {"x"}, "X\r\nY": {"z"}, "": {"e"}, "Ok": {"1"}},
			"HTTP/1.1 200 OK\r\nOk: 1\r\n\r\n"},
		{"tab kept, NUL and DEL replaced", 1, 1, 200, Header{"X": {"a\tb\x00c\x7f"}}, "HTTP/1.1 200 OK\r\nX: a\tb c \r\n\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := string(AppendResponseHead([]byte("prefix"), tc.major, tc.minor, tc.status, tc.header))
			if got != "prefix"+tc.want {
				t.Fatalf("got  %q\nwant %q", got, "prefix"+tc.want)
			}
		})
	}
}

// TestAppendResponseHeadReadByNetHTTP checks a Go client parses what we write.
func TestAppendResponseHeadReadByNetHTTP(t *testing.T) {
	h := Header{}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Length", "2")
	h.Add("Set-Cookie", "a=1")
	h.Add("Set-Cookie", "b=2")
	raw := string(AppendResponseHead(nil, 1, 1, 201, h)) + "hi"
	resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(raw)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 201 || resp.Status != "201 Created" || len(resp.Header["Set-Cookie"]) != 2 || resp.ContentLength != 2 {
		t.Fatalf("parsed %+v", resp)
	}
}

func TestAppendResponseHeadPanicsOnBadStatus(t *testing.T) {
	for _, status := range []int{0, 99, 1000, -200} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("status %d: no panic", status)
				}
			}()
			AppendResponseHead(nil, 1, 1, status, nil)
		}()
	}
}

func TestAppendResponseHeadDoesNotAllocate(t *testing.T) {
	h := Header{"Content-Type": {"text/html"}, "Content-Length": {"1234"}, "Date": {"Mon, 02 Jan 2006 15:04:05 GMT"}}
	buf := make([]byte, 0, 512)
	if n := testing.AllocsPerRun(100, func() { buf = AppendResponseHead(buf[:0], 1, 1, 200, h) }); n != 0 {
		t.Errorf("allocs = %v", n)
	}
}

// TestStatusTextMatchesNetHTTP: same phrases as net/http except where RFC
// 9110 renamed them and we use the new name.
func TestStatusTextMatchesNetHTTP(t *testing.T) {
	rfc9110Names := map[int]bool{413: true, 414: true, 416: true, 422: true}
	for code := 100; code < 600; code++ {
		if ours := StatusText(code); ours != "" && ours != http.StatusText(code) && !rfc9110Names[code] {
			t.Errorf("%d: %q, net/http %q", code, ours, http.StatusText(code))
		}
	}
}

func TestDateCache(t *testing.T) {
	var c DateCache
	t0 := time.Date(2024, 6, 9, 10, 11, 12, 0, time.FixedZone("X", 3600))
	if got, want := c.Value(t0), t0.UTC().Format(http.TimeFormat); got != want {
		t.Fatalf("Value = %q, want %q", got, want)
	}
	if got := c.Value(t0.Add(999 * time.Millisecond)); got != "Sun, 09 Jun 2024 09:11:12 GMT" {
		t.Errorf("same second: %q", got)
	}
	if got := c.Value(t0.Add(time.Second)); got != "Sun, 09 Jun 2024 09:11:13 GMT" {
		t.Errorf("next second: %q", got)
	}
	if TimeFormat != http.TimeFormat {
		t.Errorf("TimeFormat differs from net/http")
	}
	if n := testing.AllocsPerRun(100, func() { c.Value(t0.Add(time.Second)) }); n != 0 {
		t.Errorf("cached Value allocates: %v", n)
	}
}

func ExampleDateCache() {
	var dates DateCache // one per server, used on its loop
	h := Header{}
	h.Set("Date", dates.Value(time.Date(2024, 6, 9, 9, 11, 12, 0, time.UTC)))
	h.Set("Content-Length", "0")
	fmt.Printf("%q\n", AppendResponseHead(nil, 1, 1, 204, h))
	// Output: "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nDate: Sun, 09 Jun 2024 09:11:12 GMT\r\n\r\n"
}
