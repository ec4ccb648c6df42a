package httpclient

import (
	"errors"
	"fmt"

	"chat/framework/httpserver"
)

// maxInterimResponses bounds the 1xx responses skipped before the final
// one (net/http's Transport allows 5 too): a server that sends 100
// Continue forever must not hold a fetch.
const maxInterimResponses = 5

type parseState uint8

const (
	parseHead       parseState = iota // status line and fields
	parseLength                       // Content-Length body
	parseChunked                      // chunked body
	parseUntilClose                   // body delimited by the server's close
	parseDone
)

// responseParser reads one response from bytes pushed into it as they
// arrive, with the server's parsers: httpserver.HeadScanner finds the
// head, httpserver.ParseResponseHead checks it, httpserver.ChunkedDecoder
// decodes a chunked body. Framing follows RFC 9112 §6.3: no body for HEAD,
// 1xx, 204 and 304; chunked wins over Content-Length; then
// Content-Length; otherwise the body runs to the close. 1xx responses
// other than 101 are skipped. Loop-owned state of one connection.
type responseParser struct {
	method  string
	limits  httpserver.Limits
	maxBody int64

	state   parseState
	pending []byte // bytes received but not yet consumed: a partial head or chunk line
	heads   httpserver.HeadScanner
	chunks  httpserver.ChunkedDecoder
	head    *httpserver.ResponseHead
	interim int
	body    []byte
	left    int64 // Content-Length bytes still to come

	received bool // some byte of a response arrived
	extra    bool // bytes followed the response (nothing may: one request at a time)
}

// reset prepares the parser for the response to a request with method.
func (p *responseParser) reset(method string, maxBody int64, lim httpserver.Limits) {
	pending := p.pending[:0]
	if cap(pending) > 4<<10 {
		pending = nil // an idle connection keeps no large buffer
	}
	*p = responseParser{method: method, limits: lim, maxBody: maxBody, pending: pending}
	p.heads.Limits = lim
	p.chunks.Limits = lim
	p.chunks.Limits.MaxBodyBytes = maxBody
	p.chunks.KeepTrailers = true
}

// feed takes the next bytes of the connection (valid only during the
// call), atEOF once the server has closed its side, and reports whether
// the response is complete. An error ends the response and the connection.
func (p *responseParser) feed(data []byte, atEOF bool) (bool, error) {
	if len(data) > 0 {
		p.received = true
	}
	in := data
	if len(p.pending) > 0 {
		p.pending = append(p.pending, data...)
		in = p.pending
	}
	for p.state != parseDone {
		n, progressed, err := p.step(in, atEOF)
		in = in[n:]
		if err != nil {
			return false, err
		}
		if !progressed {
			break
		}
	}
	if p.state == parseDone {
		p.extra = len(in) > 0
		p.pending = p.pending[:0]
		return true, nil
	}
	p.pending = append(p.pending[:0], in...) // overlapping copies are safe
	return false, nil
}

// step advances over in by at most one token.
func (p *responseParser) step(in []byte, atEOF bool) (int, bool, error) {
	switch p.state {
	case parseHead:
		adv, token, err := p.heads.Split(in, atEOF)
		if err != nil {
			if errors.Is(err, httpserver.ErrIncomplete) {
				return 0, false, fmt.Errorf("%w (in the response head)", ErrConnectionClosed)
			}
			return 0, false, protocolError(err)
		}
		if token == nil {
			if atEOF {
				return 0, false, fmt.Errorf("%w (before a response)", ErrConnectionClosed)
			}
			return 0, false, nil
		}
		if adv != len(token) {
			return 0, false, &ProtocolError{Reason: "empty line before the status line"}
		}
		head, err := httpserver.ParseResponseHead(token, p.limits)
		if err != nil {
			return 0, false, protocolError(err)
		}
		if head.StatusCode < 200 && head.StatusCode != 101 {
			p.interim++
			if p.interim > maxInterimResponses {
				return 0, false, &ProtocolError{Reason: "too many 1xx responses"}
			}
			return adv, true, nil
		}
		p.head = head
		switch {
		case !head.BodyAllowed(p.method):
			p.state = parseDone
		case head.Chunked:
			p.state = parseChunked
		case head.ContentLength >= 0:
			if head.ContentLength > p.maxBody {
				return 0, false, fmt.Errorf("%w: Content-Length %d, the limit is %d", ErrBodyTooLarge, head.ContentLength, p.maxBody)
			}
			p.left = head.ContentLength
			p.body = make([]byte, 0, min(p.left, 1<<20)) // grows as the bytes arrive past 1 MiB
			p.state = parseLength
			if p.left == 0 {
				p.state = parseDone
			}
		default:
			p.state = parseUntilClose
		}
		return adv, true, nil
	case parseLength:
		n := min(int64(len(in)), p.left)
		if n == 0 {
			if atEOF {
				return 0, false, fmt.Errorf("%w (after %d of %d body bytes)", ErrConnectionClosed, int64(len(p.body)), p.head.ContentLength)
			}
			return 0, false, nil
		}
		p.body = append(p.body, in[:n]...)
		p.left -= n
		if p.left == 0 {
			p.state = parseDone
		}
		return int(n), true, nil
	case parseChunked:
		adv, token, err := p.chunks.Split(in, atEOF)
		switch {
		case errors.Is(err, httpserver.ErrBodyTooLarge):
			return 0, false, fmt.Errorf("%w: chunked body past the limit of %d", ErrBodyTooLarge, p.maxBody)
		case errors.Is(err, httpserver.ErrIncomplete):
			return 0, false, fmt.Errorf("%w (in the chunked body)", ErrConnectionClosed)
		case err != nil:
			return 0, false, protocolError(err)
		}
		if token == nil {
			return adv, adv > 0, nil
		}
		p.body = append(p.body, token...)
		if p.chunks.Done() {
			p.state = parseDone
		}
		return adv, true, nil
	case parseUntilClose:
		if int64(len(p.body))+int64(len(in)) > p.maxBody {
			return 0, false, fmt.Errorf("%w: body past the limit of %d", ErrBodyTooLarge, p.maxBody)
		}
		p.body = append(p.body, in...)
		if atEOF {
			p.state = parseDone
		}
		return len(in), len(in) > 0 || atEOF, nil
	}
	return 0, false, nil
}

// reusable reports whether the connection may carry the next request once
// this response is complete: the server allows it, the body was framed by
// length (not by the close), and nothing followed the response.
func (p *responseParser) reusable() bool {
	return p.state == parseDone && p.head != nil && p.head.KeepAlive && !p.extra &&
		p.head.StatusCode != 101 && (p.head.Chunked || p.head.ContentLength >= 0 || !p.head.BodyAllowed(p.method))
}

// response hands over the parsed response; the parser forgets it.
func (p *responseParser) response() *Response {
	h := p.head
	r := &Response{Code: h.StatusCode, Reason: h.Reason, Proto: h.Proto, Header: h.Header, Body: p.body}
	if p.state == parseDone && h.Chunked {
		r.Trailer = p.chunks.Trailer()
	}
	p.body = nil
	return r
}

func protocolError(err error) error {
	var pe *httpserver.ParseError
	if errors.As(err, &pe) {
		return &ProtocolError{Reason: pe.Reason, Err: err}
	}
	return &ProtocolError{Reason: err.Error(), Err: err}
}
