package websocket

import (
	"crypto/rand"
	"encoding/base64"
	"net"
	"net/url"
	"strings"
)

// Handshake helpers (RFC 6455 §4) as pure functions over strings, so the
// HTTP layer calls them without this file importing it. AcceptKey and
// HandshakeError are declared in upgrade.go and shared.

// UpgradeRequest is what CheckUpgrade needs from a request. Header
// fields hold the raw value; a header sent on several lines is passed
// joined with ", ".
type UpgradeRequest struct {
	Method     string // "GET"
	Proto      string // "HTTP/1.1"
	Connection string // must contain the "upgrade" token
	Upgrade    string // must contain the "websocket" token
	Version    string // Sec-WebSocket-Version: must be "13"
	Key        string // Sec-WebSocket-Key: base64 of 16 bytes
}

// SupportedVersion is the only Sec-WebSocket-Version this package speaks;
// a 426 answer carries it in a Sec-WebSocket-Version header.
const SupportedVersion = "13"

// CheckUpgrade validates an opening handshake (RFC 6455 §4.2.1) and
// returns nil or a *HandshakeError with the status to answer with: 405
// for a method other than GET, 426 for another protocol version (answer
// with "Sec-WebSocket-Version: 13"), 400 for the rest.
func CheckUpgrade(r UpgradeRequest) error {
	switch {
	case r.Method != "GET":
		return &HandshakeError{Status: 405, Reason: "WebSocket handshakes use GET"}
	case !protoAtLeast11(r.Proto):
		return &HandshakeError{Status: 400, Reason: "WebSocket handshakes need HTTP/1.1"}
	case !HeaderHasToken(r.Connection, "upgrade"):
		return &HandshakeError{Status: 400, Reason: `"Connection: Upgrade" required`}
	case !HeaderHasToken(r.Upgrade, "websocket"):
		return &HandshakeError{Status: 400, Reason: `"Upgrade: websocket" required`}
	case strings.TrimSpace(r.Version) != SupportedVersion:
		return &HandshakeError{Status: 426, Reason: "unsupported Sec-WebSocket-Version (13 required)"}
	case !ValidKey(r.Key):
		return &HandshakeError{Status: 400, Reason: "Sec-WebSocket-Key must be 16 bytes in base64"}
	}
	return nil
}

// protoAtLeast11 accepts HTTP/1.1 and later minor and major versions.
func protoAtLeast11(proto string) bool {
	v, ok := strings.CutPrefix(proto, "HTTP/")
	if !ok {
		return false
	}
	major, minor, _ := strings.Cut(v, ".")
	switch {
	case major == "1":
		return minor != "" && minor != "0"
	case len(major) == 1 && major[0] >= '2' && major[0] <= '9':
		return true
	}
	return false
}

// ValidKey reports whether key is a Sec-WebSocket-Key: the base64 of
// exactly 16 bytes (24 characters with padding).
func ValidKey(key string) bool {
	key = strings.TrimSpace(key)
	if len(key) != 24 {
		return false
	}
	b, err := base64.StdEncoding.Strict().DecodeString(key)
	return err == nil && len(b) == 16
}

// NewKey returns a fresh random Sec-WebSocket-Key for a client.
func NewKey() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// HeaderHasToken reports whether a comma-separated header value contains
// token, compared case-insensitively ("keep-alive, Upgrade" has
// "upgrade").
func HeaderHasToken(value, token string) bool {
	for value != "" {
		var item string
		item, value, _ = strings.Cut(value, ",")
		if strings.EqualFold(strings.TrimSpace(item), token) {
			return true
		}
	}
	return false
}

// ChooseSubprotocol returns the first of the server's supported
// subprotocols, in its order of preference, that the client offered in
// Sec-WebSocket-Protocol (offered holds the header's lines), or "" when
// none matches: the server then answers without the header. Subprotocol
// names are case-sensitive.
func ChooseSubprotocol(offered []string, supported []string) string {
	for _, want := range supported {
		for _, line := range offered {
			for line != "" {
				var p string
				p, line, _ = strings.Cut(line, ",")
				if strings.TrimSpace(p) == want {
					return want
				}
			}
		}
	}
	return ""
}

// CheckOrigin reports whether a browser's Origin may open a WebSocket
// here. An absent Origin (a non-browser client, which carries no victim's
// cookies) is allowed. Otherwise the origin must be the server itself
// (scheme http, or https when secure, and the request's Host, default
// ports folded: "https://chat.example" matches Host "chat.example:443"),
// or be on allowed, a list of origins ("https://app.example:8443")
// compared the same way. Everything else, "null" included, is refused:
// cookies ride along with the upgrade, so a hostile page could otherwise
// act as the user (cross-site WebSocket hijacking).
func CheckOrigin(origin, host string, secure bool, allowed []string) bool {
	if origin == "" {
		return true
	}
	scheme, hostport, ok := splitOrigin(origin)
	if !ok {
		return false
	}
	self := "http"
	if secure {
		self = "https"
	}
	if scheme == self && hostport == canonicalHostPort(host, self) {
		return true
	}
	for _, a := range allowed {
		if as, ahp, ok := splitOrigin(a); ok && as == scheme && ahp == hostport {
			return true
		}
	}
	return false
}

// splitOrigin parses "scheme://host[:port]" into a lower-cased scheme and
// host:port with the scheme's default port filled in.
func splitOrigin(origin string) (scheme, hostport string, ok bool) {
	u, err := url.Parse(strings.TrimSuffix(strings.TrimSpace(origin), "/"))
	if err != nil || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return "", "", false
	}
	scheme = strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", "", false
	}
	return scheme, canonicalHostPort(u.Host, scheme), true
}

// canonicalHostPort lower-cases host and adds the scheme's default port
// when it has none.
func canonicalHostPort(host, scheme string) string {
	host = strings.ToLower(strings.TrimSpace(host))
	if _, port, err := net.SplitHostPort(host); err == nil && port != "" {
		return host
	}
	host = strings.TrimSuffix(host, ":") // "example.com:" has an empty port
	port := "80"
	if scheme == "https" || scheme == "wss" {
		port = "443"
	}
	return net.JoinHostPort(strings.Trim(host, "[]"), port)
}

// AppendUpgradeResponse appends the server's 101 response for a request
// whose Sec-WebSocket-Key is key. subprotocol and extensions are omitted
// when empty (extensions is e.g. DeflateParams.String()).
func AppendUpgradeResponse(dst []byte, key, subprotocol, extensions string) []byte {
	dst = append(dst, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	dst = append(dst, AcceptKey(strings.TrimSpace(key))...)
	dst = append(dst, "\r\n"...)
	if subprotocol != "" {
		dst = append(dst, "Sec-WebSocket-Protocol: "...)
		dst = append(dst, subprotocol...)
		dst = append(dst, "\r\n"...)
	}
	if extensions != "" {
		dst = append(dst, "Sec-WebSocket-Extensions: "...)
		dst = append(dst, extensions...)
		dst = append(dst, "\r\n"...)
	}
	return append(dst, "\r\n"...)
}
