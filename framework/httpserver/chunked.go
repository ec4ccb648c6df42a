package httpserver

import (
	"bufio"
	"net/textproto"
)

// ChunkedDecoder decodes a chunked request body (RFC 9112 §7.1)
// incrementally. Its Split method is a bufio.SplitFunc for iostream's
// ReadScan, called with all bytes buffered so far each time more arrive;
// it remembers how far it has parsed, so arrival in small pieces costs
// linear time.
//
// Tokens: each non-empty token is a run of body bytes, a sub-slice of the
// caller's buffer (no copy), valid until the stream reuses that buffer. A
// chunk is delivered as soon as any of its bytes are buffered, so a large
// chunk never has to fit in the buffer. When the last-chunk and the trailer
// section have been read, Split delivers one non-nil empty token and Done
// reports true; further calls return bufio.ErrFinalToken with no token,
// which stops a bufio.Scanner. Bytes after the body (a pipelined request)
// are never consumed.
//
// Errors are *ParseError: 413 (ErrBodyTooLarge) as soon as a chunk size
// would take the decoded total past Limits.MaxBodyBytes; 400 for a
// malformed or overlong (more than 16 hex digits, or above int64) chunk
// size, whitespace after the size not followed by an extension, malformed
// chunk extensions or more than Limits.MaxChunkExtensionBytes of them in
// the body, chunk data not followed by CRLF, a bare CR, bare LF or NUL in
// control data, and malformed trailer fields (obs-fold included); 431 for
// a trailer section beyond Limits.MaxTrailerBytes or Limits.MaxHeaderCount
// lines; 400 (ErrIncomplete) for atEOF before the end.
//
// Trailers are validated and by default discarded. With KeepTrailers set,
// Trailer returns them, minus fields that must never come from a trailer
// (framing, routing, authentication and control fields such as
// Content-Length, Transfer-Encoding, Host, Authorization, Cookie): those
// are dropped silently, so a trailer can never change how the message was
// framed or routed.
//
// A ChunkedDecoder is loop-owned state of one request; not safe for
// concurrent use. The zero value is ready with default Limits; Reset
// prepares it for the next body.
type ChunkedDecoder struct {
	// Limits applies to the body; set it before the first Split.
	Limits Limits
	// KeepTrailers makes the decoder keep the trailer fields for Trailer.
	KeepTrailers bool

	state     chunkState
	off       int   // bytes of the current buffer parsed but not yet advanced over
	remaining int64 // bytes left in the current chunk's data
	size      int64 // chunk size being parsed
	digits    int   // hex digits of the chunk size so far
	decoded   int64 // body bytes delivered or announced so far
	extBytes  int   // chunk-extension bytes seen over the body

	trailerStart int // offset of the trailer section in the current buffer
	lineStart    int // offset of the trailer line being scanned
	trailerLines int
	trailer      Header

	limitsLoaded bool
	lim          Limits
}

type chunkState uint8

const (
	chunkSize          chunkState = iota // hex digits of chunk-size
	chunkSizeBWS                         // BWS after the size: only ';' may follow
	chunkExtPreName                      // after ';', BWS then a name
	chunkExtName                         // in an extension name
	chunkExtPostName                     // BWS after a name: '=', ';' or CR
	chunkExtPreValue                     // after '=', BWS then a value
	chunkExtToken                        // in a token value
	chunkExtQuoted                       // in a quoted-string value
	chunkExtQuotedPair                   // after a backslash in a quoted string
	chunkExtPostValue                    // BWS after a value: ';' or CR
	chunkSizeLF                          // CR seen at the end of the size line
	chunkData                            // remaining bytes of chunk data
	chunkDataCR                          // CRLF after chunk data
	chunkDataLF
	chunkTrailer // trailer section
	chunkDone
)

// maxChunkSizeDigits bounds the chunk-size, leading zeros included, as
// net/http does: 16 hex digits hold any int64.
const maxChunkSizeDigits = 16

// Reset prepares the decoder for a new body, keeping Limits and KeepTrailers.
func (d *ChunkedDecoder) Reset() {
	*d = ChunkedDecoder{Limits: d.Limits, KeepTrailers: d.KeepTrailers, lim: d.lim, limitsLoaded: d.limitsLoaded}
}

// Done reports whether the whole body, trailers included, has been decoded.
func (d *ChunkedDecoder) Done() bool { return d.state == chunkDone }

// Decoded returns the number of body bytes delivered so far.
func (d *ChunkedDecoder) Decoded() int64 { return d.decoded - d.remaining }

