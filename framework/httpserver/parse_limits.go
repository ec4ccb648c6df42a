package httpserver

// Limits bounds everything the parsers in this package will buffer or
// accept. The zero value of every field means "use the default" written
// beside it, so Limits{} is a sensible configuration; set a field to a
// positive value to override it. Limits is a plain value: copy it freely.
type Limits struct {
	// MaxRequestLineBytes bounds the request line, excluding its CRLF.
	// Default 8 KiB: longer lines are answered 414 as soon as the limit is
	// passed, before the line ends (common browsers cap URLs well below it).
	MaxRequestLineBytes int

	// MaxHeaderBytes bounds the header field lines, counting each line's
	// CRLF but neither the request line nor the final empty line.
	// Default 64 KiB; beyond it the answer is 431.
	MaxHeaderBytes int

	// MaxHeaderCount bounds the number of header field lines (and of
	// trailer field lines). Default 100; beyond it the answer is 431.
	MaxHeaderCount int

	// MaxBodyBytes bounds a request body: a larger Content-Length is
	// rejected by ParseRequestHead and a chunked body is cut off by
	// ChunkedDecoder as soon as a chunk size would pass it (413).
	// Default 10 MiB.
	MaxBodyBytes int64

	// MaxChunkExtensionBytes bounds the total bytes of chunk extensions
	// (everything from ';' to the end of each chunk-size line) over one
	// chunked body. Extensions carry nothing we use, so the bound is small:
	// default 4 KiB. Beyond it the answer is 400.
	MaxChunkExtensionBytes int

	// MaxTrailerBytes bounds the trailer section of a chunked body, counted
	// like MaxHeaderBytes. Default 8 KiB; beyond it the answer is 431.
	MaxTrailerBytes int
}

// Defaults applied for zero-valued Limits fields.
const (
	DefaultMaxRequestLineBytes    = 8 << 10
	DefaultMaxHeaderBytes         = 64 << 10
	DefaultMaxHeaderCount         = 100
	DefaultMaxBodyBytes           = 10 << 20
	DefaultMaxChunkExtensionBytes = 4 << 10
	DefaultMaxTrailerBytes        = 8 << 10
)

// maxLeadingEmptyLines is how many empty lines (CRLF) we skip before a
// request line. RFC 9112 §2.2 asks servers to ignore "at least one" (some
// clients send a stray CRLF after a POST body); a few more are harmless, an
// unbounded number would let a client hold a connection busy for free.
const maxLeadingEmptyLines = 4

// WithDefaults returns l with every zero (or negative) field replaced by its
// default, so a caller can read the effective limits (e.g. MaxBodyBytes).
func (l Limits) WithDefaults() Limits {
	if l.MaxRequestLineBytes <= 0 {
		l.MaxRequestLineBytes = DefaultMaxRequestLineBytes
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if l.MaxHeaderCount <= 0 {
		l.MaxHeaderCount = DefaultMaxHeaderCount
	}
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if l.MaxChunkExtensionBytes <= 0 {
		l.MaxChunkExtensionBytes = DefaultMaxChunkExtensionBytes
	}
	if l.MaxTrailerBytes <= 0 {
		l.MaxTrailerBytes = DefaultMaxTrailerBytes
	}
	return l
}
