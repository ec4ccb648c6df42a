package httpserver

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httputil"
	"net/textproto"
	"reflect"
	"strings"
	"testing"
)

// outcome is what a server would make of a byte stream: one request (head
// and body) or a rejection.
type outcome struct {
	ok        bool
	reason    string // why it was rejected
	status    int    // ours only
	method    string
	target    string
	path      string // ours only: net/http keeps a fragment in URL.Path
	rawQuery  string // ours only
	host      string
	header    map[string][]string
	body      string
	keepAlive bool
}

// ourOutcome runs the bytes through HeadScanner, ParseRequestHead and the
// body framing (Content-Length or ChunkedDecoder), as the server will.
func ourOutcome(data []byte) outcome {
	var s HeadScanner
	adv, head, err := s.Split(data, false)
	if adv == 0 && head == nil && err == nil {
		adv, head, err = s.Split(data, true)
	}
	if err != nil {
		return rejected(err)
	}
	if head == nil {
		return outcome{reason: "no request before EOF"}
	}
	r, err := ParseRequestHead(head, Limits{})
	if err != nil {
		return rejected(err)
	}
	rest := data[adv:]
	var body []byte
	switch {
	case r.Chunked:
		var d ChunkedDecoder
		for !d.Done() {
			adv, tok, err := d.Split(rest, true)
			if err != nil {
				return rejected(err)
			}
			body = append(body, tok...)
			rest = rest[adv:]
		}
	case r.ContentLength > 0:
		if int64(len(rest)) < r.ContentLength {
			return outcome{reason: "body shorter than Content-Length"}
		}
		body = rest[:r.ContentLength]
	}
	return outcome{ok: true, method: r.Method, target: r.Target, path: r.Path, rawQuery: r.RawQuery,
		host: r.Host, header: r.Header, body: string(body), keepAlive: r.KeepAlive}
}

func rejected(err error) outcome {
	var pe *ParseError
	if errors.As(err, &pe) {
		return outcome{reason: pe.Reason, status: pe.Status}
	}
	return outcome{reason: err.Error(), status: 400}
}

// netHTTPOutcome is the oracle: http.ReadRequest plus the checks net/http's
// server adds in (*conn).readRequest and before calling a handler (Host
// required and well-formed, field names and values valid, HTTP/1.x only,
// Expect other than 100-continue refused), then reading the whole body.
func netHTTPOutcome(data []byte) outcome {
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(data)))
	if err != nil {
		return outcome{reason: err.Error()}
	}
	// ReadRequest drops the Host field; the server sees it, so read the
	// header section again the way readRequest does.
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(data)))
	tp.ReadLine()
	mime, _ := tp.ReadMIMEHeader()
	hosts, haveHost := mime["Host"]
	switch {
	case req.ProtoMajor != 1:
		return outcome{reason: "net/http server: unsupported protocol version"}
	case req.ProtoAtLeast(1, 1) && (!haveHost || len(hosts) == 0) && req.Method != "CONNECT":
		return outcome{reason: "net/http server: missing required Host header"}
	case len(hosts) == 1 && !netHTTPValidHost(hosts[0]):
		return outcome{reason: "net/http server: malformed Host header"}
	}
	for k, vv := range req.Header {
		if !validFieldName(k) {
			return outcome{reason: "net/http server: invalid header name"}
		}
		for _, v := range vv {
			for i := 0; i < len(v); i++ {
				if !isFieldValueChar(v[i]) {
					return outcome{reason: "net/http server: invalid header value"}
				}
			}
		}
	}
	if expect := req.Header.Get("Expect"); expect != "" && !listContainsToken(expect, "100-continue") {
		return outcome{reason: "net/http server: expectation failed"}
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return outcome{reason: err.Error()}
	}
	return outcome{ok: true, method: req.Method, target: req.RequestURI, host: req.Host, header: req.Header,
		body: string(body), keepAlive: !req.Close}
}

// netHTTPValidHost mirrors golang.org/x/net/http/httpguts.ValidHostHeader,
// which net/http's server applies: it checks bytes only. The byte set is the
// one isHostChar allows, plus '%'.
func netHTTPValidHost(h string) bool {
	for i := 0; i < len(h); i++ {
		if !isHostChar[h[i]] && h[i] != '%' {
			return false
		}
	}
	return true
}

