package main

import (
	"errors"
	"fmt"
	"strconv"
)

// event is the part of a server frame (docs/protocol.md) the tool looks
// at: the type, the cursor fields and what matches a frame to its send.
// The byte-slice fields alias the frame they were scanned from and are
// valid only as long as it is (for a WebSocket message, during OnMessage);
// they hold the raw JSON text between the quotes, escapes not decoded,
// which is the text itself for the plain-ASCII keys and tokens the tool
// sends. A field that is absent, or not a string where a string is
// expected (a hello's room is an object), is left empty; numbers absent
// are 0.
type event struct {
	typ, room, key, body, code []byte
	id, msg, lastID            int64
	retryAfter                 float64
	more                       bool
}

// errBadJSON is the error of a frame the scanner cannot read as a JSON
// object.
var errBadJSON = errors.New("chatload: frame is not a JSON object")

// scanEvent reads the top-level members of the JSON object in data into
// ev (reset first), skipping every other member whatever its value, in
// one pass and without allocating. It is the tool's hot path: every
// frame every member receives goes through it, so it decodes no more
// than the fields above. Later duplicates of a key win, as with
// encoding/json.
func scanEvent(data []byte, ev *event) error {
	*ev = event{}
	s := scanner{data: data}
	s.space()
	if !s.consume('{') {
		return errBadJSON
	}
	s.space()
	if s.consume('}') {
		return s.end()
	}
	for {
		s.space()
		name, ok := s.str()
		if !ok {
			return errBadJSON
		}
		s.space()
		if !s.consume(':') {
			return errBadJSON
		}
		s.space()
		if !s.member(string(name), ev) { // string(name) in a switch does not allocate
			return errBadJSON
		}
		s.space()
		if s.consume(',') {
			continue
		}
		if s.consume('}') {
			return s.end()
		}
		return errBadJSON
	}
}

// scanner walks a JSON text; pos is the next byte to read.
type scanner struct {
	data []byte
	pos  int
}

// member reads the value of the member name into ev, or skips it.
func (s *scanner) member(name string, ev *event) bool {
	var dst *[]byte
	var num *int64
	switch name {
	case "type":
		dst = &ev.typ
	case "room":
		dst = &ev.room
	case "key":
		dst = &ev.key
	case "body":
		dst = &ev.body
	case "code":
		dst = &ev.code
	case "id":
		num = &ev.id
	case "msg":
		num = &ev.msg
	case "last_id":
		num = &ev.lastID
	case "retry_after":
		start := s.pos
		if !s.skipValue() {
			return false
		}
		ev.retryAfter, _ = strconv.ParseFloat(string(s.data[start:s.pos]), 64)
		return true
	case "more":
		ev.more = s.pos+4 <= len(s.data) && string(s.data[s.pos:s.pos+4]) == "true"
	}
	switch {
	case dst != nil && s.peek() == '"':
		v, ok := s.str()
		*dst = v
		return ok
	case num != nil && s.peek() != '"' && s.peek() != '{' && s.peek() != '[':
		start := s.pos
		if !s.skipValue() {
			return false
		}
		*num = parseInt(s.data[start:s.pos])
		return true
	}
	return s.skipValue()
}

// parseInt reads a JSON number as an int64, truncating a fraction; what
// is not a number reads as 0.
func parseInt(b []byte) int64 {
	if n, err := strconv.ParseInt(string(b), 10, 64); err == nil {
		return n
	}
	f, _ := strconv.ParseFloat(string(b), 64)
	return int64(f)
}

func (s *scanner) peek() byte {
	if s.pos < len(s.data) {
		return s.data[s.pos]
	}
	return 0
}

func (s *scanner) consume(c byte) bool {
	if s.peek() == c && s.pos < len(s.data) {
		s.pos++
		return true
	}
	return false
}

func (s *scanner) space() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// end accepts trailing white space only.
func (s *scanner) end() error {
	s.space()
	if s.pos != len(s.data) {
		return errBadJSON
	}
	return nil
}

// str reads a string and returns the bytes between its quotes.
func (s *scanner) str() ([]byte, bool) {
	if !s.consume('"') {
		return nil, false
	}
	start := s.pos
	for s.pos < len(s.data) {
		switch c := s.data[s.pos]; {
		case c == '"':
			v := s.data[start:s.pos]
			s.pos++
			return v, true
		case c == '\\':
			s.pos += 2
		case c < 0x20:
			return nil, false
		default:
			s.pos++
		}
	}
	return nil, false
}

// skipValue steps over one value of any kind. Objects and arrays are
// skipped by counting brackets outside strings; their contents are not
// validated beyond that (the server is trusted to send JSON; this is a
// load tool, not a validator).
func (s *scanner) skipValue() bool {
	switch s.peek() {
	case '"':
		_, ok := s.str()
		return ok
	case '{', '[':
		depth := 0
		for s.pos < len(s.data) {
			switch s.data[s.pos] {
			case '"':
				if _, ok := s.str(); !ok {
					return false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.pos++
					return true
				}
			}
			s.pos++
		}
		return false
	}
	start := s.pos
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return s.pos > start
		}
		s.pos++
	}
	return s.pos > start
}

// parseKey reads a key the rooms mode made with appendKey: the run's
// prefix, the sending member's index and its sequence number.
func parseKey(key []byte, prefix string) (member, seq int, ok bool) {
	if len(key) <= len(prefix) || string(key[:len(prefix)]) != prefix {
		return 0, 0, false
	}
	rest := key[len(prefix):]
	member, rest, ok = leadingInt(rest)
	if !ok || len(rest) == 0 || rest[0] != '.' {
		return 0, 0, false
	}
	seq, rest, ok = leadingInt(rest[1:])
	if !ok || len(rest) != 0 {
		return 0, 0, false
	}
	return member, seq, true
}

// appendKey appends the key of member's send number seq: prefix, member,
// a dot, seq.
func appendKey(b []byte, prefix string, member, seq int) []byte {
	b = append(b, prefix...)
	b = strconv.AppendInt(b, int64(member), 10)
	b = append(b, '.')
	return strconv.AppendInt(b, int64(seq), 10)
}

// leadingInt reads the decimal digits at the start of b (at most 9, so
// the value fits any int).
func leadingInt(b []byte) (int, []byte, bool) {
	n, i := 0, 0
	for ; i < len(b) && i < 9 && b[i] >= '0' && b[i] <= '9'; i++ {
		n = n*10 + int(b[i]-'0')
	}
	return n, b[i:], i > 0
}

// sendFrame is a client send frame; key and body must be plain ASCII
// without quotes or backslashes (the tool's own tokens).
func sendFrame(body, key []byte) []byte {
	return fmt.Appendf(nil, `{"type":"send","body":"%s","key":"%s"}`, body, key)
}
