package httpserver

import (
	"bytes"
	"net/netip"
	"strings"
)

// RequestHead is a parsed and validated HTTP/1.x request head. All its
// strings share one backing allocation copied from the input, so the input
// buffer may be reused as soon as ParseRequestHead returns.
//
// A RequestHead is owned by the connection that parsed it (loop-owned); it
// is immutable by convention once handed to a handler.
type RequestHead struct {
	Method string // method token, case-sensitive ("GET")
	Target string // request-target exactly as received, fragment included

	// Path and RawQuery split Target: for origin-form and absolute-form,
	// Path is the (still percent-encoded) path, "/" when an absolute-form
	// target has none, and RawQuery what follows the first '?'; a
	// fragment ('#' and what follows) is in neither. For
	// asterisk-form (OPTIONS *) Path is "*"; for authority-form (CONNECT)
	// both are empty.
	Path     string
	RawQuery string

	Proto      string // "HTTP/1.1" or "HTTP/1.0"
	ProtoMajor int
	ProtoMinor int

	Header Header

	// Host is the authority of an absolute-form or authority-form target,
	// otherwise the Host field value (possibly empty; always present for
	// HTTP/1.1, optional for HTTP/1.0).
	Host string

	// ContentLength is the declared Content-Length, or -1 when absent.
	// A request with neither Content-Length nor Chunked has no body
	// (RFC 9112 §6.3 rule 7), so -1 means "zero bytes" for a request.
	ContentLength int64

	// Chunked is true when the body uses the chunked transfer coding (the
	// only Transfer-Encoding accepted); decode it with ChunkedDecoder.
	Chunked bool

	// KeepAlive is true when the connection may carry another request after
	// this one: HTTP/1.1 unless Connection lists "close"; HTTP/1.0 only if
	// Connection lists "keep-alive" and not "close".
	KeepAlive bool

	// Expect100Continue is true for "Expect: 100-continue" on HTTP/1.1 (RFC
	// 9110 §10.1.1 has servers ignore it on HTTP/1.0). Any other expectation
	// is rejected with 417.
	Expect100Continue bool

	// Upgrade is the Upgrade field value when an HTTP/1.1 request's
	// Connection lists "upgrade" (e.g. "websocket"), otherwise "". Use
	// UpgradeTo to test for one protocol.
	Upgrade string
}

// HasBody reports whether a body follows the head.
func (r *RequestHead) HasBody() bool { return r.Chunked || r.ContentLength > 0 }

// UpgradeTo reports whether the request asks to upgrade to protocol
// (compared case-insensitively against each element of Upgrade, ignoring
// any "/version" suffix); protocol must be lower case, e.g. "websocket".
func (r *RequestHead) UpgradeTo(protocol string) bool {
	found := false
	forEachListElement(r.Upgrade, func(elem string) bool {
		if i := indexByteString(elem, '/'); i >= 0 {
			elem = elem[:i]
		}
		found = equalFoldLower(elem, protocol)
		return !found
	})
	return found
}

// fieldSpan locates one header field in the copied head string.
type fieldSpan struct {
	nameStart, nameEnd, valueStart, valueEnd int32
}

