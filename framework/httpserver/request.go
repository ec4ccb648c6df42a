package httpserver

import (
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"
)

// Request is one parsed HTTP request with its whole body (bounded by
// Limits.MaxBodyBytes), as Tornado's HTTPServerRequest. It embeds the
// parsed head: Method, Target, Path, RawQuery, Proto, Header, Host,
// ContentLength, KeepAlive and the rest. Loop-owned; a handler that hands
// work to an executor passes the values it needs, not the Request.
type Request struct {
	*RequestHead
	Body    []byte
	Trailer Header // trailer fields of a chunked body, if any
	// RemoteIP is the client's address: the peer's, or with Server.XHeaders
	// the one the proxy reports.
	RemoteIP string
	// Scheme is "http", or what the proxy reports with Server.XHeaders.
	Scheme string
	// Received is when the head was parsed.
	Received time.Time

	query   url.Values
	cookies []*http.Cookie
	conn    *conn
}

func newRequest(c *conn, h *RequestHead) *Request {
	r := &Request{RequestHead: h, Scheme: "http", Received: time.Now(), conn: c, RemoteIP: c.remoteIP()}
	if c.srv.XHeaders {
		r.applyXHeaders()
	}
	return r
}

// applyXHeaders takes the client address and scheme from proxy headers:
// X-Real-IP, else the last address of X-Forwarded-For (the one our proxy
// added; earlier ones are the client's word), and X-Forwarded-Proto or
// X-Scheme. Values that do not parse are ignored.
func (r *Request) applyXHeaders() {
	ip := r.Header.Get("X-Real-Ip")
	if ip == "" {
		if fwd := r.Header.Get("X-Forwarded-For"); fwd != "" {
			ip = strings.TrimSpace(fwd[strings.LastIndexByte(fwd, ',')+1:])
		}
	}
	if net.ParseIP(ip) != nil {
		r.RemoteIP = ip
	}
	proto := r.Header.Get("X-Forwarded-Proto")
	if proto == "" {
		proto = r.Header.Get("X-Scheme")
	}
	if proto == "http" || proto == "https" {
		r.Scheme = proto
	}
}

// Query returns the parsed query string (parsed once, then cached).
func (r *Request) Query() url.Values {
	if r.query == nil {
		r.query, _ = url.ParseQuery(r.RawQuery)
	}
	return r.query
}

// Cookie returns the value of the named request cookie.
func (r *Request) Cookie(name string) (string, bool) {
	if r.cookies == nil {
		r.cookies = []*http.Cookie{}
		for _, line := range r.Header.Values("Cookie") {
			if cs, err := http.ParseCookie(line); err == nil {
				r.cookies = append(r.cookies, cs...)
			}
		}
	}
	for _, c := range r.cookies {
		if c.Name == name {
			return c.Value, true
		}
	}
	return "", false
}

// FullURL reconstructs the URL the client asked for.
func (r *Request) FullURL() string {
	return r.Scheme + "://" + r.Host + r.Target
}

// TLS reports whether the client connected over TLS (per XHeaders; this
// server itself speaks plain HTTP behind a terminating proxy).
func (r *Request) TLS() bool { return r.Scheme == "https" }

// ToHTTP converts the request to a *http.Request for running a standard
// net/http handler (see web's fallback handler). The body is copied, so
// the result may be handed to another goroutine.
func (r *Request) ToHTTP() (*http.Request, error) {
	body := strings.NewReader(string(r.Body))
	hr, err := http.NewRequest(r.Method, r.FullURL(), body)
	if err != nil {
		return nil, err
	}
	hr.Proto, hr.ProtoMajor, hr.ProtoMinor = r.Proto, r.ProtoMajor, r.ProtoMinor
	for k, vs := range r.Header {
		hr.Header[k] = append([]string(nil), vs...)
	}
	hr.Host = r.Host
	hr.RequestURI = r.Target
	hr.RemoteAddr = net.JoinHostPort(r.RemoteIP, "0")
	hr.ContentLength = int64(len(r.Body))
	return hr, nil
}

func stack() string { return string(debug.Stack()) }
