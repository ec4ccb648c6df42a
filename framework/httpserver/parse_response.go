package httpserver

import (
	"strings"
)

// ResponseHead is a parsed and validated HTTP/1.x response head, the
// client's side of RequestHead (framework/httpclient reads responses with
// it). Like RequestHead, its strings share one allocation copied from the
// input, so the input may be reused once ParseResponseHead returns.
type ResponseHead struct {
	Proto      string // "HTTP/1.1" or "HTTP/1.0"
	ProtoMajor int
	ProtoMinor int
	StatusCode int    // 100 to 599
	Reason     string // the reason phrase, possibly empty

	Header Header

	// ContentLength is the declared Content-Length, or -1 when absent
	// (or overridden by a chunked Transfer-Encoding).
	ContentLength int64

	// Chunked is true when Transfer-Encoding is exactly chunked.
	Chunked bool

	// BothLengths is true when the response carried Transfer-Encoding and
	// Content-Length: chunked wins (RFC 9112 §6.3 rule 3), but the message
	// may be an attempt at response splitting, so the connection must not
	// be reused after it.
	BothLengths bool

	// KeepAlive is true when the server lets the connection carry another
	// request once this response's body is read: HTTP/1.1 unless
	// Connection lists "close"; HTTP/1.0 only with "keep-alive".
	KeepAlive bool
}

// BodyAllowed reports whether a response with this status to a request
// with method may have a body (RFC 9112 §6.3 rules 1 and 2): never for
// HEAD, 1xx, 204 or 304. (A 2xx to CONNECT is a tunnel; clients here do
// not send CONNECT.)
func (r *ResponseHead) BodyAllowed(method string) bool {
	c := r.StatusCode
	return method != "HEAD" && c >= 200 && c != 204 && c != 304
}

// ParseResponseHead parses and validates a complete response head: the
// status line, the header field lines and the final empty line, each
// ending in CRLF, as delivered by HeadScanner (whose Limits bound the
// status line as they bound a request line). It applies the field-line
// rules of ParseRequestHead unchanged (no obs-fold, no bare CR or LF, no
// whitespace before a colon, token names, valid value bytes), and the
// framing rules a client needs against response splitting:
//   - the status line is HTTP-version SP 3DIGIT [SP reason-phrase], the
//     version HTTP/1.0 or HTTP/1.1 (another well-formed one is
//     ErrUnsupportedVersion), the code 100 to 599, the phrase VCHAR,
//     obs-text, SP or HTAB; no empty lines may precede it;
//   - Transfer-Encoding must be exactly one final chunked, on HTTP/1.1
//     only (ErrAmbiguousFraming; a coding before chunked is
//     ErrUnsupportedTransferCoding: no client here decodes one); with a
//     Content-Length as well, chunked wins and BothLengths is set;
//   - Content-Length must be 1*DIGIT fitting an int64; repeated field
//     lines must carry the same value (RFC 9110 §8.6 lets a recipient
//     accept identical repeats, as net/http does), else ErrAmbiguousFraming.
//
// The body limit is the caller's (a client's maximum response size); lim
// bounds the head only. Every failure is a *ParseError (its Status is a
// server's answer and means nothing to a client).
func ParseResponseHead(head []byte, lim Limits) (*ResponseHead, error) {
	lim = lim.WithDefaults()
	lineEnd, err := findLineEnd(head, 0, true)
	if err != nil {
		if err == errNoLineEnd {
			return nil, badRequest("incomplete response head")
		}
		return nil, err
	}
	if lineEnd > lim.MaxRequestLineBytes {
		return nil, badRequest("status line too long")
	}
	statusLineEnd := lineEnd

	s, header, err := parseFieldSection(head, lineEnd+2, lim, "response")
	if err != nil {
		return nil, err
	}
	r := &ResponseHead{ContentLength: -1, Header: header}
	if err := r.parseStatusLine(s[:statusLineEnd]); err != nil {
		return nil, err
	}
	if err := r.interpretFields(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *ResponseHead) parseStatusLine(line string) error {
	sp := strings.IndexByte(line, ' ')
	if sp < 0 {
		return badRequest("malformed status line")
	}
	r.Proto = line[:sp]
	var err error
	if r.ProtoMajor, r.ProtoMinor, err = parseHTTPVersion(r.Proto); err != nil {
		return err
	}
	rest := line[sp+1:]
	if len(rest) < 3 || !isDigit(rest[0]) || !isDigit(rest[1]) || !isDigit(rest[2]) {
		return badRequest("malformed status code")
	}
	r.StatusCode = int(rest[0]-'0')*100 + int(rest[1]-'0')*10 + int(rest[2]-'0')
	if r.StatusCode < 100 || r.StatusCode > 599 {
		return badRequest("status code out of range")
	}
	rest = rest[3:]
	if rest != "" {
		if rest[0] != ' ' {
			return badRequest("malformed status code")
		}
		r.Reason = rest[1:]
		for i := 0; i < len(r.Reason); i++ {
			if !isFieldValueChar(r.Reason[i]) {
				return badRequest("invalid byte in reason phrase")
			}
		}
	}
	return nil
}

// interpretFields applies the framing rules of ParseResponseHead's doc.
func (r *ResponseHead) interpretFields() error {
	h := r.Header
	http11 := r.ProtoMinor == 1
	contentLengths, hasContentLength := h["Content-Length"]
	transferEncodings, hasTransferEncoding := h["Transfer-Encoding"]
	if hasContentLength {
		n, ok := parseContentLength(contentLengths[0])
		if !ok {
			return ambiguous("invalid Content-Length")
		}
		for _, v := range contentLengths[1:] {
			if v != contentLengths[0] {
				return ambiguous("conflicting Content-Length values")
			}
		}
		r.ContentLength = n
	}
	if hasTransferEncoding {
		if !http11 {
			return ambiguous("Transfer-Encoding in an HTTP/1.0 response")
		}
		if err := checkTransferEncoding(transferEncodings); err != nil {
			return err
		}
		r.Chunked = true
		r.BothLengths = hasContentLength
		r.ContentLength = -1
	}
	var closeConn, keepAlive bool
	for _, v := range h["Connection"] {
		forEachListElement(v, func(elem string) bool {
			switch {
			case equalFoldLower(elem, "close"):
				closeConn = true
			case equalFoldLower(elem, "keep-alive"):
				keepAlive = true
			}
			return true
		})
	}
	r.KeepAlive = !closeConn && (http11 || keepAlive) && !r.BothLengths
	return nil
}
