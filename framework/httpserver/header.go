package httpserver

import (
	"net/textproto"
	"slices"
)

// Header holds HTTP header (or trailer) fields: canonical field name to the
// values of its field lines, in the order received. Keys are canonicalized
// the way net/textproto does it ("content-type" -> "Content-Type"), so
// Header is interchangeable with http.Header by conversion.
//
// A Header built by ParseRequestHead shares one backing string with the
// rest of the RequestHead; it is owned by whoever holds the RequestHead and,
// like every loop-owned object, needs no locking when used only on the loop.
type Header map[string][]string

// Get returns the first value of key, or "" when absent.
func (h Header) Get(key string) string {
	if v := h[textproto.CanonicalMIMEHeaderKey(key)]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Values returns all values of key (not a copy: do not modify it).
func (h Header) Values(key string) []string {
	return h[textproto.CanonicalMIMEHeaderKey(key)]
}

// Has reports whether key is present.
func (h Header) Has(key string) bool {
	_, ok := h[textproto.CanonicalMIMEHeaderKey(key)]
	return ok
}

// Add appends value to key's values.
func (h Header) Add(key, value string) {
	key = textproto.CanonicalMIMEHeaderKey(key)
	h[key] = append(h[key], value)
}

// Set replaces key's values with the single value. Slices previously
// returned by Values are left untouched.
func (h Header) Set(key, value string) {
	h[textproto.CanonicalMIMEHeaderKey(key)] = []string{value}
}

// Del removes key.
func (h Header) Del(key string) {
	delete(h, textproto.CanonicalMIMEHeaderKey(key))
}

// Clone returns a deep copy of h (nil for nil).
func (h Header) Clone() Header {
	if h == nil {
		return nil
	}
	c := make(Header, len(h))
	for k, v := range h {
		c[k] = slices.Clone(v)
	}
	return c
}