// ParseRequestHead parses and validates a complete request head: the request
// line, the header field lines and the final empty line, each ending in
// CRLF, as delivered by HeadScanner (a few leading empty lines are skipped
// here too). It enforces lim itself, so it is safe on input that did not go
// through a HeadScanner. head is not retained.
//
// Every failure is a *ParseError; besides the limits (414, 431) and framing
// errors the scanner also reports, it rejects:
//   - 505 for a well-formed HTTP-version other than HTTP/1.0 and HTTP/1.1;
//   - 400 for a malformed request line: RFC 9112 §3 wants exactly
//     method SP request-target SP HTTP-version, so doubled or tab
//     separators are refused, and so is a line without a version. That
//     would be an HTTP/0.9 request, which carries no Host and is answered
//     without a status line; RFC 9112 Appendix C.1 has servers that pick
//     the site by Host drop HTTP/0.9, and observes that such lines are
//     mostly HTTP/1.x requests whose target was sent unencoded;
//   - 400 for a request-target in the wrong form (RFC 9112 §3.2):
//     origin-form and absolute-form (http or https scheme) for any method,
//     authority-form only and always for CONNECT (§3.2.3), asterisk-form
//     only for OPTIONS (§3.2.4: "*" names the server itself, which only a
//     server-wide OPTIONS means; a GET * would reach handlers as a path
//     that is not one), and no userinfo in an absolute-form authority
//     (RFC 9110 §4.2.4: a sender must not generate it and a recipient
//     should treat it as an error, since "http://bank@evil/" is a phishing
//     shape);
//   - 400 for a request-target byte that is not visible ASCII (%x21-7E):
//     a control byte, SP (which would split the request line), DEL, or a
//     byte >= 0x80. Every visible ASCII byte is accepted, including those
//     RFC 3986 would have percent-encoded ('"', '|', '{', '\\', ...),
//     because browsers send them raw in queries and net/http and Node
//     accept them. Bytes >= 0x80 are refused although net/http and Node
//     pass them through: RFC 3986 §2 and RFC 9112 §3.2 have no place for
//     them, browsers always percent-encode them (the WHATWG URL standard),
//     and accepting them would leave handlers guessing the charset and let
//     one path have two spellings (raw and percent-encoded) that routers,
//     caches and proxies compare differently;
//   - 400 for invalid percent-encoding ('%' not followed by two hex
//     digits) in the path, which handlers decode (net/http refuses it
//     too); in the query it is passed through, as browsers send "?q=100%"
//     raw and net/http accepts it (url.ParseQuery skips such a pair);
//   - a fragment ("#..."), which clients should not send but some do, is
//     accepted and dropped: it is kept in Target (exactly as received) but
//     is in neither Path nor RawQuery, since the target URI excludes it
//     (RFC 9110 §7.1). The authority and asterisk forms take none;
//   - 400 for obsolete line folding, whitespace before a colon, an empty or
//     non-token field name, a field value byte other than VCHAR, obs-text,
//     SP or HTAB;
//   - 400 for a missing (HTTP/1.1), repeated or malformed Host;
//   - 400 (ErrAmbiguousFraming) for Transfer-Encoding with Content-Length,
//     Transfer-Encoding on HTTP/1.0, a final coding other than chunked,
//     chunked applied twice, an empty Transfer-Encoding, more than one
//     Content-Length field line (even with equal values), and a
//     Content-Length that is not 1*DIGIT fitting in an int64 (so "+5",
//     "-1", "0x10", "5,5" and "" are rejected; OWS around the value is
//     field syntax and is allowed);
//   - 501 (ErrUnsupportedTransferCoding) for any coding before a final
//     chunked ("gzip, chunked", "deflate, chunked"): we decode none, and
//     RFC 9112 §6.1 answers a coding the server does not implement with 501;
//   - 413 (ErrBodyTooLarge) for a Content-Length above lim.MaxBodyBytes;
//   - 417 (ErrExpectationFailed) for an Expect other than 100-continue.
func ParseRequestHead(head []byte, lim Limits) (*RequestHead, error) {
	lim = lim.WithDefaults()

	pos := 0
	for n := 0; bytes.HasPrefix(head[pos:], crlf); n++ {
		if n == maxLeadingEmptyLines {
			return nil, badRequest("too many empty lines before request line")
		}
		pos += 2
	}
	head = head[pos:]

	// Request line.
	lineEnd, err := findLineEnd(head, 0, true)
	if err != nil {
		if err == errNoLineEnd {
			if len(head) > lim.MaxRequestLineBytes {
				return nil, &ParseError{Status: 414, Reason: "request line too long", Kind: ErrRequestLineTooLong}
			}
			return nil, badRequest("incomplete request head")
		}
		return nil, err
	}
	if lineEnd > lim.MaxRequestLineBytes {
		return nil, &ParseError{Status: 414, Reason: "request line too long", Kind: ErrRequestLineTooLong}
	}
	requestLineEnd := lineEnd

	s, header, err := parseFieldSection(head, lineEnd+2, lim, "request")
	if err != nil {
		return nil, err
	}
	r := &RequestHead{ContentLength: -1, Header: header}
	if err := r.parseRequestLine(s[:requestLineEnd]); err != nil {
		return nil, err
	}
	if err := r.interpretFields(lim); err != nil {
		return nil, err
	}
	return r, nil
}

