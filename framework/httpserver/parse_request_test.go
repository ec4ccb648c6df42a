package httpserver

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"chat/framework/ioloop/looptest"
)

// parseCase is one request-head case shared by the table tests, the
// byte-boundary tests and the fuzz seeds.
type parseCase struct {
	name   string
	raw    string
	status int // 0: accepted
	check  func(*testing.T, *RequestHead)
}

func wantFields(method, path, query, host string, cl int64, chunked, keepAlive bool) func(*testing.T, *RequestHead) {
	return func(t *testing.T, r *RequestHead) {
		t.Helper()
		if r.Method != method || r.Path != path || r.RawQuery != query || r.Host != host ||
			r.ContentLength != cl || r.Chunked != chunked || r.KeepAlive != keepAlive {
			t.Errorf("got method=%q path=%q query=%q host=%q cl=%d chunked=%v keepAlive=%v; want %q %q %q %q %d %v %v",
				r.Method, r.Path, r.RawQuery, r.Host, r.ContentLength, r.Chunked, r.KeepAlive,
				method, path, query, host, cl, chunked, keepAlive)
		}
	}
}

const browserRequest = "GET /rooms/lobby?since=1234&limit=50 HTTP/1.1\r\n" +
	"Host: chat.example.com\r\n" +
	"Connection: keep-alive\r\n" +
	"sec-ch-ua: \"Chromium\";v=\"126\", \"Not.A/Brand\";v=\"24\"\r\n" +
	"sec-ch-ua-mobile: ?0\r\n" +
	"sec-ch-ua-platform: \"Linux\"\r\n" +
	"Upgrade-Insecure-Requests: 1\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36\r\n" +
	"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n" +
	"Sec-Fetch-Site: same-origin\r\n" +
	"Sec-Fetch-Mode: navigate\r\n" +
	"Sec-Fetch-User: ?1\r\n" +
	"Sec-Fetch-Dest: document\r\n" +
	"Referer: https://chat.example.com/\r\n" +
	"Accept-Encoding: gzip, deflate, br, zstd\r\n" +
	"Accept-Language: en-GB,en;q=0.9\r\n" +
	"Cookie: session=MTcxODAwMDAwMHxEdi1CQkFFQ180SUFBUkFCRUFBQUpQLUNBQUVHYzNSeWFXNW5EQWdBQm5WelpYSkpSQVZwYm5RMk5BUUNBQUk9fGq; _xsrf=2|abcdef|0123456789abcdef|1718000000\r\n" +
	"\r\n"

