package httpserver

import (
	"errors"
	"testing"
)

func TestParseResponseHead(t *testing.T) {
	for _, tc := range []struct {
		name      string
		head      string
		want      error // nil: accepted
		code      int
		reason    string
		length    int64
		chunked   bool
		keepAlive bool
	}{
		{name: "plain", head: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", code: 200, reason: "OK", length: 5, keepAlive: true},
		{name: "no reason phrase", head: "HTTP/1.1 204\r\n\r\n", code: 204, length: -1, keepAlive: true},
		{name: "empty reason phrase", head: "HTTP/1.1 204 \r\n\r\n", code: 204, length: -1, keepAlive: true},
		{name: "reason with spaces", head: "HTTP/1.1 404 Not Found Here\r\n\r\n", code: 404, reason: "Not Found Here", length: -1, keepAlive: true},
		{name: "chunked", head: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", code: 200, reason: "OK", length: -1, chunked: true, keepAlive: true},
		{name: "chunked wins over Content-Length, no reuse", head: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", code: 200, reason: "OK", length: -1, chunked: true},
		{name: "Connection: close", head: "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", code: 200, reason: "OK", length: -1},
		{name: "HTTP/1.0 closes", head: "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", code: 200, reason: "OK"},
		{name: "HTTP/1.0 keep-alive", head: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", code: 200, reason: "OK", keepAlive: true},
		{name: "identical Content-Length repeated", head: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n", code: 200, reason: "OK", length: 2, keepAlive: true},
		{name: "conflicting Content-Length", head: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n", want: ErrAmbiguousFraming},
		{name: "signed Content-Length", head: "HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\n", want: ErrAmbiguousFraming},
		{name: "Content-Length list", head: "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\n", want: ErrAmbiguousFraming},
		{name: "gzip transfer coding", head: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", want: ErrAmbiguousFraming},
		{name: "gzip before chunked", head: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", want: ErrUnsupportedTransferCoding},
		{name: "Transfer-Encoding on HTTP/1.0", head: "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", want: ErrAmbiguousFraming},
		{name: "HTTP/2", head: "HTTP/2.0 200 OK\r\n\r\n", want: ErrUnsupportedVersion},
		{name: "lower-case version", head: "http/1.1 200 OK\r\n\r\n", want: ErrBadRequest},
		{name: "two-digit code", head: "HTTP/1.1 20 OK\r\n\r\n", want: ErrBadRequest},
		{name: "four-digit code", head: "HTTP/1.1 2000 OK\r\n\r\n", want: ErrBadRequest},
		{name: "code out of range", head: "HTTP/1.1 099 Low\r\n\r\n", want: ErrBadRequest},
		{name: "control byte in reason", head: "HTTP/1.1 200 O\x01K\r\n\r\n", want: ErrBadRequest},
		{name: "obs-fold", head: "HTTP/1.1 200 OK\r\nX-A: 1\r\n 2\r\n\r\n", want: ErrBadRequest},
		{name: "space before colon", head: "HTTP/1.1 200 OK\r\nX-A : 1\r\n\r\n", want: ErrBadRequest},
		{name: "bare LF", head: "HTTP/1.1 200 OK\nX-A: 1\r\n\r\n", want: ErrBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ParseResponseHead([]byte(tc.head), Limits{})
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("got %v, want %v", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.StatusCode != tc.code || r.Reason != tc.reason || r.ContentLength != tc.length || r.Chunked != tc.chunked || r.KeepAlive != tc.keepAlive {
				t.Fatalf("got %+v", r)
			}
		})
	}
}
