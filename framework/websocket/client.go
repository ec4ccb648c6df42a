package websocket

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
	"chat/framework/iostream"
	"chat/framework/tcpserver"
)

// DialOptions configures Dial.
type DialOptions struct {
	// Options are copied with DialOptions, so each dialled connection
	// resolves its own and, with keepalive on, has a keepalive sweep of
	// its own: many client connections on one loop (a load tool) should
	// set PingInterval to -1 or ping themselves.
	Options
	// Handler gets the connection's events (required).
	Handler Handler
	// Header holds extra handshake headers (Origin, Cookie, ...).
	Header http.Header
	// Subprotocols are offered in order of preference.
	Subprotocols []string
	// LocalAddr binds the client socket (a load tool spreads connections
	// over 127.0.0.x to get more ports).
	LocalAddr *net.TCPAddr
	// HandshakeTimeout bounds connecting and the handshake. Zero means 10 s.
	HandshakeTimeout time.Duration
}

// maxResponseHead bounds the server's handshake response.
const maxResponseHead = 16 << 10

// Dial opens a WebSocket client connection to a ws:// URL without blocking
// the loop: Tornado's websocket_connect. The future resolves on the loop
// once the handshake succeeded (after Handler.OnOpen has run). Loop-only.
func Dial(loop *ioloop.Loop, rawURL string, opts DialOptions) *concurrent.Future[*Conn] {
	u, err := url.Parse(rawURL)
	switch {
	case err != nil:
		return concurrent.Failed[*Conn](fmt.Errorf("websocket: dial: %w", err))
	case u.Scheme != "ws":
		return concurrent.Failed[*Conn](fmt.Errorf("websocket: dial %s: only ws:// URLs are supported (terminate TLS in front)", rawURL))
	case opts.Handler == nil:
		return concurrent.Failed[*Conn](errors.New("websocket: dial: DialOptions.Handler is required"))
	}
	hostPort := u.Host
	if u.Port() == "" {
		hostPort = net.JoinHostPort(u.Hostname(), "80")
	}
	timeout := opts.HandshakeTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	connected := tcpserver.Connect(loop, hostPort, tcpserver.ConnectOptions{Dial: ioloop.DialOptions{LocalAddr: opts.LocalAddr}})
	result := concurrent.Then(connected, func(s *iostream.Stream) *concurrent.Future[*Conn] {
		timer := loop.CallLater(timeout, func() { s.Close(errors.New("websocket: handshake timed out")) })
		f := handshake(s, u, opts)
		f.AddDoneCallback(func(*concurrent.Future[*Conn]) { timer.Cancel() })
		return f
	})
	return concurrent.WithTimeout(result, loop, timeout+time.Second)
}

// handshake sends the upgrade request and checks the response.
func handshake(s *iostream.Stream, u *url.URL, opts DialOptions) *concurrent.Future[*Conn] {
	future := concurrent.New[*Conn]()
	var keyBytes [16]byte
	rand.Read(keyBytes[:])
	key := base64.StdEncoding.EncodeToString(keyBytes[:])

	var req bytes.Buffer
	fmt.Fprintf(&req, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n", u.RequestURI(), u.Host)
	fmt.Fprintf(&req, "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n", key)
	if len(opts.Subprotocols) > 0 {
		fmt.Fprintf(&req, "Sec-WebSocket-Protocol: %s\r\n", strings.Join(opts.Subprotocols, ", "))
	}
	if !opts.DisableCompression {
		fmt.Fprintf(&req, "Sec-WebSocket-Extensions: %s\r\n", clientDeflateOffer)
	}
	opts.Header.Write(&req)
	req.WriteString("\r\n")
	if err := s.QueueWrite(req.Bytes()); err != nil {
		future.Fail(err)
		return future
	}
	s.ReadUntil([]byte("\r\n\r\n"), maxResponseHead, func(head []byte, err error) {
		if err != nil {
			s.Close(err)
			future.Fail(fmt.Errorf("websocket: read handshake response: %w", err))
			return
		}
		deflate, subprotocol, err := checkResponse(head, key, opts)
		if err != nil {
			s.Close(err)
			future.Fail(err)
			return
		}
		c := newConn(s, opts.Handler, opts.Options.shared(), false, deflate, subprotocol)
		c.start()
		future.Resolve(c)
	})
	return future
}

// checkResponse validates the server's 101 answer (RFC 6455 §4.1).
func checkResponse(head []byte, key string, opts DialOptions) (deflate bool, subprotocol string, err error) {
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(head)), nil)
	if err != nil {
		return false, "", fmt.Errorf("websocket: bad handshake response: %w", err)
	}
	switch {
	case resp.StatusCode != 101:
		return false, "", &HandshakeError{Status: resp.StatusCode, Reason: "server answered " + resp.Status}
	case !strings.EqualFold(resp.Header.Get("Upgrade"), "websocket"),
		!strings.Contains(strings.ToLower(resp.Header.Get("Connection")), "upgrade"):
		return false, "", errors.New("websocket: response lacks Upgrade: websocket / Connection: Upgrade")
	case resp.Header.Get("Sec-WebSocket-Accept") != AcceptKey(key):
		return false, "", errors.New("websocket: wrong Sec-WebSocket-Accept")
	}
	deflate, ok := acceptDeflateResponse(resp.Header.Values("Sec-WebSocket-Extensions"))
	if !ok || (deflate && opts.DisableCompression) {
		return false, "", errors.New("websocket: server answered with extensions this client did not offer or cannot use")
	}
	subprotocol = resp.Header.Get("Sec-WebSocket-Protocol")
	if subprotocol != "" && !contains(opts.Subprotocols, subprotocol) {
		return false, "", fmt.Errorf("websocket: server chose subprotocol %q, which was not offered", subprotocol)
	}
	return deflate, subprotocol, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
