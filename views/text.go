package views

import "strings"

// Segment is one piece of a message body: plain text, or a link. Exactly
// one of Text and URL is set; the concatenation of a body's segments (Text
// or URL) is the body itself, byte for byte.
type Segment struct {
	Text string
	URL  string
}

// Segments splits a message body into text and links. A link starts with
// "http://" or "https://" (lowercase, not glued to a preceding letter or
// digit), has at least one character after the scheme, and runs until
// whitespace, a control character or one of < > " ' `; trailing sentence
// punctuation (. , ; : ! ?) and a closing ')' without its '(' are left
// out of it. Nothing else becomes a link, so a javascript: or data: URL in
// a body stays text. static/js/text.js implements the same rule for the
// browser; keep the two in step.
func Segments(body string) []Segment {
	var out []Segment
	text := 0 // start of the text not yet emitted
	for i := 0; i < len(body); {
		n := schemeAt(body, i)
		if n == 0 {
			i++
			continue
		}
		end := i + n
		for end < len(body) && !endsLink(body[end]) {
			end++
		}
		end = trimLinkEnd(body, i, end)
		if end <= i+n { // nothing after the scheme
			i += n
			continue
		}
		if text < i {
			out = append(out, Segment{Text: body[text:i]})
		}
		out = append(out, Segment{URL: body[i:end]})
		text, i = end, end
	}
	if text < len(body) {
		out = append(out, Segment{Text: body[text:]})
	}
	return out
}

// schemeAt returns the length of the "http://" or "https://" that starts
// at body[i], or 0 when none does or it follows a letter or digit ("xhttp://"
// is not a link).
func schemeAt(body string, i int) int {
	if body[i] != 'h' || (i > 0 && isAlnum(body[i-1])) {
		return 0
	}
	rest := body[i:]
	switch {
	case strings.HasPrefix(rest, "https://"):
		return len("https://")
	case strings.HasPrefix(rest, "http://"):
		return len("http://")
	}
	return 0
}

// endsLink reports whether byte c cannot be part of a link. Bytes of
// multi-byte UTF-8 characters (>= 0x80) can: an internationalised path
// stays one link.
func endsLink(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '\f', '\v', '<', '>', '"', '\'', '`':
		return true
	}
	return c < 0x20 || c == 0x7f
}

// trimLinkEnd drops trailing punctuation and unbalanced closing
// parentheses from the link body[start:end] and returns its new end.
func trimLinkEnd(body string, start, end int) int {
	for end > start {
		switch body[end-1] {
		case '.', ',', ';', ':', '!', '?':
			end--
			continue
		case ')':
			link := body[start:end]
			if strings.Count(link, ")") > strings.Count(link, "(") {
				end--
				continue
			}
		}
		break
	}
	return end
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// isNameChar reports whether c may be part of a user name.
func isNameChar(c byte) bool {
	return isAlnum(c) || c == '_' || c == '.' || c == '-'
}

// Mentions reports whether body mentions the user name: it contains "@"
// followed by name, compared without regard to ASCII case, and the name
// is not followed by another name character ([A-Za-z0-9_.-]), so "@ada"
// mentions ada but "@adam" and "@ada.b" do not. Names are ASCII; the
// comparison folds ASCII letters only, so no other character matches one.
// static/js/text.js implements the same rule.
func Mentions(body, name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i+1+len(name) <= len(body); i++ {
		if body[i] != '@' || !asciiEqualFold(body[i+1:i+1+len(name)], name) {
			continue
		}
		if next := i + 1 + len(name); next == len(body) || !isNameChar(body[next]) {
			return true
		}
	}
	return false
}

func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
