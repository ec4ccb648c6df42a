package websocket

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// permessage-deflate negotiation (RFC 7692 §7.1).
//
// Policy. Go's compress/flate always compresses with a 32 KiB window and
// inflates any window, so:
//   - client_max_window_bits in an offer is accepted and ignored: the
//     client may compress with any window, we inflate them all.
//   - server_max_window_bits=N with N < 15 asks us to compress with a
//     smaller window, which compress/flate cannot do. Such an offer is
//     declined (the next offer in the header is tried). Accepting it with
//     server_no_context_takeover would not be sound: within one message a
//     back-reference may still reach 32 KiB, beyond the client's window.
//     Browsers do not send this parameter, so nothing is lost in practice.
//   - Context takeover costs memory on an idle connection: a flate.Writer
//     (hundreds of KiB) to compress with it, a 32 KiB dictionary to
//     inflate a peer that uses it. The zero DeflateConfig therefore
//     answers with both server_no_context_takeover and
//     client_no_context_takeover (RFC 7692 §7.1.1 lets the server add
//     both unasked), so compressors and decompressors come from pools and
//     one compressed broadcast frame fits every connection.

// ExtensionName is the permessage-deflate extension token.
const ExtensionName = "permessage-deflate"

// ExtensionParam is one parameter of an extension, "name" or "name=value"
// (a quoted value is unquoted).
type ExtensionParam struct {
	Name     string // lower-cased
	Value    string
	HasValue bool
}

// Extension is one element of a Sec-WebSocket-Extensions list.
type Extension struct {
	Name   string // lower-cased
	Params []ExtensionParam
}

var errExtensionSyntax = errors.New("websocket: malformed Sec-WebSocket-Extensions")

// ParseExtensions parses a Sec-WebSocket-Extensions value (RFC 6455 §9.1):
// comma-separated extensions, each a token followed by ;-separated
// parameters, each a token with an optional token or quoted-string value.
// Several header lines are joined with "," by the caller. Any syntax
// error fails the whole header, in which case a server simply negotiates
// no extension.
func ParseExtensions(header string) ([]Extension, error) {
	var out []Extension
	p := extParser{s: header}
	for {
		p.skipSpace()
		if p.done() {
			break
		}
		if p.peek() == ',' { // empty list elements are allowed by #rule
			p.i++
			continue
		}
		name := p.token()
		if name == "" {
			return nil, errExtensionSyntax
		}
		ext := Extension{Name: strings.ToLower(name)}
		for {
			p.skipSpace()
			if p.done() || p.peek() == ',' {
				break
			}
			if p.peek() != ';' {
				return nil, errExtensionSyntax
			}
			p.i++
			p.skipSpace()
			pname := p.token()
			if pname == "" {
				return nil, errExtensionSyntax
			}
			param := ExtensionParam{Name: strings.ToLower(pname)}
			p.skipSpace()
			if !p.done() && p.peek() == '=' {
				p.i++
				p.skipSpace()
				v, ok := p.value()
				if !ok {
					return nil, errExtensionSyntax
				}
				param.Value, param.HasValue = v, true
			}
			ext.Params = append(ext.Params, param)
		}
		out = append(out, ext)
	}
	return out, nil
}

type extParser struct {
	s string
	i int
}

func (p *extParser) done() bool { return p.i >= len(p.s) }
func (p *extParser) peek() byte { return p.s[p.i] }

