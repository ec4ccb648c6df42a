package httpserver

// HeadScanner finds the end of a request head (the empty line after the
// header section) in a growing buffer. Its Split method is a
// bufio.SplitFunc meant for iostream's ReadScan: it is called with every
// byte buffered so far each time more arrive, and remembers how far it has
// already looked, so a head arriving one byte at a time costs O(n), not
// O(n²).
//
// The token it delivers is the head from the first byte of the request line
// through the final CRLF CRLF inclusive, ready for ParseRequestHead; up to
// a few empty lines before the request line (RFC 9112 §2.2) are skipped and
// included in advance but not in the token. The token aliases the caller's
// buffer and is valid until the stream reuses it (the next read).
//
// Split fails early, without waiting for the end of the head, with a
// *ParseError carrying the status to answer:
//   - 414 (ErrRequestLineTooLong) once the request line passes
//     Limits.MaxRequestLineBytes without its CRLF;
//   - 431 (ErrHeaderTooLarge) once the header lines pass
//     Limits.MaxHeaderBytes or Limits.MaxHeaderCount;
//   - 400 (ErrBadRequest) on a bare LF, a bare CR or a NUL anywhere in the
//     head, or too many empty lines before the request line;
//   - 400 (ErrIncomplete) when atEOF arrives mid-head.
//
// It checks only framing; ParseRequestHead validates the content.
//
// A HeadScanner is loop-owned state of one connection: not safe for
// concurrent use. After delivering a token (or an error) it is ready for the
// next request on the same connection; Reset restarts it explicitly. The
// zero value is ready to use with default Limits.
type HeadScanner struct {
	// Limits applies to every head scanned. Set it before the first Split.
	Limits Limits

	scanned      int  // bytes of data already examined
	lineStart    int  // offset of the line being scanned
	headStart    int  // offset of the request line (after skipped empty lines)
	fieldStart   int  // offset of the first header line; valid when inFields
	inFields     bool // the request line is complete
	emptyLines   int  // empty lines skipped before the request line
	fieldLines   int  // header field lines seen so far
	limitsLoaded bool
	lim          Limits // Limits with defaults applied
}

// Reset forgets any partial head, so the scanner can start on a new
// connection (or after the caller discarded the buffered bytes).
func (s *HeadScanner) Reset() {
	lim, loaded := s.lim, s.limitsLoaded
	*s = HeadScanner{Limits: s.Limits, lim: lim, limitsLoaded: loaded}
}

func (s *HeadScanner) restart() {
	s.scanned, s.lineStart, s.headStart, s.fieldStart = 0, 0, 0, 0
	s.inFields, s.emptyLines, s.fieldLines = false, 0, 0
}

// Split implements bufio.SplitFunc; see the type comment. data must start
// with the bytes seen by the previous call (as bufio.Scanner and ReadScan
// guarantee) unless the previous call returned a token or an error.
func (s *HeadScanner) Split(data []byte, atEOF bool) (advance int, token []byte, err error) {
	if !s.limitsLoaded {
		s.lim, s.limitsLoaded = s.Limits.WithDefaults(), true
	}
	if len(data) < s.scanned {
		// The caller did not keep the bytes it showed us; rescan.
		s.restart()
	}
	lim := &s.lim
	i := s.scanned
	for ; i < len(data); i++ {
		c := data[i]
		switch c {
		case '\r':
			if i+1 == len(data) {
				// Whether this CR is bare depends on the next byte.
				s.scanned = i
				return s.needMore(data, atEOF)
			}
			if data[i+1] != '\n' {
				s.restart()
				return 0, nil, badRequest("bare CR in message head")
			}
			if s.inFields && i > s.lineStart {
				if err := s.checkFieldBytes(i + 1); err != nil {
					return 0, nil, err
				}
			}
			continue
		case '\n':
			if i == 0 || data[i-1] != '\r' {
				s.restart()
				return 0, nil, badRequest("bare LF in message head")
			}
			empty := i-1 == s.lineStart
			switch {
			case !s.inFields && empty:
				s.emptyLines++
				if s.emptyLines > maxLeadingEmptyLines {
					s.restart()
					return 0, nil, badRequest("too many empty lines before request line")
				}
				s.headStart = i + 1
			case !s.inFields:
				s.inFields = true
				s.fieldStart = i + 1
			case empty:
				token = data[s.headStart : i+1]
				s.restart()
				return i + 1, token, nil
			default:
				if err := s.checkFieldBytes(i + 1); err != nil {
					return 0, nil, err
				}
			}
			s.lineStart = i + 1
			continue
		case 0:
			s.restart()
			return 0, nil, badRequest("NUL in message head")
		}
		if !s.inFields {
			if i+1-s.lineStart > lim.MaxRequestLineBytes {
				s.restart()
				return 0, nil, &ParseError{Status: 414, Reason: "request line too long", Kind: ErrRequestLineTooLong}
			}
			continue
		}
		if i == s.lineStart {
			s.fieldLines++
			if s.fieldLines > lim.MaxHeaderCount {
				s.restart()
				return 0, nil, headerTooLarge("too many header fields")
			}
		}
		if err := s.checkFieldBytes(i + 1); err != nil {
			return 0, nil, err
		}
	}
	s.scanned = i
	return s.needMore(data, atEOF)
}

// checkFieldBytes fails when the header lines up to offset end exceed the limit.
func (s *HeadScanner) checkFieldBytes(end int) error {
	if end-s.fieldStart > s.lim.MaxHeaderBytes {
		s.restart()
		return headerTooLarge("header section too large")
	}
	return nil
}

func (s *HeadScanner) needMore(data []byte, atEOF bool) (int, []byte, error) {
	if !atEOF {
		return 0, nil, nil
	}
	if s.headStart == len(data) {
		// Nothing but (possibly) skipped empty lines: a clean close.
		s.restart()
		return len(data), nil, nil
	}
	s.restart()
	return 0, nil, incomplete("connection closed in message head")
}
