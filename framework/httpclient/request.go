package httpclient

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"chat/framework/concurrent"
	"chat/framework/httpserver"
)

// Defaults for a Request's zero-valued fields (Tornado's HTTPRequest
// defaults where it has them: connect_timeout 20 s, request_timeout 20 s
// there, 60 s here since it covers redirects too; max_redirects 5;
// max_body_size, 100 MB there, 64 MiB here).
const (
	DefaultConnectTimeout = 20 * time.Second
	DefaultRequestTimeout = 60 * time.Second
	DefaultMaxRedirects   = 5
	DefaultMaxBodySize    = 64 << 20
	DefaultUserAgent      = "chat-framework-httpclient"
)

// Request is what Fetch sends. The zero value of every field but URL is a
// working default. A Request is read, not modified, by Fetch; redirects
// work on copies.
type Request struct {
	// Method is the request method, "GET" when empty.
	Method string
	// URL is an absolute http or https URL. A fragment is not sent.
	URL string
	// Header holds fields to send. Host, if set, replaces the URL's
	// authority as the Host field; Content-Length and Transfer-Encoding
	// are the client's and ignored here; Accept-Encoding, if set, turns
	// off gzip decoding (the caller asked for its own encoding).
	Header httpserver.Header
	// Body is sent with a Content-Length. POST, PUT and PATCH always send
	// one (0 for no body). The slice must not change until the future
	// resolves.
	Body []byte

	// ConnectTimeout bounds each connect, TLS handshake included: zero
	// means DefaultConnectTimeout, negative no bound but the kernel's.
	ConnectTimeout time.Duration
	// RequestTimeout bounds the whole fetch, from Fetch to the last body
	// byte of the final response: the wait for a pooled connection, every
	// connect and every redirect included. Zero means
	// DefaultRequestTimeout, negative no bound.
	RequestTimeout time.Duration
	// MaxRedirects is how many redirects are followed: zero means
	// DefaultMaxRedirects; negative means none, so a 3xx is the response.
	// One more redirect fails with ErrTooManyRedirects.
	MaxRedirects int
	// MaxBodySize bounds a response body, after gzip decoding too: zero
	// means DefaultMaxBodySize. Past it the fetch fails with
	// ErrBodyTooLarge and the connection is closed.
	MaxBodySize int64
	// DisableGzip stops the client from sending Accept-Encoding: gzip and
	// decoding gzip bodies (Tornado's decompress_response=False).
	DisableGzip bool
	// TLSConfig overrides Options.TLSConfig for this request (its
	// RootCAs, say). ServerName defaults to the URL's host.
	TLSConfig *tls.Config
}

// Response is a fetch's final answer (after redirects). Status codes are
// not errors: a 404 or a 500 resolves the future like a 200, as net/http
// does (Tornado raises HTTPClientError; check Code).
type Response struct {
	Code   int    // status code
	Reason string // reason phrase as sent
	Proto  string // "HTTP/1.1" or "HTTP/1.0"
	Header httpserver.Header
	// Trailer holds the trailer fields of a chunked body, minus those a
	// trailer must never carry (see httpserver.ChunkedDecoder).
	Trailer httpserver.Header
	// Body is the whole body, gzip-decoded when the client asked for gzip
	// (then Content-Encoding and Content-Length are removed from Header).
	Body []byte
	// EffectiveURL is the URL of the final request, after redirects.
	EffectiveURL string
	// Redirects is how many redirects were followed.
	Redirects int
	// RequestTime is how long the fetch took, from Fetch to the response.
	RequestTime time.Duration
}

// sentinel is an error that callers branch on with errors.Is; parent lets
// ErrConnectTimeout be an ErrTimeout and ErrTimeout a concurrent.ErrTimeout.
type sentinel struct {
	msg    string
	parent error
}

func (e *sentinel) Error() string { return e.msg }
func (e *sentinel) Unwrap() error { return e.parent }

// The errors a fetch fails with, each wrapped with the method and URL (and
// the cause where there is one), so errors.Is matches them. A cancelled
// fetch fails with concurrent.ErrCancelled, the future's own error.
var (
	// ErrTimeout matches every timeout; it is a concurrent.ErrTimeout.
	ErrTimeout error = &sentinel{"httpclient: timed out", concurrent.ErrTimeout}
	// ErrConnectTimeout: no connection (TLS handshake included) within
	// Request.ConnectTimeout. It is an ErrTimeout.
	ErrConnectTimeout error = &sentinel{"httpclient: connect timed out", ErrTimeout}
	// ErrRequestTimeout: the fetch did not finish within
	// Request.RequestTimeout. It is an ErrTimeout.
	ErrRequestTimeout error = &sentinel{"httpclient: request timed out", ErrTimeout}
	// ErrConnect: the connect failed (refused, unreachable, name not
	// found, TLS handshake or certificate failure); the cause is wrapped
	// too, so errors.Is(err, syscall.ECONNREFUSED) works.
	ErrConnect error = &sentinel{"httpclient: connect failed", nil}
	// ErrConnectionClosed: the server closed (or reset) the connection
	// before the response was complete.
	ErrConnectionClosed error = &sentinel{"httpclient: connection closed before the response was complete", nil}
	// ErrBodyTooLarge: the response body (declared, received or decoded)
	// is larger than Request.MaxBodySize.
	ErrBodyTooLarge error = &sentinel{"httpclient: response body too large", nil}
	// ErrTooManyRedirects: more redirects than Request.MaxRedirects.
	ErrTooManyRedirects error = &sentinel{"httpclient: too many redirects", nil}
	// ErrQueueFull: every connection to the host is busy and
	// Options.MaxQueuedPerHost requests already wait for one.
	ErrQueueFull error = &sentinel{"httpclient: too many requests waiting for a connection", nil}
	// ErrClientClosed: the Client was closed before the fetch finished.
	ErrClientClosed error = &sentinel{"httpclient: client closed", nil}
	// ErrInvalidRequest: the Request cannot be sent (not an http or https
	// URL, a bad method, a header with a byte that would split it).
	ErrInvalidRequest error = &sentinel{"httpclient: invalid request", nil}
)

