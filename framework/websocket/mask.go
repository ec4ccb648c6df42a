package websocket

import "encoding/binary"

// xorMask applies the RFC 6455 §5.3 masking (which is its own inverse) to
// b in place, as if b started at byte offset pos of the payload, and
// returns the offset following b (mod 4), so a payload can be unmasked
// in pieces. The bulk runs 8 bytes per step with the key widened to a
// 64-bit word; only the tail is done byte by byte.
func xorMask(key [4]byte, pos int, b []byte) int {
	pos &= 3
	i := 0
	if len(b) >= 8 {
		var rotated [8]byte
		for j := range rotated {
			rotated[j] = key[(pos+j)&3]
		}
		word := binary.LittleEndian.Uint64(rotated[:])
		for ; i+32 <= len(b); i += 32 {
			chunk := b[i : i+32 : i+32]
			binary.LittleEndian.PutUint64(chunk[0:], binary.LittleEndian.Uint64(chunk[0:])^word)
			binary.LittleEndian.PutUint64(chunk[8:], binary.LittleEndian.Uint64(chunk[8:])^word)
			binary.LittleEndian.PutUint64(chunk[16:], binary.LittleEndian.Uint64(chunk[16:])^word)
			binary.LittleEndian.PutUint64(chunk[24:], binary.LittleEndian.Uint64(chunk[24:])^word)
		}
		for ; i+8 <= len(b); i += 8 {
			binary.LittleEndian.PutUint64(b[i:], binary.LittleEndian.Uint64(b[i:])^word)
		}
	}
	for ; i < len(b); i++ {
		b[i] ^= key[(pos+i)&3]
	}
	return (pos + len(b)) & 3
}

// xorMaskBytewise is the obvious reference implementation, kept for tests
// and the benchmark comparison.
func xorMaskBytewise(key [4]byte, pos int, b []byte) int {
	for i := range b {
		b[i] ^= key[(pos+i)&3]
	}
	return (pos + len(b)) & 3
}