// parseFieldSection validates the header field lines of a message head
// (request or response: what names it in errors) from fieldStart to the
// empty line that must end head, and returns one copy of the whole head
// with field names in canonical form, which backs every string of the
// result, and the fields, in order, as a Header whose values point into
// it. Both parsers share it, so a request and a response are held to the
// same field rules.
func parseFieldSection(head []byte, fieldStart int, lim Limits, what string) (string, Header, error) {
	var spanArray [32]fieldSpan
	spans := spanArray[:0]
	pos := fieldStart
	for {
		lineEnd, err := findLineEnd(head, pos, false)
		if err != nil {
			if err == errNoLineEnd {
				if len(head)-fieldStart > lim.MaxHeaderBytes {
					return "", nil, headerTooLarge("header section too large")
				}
				return "", nil, badRequest("incomplete " + what + " head")
			}
			return "", nil, err
		}
		if lineEnd == pos {
			if lineEnd+2 != len(head) {
				return "", nil, badRequest("bytes after the end of the " + what + " head")
			}
			break
		}
		if lineEnd+2-fieldStart > lim.MaxHeaderBytes {
			return "", nil, headerTooLarge("header section too large")
		}
		if len(spans) == lim.MaxHeaderCount {
			return "", nil, headerTooLarge("too many header fields")
		}
		span, err := parseFieldLine(head, pos, lineEnd)
		if err != nil {
			return "", nil, err
		}
		spans = append(spans, span)
		pos = lineEnd + 2
	}

	var b strings.Builder
	b.Grow(len(head))
	b.Write(head[:fieldStart])
	last := fieldStart
	for _, sp := range spans {
		b.Write(head[last:sp.nameStart])
		writeCanonicalName(&b, head[sp.nameStart:sp.nameEnd])
		last = int(sp.nameEnd)
	}
	b.Write(head[last:])
	s := b.String()

	header := make(Header, len(spans))
	values := make([]string, len(spans))
	for i, sp := range spans {
		name := s[sp.nameStart:sp.nameEnd]
		values[i] = s[sp.valueStart:sp.valueEnd]
		if prev, ok := header[name]; ok {
			header[name] = append(prev, values[i])
		} else {
			header[name] = values[i : i+1 : i+1]
		}
	}
	return s, header, nil
}

// parseHTTPVersion reads a request's or status line's HTTP-version: 1.1
// or 1.0; another well-formed version is ErrUnsupportedVersion (505), any
// other text a 400.
func parseHTTPVersion(proto string) (major, minor int, err error) {
	switch proto {
	case "HTTP/1.1":
		return 1, 1, nil
	case "HTTP/1.0":
		return 1, 0, nil
	}
	p := proto
	if len(p) == len("HTTP/x.y") && strings.HasPrefix(p, "HTTP/") && isDigit(p[5]) && p[6] == '.' && isDigit(p[7]) {
		return 0, 0, &ParseError{Status: 505, Reason: "HTTP version not supported", Kind: ErrUnsupportedVersion}
	}
	return 0, 0, badRequest("malformed HTTP version")
}

var crlf = []byte("\r\n")

var errNoLineEnd = badRequest("no line end")

// findLineEnd returns the offset of the CR ending the line that starts at
// pos, checking for a bare LF, and for bare CR and NUL inside the line when
// checkBytes is set (parseFieldLine checks field lines itself).
func findLineEnd(head []byte, pos int, checkBytes bool) (int, error) {
	i := bytes.IndexByte(head[pos:], '\n')
	if i < 0 {
		for _, c := range head[pos:] {
			if c == 0 {
				return 0, badRequest("NUL in message head")
			}
		}
		if j := bytes.IndexByte(head[pos:], '\r'); j >= 0 && j+1 < len(head)-pos {
			return 0, badRequest("bare CR in message head")
		}
		return 0, errNoLineEnd
	}
	end := pos + i
	if i == 0 || head[end-1] != '\r' {
		return 0, badRequest("bare LF in message head")
	}
	end--
	if !checkBytes {
		return end, nil
	}
	for _, c := range head[pos:end] {
		if c == '\r' {
			return 0, badRequest("bare CR in message head")
		}
		if c == 0 {
			return 0, badRequest("NUL in message head")
		}
	}
	return end, nil
}