// deliberateRejections lists, by ParseError.Reason, inputs we reject on
// purpose although net/http accepts them. Each is stricter for request
// smuggling safety or RFC 9112 conformance; see ParseRequestHead and
// ChunkedDecoder.
var deliberateRejections = map[string]string{
	"bare LF in message head":                                                   "net/http accepts LF line endings",
	"bare LF in trailer section":                                                "net/http accepts LF line endings",
	"obsolete line folding in header":                                           "net/http unfolds obs-fold",
	"Transfer-Encoding together with Content-Length":                            "net/http lets chunked win and drops Content-Length",
	"Transfer-Encoding in an HTTP/1.0 request":                                  "net/http ignores Transfer-Encoding on HTTP/1.0",
	"repeated Content-Length":                                                   "net/http merges identical values",
	"HTTP version not supported":                                                "net/http serves HTTP/1.2 to HTTP/1.9 as HTTP/1.x",
	"non-ASCII byte in request-target":                                          "net/http passes bytes >= 0x80 through; browsers percent-encode them",
	"invalid percent-encoding in request-target":                                "net/url does not check escapes in an opaque target (\"http:%zz\")",
	"asterisk-form request-target is only allowed for OPTIONS":                  "net/http accepts * for any method",
	"CONNECT requires an authority-form request-target":                         "net/http accepts CONNECT /path (net/rpc) and an empty port",
	"request-target is not origin-form or absolute-form with an http(s) scheme": "net/http accepts any scheme",
	"invalid authority in absolute-form request-target":                         "net/http accepts userinfo",
	"malformed Host header":                                                     "we also check brackets and port digits, and refuse '%'",
	"unsupported expectation":                                                   "net/http only looks for a 100-continue token",
	"empty request-target":                                                      "net/http accepts CONNECT with an empty target",
	"missing Host header":                                                       "net/http exempts CONNECT",
	"whitespace after chunk size without extension":                             "net/http trims trailing whitespace",
	"invalid chunk extension name":                                              "net/http does not validate chunk extensions",
	"invalid chunk extension value":                                             "net/http does not validate chunk extensions",
	"invalid byte in chunk extension":                                           "net/http does not validate chunk extensions",
	"invalid byte in chunk extension quoted-string":                             "net/http does not validate chunk extensions",
	"invalid quoted-pair in chunk extension":                                    "net/http does not validate chunk extensions",
	"chunk extensions too large":                                                "net/http bounds the line (4 KiB), not the body's total",
}

// deliberateAcceptance reports whether we may accept data although net/http
// rejects it.
func deliberateAcceptance(data []byte, theirs outcome) bool {
	switch {
	case bytes.HasPrefix(data, crlf):
		return true // RFC 9112 §2.2: we skip empty lines before the request line
	case strings.Contains(theirs.reason, "too much non-data"):
		return true // net/http bounds chunk overhead by ratio; we bound extensions and trailers
	case strings.Contains(theirs.reason, "invalid byte in chunk length"):
		return bytes.Contains(data, []byte(" ;")) || bytes.Contains(data, []byte("\t;"))
	case bytes.IndexByte(requestLine(data), '#') >= 0:
		// url.ParseRequestURI reads a fragment as part of the path, host
		// or port; we drop it unread (RFC 9110 §7.1). Without it,
		// net/http must accept.
		return netHTTPOutcome(withoutFragment(data)).ok
	}
	return false
}

// requestLine returns the first line of data.
func requestLine(data []byte) []byte {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	return line
}

// withoutFragment removes the first request line's fragment: from its
// first '#' to the next space.
func withoutFragment(data []byte) []byte {
	line := requestLine(data)
	hash := bytes.IndexByte(line, '#')
	end := bytes.IndexByte(line[hash:], ' ')
	if end < 0 {
		end = len(line) - hash
	}
	return append(append([]byte(nil), data[:hash]...), data[hash+end:]...)
}

func FuzzParseRequest(f *testing.F) {
	for _, tc := range parseCases {
		f.Add([]byte(tc.raw))
		f.Add([]byte(tc.raw + "5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n"))
		f.Add([]byte(tc.raw + "hello"))
	}
	for _, tc := range limitCases(smallLimits) {
		f.Add([]byte(tc.raw))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ours, theirs := ourOutcome(data), netHTTPOutcome(data)
		if ours.ok {
			checkPathAndQuery(t, ours)
		}
		switch {
		case ours.ok && !theirs.ok:
			if !deliberateAcceptance(data, theirs) {
				t.Fatalf("we accept, net/http rejects (%s)\ninput %q", theirs.reason, data)
			}
		case !ours.ok && theirs.ok:
			if _, ok := deliberateRejections[ours.reason]; !ok && ours.status != 414 && ours.status != 431 && ours.status != 413 {
				t.Fatalf("we reject (%d %s), net/http accepts\ninput %q", ours.status, ours.reason, data)
			}
		case ours.ok && theirs.ok:
			compareAccepted(t, data, ours, theirs)
		}
	})
}