// Trailer returns the kept trailer fields (nil unless KeepTrailers was set
// and the body had permitted trailers). Valid once Done.
func (d *ChunkedDecoder) Trailer() Header { return d.trailer }

func chunkError(reason string) (int, []byte, error) {
	return 0, nil, badRequest(reason)
}

// Split implements bufio.SplitFunc; see the type comment.
func (d *ChunkedDecoder) Split(data []byte, atEOF bool) (advance int, token []byte, err error) {
	if !d.limitsLoaded {
		d.lim, d.limitsLoaded = d.Limits.WithDefaults(), true
	}
	if d.state == chunkDone {
		return 0, nil, bufio.ErrFinalToken
	}
	if d.off > len(data) {
		return 0, nil, badRequest("chunked decoder: buffer shrank between calls")
	}
	i := d.off
scan:
	for i < len(data) {
		c := data[i]
		switch d.state {
		case chunkSize:
			if isHexDigit(c) {
				d.digits++
				if d.digits > maxChunkSizeDigits || d.size > (1<<63-1)>>4 {
					return chunkError("chunk size too large")
				}
				d.size = d.size<<4 | hexValue(c)
				if d.decoded+d.size > d.lim.MaxBodyBytes {
					return 0, nil, &ParseError{Status: 413, Reason: "chunked body exceeds the body limit", Kind: ErrBodyTooLarge}
				}
				i++
				continue
			}
			if d.digits == 0 {
				return chunkError("missing chunk size")
			}
			switch c {
			case '\r':
				d.state = chunkSizeLF
			case ';':
				d.state = chunkExtPreName
			case ' ', '\t':
				d.state = chunkSizeBWS
			default:
				return chunkError("invalid byte in chunk size")
			}
			if c != '\r' {
				if err := d.countExt(); err != nil {
					return 0, nil, err
				}
			}
			i++
			continue
		case chunkSizeLF:
			if c != '\n' {
				return chunkError("bare CR in chunk size line")
			}
			i++
			if d.size == 0 {
				d.state = chunkTrailer
				d.trailerStart, d.lineStart = i, i
				continue
			}
			d.decoded += d.size
			d.remaining, d.size, d.digits = d.size, 0, 0
			d.state = chunkData
			continue
		case chunkData:
			n := int64(len(data) - i)
			if n > d.remaining {
				n = d.remaining
			}
			d.remaining -= n
			if d.remaining == 0 {
				d.state = chunkDataCR
			}
			end := i + int(n)
			d.off = 0
			return end, data[i:end], nil
		case chunkDataCR:
			if c != '\r' {
				return chunkError("chunk data not followed by CRLF")
			}
			d.state = chunkDataLF
			i++
			continue
		case chunkDataLF:
			if c != '\n' {
				return chunkError("chunk data not followed by CRLF")
			}
			d.state = chunkSize
			i++
			continue
		case chunkTrailer:
			adv, done, err := d.scanTrailer(data, i)
			if err != nil {
				return 0, nil, err
			}
			if !done {
				// Resume at adv: the end of data, or a CR awaiting its LF.
				i = adv
				break scan
			}
			d.state = chunkDone
			d.off = 0
			return adv, data[adv:adv], nil
		default:
			if err := d.extensionByte(c); err != nil {
				return 0, nil, err
			}
			if d.state != chunkSizeLF {
				if err := d.countExt(); err != nil {
					return 0, nil, err
				}
			}
			i++
			continue
		}
	}
	d.off = i
	if atEOF {
		return 0, nil, incomplete("connection closed in chunked body")
	}
	return 0, nil, nil
}

func (d *ChunkedDecoder) countExt() error {
	d.extBytes++
	if d.extBytes > d.lim.MaxChunkExtensionBytes {
		return badRequest("chunk extensions too large")
	}
	return nil
}

