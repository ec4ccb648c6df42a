package websocket

import "encoding/binary"

// textValidator checks UTF-8 (RFC 3629: no overlongs, no surrogates,
// nothing above U+10FFFF) incrementally, a piece at a time, so a text
// message split across frames, across partial reads of one frame, or
// across chunks of decompressed output fails as soon as an invalid byte
// arrives rather than when the message ends. Its state is the number of
// continuation bytes still expected and the range the next one must fall
// in; the zero value expects a fresh character. Not safe for concurrent
// use; owned by the loop.
type textValidator struct {
	need   uint8 // continuation bytes still expected
	lo, hi byte  // allowed range of the next continuation byte
}

// write validates the next piece and reports false at the first byte that
// makes the text certainly invalid. After false the state is undefined.
func (v *textValidator) write(p []byte) bool {
	return v.scan(p) < 0
}

// scan validates p and returns the index of the first invalid byte, or
// -1 if p is a valid continuation of the text so far.
func (v *textValidator) scan(p []byte) int {
	i := 0
	for i < len(p) {
		if v.need > 0 {
			c := p[i]
			if c < v.lo || c > v.hi {
				return i
			}
			v.lo, v.hi = 0x80, 0xBF
			v.need--
			i++
			continue
		}
		// ASCII fast path, 8 bytes at a time.
		for i+8 <= len(p) && binary.LittleEndian.Uint64(p[i:])&0x8080808080808080 == 0 {
			i += 8
		}
		if i >= len(p) {
			break
		}
		c := p[i]
		if c < 0x80 {
			i++
			continue
		}
		v.lo, v.hi = 0x80, 0xBF
		switch {
		case c >= 0xC2 && c <= 0xDF:
			v.need = 1
		case c == 0xE0:
			v.need, v.lo = 2, 0xA0 // no overlong 3-byte forms
		case c >= 0xE1 && c <= 0xEC, c == 0xEE, c == 0xEF:
			v.need = 2
		case c == 0xED:
			v.need, v.hi = 2, 0x9F // no UTF-16 surrogates
		case c == 0xF0:
			v.need, v.lo = 3, 0x90 // no overlong 4-byte forms
		case c >= 0xF1 && c <= 0xF3:
			v.need = 3
		case c == 0xF4:
			v.need, v.hi = 3, 0x8F // nothing above U+10FFFF
		default: // continuation byte without a lead, C0, C1, F5..FF
			return i
		}
		i++
	}
	return -1
}

// complete reports whether the text so far ends on a character boundary.
func (v *textValidator) complete() bool { return v.need == 0 }

// validText reports whether p is entirely valid UTF-8.
func validText(p []byte) bool {
	var v textValidator
	return v.write(p) && v.complete()
}