// checkPathAndQuery checks Path and RawQuery are the target's path and
// query, without a fragment, for the origin and absolute forms.
func checkPathAndQuery(t *testing.T, ours outcome) {
	t.Helper()
	if ours.path == "" || ours.path == "*" {
		return // authority-form, asterisk-form
	}
	rest, _, _ := strings.Cut(ours.target, "#")
	if _, afterScheme, absolute := strings.Cut(rest, "://"); absolute && rest[0] != '/' {
		if i := strings.IndexAny(afterScheme, "/?"); i >= 0 {
			rest = afterScheme[i:]
		} else {
			rest = ""
		}
		if !strings.HasPrefix(rest, "/") {
			rest = "/" + rest
		}
	}
	want := ours.path
	if strings.Contains(rest, "?") {
		want += "?" + ours.rawQuery
	}
	if rest != want || strings.Contains(ours.path, "#") || strings.Contains(ours.rawQuery, "#") {
		t.Fatalf("target %q split into path %q and query %q", ours.target, ours.path, ours.rawQuery)
	}
}

// compareAccepted checks two accepted requests agree. net/http removes
// Transfer-Encoding, merges Content-Length and may add Cache-Control from
// Pragma, and ReadRequest drops Host (compared as outcome.host instead);
// those fields are left out of the comparison.
func compareAccepted(t *testing.T, data []byte, ours, theirs outcome) {
	t.Helper()
	ignored := map[string]bool{"Host": true, "Transfer-Encoding": true, "Content-Length": true, "Cache-Control": true}
	strip := func(h map[string][]string) map[string][]string {
		out := map[string][]string{}
		for k, v := range h {
			if !ignored[k] {
				out[k] = v
			}
		}
		return out
	}
	if ours.method != theirs.method || ours.target != theirs.target || ours.host != theirs.host ||
		ours.body != theirs.body || ours.keepAlive != theirs.keepAlive ||
		!reflect.DeepEqual(strip(ours.header), strip(theirs.header)) {
		t.Fatalf("requests differ\ninput  %q\nours   %+v\ntheirs %+v", data, ours, theirs)
	}
}

// FuzzChunked checks the decoder is independent of how bytes arrive,
// respects its limits, and agrees with net/http's chunked reader on the
// body of everything it accepts.
func FuzzChunked(f *testing.F) {
	for _, tc := range chunkedCases {
		f.Add([]byte(tc.input), uint16(len(tc.input)/2))
	}
	f.Fuzz(func(t *testing.T, data []byte, split uint16) {
		lim := Limits{MaxBodyBytes: 1 << 16, MaxChunkExtensionBytes: 64, MaxTrailerBytes: 128, MaxHeaderCount: 8}
		d := ChunkedDecoder{Limits: lim, KeepTrailers: true}
		oneShot := decodeChunked(&d, data, len(data), nil)
		if int64(len(oneShot.body)) > lim.MaxBodyBytes {
			t.Fatalf("decoded %d bytes past the limit", len(oneShot.body))
		}
		for _, h := range []string{"Content-Length", "Transfer-Encoding", "Host"} {
			if d.Trailer().Has(h) {
				t.Fatalf("trailer carried %s", h)
			}
		}
		k := int(split) % (len(data) + 1)
		d.Reset()
		if got := decodeChunked(&d, data, k, func(int) int { return len(data) }); got != oneShot {
			t.Fatalf("split at %d: %v\none shot:    %v", k, got, oneShot)
		}
		if len(data) < 512 {
			d.Reset()
			if got := decodeChunked(&d, data, 0, func(n int) int { return n + 1 }); got != oneShot {
				t.Fatalf("byte by byte: %v\none shot:     %v", got, oneShot)
			}
		}
		if !oneShot.done {
			return
		}
		// net/http's reader stops after the last-chunk line, before trailers.
		theirs, err := io.ReadAll(httputil.NewChunkedReader(bufio.NewReader(bytes.NewReader(data))))
		if err != nil {
			if !deliberateChunkedAcceptance(data, err) {
				t.Fatalf("we accept, net/http rejects: %v\ninput %q", err, data)
			}
			return
		}
		if string(theirs) != oneShot.body {
			t.Fatalf("body %q, net/http %q\ninput %q", oneShot.body, theirs, data)
		}
	})
}

// deliberateChunkedAcceptance reports whether we may accept a chunked body
// net/http's reader rejects: it refuses BWS between the chunk size and ';'
// (RFC 9112 §7.1.1 allows it), and it bounds overhead by a ratio where we
// bound extensions and trailers.
func deliberateChunkedAcceptance(data []byte, err error) bool {
	switch msg := err.Error(); {
	case strings.Contains(msg, "too much non-data"):
		return true
	case strings.Contains(msg, "invalid byte in chunk length"):
		return bytes.Contains(data, []byte(" ;")) || bytes.Contains(data, []byte("\t;"))
	}
	return false
}