// extensionByte advances the chunk-ext grammar (RFC 9112 §7.1.1):
// *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] ) CRLF.
// Extensions are validated and skipped.
func (d *ChunkedDecoder) extensionByte(c byte) error {
	ws := c == ' ' || c == '\t'
	switch d.state {
	case chunkSizeBWS:
		switch {
		case ws:
		case c == ';':
			d.state = chunkExtPreName
		default:
			return badRequest("whitespace after chunk size without extension")
		}
	case chunkExtPreName:
		switch {
		case ws:
		case isTokenChar[c]:
			d.state = chunkExtName
		default:
			return badRequest("invalid chunk extension name")
		}
	case chunkExtName, chunkExtPostName:
		switch {
		case isTokenChar[c] && d.state == chunkExtName:
		case ws:
			d.state = chunkExtPostName
		case c == '=':
			d.state = chunkExtPreValue
		case c == ';':
			d.state = chunkExtPreName
		case c == '\r':
			d.state = chunkSizeLF
		default:
			return badRequest("invalid byte in chunk extension")
		}
	case chunkExtPreValue:
		switch {
		case ws:
		case c == '"':
			d.state = chunkExtQuoted
		case isTokenChar[c]:
			d.state = chunkExtToken
		default:
			return badRequest("invalid chunk extension value")
		}
	case chunkExtToken, chunkExtPostValue:
		switch {
		case isTokenChar[c] && d.state == chunkExtToken:
		case ws:
			d.state = chunkExtPostValue
		case c == ';':
			d.state = chunkExtPreName
		case c == '\r':
			d.state = chunkSizeLF
		default:
			return badRequest("invalid byte in chunk extension")
		}
	case chunkExtQuoted:
		switch {
		case c == '"':
			d.state = chunkExtPostValue
		case c == '\\':
			d.state = chunkExtQuotedPair
		case c == '\t' || c >= 0x20 && c != 0x7f:
		default:
			return badRequest("invalid byte in chunk extension quoted-string")
		}
	case chunkExtQuotedPair:
		if !isFieldValueChar(c) {
			return badRequest("invalid quoted-pair in chunk extension")
		}
		d.state = chunkExtQuoted
	}
	return nil
}

// scanTrailer scans the trailer section from offset i. It returns done with
// the offset just past the final CRLF, or the offset to resume from.
func (d *ChunkedDecoder) scanTrailer(data []byte, i int) (int, bool, error) {
	for ; i < len(data); i++ {
		switch data[i] {
		case '\r':
			if i+1 == len(data) {
				return i, false, nil // CR's LF not here yet: resume at the CR
			}
			if data[i+1] != '\n' {
				return 0, false, badRequest("bare CR in trailer section")
			}
			continue
		case '\n':
			if data[i-1] != '\r' {
				return 0, false, badRequest("bare LF in trailer section")
			}
			if i-1 == d.lineStart {
				if err := d.parseTrailer(data[d.trailerStart : i+1]); err != nil {
					return 0, false, err
				}
				return i + 1, true, nil
			}
			if i+1-d.trailerStart > d.lim.MaxTrailerBytes {
				return 0, false, headerTooLarge("trailer section too large")
			}
			d.lineStart = i + 1
			continue
		case 0:
			return 0, false, badRequest("NUL in trailer section")
		}
		if i == d.lineStart {
			d.trailerLines++
			if d.trailerLines > d.lim.MaxHeaderCount {
				return 0, false, headerTooLarge("too many trailer fields")
			}
		}
		if i+1-d.trailerStart > d.lim.MaxTrailerBytes {
			return 0, false, headerTooLarge("trailer section too large")
		}
	}
	return i, false, nil
}

// parseTrailer validates the complete trailer section (ending in CRLF CRLF
// or just CRLF) and keeps permitted fields when asked to.
func (d *ChunkedDecoder) parseTrailer(section []byte) error {
	pos := 0
	for pos+2 < len(section) {
		end := pos
		for section[end] != '\r' {
			end++
		}
		span, err := parseFieldLine(section, pos, end)
		if err != nil {
			return err
		}
		if d.KeepTrailers {
			name := textproto.CanonicalMIMEHeaderKey(string(section[span.nameStart:span.nameEnd]))
			if !forbiddenTrailer[name] {
				if d.trailer == nil {
					d.trailer = make(Header)
				}
				d.trailer[name] = append(d.trailer[name], string(section[span.valueStart:span.valueEnd]))
			}
		}
		pos = end + 2
	}
	return nil
}

// forbiddenTrailer lists fields a trailer must never carry (RFC 9110
// §6.5.1): they frame, route, authenticate or control the message, and
// their value was needed before the body. Such trailer fields are dropped.
var forbiddenTrailer = map[string]bool{
	"Authorization": true, "Cache-Control": true, "Connection": true,
	"Content-Encoding": true, "Content-Length": true, "Content-Range": true,
	"Content-Type": true, "Cookie": true, "Expect": true, "Host": true,
	"Keep-Alive": true, "Max-Forwards": true, "Pragma": true,
	"Proxy-Authorization": true, "Range": true, "Set-Cookie": true, "Te": true,
	"Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
}
