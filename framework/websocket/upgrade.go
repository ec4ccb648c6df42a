package websocket

import (
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"

	"chat/framework/httpserver"
)

// acceptGUID is the fixed GUID of RFC 6455 §1.3.
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// AcceptKey computes Sec-WebSocket-Accept for a Sec-WebSocket-Key.
func AcceptKey(key string) string {
	sum := sha1.Sum([]byte(key + acceptGUID))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// HandshakeError is an upgrade the server refused; Status is the HTTP
// status it answered with.
type HandshakeError struct {
	Status int
	Reason string
}

func (e *HandshakeError) Error() string { return "websocket: handshake refused: " + e.Reason }

// Upgrade answers a WebSocket handshake on an HTTP request and returns the
// connection, whose events go to h. Call it from a request handler (for
// instance a web handler's Get) on the loop. When the request is not an
// acceptable handshake it answers with the matching status (400, 403 for
// a foreign origin, 426 for another protocol version) and returns a
// *HandshakeError. opts may be nil for the defaults; pass the same
// *Options to every Upgrade so connections share one resolved copy (a
// copy of a used Options value resolves its own).
func Upgrade(w *httpserver.ResponseWriter, r *httpserver.Request, h Handler, opts *Options) (*Conn, error) {
	o := opts.shared()
	if err := checkHandshake(r, o); err != nil {
		var he *HandshakeError
		errors.As(err, &he)
		if he.Status == 426 {
			w.Header().Set("Sec-WebSocket-Version", "13")
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(he.Status)
		w.WriteString(he.Reason + "\n")
		w.Finish()
		return nil, err
	}
	subprotocol := selectSubprotocol(r.Header.Values("Sec-WebSocket-Protocol"), o.Subprotocols)
	deflate := !o.DisableCompression && acceptDeflateOffer(r.Header.Values("Sec-WebSocket-Extensions"))

	response := []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ")
	response = append(response, AcceptKey(r.Header.Get("Sec-WebSocket-Key"))...)
	response = append(response, "\r\n"...)
	if subprotocol != "" {
		response = append(response, "Sec-WebSocket-Protocol: "+subprotocol+"\r\n"...)
	}
	if deflate {
		response = append(response, "Sec-WebSocket-Extensions: "+serverDeflateResponse+"\r\n"...)
	}
	response = append(response, "\r\n"...)

	stream, err := w.Hijack()
	if err != nil {
		return nil, err
	}
	if err := stream.QueueWrite(response); err != nil {
		return nil, err
	}
	c := newConn(stream, h, o, true, deflate, subprotocol)
	c.start()
	return c, nil
}

// checkHandshake validates an upgrade request (RFC 6455 §4.2.1).
func checkHandshake(r *httpserver.Request, opts *Options) error {
	switch {
	case r.Method != "GET":
		return &HandshakeError{400, "WebSocket handshakes use GET"}
	case !r.UpgradeTo("websocket"):
		return &HandshakeError{400, "not a WebSocket handshake (Connection: Upgrade and Upgrade: websocket required)"}
	case r.Header.Get("Sec-WebSocket-Version") != "13":
		return &HandshakeError{426, "unsupported WebSocket version (13 required)"}
	}
	key, err := base64.StdEncoding.DecodeString(r.Header.Get("Sec-WebSocket-Key"))
	if err != nil || len(key) != 16 {
		return &HandshakeError{400, "Sec-WebSocket-Key must be 16 bytes in base64"}
	}
	if !originAllowed(r.Header.Get("Origin"), r.Host, r.Scheme, opts.AllowedOrigins) {
		return &HandshakeError{403, "cross-origin WebSocket upgrade refused"}
	}
	return nil
}

// originAllowed implements the same-origin default: a browser's Origin
// must name this server (scheme and host, default ports folded) or be on
// the allow-list. Requests without an Origin come from non-browser
// clients, which carry no ambient cookies of a victim, and are allowed.
func originAllowed(origin, host, scheme string, allowed []string) bool {
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	for _, a := range allowed {
		if strings.EqualFold(strings.TrimSuffix(a, "/"), strings.TrimSuffix(origin, "/")) {
			return true
		}
	}
	wantScheme := "http"
	if scheme == "https" {
		wantScheme = "https"
	}
	return strings.EqualFold(u.Scheme, wantScheme) && strings.EqualFold(hostWithPort(u.Host, u.Scheme), hostWithPort(host, wantScheme))
}

// hostWithPort adds the scheme's default port to a host without one.
func hostWithPort(host, scheme string) string {
	if strings.LastIndexByte(host, ':') > strings.LastIndexByte(host, ']') {
		return host
	}
	if scheme == "https" || scheme == "wss" {
		return host + ":443"
	}
	return host + ":80"
}

// selectSubprotocol picks the first of the server's protocols the client
// offered.
func selectSubprotocol(offered []string, supported []string) string {
	for _, want := range supported {
		for _, line := range offered {
			for _, p := range strings.Split(line, ",") {
				if strings.TrimSpace(p) == want {
					return want
				}
			}
		}
	}
	return ""
}