// parseFieldLine validates the field line head[start:end] (without CRLF):
// field-name ":" OWS field-value OWS.
func parseFieldLine(head []byte, start, end int) (fieldSpan, error) {
	line := head[start:end]
	if line[0] == ' ' || line[0] == '\t' {
		return fieldSpan{}, badRequest("obsolete line folding in header")
	}
	colon := -1
	for i, c := range line {
		if c == ':' {
			colon = i
			break
		}
		if !isTokenChar[c] {
			if err := controlByteError(c); err != nil {
				return fieldSpan{}, err
			}
			if c == ' ' || c == '\t' {
				return fieldSpan{}, badRequest("whitespace between header field name and colon")
			}
			return fieldSpan{}, badRequest("invalid byte in header field name")
		}
	}
	switch colon {
	case -1:
		return fieldSpan{}, badRequest("header field line without colon")
	case 0:
		return fieldSpan{}, badRequest("empty header field name")
	}
	vs, ve := colon+1, len(line)
	for _, c := range line[vs:] {
		if !isFieldValueChar(c) {
			if err := controlByteError(c); err != nil {
				return fieldSpan{}, err
			}
			return fieldSpan{}, badRequest("invalid byte in header field value")
		}
	}
	for vs < ve && (line[vs] == ' ' || line[vs] == '\t') {
		vs++
	}
	for ve > vs && (line[ve-1] == ' ' || line[ve-1] == '\t') {
		ve--
	}
	return fieldSpan{
		nameStart: int32(start), nameEnd: int32(start + colon),
		valueStart: int32(start + vs), valueEnd: int32(start + ve),
	}, nil
}

// controlByteError names the framing errors a CR or NUL inside a line is.
func controlByteError(c byte) error {
	switch c {
	case '\r':
		return badRequest("bare CR in message head")
	case 0:
		return badRequest("NUL in message head")
	}
	return nil
}

// writeCanonicalName writes a valid field name the way
// textproto.CanonicalMIMEHeaderKey spells it: upper case at the start and
// after each '-', lower case elsewhere.
func writeCanonicalName(b *strings.Builder, name []byte) {
	upper := true
	for _, c := range name {
		if upper && 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		} else if !upper && 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
		upper = c == '-'
	}
}

