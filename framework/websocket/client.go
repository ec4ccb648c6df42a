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
	// resolves its own; connections with the same PingInterval and
	// PongTimeout on one loop still share one keepalive sweep.
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
	// HandshakeTimeout bounds connecting and the handshake together: past
	// it Dial's future fails with an error matching concurrent.ErrTimeout
	// and the attempt's socket is closed. Zero means 10 s.
	HandshakeTimeout time.Duration
}

// maxResponseHead bounds the server's handshake response.
const maxResponseHead = 16 << 10

// Dial opens a WebSocket client connection to a ws:// URL without blocking
// the loop: Tornado's websocket_connect. The future resolves on the loop
// once the handshake succeeded (after Handler.OnOpen has run). It fails
// with an error matching concurrent.ErrTimeout if connecting and the
// handshake together take longer than HandshakeTimeout, and the caller
// may Cancel it. Once it has failed, for whatever reason, no Handler
// method ever runs for the attempt and its socket is closed, whether the
// TCP connect or the handshake was under way: a connect that completes
// later is closed as it arrives. Loop-only.
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
	a := &dialAttempt{url: u, opts: opts, timeout: opts.HandshakeTimeout, result: concurrent.New[*Conn]()}
	if a.timeout <= 0 {
		a.timeout = 10 * time.Second
	}
	a.timer = loop.CallLater(a.timeout, a.timedOut)
	a.result.AddDoneCallback(a.ended)
	// The attempt's own timer bounds connect and handshake together, so
	// the connect gets no bound of its own.
	a.connecting = tcpserver.Connect(loop, hostPort, tcpserver.ConnectOptions{
		Dial:    ioloop.DialOptions{LocalAddr: opts.LocalAddr},
		Timeout: -1,
	})
	a.connecting.OnResult(a.connected)
	return a.result
}

// dialAttempt is one Dial under way. Its result settles once, by the
// handshake's success or failure, the timeout or the caller's Cancel;
// every later event of the attempt (a connect completing, a response
// arriving) checks it first and, if it has settled, goes no further.
// Loop-owned.
type dialAttempt struct {
	url     *url.URL
	opts    DialOptions
	timeout time.Duration
	result  *concurrent.Future[*Conn]
	timer   *ioloop.Timer
	stream  *iostream.Stream // once the TCP connect has completed in time

	connecting *concurrent.Future[*iostream.Stream] // the TCP connect
	key        string                               // Sec-WebSocket-Key sent
}

// errDialEnded closes a stream whose Dial had already failed.
var errDialEnded = errors.New("websocket: dial already failed or was cancelled")

func (a *dialAttempt) timedOut() {
	a.result.Fail(fmt.Errorf("websocket: dial %s: no handshake within %v: %w", a.url.Redacted(), a.timeout, concurrent.ErrTimeout))
}

// ended runs when the result settles, whichever way. A failed attempt's
// stream is closed here, so a handshake under way ends at once; a TCP
// connect still under way is cancelled, which closes its socket.
func (a *dialAttempt) ended(f *concurrent.Future[*Conn]) {
	a.timer.Cancel()
	if f.Err() == nil {
		return
	}
	if a.stream != nil {
		a.stream.Close(f.Err())
	}
	a.connecting.Cancel()
}

// connected runs when the TCP connect completes or fails. A stream that
// arrives after the attempt failed is closed unused.
func (a *dialAttempt) connected(s *iostream.Stream, err error) {
	switch {
	case a.result.Done():
		if s != nil {
			s.Close(errDialEnded)
		}
	case err != nil:
		a.result.Fail(fmt.Errorf("websocket: dial %s: %w", a.url.Redacted(), err))
	default:
		a.stream = s
		a.handshake()
	}
}

// handshake sends the upgrade request and reads the response.
func (a *dialAttempt) handshake() {
	var keyBytes [16]byte
	rand.Read(keyBytes[:])
	a.key = base64.StdEncoding.EncodeToString(keyBytes[:])

	var req bytes.Buffer
	u, opts := a.url, a.opts
	fmt.Fprintf(&req, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n", u.RequestURI(), u.Host)
	fmt.Fprintf(&req, "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n", a.key)
	if len(opts.Subprotocols) > 0 {
		fmt.Fprintf(&req, "Sec-WebSocket-Protocol: %s\r\n", strings.Join(opts.Subprotocols, ", "))
	}
	if !opts.DisableCompression {
		fmt.Fprintf(&req, "Sec-WebSocket-Extensions: %s\r\n", clientDeflateOffer)
	}
	opts.Header.Write(&req)
	req.WriteString("\r\n")
	if err := a.stream.QueueWrite(req.Bytes()); err != nil {
		a.result.Fail(fmt.Errorf("websocket: send handshake request: %w", err))
		return
	}
	a.stream.ReadUntil([]byte("\r\n\r\n"), maxResponseHead, a.onResponse)
}

// onResponse checks the server's answer and, if the attempt is still
// wanted, opens the connection.
func (a *dialAttempt) onResponse(head []byte, err error) {
	if a.result.Done() {
		return // failed or cancelled meanwhile; ended closed the stream
	}
	if err != nil {
		a.result.Fail(fmt.Errorf("websocket: read handshake response: %w", err))
		return
	}
	deflate, subprotocol, err := checkResponse(head, a.key, a.opts)
	if err != nil {
		a.result.Fail(err)
		return
	}
	c := newConn(a.stream, a.opts.Handler, a.opts.Options.shared(), false, deflate, subprotocol)
	c.start()
	a.result.Resolve(c)
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
