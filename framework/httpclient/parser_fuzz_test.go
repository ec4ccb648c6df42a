package httpclient

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"chat/framework/httpserver"
)

// parseOutcome is what a client makes of a byte stream sent in answer to
// a GET: a response (status and body) or a rejection.
type parseOutcome struct {
	ok     bool
	code   int
	body   string
	reason string
}

const fuzzMaxBody = 1 << 20

// ourParse feeds data to the client's parser, split at cut (as if it
// arrived in two reads), then the EOF.
func ourParse(data []byte, cut int) parseOutcome {
	var p responseParser
	p.reset("GET", fuzzMaxBody, httpserver.Limits{})
	done, err := p.feed(data[:cut], false)
	if !done && err == nil {
		done, err = p.feed(data[cut:], false)
	}
	if !done && err == nil {
		done, err = p.feed(nil, true)
	}
	if err != nil {
		return parseOutcome{reason: err.Error()}
	}
	if !done {
		return parseOutcome{reason: "not done at EOF"}
	}
	r := p.response()
	return parseOutcome{ok: true, code: r.Code, body: string(r.Body)}
}

// netHTTPParse is the oracle: net/http.ReadResponse as its Transport uses
// it, skipping up to maxInterimResponses 1xx responses (not 101).
func netHTTPParse(data []byte) parseOutcome {
	br := bufio.NewReader(bytes.NewReader(data))
	for i := 0; ; i++ {
		resp, err := http.ReadResponse(br, &http.Request{Method: "GET"})
		if err != nil {
			return parseOutcome{reason: err.Error()}
		}
		if resp.StatusCode < 200 && resp.StatusCode != 101 {
			if i == maxInterimResponses {
				return parseOutcome{reason: "too many 1xx"}
			}
			continue
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, fuzzMaxBody+1))
		if err != nil {
			return parseOutcome{reason: err.Error()}
		}
		if len(body) > fuzzMaxBody {
			return parseOutcome{reason: "body too large"}
		}
		return parseOutcome{ok: true, code: resp.StatusCode, body: string(body)}
	}
}

// stricterThanNetHTTP lists, by our parser's reason, the classes of input
// we reject on purpose where net/http accepts: the server's rules, which
// the client shares (httpserver.ParseResponseHead, HeadScanner,
// ChunkedDecoder). A rejection net/http does not share must be one of
// these, each with why we keep it.
var stricterThanNetHTTP = map[string]string{
	"obsolete line folding in header":                "RFC 9112 §5.2 lets a client unfold; we refuse folding everywhere, as the server does",
	"bare LF in message head":                        "net/http accepts LF alone as a line end",
	"bare CR in message head":                        "a CR that is not a line end is a splitting shape",
	"NUL in message head":                            "net/http passes NUL through in values",
	"bare LF in trailer section":                     "the head's rules apply to trailers",
	"bare CR in trailer section":                     "the head's rules apply to trailers",
	"NUL in trailer section":                         "the head's rules apply to trailers",
	"invalid byte in header field value":             "control bytes net/http passes through",
	"invalid byte in header field name":              "field names are tokens (net/http is laxer in trailers)",
	"whitespace between header field name and colon": "RFC 9112 §5.1 has a response with it rejected or the space removed; we reject",
	"invalid byte in reason phrase":                  "control bytes in the reason phrase",
	"HTTP version not supported":                     "net/http takes any HTTP/x.y; we speak 1.0 and 1.1",
	"status code out of range":                       "net/http takes 000 to 099 and 600 to 999",
	"malformed status code":                          "e.g. a tab after the code: RFC 9112 §4 wants SP",
	"Transfer-Encoding in an HTTP/1.0 response":      "net/http ignores it and reads to the close; RFC 9112 §6.1 calls the message faulty",
	"whitespace after chunk size without extension":  "net/http trims it; RFC 9112 §7.1 has no whitespace there",
	"invalid byte in chunk size":                     "net/http trims trailing whitespace in the size line",
	"invalid chunk extension name":                   "extensions are checked against RFC 9112 §7.1.1; net/http skips them unread",
	"invalid chunk extension value":                  "as above",
	"invalid byte in chunk extension":                "as above",
	"invalid byte in chunk extension quoted-string":  "as above",
	"invalid quoted-pair in chunk extension":         "as above",
	"chunk extensions too large":                     "extensions are bounded (Limits.MaxChunkExtensionBytes)",
	"trailer section too large":                      "trailers are bounded (Limits.MaxTrailerBytes)",
	"too many trailer fields":                        "trailers are bounded (Limits.MaxHeaderCount)",
}

// FuzzParseResponse compares the client's response parser with net/http's
// response reader on the same bytes. Where both accept, status and body
// must agree; we must reject everything net/http rejects (we are never
// laxer); and where only we reject, the reason must be one of the
// deliberate classes in stricterThanNetHTTP. Feeding the input in two
// pieces must not change our outcome (the parsers are incremental).
func FuzzParseResponse(f *testing.F) {
	for _, seed := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n",
		"HTTP/1.0 200 OK\r\n\r\nuntil the close",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n",
		"HTTP/1.1 304 Not Modified\r\n\r\n",
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
		"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
		"HTTP/1.1 200 OK\r\nX-A: 1\r\n 2\r\n\r\n",
		"HTTP/1.1 200 OK\nContent-Length: 0\n\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=\"q\"\r\nabc\r\n0\r\n\r\n",
		"HTTP/2.0 200 OK\r\n\r\n",
		"HTTP/1.1 999 Odd\r\nContent-Length: 0\r\n\r\n",
	} {
		f.Add([]byte(seed), uint16(len(seed)/2))
	}
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		whole := ourParse(data, len(data))
		split := ourParse(data, int(cut)%(len(data)+1))
		if whole != split {
			t.Fatalf("fed whole: %+v\nfed in two pieces at %d: %+v", whole, int(cut)%(len(data)+1), split)
		}
		theirs := netHTTPParse(data)
		switch {
		case whole.ok && theirs.ok:
			if whole.code != theirs.code || whole.body != theirs.body {
				t.Fatalf("both accept, but we read %d %q and net/http %d %q", whole.code, whole.body, theirs.code, theirs.body)
			}
		case whole.ok:
			t.Fatalf("we accept %d %q; net/http rejects: %s", whole.code, whole.body, theirs.reason)
		case theirs.ok:
			if !deliberatelyStricter(whole.reason) {
				t.Fatalf("net/http accepts %d %q; we reject, for a reason not in stricterThanNetHTTP: %s", theirs.code, theirs.body, whole.reason)
			}
		}
	})
}

func deliberatelyStricter(err string) bool {
	_, reason, _ := strings.Cut(err, "malformed response: ")
	_, ok := stricterThanNetHTTP[reason]
	return ok
}