func (r *RequestHead) parseRequestLine(line string) error {
	sp1 := strings.IndexByte(line, ' ')
	if sp1 < 0 {
		return badRequest("malformed request line")
	}
	sp2 := strings.IndexByte(line[sp1+1:], ' ')
	if sp2 < 0 {
		return badRequest("malformed request line")
	}
	sp2 += sp1 + 1
	r.Method, r.Target, r.Proto = line[:sp1], line[sp1+1:sp2], line[sp2+1:]

	var err error
	if r.ProtoMajor, r.ProtoMinor, err = parseHTTPVersion(r.Proto); err != nil {
		return err
	}
	if r.Method == "" {
		return badRequest("empty method")
	}
	for i := 0; i < len(r.Method); i++ {
		if !isTokenChar[r.Method[i]] {
			return badRequest("invalid byte in method")
		}
	}
	return r.parseTarget()
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// parseTarget validates r.Target and sets Path, RawQuery and, for the
// absolute and authority forms, Host. The rules and their reasons are in
// ParseRequestHead's doc.
func (r *RequestHead) parseTarget() error {
	t := r.Target
	if t == "" {
		return badRequest("empty request-target")
	}
	// The path (up to the first '?' or '#') must be validly
	// percent-encoded: handlers decode it. The rest is only checked for
	// visible ASCII.
	i := 0
	for ; i < len(t); i++ {
		c := t[i]
		if c == '?' || c == '#' {
			break
		}
		if !isTargetChar[c] {
			return targetByteError(c)
		}
		if c == '%' && (i+2 >= len(t) || !isHexDigit(t[i+1]) || !isHexDigit(t[i+2])) {
			return badRequest("invalid percent-encoding in request-target")
		}
	}
	for ; i < len(t); i++ {
		if !isTargetChar[t[i]] {
			return targetByteError(t[i])
		}
	}
	switch {
	case r.Method == "CONNECT":
		// authority-form = uri-host ":" port (RFC 9112 §3.2.3).
		colon := strings.LastIndexByte(t, ':')
		if colon <= 0 || colon == len(t)-1 || !validHost(t) {
			return badRequest("CONNECT requires an authority-form request-target")
		}
		for i := colon + 1; i < len(t); i++ {
			if !isDigit(t[i]) {
				return badRequest("CONNECT requires an authority-form request-target")
			}
		}
		r.Host = t
		return nil
	case t == "*":
		if r.Method != "OPTIONS" {
			return badRequest("asterisk-form request-target is only allowed for OPTIONS")
		}
		r.Path = "*"
		return nil
	}
	// The fragment is for the client (RFC 9110 §7.1): neither Path nor
	// RawQuery carries it.
	if hash := strings.IndexByte(t, '#'); hash >= 0 {
		t = t[:hash]
	}
	if t != "" && t[0] == '/' {
		r.Path, r.RawQuery, _ = strings.Cut(t, "?")
		return nil
	}
	// absolute-form: scheme "://" authority path-abempty [ "?" query ].
	// We serve http and https URIs only, and reject userinfo, which RFC
	// 9110 §4.2.4 deprecates as a phishing vector.
	rest, ok := cutPrefixFold(t, "http://")
	if !ok {
		rest, ok = cutPrefixFold(t, "https://")
	}
	if !ok {
		return badRequest("request-target is not origin-form or absolute-form with an http(s) scheme")
	}
	end := strings.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	authority := rest[:end]
	if authority == "" || strings.IndexByte(authority, '@') >= 0 || !validHost(authority) {
		return badRequest("invalid authority in absolute-form request-target")
	}
	r.Host = authority
	r.Path, r.RawQuery, _ = strings.Cut(rest[end:], "?")
	if r.Path == "" {
		r.Path = "/"
	}
	return nil
}

// targetByteError names why c, outside isTargetChar, is refused.
func targetByteError(c byte) error {
	if c >= 0x80 {
		return badRequest("non-ASCII byte in request-target")
	}
	return badRequest("control byte in request-target")
}

func cutPrefixFold(s, lowerPrefix string) (string, bool) {
	if len(s) >= len(lowerPrefix) && equalFoldLower(s[:len(lowerPrefix)], lowerPrefix) {
		return s[len(lowerPrefix):], true
	}
	return s, false
}

// validHost checks a Host value or authority: uri-host [ ":" port ] where
// uri-host is an IPv6 address in brackets or a reg-name / IPv4 address of RFC
// 3986 host bytes (no ':'), and port is *DIGIT.
func validHost(h string) bool {
	for i := 0; i < len(h); i++ {
		if !isHostChar[h[i]] {
			return false
		}
	}
	port := ""
	if strings.HasPrefix(h, "[") {
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return false
		}
		// IP-literal: an IPv6 address (IPvFuture is not supported).
		if addr, err := netip.ParseAddr(h[1:end]); err != nil || !addr.Is6() || addr.Zone() != "" {
			return false
		}
		port = h[end+1:]
		if port != "" && port[0] != ':' {
			return false
		}
	} else if i := strings.IndexByte(h, ':'); i >= 0 {
		port = h[i:]
		if strings.ContainsAny(h[:i], "[]") {
			return false
		}
	} else if strings.ContainsAny(h, "[]") {
		return false
	}
	for i := 1; i < len(port); i++ {
		if !isDigit(port[i]) {
			return false
		}
	}
	return true
}

