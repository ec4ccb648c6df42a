package websocket

import "unicode/utf8"

func validUTF8(b []byte) bool { return utf8.Valid(b) }

// utf8Validator checks a text message's UTF-8 as its fragments arrive, so
// an invalid sequence fails the connection (1007) as soon as it is certain,
// not when the message ends. A character split across fragments is carried
// over in pending.
type utf8Validator struct {
	pending [utf8.UTFMax]byte
	n       int
}

// write validates the next piece; false means the text is invalid.
func (v *utf8Validator) write(p []byte) bool {
	// Complete a character carried over from the previous piece.
	for v.n > 0 && len(p) > 0 {
		v.pending[v.n] = p[0]
		v.n++
		p = p[1:]
		if utf8.FullRune(v.pending[:v.n]) {
			r, size := utf8.DecodeRune(v.pending[:v.n])
			if r == utf8.RuneError && size <= 1 {
				return false
			}
			v.n = 0
		} else if !validPrefix(v.pending[:v.n]) {
			return false
		}
	}
	// Validate the whole characters and keep an incomplete tail.
	tail := incompleteTail(p)
	if !utf8.Valid(p[:len(p)-tail]) {
		return false
	}
	if tail > 0 {
		if !validPrefix(p[len(p)-tail:]) {
			return false
		}
		v.n = copy(v.pending[:], p[len(p)-tail:])
	}
	return true
}

// done reports whether the text ended on a character boundary.
func (v *utf8Validator) done() bool { return v.n == 0 }

func (v *utf8Validator) reset() { v.n = 0 }

// incompleteTail returns how many bytes at the end of p start a character
// that p does not finish (0 to 3).
func incompleteTail(p []byte) int {
	for back := 1; back <= 3 && back <= len(p); back++ {
		c := p[len(p)-back]
		if c < 0x80 {
			return 0 // ASCII: nothing pending
		}
		if c >= 0xC0 { // a leading byte
			if utf8.FullRune(p[len(p)-back:]) {
				return 0
			}
			return back
		}
	}
	return 0
}

// validPrefix reports whether b (1 to 3 bytes) can begin a valid UTF-8
// character: the second byte's range depends on the first (no overlongs,
// no surrogates, nothing above U+10FFFF).
func validPrefix(b []byte) bool {
	lead := b[0]
	lo, hi := byte(0x80), byte(0xBF)
	switch {
	case lead >= 0xC2 && lead <= 0xDF, lead >= 0xE1 && lead <= 0xEC, lead == 0xEE, lead == 0xEF, lead >= 0xF1 && lead <= 0xF3:
	case lead == 0xE0:
		lo = 0xA0
	case lead == 0xED:
		hi = 0x9F
	case lead == 0xF0:
		lo = 0x90
	case lead == 0xF4:
		hi = 0x8F
	default:
		return false
	}
	if len(b) > 1 && (b[1] < lo || b[1] > hi) {
		return false
	}
	for _, c := range b[min(len(b), 2):] {
		if c < 0x80 || c > 0xBF {
			return false
		}
	}
	return true
}