func (p *extParser) skipSpace() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *extParser) token() string {
	start := p.i
	for p.i < len(p.s) && isTokenChar(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

// value reads a token or a quoted-string whose content must itself be a
// token (RFC 6455 §9.1).
func (p *extParser) value() (string, bool) {
	if p.done() {
		return "", false
	}
	if p.peek() != '"' {
		t := p.token()
		return t, t != ""
	}
	p.i++
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		switch {
		case c == '"':
			v := b.String()
			if v == "" || strings.IndexFunc(v, func(r rune) bool { return r > 0x7f || !isTokenChar(byte(r)) }) >= 0 {
				return "", false
			}
			return v, true
		case c == '\\':
			if p.i >= len(p.s) {
				return "", false
			}
			b.WriteByte(p.s[p.i])
			p.i++
		default:
			b.WriteByte(c)
		}
	}
	return "", false
}

// isTokenChar reports whether c may appear in an RFC 7230 token.
func isTokenChar(c byte) bool {
	if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// DeflateConfig is one side's permessage-deflate policy. The zero value
// turns context takeover off in both directions (see the policy above).
type DeflateConfig struct {
	// ServerContextTakeover lets the server keep its compression context
	// across messages (better ratio; a flate.Writer held per connection on
	// the server, a 32 KiB dictionary on the client).
	ServerContextTakeover bool
	// ClientContextTakeover lets the client keep its compression context
	// (a 32 KiB inflate dictionary held per connection on the server).
	ClientContextTakeover bool
}

// DeflateParams are the negotiated permessage-deflate parameters: what
// the server's response says. Window bits are 0 when absent.
type DeflateParams struct {
	ServerNoContextTakeover bool
	ClientNoContextTakeover bool
	ServerMaxWindowBits     int
	ClientMaxWindowBits     int
}

// String formats the parameters as one Sec-WebSocket-Extensions element,
// the server's response value.
func (p DeflateParams) String() string {
	var b strings.Builder
	b.WriteString(ExtensionName)
	if p.ServerNoContextTakeover {
		b.WriteString("; server_no_context_takeover")
	}
	if p.ClientNoContextTakeover {
		b.WriteString("; client_no_context_takeover")
	}
	if p.ServerMaxWindowBits != 0 {
		b.WriteString("; server_max_window_bits=")
		b.WriteString(strconv.Itoa(p.ServerMaxWindowBits))
	}
	if p.ClientMaxWindowBits != 0 {
		b.WriteString("; client_max_window_bits=")
		b.WriteString(strconv.Itoa(p.ClientMaxWindowBits))
	}
	return b.String()
}

// deflateOffer is a permessage-deflate element's parameters, checked for
// duplicates, unknown names and bad values. clientMaxWindowBits is -1
// for the parameter given without a value.
type deflateOffer struct {
	serverNoContextTakeover, clientNoContextTakeover bool
	serverMaxWindowBits, clientMaxWindowBits         int
}

func parseDeflateParams(params []ExtensionParam) (deflateOffer, error) {
	var o deflateOffer
	seen := map[string]bool{}
	for _, p := range params {
		if seen[p.Name] {
			return o, fmt.Errorf("duplicate parameter %s", p.Name)
		}
		seen[p.Name] = true
		switch p.Name {
		case "server_no_context_takeover", "client_no_context_takeover":
			if p.HasValue {
				return o, fmt.Errorf("%s takes no value", p.Name)
			}
			if p.Name == "server_no_context_takeover" {
				o.serverNoContextTakeover = true
			} else {
				o.clientNoContextTakeover = true
			}
		case "server_max_window_bits", "client_max_window_bits":
			bits := -1
			if p.HasValue {
				n, err := strconv.Atoi(p.Value)
				// Atoi accepts a sign; RFC 7692 wants 1*DIGIT without leading zeros.
				if err != nil || n < 8 || n > 15 || p.Value[0] < '1' || p.Value[0] > '9' {
					return o, fmt.Errorf("bad %s value %q", p.Name, p.Value)
				}
				bits = n
			} else if p.Name == "server_max_window_bits" {
				return o, errors.New("server_max_window_bits needs a value")
			}
			if p.Name == "server_max_window_bits" {
				o.serverMaxWindowBits = bits
			} else {
				o.clientMaxWindowBits = bits
			}
		default:
			return o, fmt.Errorf("unknown parameter %s", p.Name)
		}
	}
	return o, nil
}

// NegotiateDeflate is the server side: it picks the first acceptable
// permessage-deflate offer in a client's Sec-WebSocket-Extensions value
// and returns the parameters to run with; params.String() is the response
// element. ok is false when no offer is acceptable (or the header does
// not parse): the connection then runs without compression.
func NegotiateDeflate(offerHeader string, cfg DeflateConfig) (params DeflateParams, ok bool) {
	exts, err := ParseExtensions(offerHeader)
	if err != nil {
		return DeflateParams{}, false
	}
	for _, ext := range exts {
		if ext.Name != ExtensionName {
			continue
		}
		o, err := parseDeflateParams(ext.Params)
		if err != nil {
			continue
		}
		if o.serverMaxWindowBits > 0 && o.serverMaxWindowBits < 15 {
			continue // we cannot compress with a smaller window: decline
		}
		params = DeflateParams{
			ServerNoContextTakeover: o.serverNoContextTakeover || !cfg.ServerContextTakeover,
			ClientNoContextTakeover: o.clientNoContextTakeover || !cfg.ClientContextTakeover,
		}
		if o.serverMaxWindowBits == 15 {
			params.ServerMaxWindowBits = 15 // must be echoed (RFC 7692 §7.1.2.1)
		}
		return params, true
	}
	return DeflateParams{}, false
}

// FormatDeflateOffer is the client side's Sec-WebSocket-Extensions offer.
// It never offers client_max_window_bits: compress/flate could not honour
// a smaller window the server might then impose.
func FormatDeflateOffer(cfg DeflateConfig) string {
	return DeflateParams{
		ServerNoContextTakeover: !cfg.ServerContextTakeover,
		ClientNoContextTakeover: !cfg.ClientContextTakeover,
	}.String()
}

// ParseDeflateResponse is the client side: it checks the server's
// Sec-WebSocket-Extensions response to FormatDeflateOffer(cfg). enabled
// is false when the server declined (no permessage-deflate in the
// response). An error means the response is invalid and the client must
// fail the connection (RFC 6455 §4.1, RFC 7692 §5): an extension not
// offered, a repeated element, an unknown or duplicate parameter, a
// client_max_window_bits we did not offer, or a missing
// server_no_context_takeover we asked for.
func ParseDeflateResponse(header string, cfg DeflateConfig) (params DeflateParams, enabled bool, err error) {
	if strings.TrimSpace(header) == "" {
		return DeflateParams{}, false, nil
	}
	exts, err := ParseExtensions(header)
	if err != nil {
		return DeflateParams{}, false, err
	}
	for _, ext := range exts {
		if ext.Name != ExtensionName {
			return DeflateParams{}, false, fmt.Errorf("websocket: server accepted extension %q that was not offered", ext.Name)
		}
		if enabled {
			return DeflateParams{}, false, errors.New("websocket: server accepted permessage-deflate twice")
		}
		o, err := parseDeflateParams(ext.Params)
		if err != nil {
			return DeflateParams{}, false, fmt.Errorf("websocket: permessage-deflate response: %w", err)
		}
		if o.clientMaxWindowBits != 0 {
			return DeflateParams{}, false, errors.New("websocket: permessage-deflate response has client_max_window_bits, which was not offered")
		}
		if !cfg.ServerContextTakeover && !o.serverNoContextTakeover {
			return DeflateParams{}, false, errors.New("websocket: permessage-deflate response lacks the server_no_context_takeover that was offered")
		}
		params = DeflateParams{
			ServerNoContextTakeover: o.serverNoContextTakeover,
			ClientNoContextTakeover: o.clientNoContextTakeover,
			ServerMaxWindowBits:     o.serverMaxWindowBits,
		}
		enabled = true
	}
	return params, enabled, nil
}

// sendTakeover reports whether the side (server or client) may keep its
// compression context under params and its own config.
func (p DeflateParams) sendTakeover(server bool, cfg DeflateConfig) bool {
	if server {
		return !p.ServerNoContextTakeover && cfg.ServerContextTakeover
	}
	return !p.ClientNoContextTakeover && cfg.ClientContextTakeover
}

// receiveTakeover reports whether the peer of side may use context
// takeover, so that side must keep an inflate dictionary.
func (p DeflateParams) receiveTakeover(server bool) bool {
	if server {
		return !p.ClientNoContextTakeover
	}
	return !p.ServerNoContextTakeover
}
