package httpserver

// Byte classes from RFC 9110 §5.6.2 (tchar), §5.5 (field-vchar) and
// RFC 3986 §2 (URI characters). Tables are immutable after package init.

// isTokenChar reports whether c is a tchar:
// "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA.
var isTokenChar = alnumAnd("!#$%&'*+-.^_`|~")

// isFieldValueChar reports whether c may appear in a field value:
// VCHAR, obs-text, SP or HTAB (RFC 9110 §5.5).
func isFieldValueChar(c byte) bool {
	return c >= 0x20 && c != 0x7f || c == '\t'
}

// isTargetChar reports whether c may appear in a request-target: any
// visible ASCII byte (%x21-7E). That is wider than RFC 3986, which would
// have '"', '|', '{', '\\' and the like percent-encoded, because real
// clients send them raw (browsers leave '|' and '"' alone in a query) and
// net/http and Node accept them. Controls, SP, DEL and bytes >= 0x80 stay
// out; see ParseRequestHead for why.
var isTargetChar = visibleASCII()

// isHostChar reports whether c may appear in a Host value or an authority:
// unreserved / sub-delims / ":" / "[" / "]" (RFC 3986 §3.2.2). Percent-
// encoding is refused: no host a browser sends needs it, and decoders
// disagree about it.
var isHostChar = alnumAnd("-._~!$&'()*+,;=:[]")

// visibleASCII builds the byte-class table of VCHAR (%x21-7E).
func visibleASCII() (t [256]bool) {
	for c := 0x21; c <= 0x7e; c++ {
		t[c] = true
	}
	return t
}

// alnumAnd builds a byte-class table of ASCII letters, digits and extra.
func alnumAnd(extra string) (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range extra {
		t[c] = true
	}
	return t
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func hexValue(c byte) int64 {
	switch {
	case c <= '9':
		return int64(c - '0')
	case c >= 'a':
		return int64(c-'a') + 10
	default:
		return int64(c-'A') + 10
	}
}

// equalFoldASCII compares s and t ignoring ASCII case; t must be lower case.
func equalFoldLower(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// trimOWS removes optional whitespace (SP / HTAB) from both ends of s.
func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// forEachListElement calls fn with every non-empty, OWS-trimmed element of
// the comma-separated list s (RFC 9110 §5.6.1: empty elements are ignored).
// It stops early when fn returns false.
func forEachListElement(s string, fn func(elem string) bool) {
	for len(s) > 0 {
		var elem string
		if i := indexByteString(s, ','); i >= 0 {
			elem, s = s[:i], s[i+1:]
		} else {
			elem, s = s, ""
		}
		if elem = trimOWS(elem); elem != "" && !fn(elem) {
			return
		}
	}
}

func indexByteString(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// listContainsToken reports whether the comma list s has an element equal,
// ignoring case, to the lower-case token.
func listContainsToken(s, lowerToken string) bool {
	found := false
	forEachListElement(s, func(elem string) bool {
		found = equalFoldLower(elem, lowerToken)
		return !found
	})
	return found
}