// interpretFields applies the semantic and anti-smuggling rules to the header.
func (r *RequestHead) interpretFields(lim Limits) error {
	h := r.Header
	http11 := r.ProtoMinor == 1

	hosts := h["Host"]
	switch {
	case len(hosts) > 1:
		return badRequest("repeated Host header")
	case len(hosts) == 0 && http11:
		return badRequest("missing Host header")
	case len(hosts) == 1:
		if !validHost(hosts[0]) {
			return badRequest("malformed Host header")
		}
		if r.Host == "" {
			r.Host = hosts[0]
		}
	}

	contentLengths, hasContentLength := h["Content-Length"]
	transferEncodings, hasTransferEncoding := h["Transfer-Encoding"]
	if hasTransferEncoding {
		if !http11 {
			return ambiguous("Transfer-Encoding in an HTTP/1.0 request")
		}
		if hasContentLength {
			return ambiguous("Transfer-Encoding together with Content-Length")
		}
		if err := r.parseTransferEncoding(transferEncodings); err != nil {
			return err
		}
	}
	if hasContentLength {
		if len(contentLengths) > 1 {
			return ambiguous("repeated Content-Length")
		}
		n, ok := parseContentLength(contentLengths[0])
		if !ok {
			return ambiguous("invalid Content-Length")
		}
		if n > lim.MaxBodyBytes {
			return &ParseError{Status: 413, Reason: "Content-Length exceeds the body limit", Kind: ErrBodyTooLarge}
		}
		r.ContentLength = n
	}

	var closeConn, keepAlive, upgrade bool
	for _, v := range h["Connection"] {
		forEachListElement(v, func(elem string) bool {
			switch {
			case equalFoldLower(elem, "close"):
				closeConn = true
			case equalFoldLower(elem, "keep-alive"):
				keepAlive = true
			case equalFoldLower(elem, "upgrade"):
				upgrade = true
			}
			return true
		})
	}
	r.KeepAlive = !closeConn && (http11 || keepAlive)
	if upgrade && http11 {
		if u := h["Upgrade"]; len(u) > 0 {
			r.Upgrade = u[0]
		}
	}

	for _, v := range h["Expect"] {
		unsupported := false
		forEachListElement(v, func(elem string) bool {
			if equalFoldLower(elem, "100-continue") {
				r.Expect100Continue = http11
				return true
			}
			unsupported = true
			return false
		})
		if unsupported {
			return &ParseError{Status: 417, Reason: "unsupported expectation", Kind: ErrExpectationFailed}
		}
	}
	return nil
}

// parseTransferEncoding accepts exactly one coding, chunked, over all
// Transfer-Encoding field lines. RFC 9112 §6.3 makes a final coding other
// than chunked a 400 (the body length is unknowable); a coding we do not
// implement before a final chunked is a 501 (RFC 9112 §6.1).
func (r *RequestHead) parseTransferEncoding(values []string) error {
	if err := checkTransferEncoding(values); err != nil {
		return err
	}
	r.Chunked = true
	return nil
}

// checkTransferEncoding is parseTransferEncoding's rule, shared with
// ParseResponseHead: nil when the codings are exactly one final chunked.
func checkTransferEncoding(values []string) error {
	var codings, chunked int
	var lastChunked, unsupported bool
	for _, v := range values {
		forEachListElement(v, func(elem string) bool {
			codings++
			lastChunked = equalFoldLower(elem, "chunked")
			if lastChunked {
				chunked++
			} else {
				unsupported = true
			}
			return true
		})
	}
	switch {
	case codings == 0:
		return ambiguous("empty Transfer-Encoding")
	case !lastChunked:
		return ambiguous("final transfer coding is not chunked")
	case chunked > 1:
		return ambiguous("chunked transfer coding applied more than once")
	case unsupported:
		return &ParseError{Status: 501, Reason: "unsupported transfer coding before chunked", Kind: ErrUnsupportedTransferCoding}
	}
	return nil
}

// parseContentLength accepts 1*DIGIT that fits in an int64 (RFC 9110 §8.6),
// leading zeros included (as net/http does; the header limit bounds them).
// Lists ("5, 5") are rejected rather than deduplicated: simplest and safe.
func parseContentLength(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isDigit(c) {
			return 0, false
		}
		d := int64(c - '0')
		if n > (1<<63-1-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}