// ProtocolError is the error of a response that breaks HTTP/1.1's rules:
// a malformed head, ambiguous framing, a bad chunked body or gzip stream.
// The parsers are the server's (httpserver), with the same strictness.
// Err is the parser's *httpserver.ParseError, or the gzip reader's error.
type ProtocolError struct {
	Reason string
	Err    error
}

func (e *ProtocolError) Error() string { return "httpclient: malformed response: " + e.Reason }
func (e *ProtocolError) Unwrap() error { return e.Err }

// target is a request's URL resolved for sending.
type target struct {
	url        *url.URL
	https      bool
	address    string // host:port to dial
	serverName string // for TLS
}

func parseTarget(raw string) (target, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return target{}, fmt.Errorf("%w: %w", ErrInvalidRequest, err)
	}
	var port string
	switch u.Scheme {
	case "http":
		port = "80"
	case "https":
		port = "443"
	default:
		return target{}, fmt.Errorf("%w: scheme %q (only http and https)", ErrInvalidRequest, u.Scheme)
	}
	if u.Host == "" || u.User != nil {
		return target{}, fmt.Errorf("%w: a URL needs a host and no userinfo", ErrInvalidRequest)
	}
	host := u.Hostname()
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n <= 0 || n > 65535 {
			return target{}, fmt.Errorf("%w: port %q", ErrInvalidRequest, p)
		}
		port = p
	}
	return target{url: u, https: u.Scheme == "https", address: net.JoinHostPort(host, port), serverName: host}, nil
}

// validToken reports whether s is an RFC 9110 token (a method, a field name).
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case c < 0x80 && c > 0x20 && stringsContains("!#$%&'*+-.^_`|~", c):
		default:
			return false
		}
	}
	return true
}

func stringsContains(s string, c byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return true
		}
	}
	return false
}

// validValue reports whether a field value can be sent as is: no CR, LF,
// NUL or other control byte but HTAB, which would end or split the line.
func validValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// appendRequestHead writes the request head for method to t (the client
// decides Content-Length, Connection and the defaults).
func appendRequestHead(dst []byte, method string, t target, req *Request, gzip, closeConn bool, userAgent string) ([]byte, error) {
	requestURI := t.url.RequestURI()
	if !validValue(requestURI) || stringsContains(requestURI, ' ') {
		return nil, fmt.Errorf("%w: request-target %q", ErrInvalidRequest, requestURI)
	}
	host := t.url.Host
	if h := req.Header.Get("Host"); h != "" {
		host = h
	}
	if !validValue(host) {
		return nil, fmt.Errorf("%w: Host %q", ErrInvalidRequest, host)
	}
	dst = append(dst, method...)
	dst = append(dst, ' ')
	dst = append(dst, requestURI...)
	dst = append(dst, " HTTP/1.1\r\nHost: "...)
	dst = append(dst, host...)
	dst = append(dst, "\r\n"...)
	hasUA := false
	for name, values := range req.Header {
		switch name {
		case "Host", "Content-Length", "Transfer-Encoding":
			continue
		case "User-Agent":
			hasUA = true
		case "Connection":
			if closeConn {
				continue
			}
		}
		if !validToken(name) {
			return nil, fmt.Errorf("%w: header field name %q", ErrInvalidRequest, name)
		}
		for _, v := range values {
			if !validValue(v) {
				return nil, fmt.Errorf("%w: value of %s", ErrInvalidRequest, name)
			}
			dst = append(dst, name...)
			dst = append(dst, ": "...)
			dst = append(dst, v...)
			dst = append(dst, "\r\n"...)
		}
	}
	if !hasUA && userAgent != "" {
		dst = append(dst, "User-Agent: "...)
		dst = append(dst, userAgent...)
		dst = append(dst, "\r\n"...)
	}
	if gzip {
		dst = append(dst, "Accept-Encoding: gzip\r\n"...)
	}
	if closeConn {
		dst = append(dst, "Connection: close\r\n"...)
	}
	if len(req.Body) > 0 || method == "POST" || method == "PUT" || method == "PATCH" {
		dst = append(dst, "Content-Length: "...)
		dst = strconv.AppendInt(dst, int64(len(req.Body)), 10)
		dst = append(dst, "\r\n"...)
	}
	return append(dst, "\r\n"...), nil
}

// idempotent reports whether a request may be sent again after a reused
// connection turned out closed before any response byte (RFC 9110 §9.2.2).
func idempotent(method string) bool {
	switch method {
	case "GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE":
		return true
	}
	return false
}