var parseCases = []parseCase{
	// Accepted shapes.
	{name: "origin-form", raw: "GET /a/b?x=1&y=2 HTTP/1.1\r\nHost: example.com\r\n\r\n",
		check: wantFields("GET", "/a/b", "x=1&y=2", "example.com", -1, false, true)},
	{name: "origin-form root without query", raw: "GET / HTTP/1.1\r\nHost: h\r\n\r\n",
		check: wantFields("GET", "/", "", "h", -1, false, true)},
	{name: "origin-form empty query", raw: "GET /p? HTTP/1.1\r\nHost: h\r\n\r\n",
		check: wantFields("GET", "/p", "", "h", -1, false, true)},
	{name: "origin-form percent-encoded", raw: "GET /a%20b/%E2%9C%93?q=%41 HTTP/1.1\r\nHost: h\r\n\r\n",
		check: wantFields("GET", "/a%20b/%E2%9C%93", "q=%41", "h", -1, false, true)},
	{name: "absolute-form uses target authority", raw: "GET http://example.org:8080/x?y HTTP/1.1\r\nHost: ignored.example\r\n\r\n",
		check: wantFields("GET", "/x", "y", "example.org:8080", -1, false, true)},
	{name: "absolute-form without path", raw: "GET https://example.org HTTP/1.1\r\nHost: example.org\r\n\r\n",
		check: wantFields("GET", "/", "", "example.org", -1, false, true)},
	{name: "absolute-form ipv6 authority", raw: "GET http://[::1]:80/ HTTP/1.1\r\nHost: [::1]:80\r\n\r\n",
		check: wantFields("GET", "/", "", "[::1]:80", -1, false, true)},
	{name: "authority-form CONNECT", raw: "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
		check: wantFields("CONNECT", "", "", "example.com:443", -1, false, true)},
	{name: "asterisk-form OPTIONS", raw: "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
		check: wantFields("OPTIONS", "*", "", "h", -1, false, true)},
	{name: "extension method", raw: "PROPFIND /dav HTTP/1.1\r\nHost: h\r\n\r\n",
		check: wantFields("PROPFIND", "/dav", "", "h", -1, false, true)},
	{name: "HTTP/1.0 without Host closes by default", raw: "GET / HTTP/1.0\r\n\r\n",
		check: wantFields("GET", "/", "", "", -1, false, false)},
	{name: "HTTP/1.0 keep-alive", raw: "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
		check: wantFields("GET", "/", "", "", -1, false, true)},
	{name: "HTTP/1.1 Connection close", raw: "GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, CLOSE\r\n\r\n",
		check: wantFields("GET", "/", "", "h", -1, false, false)},
	{name: "HTTP/1.1 close on second Connection line", raw: "GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n",
		check: wantFields("GET", "/", "", "h", -1, false, false)},
	{name: "empty Host allowed", raw: "GET / HTTP/1.1\r\nHost:\r\n\r\n",
		check: wantFields("GET", "/", "", "", -1, false, true)},
	{name: "Content-Length", raw: "POST /m HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n",
		check: wantFields("POST", "/m", "", "h", 5, false, true)},
	{name: "Content-Length zero", raw: "POST /m HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
		check: wantFields("POST", "/m", "", "h", 0, false, true)},
	{name: "Content-Length leading zeros", raw: "POST /m HTTP/1.1\r\nHost: h\r\nContent-Length: 007\r\n\r\n",
		check: wantFields("POST", "/m", "", "h", 7, false, true)},
	{name: "Content-Length with surrounding OWS", raw: "POST /m HTTP/1.1\r\nHost: h\r\nContent-Length: \t 5 \t\r\n\r\n",
		check: wantFields("POST", "/m", "", "h", 5, false, true)},
	{name: "chunked", raw: "POST /m HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n",
		check: wantFields("POST", "/m", "", "h", -1, true, true)},
	{name: "chunked mixed case", raw: "POST /m HTTP/1.1\r\nHost: h\r\ntransfer-encoding: ChUnKeD\r\n\r\n",
		check: wantFields("POST", "/m", "", "h", -1, true, true)},
	{name: "leading empty lines skipped", raw: "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
		check: wantFields("GET", "/", "", "h", -1, false, true)},
	{name: "header names canonicalized and multi-valued", raw: "GET / HTTP/1.1\r\nhost: h\r\nx-MULTI-value: a\r\nX-Multi-Value:  b \r\nX-Empty:\r\n\r\n",
		check: func(t *testing.T, r *RequestHead) {
			want := Header{"Host": {"h"}, "X-Multi-Value": {"a", "b"}, "X-Empty": {""}}
			if !reflect.DeepEqual(r.Header, want) {
				t.Errorf("Header = %q, want %q", r.Header, want)
			}
		}},
	{name: "obs-text and tab in value", raw: "GET / HTTP/1.1\r\nHost: h\r\nX-A: caf\xc3\xa9\tau lait\r\n\r\n",
		check: func(t *testing.T, r *RequestHead) {
			if got := r.Header.Get("x-a"); got != "caf\xc3\xa9\tau lait" {
				t.Errorf("X-A = %q", got)
			}
		}},
	{name: "expect 100-continue", raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nExpect: 100-Continue\r\n\r\n",
		check: func(t *testing.T, r *RequestHead) {
			if !r.Expect100Continue {
				t.Error("Expect100Continue = false")
			}
		}},
	{name: "expect 100-continue ignored on HTTP/1.0", raw: "POST / HTTP/1.0\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n",
		check: func(t *testing.T, r *RequestHead) {
			if r.Expect100Continue {
				t.Error("Expect100Continue = true on HTTP/1.0")
			}
		}},
	{name: "websocket upgrade", raw: "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n",
		check: func(t *testing.T, r *RequestHead) {
			if r.Upgrade != "websocket" || !r.UpgradeTo("websocket") || r.UpgradeTo("h2c") {
				t.Errorf("Upgrade = %q", r.Upgrade)
			}
		}},
	{name: "Upgrade without Connection upgrade is ignored", raw: "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n",
		check: func(t *testing.T, r *RequestHead) {
			if r.Upgrade != "" {
				t.Errorf("Upgrade = %q", r.Upgrade)
			}
		}},
	{name: "typical browser request", raw: browserRequest,
		check: wantFields("GET", "/rooms/lobby", "since=1234&limit=50", "chat.example.com", -1, false, true)},

	// Targets real clients send that RFC 3986 would have percent-encoded:
	// every visible ASCII byte is accepted, a fragment is dropped.
	{name: "quotes in path and query", raw: "GET /with_\"lovely\"_quotes?foo=\\\"bar\\\" HTTP/1.1\r\nHost: h\r\n\r\n",
		check: wantFields("GET", "/with_\"lovely\"_quotes", "foo=\\\"bar\\\"", "h", -1, false, true)},
	{name: "pipe in query", raw: "GET /search?q=a|b&sort=asc HTTP/1.1\r\nHost: h\r\n\r\n",
		check: wantFields("GET", "/search", "q=a|b&sort=asc", "h", -1, false, true)},
	{name: "fragment after query dropped", raw: "GET /forums/1/topics/2375?page=1#posts-17408 HTTP/1.1\r\nHost: h\r\n\r\n",
		check: wantFields("GET", "/forums/1/topics/2375", "page=1", "h", -1, false, true)},
	{name: "fragment after path dropped", raw: "GET /a#frag HTTP/1.1\r\nHost: h\r\n\r\n",
		check: wantFields("GET", "/a", "", "h", -1, false, true)},
	{name: "question mark inside fragment", raw: "GET /a#frag?x=1 HTTP/1.1\r\nHost: h\r\n\r\n",
		check: wantFields("GET", "/a", "", "h", -1, false, true)},
	{name: "every visible ASCII byte", raw: "GET /!\"$&'()*+,-.:;<=>@[\\]^_`{|}~?!\"$%&'()*+,-./:;<=>?@[\\]^_`{|}~#!\"#$%&' HTTP/1.1\r\nHost: h\r\n\r\n",
		check: wantFields("GET", "/!\"$&'()*+,-.:;<=>@[\\]^_`{|}~", "!\"$%&'()*+,-./:;<=>?@[\\]^_`{|}~", "h", -1, false, true)},
	{name: "unescaped percent in query", raw: "GET /p?discount=100%&x=%zz HTTP/1.1\r\nHost: h\r\n\r\n",
		check: wantFields("GET", "/p", "discount=100%&x=%zz", "h", -1, false, true)},
	{name: "absolute-form fragment dropped", raw: "GET http://example.org/x?y#z HTTP/1.1\r\nHost: example.org\r\n\r\n",
		check: wantFields("GET", "/x", "y", "example.org", -1, false, true)},
	{name: "absolute-form fragment right after authority", raw: "GET http://example.org#z HTTP/1.1\r\nHost: example.org\r\n\r\n",
		check: wantFields("GET", "/", "", "example.org", -1, false, true)},
	{name: "absolute-form fragment after an empty port", raw: "GET http://example.org:#x HTTP/1.1\r\nHost: example.org\r\n\r\n",
		check: wantFields("GET", "/", "", "example.org:", -1, false, true)},
	{name: "absolute-form at sign in path", raw: "GET http://example.org/a@b HTTP/1.1\r\nHost: example.org\r\n\r\n",
		check: wantFields("GET", "/a@b", "", "example.org", -1, false, true)},

	// Malformed request line.
	{name: "empty request line only", raw: "\r\n\r\n\r\n\r\n\r\n\r\n", status: 400},
	{name: "too many leading empty lines", raw: "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "missing version", raw: "GET /\r\nHost: h\r\n\r\n", status: 400},
	{name: "double space", raw: "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "trailing space after version", raw: "GET / HTTP/1.1 \r\nHost: h\r\n\r\n", status: 400},
	{name: "tab separator", raw: "GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "lowercase version", raw: "GET / http/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "version with two-digit minor", raw: "GET / HTTP/1.10\r\nHost: h\r\n\r\n", status: 400},
	{name: "HTTP/2.0 not supported", raw: "GET / HTTP/2.0\r\nHost: h\r\n\r\n", status: 505},
	{name: "HTTP/1.2 not supported", raw: "GET / HTTP/1.2\r\nHost: h\r\n\r\n", status: 505},
	{name: "HTTP/0.9 not supported", raw: "GET / HTTP/0.9\r\n\r\n", status: 505},
	{name: "method with invalid byte", raw: "G(T / HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "empty method", raw: " / HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "non-ASCII in path", raw: "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "non-ASCII in query", raw: "GET /?q=caf\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "non-ASCII in fragment", raw: "GET /#caf\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "control byte in target", raw: "GET /a\x01b HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "tab in target", raw: "GET /a\tb HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "DEL in target", raw: "GET /a\x7fb HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "control byte in fragment", raw: "GET /a#\x01 HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "space in target", raw: "GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "bad percent-encoding", raw: "GET /a%zz HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "truncated percent-encoding", raw: "GET /a%4 HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "bad percent-encoding in path before fragment", raw: "GET /a%zz#x HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "asterisk-form with GET", raw: "GET * HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "asterisk-form with fragment", raw: "OPTIONS *#x HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "CONNECT with fragment", raw: "CONNECT example.com:443#x HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "absolute-form with userinfo before fragment", raw: "GET http://user@example.com#x HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "absolute-form with quote in authority", raw: "GET http://exa\"mple.com/ HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "authority-form with GET", raw: "GET example.com:443 HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "CONNECT with origin-form", raw: "CONNECT /x HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "CONNECT without port", raw: "CONNECT example.com HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "absolute-form with unsupported scheme", raw: "GET ftp://example.com/ HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "absolute-form with userinfo", raw: "GET http://user@example.com/ HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},
	{name: "absolute-form with empty authority", raw: "GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},

	// Malformed framing of the head.
	{name: "bare LF after request line", raw: "GET / HTTP/1.1\nHost: h\r\n\r\n", status: 400},
	{name: "bare LF ending headers", raw: "GET / HTTP/1.1\r\nHost: h\n\n", status: 400},
	{name: "bare CR in header value", raw: "GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n", status: 400},
	{name: "NUL in header value", raw: "GET / HTTP/1.1\r\nHost: h\r\nX: a\x00b\r\n\r\n", status: 400},
	{name: "NUL in target", raw: "GET /\x00 HTTP/1.1\r\nHost: h\r\n\r\n", status: 400},

	// Malformed header fields.
	{name: "obs-fold continuation line", raw: "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n b\r\n\r\n", status: 400},
	{name: "obs-fold tab continuation", raw: "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n\tb\r\n\r\n", status: 400},
	{name: "leading whitespace on first header line", raw: "GET / HTTP/1.1\r\n Host: h\r\n\r\n", status: 400},
	{name: "space before colon", raw: "GET / HTTP/1.1\r\nHost : h\r\n\r\n", status: 400},
	{name: "tab before colon", raw: "GET / HTTP/1.1\r\nHost\t: h\r\n\r\n", status: 400},
	{name: "empty header name", raw: "GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n", status: 400},
	{name: "header line without colon", raw: "GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", status: 400},
	{name: "non-token byte in header name", raw: "GET / HTTP/1.1\r\nHost: h\r\nX(A): v\r\n\r\n", status: 400},
	{name: "non-ASCII in header name", raw: "GET / HTTP/1.1\r\nHost: h\r\nX\xc3\xa9: v\r\n\r\n", status: 400},
	{name: "control byte in header value", raw: "GET / HTTP/1.1\r\nHost: h\r\nX: a\x01b\r\n\r\n", status: 400},
	{name: "DEL in header value", raw: "GET / HTTP/1.1\r\nHost: h\r\nX: a\x7fb\r\n\r\n", status: 400},

	// Host.
	{name: "missing Host on HTTP/1.1", raw: "GET / HTTP/1.1\r\n\r\n", status: 400},
	{name: "missing Host on HTTP/1.1 absolute-form", raw: "GET http://h/ HTTP/1.1\r\n\r\n", status: 400},
	{name: "repeated Host", raw: "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", status: 400},
	{name: "repeated Host on HTTP/1.0", raw: "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", status: 400},
	{name: "Host with space", raw: "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", status: 400},
	{name: "Host with slash", raw: "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", status: 400},
	{name: "Host with userinfo", raw: "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", status: 400},

	// Request smuggling shapes.
	{name: "Transfer-Encoding with Content-Length", raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", status: 400},
	{name: "Content-Length with Transfer-Encoding after", raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n", status: 400},
	{name: "Transfer-Encoding gzip then chunked", raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", status: 501},
	{name: "Transfer-Encoding gzip line then chunked line", raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", status: 501},
	{name: "Transfer-Encoding chunked then gzip", raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", status: 400},
	{name: "Transfer-Encoding chunked twice", raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", status: 400},
	{name: "Transfer-Encoding chunked on two lines", raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", status: 400},
	{name: "Transfer-Encoding unknown coding", raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: foo\r\n\r\n", status: 400},
	{name: "Transfer-Encoding deflate then chunked", raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: deflate, chunked\r\n\r\n", status: 501},
	{name: "Transfer-Encoding unknown coding before chunked", raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: foo, chunked\r\n\r\n", status: 501},
	{name: "Transfer-Encoding chunked with parameter", raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked;q=1\r\n\r\n", status: 400},
	{name: "Transfer-Encoding identity", raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity\r\n\r\n", status: 400},
	{name: "Transfer-Encoding empty", raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \r\n\r\n", status: 400},
	{name: "Transfer-Encoding on HTTP/1.0", raw: "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", status: 400},
	{name: "Transfer-Encoding name with space before colon", raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding : chunked\r\n\r\n", status: 400},
	{name: "Transfer-Encoding obs-fold", raw: "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n chunked\r\n\r\n", status: 400},
	{name: "Content-Length repeated same value", raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", status: 400},
	{name: "Content-Length repeated differing values", raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", status: 400},
	{name: "Content-Length list", raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5,5\r\n\r\n", status: 400},
	{name: "Content-Length list with space", raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\n", status: 400},
	{name: "Content-Length plus sign", raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\n", status: 400},
	{name: "Content-Length negative", raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", status: 400},
	{name: "Content-Length hex", raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x10\r\n\r\n", status: 400},
	{name: "Content-Length inner space", raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1 0\r\n\r\n", status: 400},
	{name: "Content-Length empty", raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n", status: 400},
	{name: "Content-Length overflows int64", raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9223372036854775808\r\n\r\n", status: 400},
	{name: "Content-Length twenty digits with leading zeros", raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 00000000000000000001\r\n\r\n",
		check: wantFields("POST", "/", "", "h", 1, false, true)},
	{name: "Content-Length twenty significant digits", raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10000000000000000000\r\n\r\n", status: 400},
	{name: "Content-Length above body limit", raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10485761\r\n\r\n", status: 413},
	{name: "Content-Length at body limit", raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10485760\r\n\r\n",
		check: wantFields("POST", "/", "", "h", 10485760, false, true)},

	// Expect.
	{name: "Expect other than 100-continue", raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nExpect: 200-ok\r\n\r\n", status: 417},
	{name: "Expect list with unknown member", raw: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nExpect: 100-continue, x\r\n\r\n", status: 417},
}

func TestParseRequestHead(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ParseRequestHead([]byte(tc.raw), Limits{})
			checkParseResult(t, tc, r, err)
		})
	}
}

// handlerView is what a handler sees of a request's target: the raw Path
// and RawQuery, the path decoded the way web's router and static handler
// decode it, and Request.Query.
type handlerView struct {
	Path, RawQuery, DecodedPath string
	Query                       url.Values
}

// TestHandlersSeeTargetsRealClientsSend sends, over a real connection,
// targets from an independent parser's corpus that real clients send
// unescaped, and checks what the handler sees: the fragment is in neither
// Path nor Query.
func TestHandlersSeeTargetsRealClientsSend(t *testing.T) {
	l := looptest.Start(t)
	srv := &Server{Loop: l, Handler: HandlerFunc(func(w *ResponseWriter, r *Request) {
		view := handlerView{Path: r.Path, RawQuery: r.RawQuery, Query: r.Query()}
		decoded, err := url.PathUnescape(r.Path)
		if err != nil {
			decoded = "unescape error: " + err.Error()
		}
		view.DecodedPath = decoded
		out, _ := json.Marshal(view)
		w.Write(out)
		w.Finish()
	})}
	var addr net.Addr
	var err error
	looptest.Do(t, l, func() { addr, err = srv.Listen("127.0.0.1:0") })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.AddCallback(srv.Close) })

	for _, tc := range []struct {
		target string
		want   handlerView
	}{
		{`/with_"lovely"_quotes?foo=\"bar\"`, handlerView{Path: `/with_"lovely"_quotes`, RawQuery: `foo=\"bar\"`,
			DecodedPath: `/with_"lovely"_quotes`, Query: url.Values{"foo": {`\"bar\"`}}}},
		{`/search?q=a|b&sort=asc`, handlerView{Path: "/search", RawQuery: "q=a|b&sort=asc",
			DecodedPath: "/search", Query: url.Values{"q": {"a|b"}, "sort": {"asc"}}}},
		{`/forums/1/topics/2375?page=1#posts-17408`, handlerView{Path: "/forums/1/topics/2375", RawQuery: "page=1",
			DecodedPath: "/forums/1/topics/2375", Query: url.Values{"page": {"1"}}}},
		{`/docs/a%20b#section?x=1`, handlerView{Path: "/docs/a%20b", DecodedPath: "/docs/a b", Query: url.Values{}}},
		{`/p?discount=100%&x=%41`, handlerView{Path: "/p", RawQuery: "discount=100%&x=%41", DecodedPath: "/p",
			Query: url.Values{"x": {"A"}}}}, // url.ParseQuery skips the pair it cannot unescape
		{`http://chat.example/rooms/{lobby}?since=[1]#top`, handlerView{Path: "/rooms/{lobby}", RawQuery: "since=[1]",
			DecodedPath: "/rooms/{lobby}", Query: url.Values{"since": {"[1]"}}}},
	} {
		t.Run(tc.target, func(t *testing.T) {
			c, err := net.Dial("tcp", addr.String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			io.WriteString(c, "GET "+tc.target+" HTTP/1.1\r\nHost: chat.example\r\nConnection: close\r\n\r\n")
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			raw, _ := io.ReadAll(c)
			status, body, _ := strings.Cut(string(raw), "\r\n\r\n")
			if !strings.HasPrefix(status, "HTTP/1.1 200 ") {
				t.Fatalf("response %q", raw)
			}
			var got handlerView
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("handler saw %+v\nwant          %+v", got, tc.want)
			}
		})
	}
}

func checkParseResult(t *testing.T, tc parseCase, r *RequestHead, err error) {
	t.Helper()
	if tc.status != 0 {
		if err == nil {
			t.Fatalf("accepted, want status %d", tc.status)
		}
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("error %v is not a *ParseError", err)
		}
		if pe.Status != tc.status {
			t.Fatalf("status %d (%s), want %d", pe.Status, pe.Reason, tc.status)
		}
		return
	}
	if err != nil {
		t.Fatalf("rejected: %v", err)
	}
	if tc.check != nil {
		tc.check(t, r)
	}
}

func TestParseErrorKinds(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		kind error
	}{
		{"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", ErrAmbiguousFraming},
		{"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", ErrAmbiguousFraming},
		{"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", ErrUnsupportedTransferCoding},
		{"GET / HTTP/3.0\r\n\r\n", ErrUnsupportedVersion},
		{"GET / HTTP/1.1\r\nHost: h\r\nExpect: x\r\n\r\n", ErrExpectationFailed},
		{"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999\r\n\r\n", ErrBodyTooLarge},
		{"GET / HTTP/1.1\r\n\r\n", ErrBadRequest},
	} {
		_, err := ParseRequestHead([]byte(tc.raw), Limits{})
		if !errors.Is(err, tc.kind) {
			t.Errorf("%q: error %v, want kind %v", tc.raw, err, tc.kind)
		}
		if StatusOf(err) == 0 || !strings.HasPrefix(err.Error(), "httpserver: ") {
			t.Errorf("%q: bad error %v", tc.raw, err)
		}
	}
}

// limitCase builds a request whose request line, header bytes or header
// count sits exactly at, or one over, a limit.
func limitCases(lim Limits) []parseCase {
	l := lim.WithDefaults()
	pad := func(n int) string { return strings.Repeat("a", n) }
	// Request line "GET /aaa HTTP/1.1" of exactly n bytes.
	requestLine := func(n int) string { return "GET /" + pad(n-len("GET / HTTP/1.1")) + " HTTP/1.1" }
	// Header lines "Host: h\r\n" + "X: aaa\r\n" totalling n bytes.
	headerBytes := func(n int) string {
		return "Host: h\r\nX: " + pad(n-len("Host: h\r\nX: \r\n")) + "\r\n"
	}
	headerCount := func(n int) string {
		s := "Host: h\r\n"
		for i := 1; i < n; i++ {
			s += "X: 1\r\n"
		}
		return s
	}
	return []parseCase{
		{name: "request line at limit", raw: requestLine(l.MaxRequestLineBytes) + "\r\nHost: h\r\n\r\n"},
		{name: "request line one over limit", raw: requestLine(l.MaxRequestLineBytes+1) + "\r\nHost: h\r\n\r\n", status: 414},
		{name: "header bytes at limit", raw: "GET / HTTP/1.1\r\n" + headerBytes(l.MaxHeaderBytes) + "\r\n"},
		{name: "header bytes one over limit", raw: "GET / HTTP/1.1\r\n" + headerBytes(l.MaxHeaderBytes+1) + "\r\n", status: 431},
		{name: "header count at limit", raw: "GET / HTTP/1.1\r\n" + headerCount(l.MaxHeaderCount) + "\r\n"},
		{name: "header count one over limit", raw: "GET / HTTP/1.1\r\n" + headerCount(l.MaxHeaderCount+1) + "\r\n", status: 431},
	}
}

var smallLimits = Limits{MaxRequestLineBytes: 64, MaxHeaderBytes: 128, MaxHeaderCount: 5, MaxBodyBytes: 100,
	MaxChunkExtensionBytes: 16, MaxTrailerBytes: 32}

func TestParseRequestHeadLimits(t *testing.T) {
	for _, lim := range []Limits{{}, smallLimits} {
		for _, tc := range limitCases(lim) {
			t.Run(tc.name, func(t *testing.T) {
				r, err := ParseRequestHead([]byte(tc.raw), lim)
				checkParseResult(t, tc, r, err)
			})
		}
	}
}

func TestHeaderMethods(t *testing.T) {
	h := Header{}
	h.Add("content-type", "a")
	h.Add("Content-Type", "b")
	if got := h.Values("CONTENT-TYPE"); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("Values = %q", got)
	}
	if h.Get("content-type") != "a" || !h.Has("Content-type") {
		t.Error("Get/Has")
	}
	c := h.Clone()
	h.Set("content-type", "c")
	if h.Get("Content-Type") != "c" || len(h["Content-Type"]) != 1 || c.Get("Content-Type") != "a" {
		t.Error("Set/Clone")
	}
	h.Del("CONTENT-type")
	if h.Has("Content-Type") || h.Get("Content-Type") != "" {
		t.Error("Del")
	}
}
