package httpclient

import (
	"bytes"
	"compress/gzip"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"chat/framework/concurrent"
	"chat/framework/httpserver"
	"chat/framework/ioloop"
)

// Options configures a Client. The zero value gives the defaults noted.
type Options struct {
	// MaxConnsPerHost bounds the connections open (or opening) to one
	// scheme, host and port at once: Tornado's max_clients, per host.
	// Zero means 10.
	MaxConnsPerHost int
	// MaxIdleConnsPerHost bounds the idle connections kept for reuse per
	// host; one more is closed. Zero means MaxConnsPerHost; negative
	// keeps none (every request gets a connection of its own).
	MaxIdleConnsPerHost int
	// MaxQueuedPerHost bounds the fetches waiting, first in first out,
	// for a connection to a host whose connections are all busy; one more
	// fails at once with ErrQueueFull. Zero means 1000.
	MaxQueuedPerHost int
	// IdleTimeout closes a connection idle in the pool this long. Zero
	// means 60 s (servers commonly close theirs sooner; a closed one is
	// noticed at once and dropped).
	IdleTimeout time.Duration
	// TLSConfig is the base configuration for https (cloned per host, with
	// ServerName set from the URL). Nil means crypto/tls's defaults with
	// the system roots.
	TLSConfig *tls.Config
	// UserAgent is sent unless a request sets its own; zero means
	// DefaultUserAgent.
	UserAgent string
	// Limits bounds response heads and trailers (httpserver.Limits: the
	// status line as the request line, fields, trailers); body sizes are
	// Request.MaxBodySize.
	Limits httpserver.Limits
}

func (o Options) withDefaults() Options {
	if o.MaxConnsPerHost <= 0 {
		o.MaxConnsPerHost = 10
	}
	if o.MaxIdleConnsPerHost == 0 {
		o.MaxIdleConnsPerHost = o.MaxConnsPerHost
	}
	if o.MaxQueuedPerHost <= 0 {
		o.MaxQueuedPerHost = 1000
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 60 * time.Second
	}
	if o.UserAgent == "" {
		o.UserAgent = DefaultUserAgent
	}
	o.Limits = o.Limits.WithDefaults()
	return o
}

// Stats counts what a Client has done, for tests and dashboards.
type Stats struct {
	Connects int // connections opened (dials that succeeded)
	Reuses   int // requests sent on a connection that had carried one before
	Open     int // connections open or opening now
	Idle     int // of which idle in the pool
	Queued   int // fetches waiting for a connection now
}

// Client is Tornado's AsyncHTTPClient: it fetches on its loop and keeps a
// pool of keep-alive connections per host (scheme, host, port and TLS
// configuration). Loop-only: create it, Fetch and Close on the loop.
type Client struct {
	loop   *ioloop.Loop
	opts   Options
	pools  map[string]*hostPool
	active map[*fetch]struct{}
	stats  Stats
	closed bool
}

// NewClient returns a client fetching on loop.
func NewClient(loop *ioloop.Loop, opts Options) *Client {
	return &Client{loop: loop, opts: opts.withDefaults(), pools: map[string]*hostPool{}, active: map[*fetch]struct{}{}}
}

// Stats reports the client's counters. Loop-only.
func (c *Client) Stats() Stats {
	s := c.stats
	s.Open, s.Idle, s.Queued = 0, 0, 0
	for _, p := range c.pools {
		s.Open += p.open
		s.Idle += len(p.idle)
		s.Queued += len(p.queue)
	}
	return s
}

// Close fails every fetch not yet finished with ErrClientClosed and closes
// every connection; later fetches fail at once. Close the client before
// its loop: a TLS connection's goroutines end when it is closed.
func (c *Client) Close() {
	c.loop.AssertOnLoop()
	if c.closed {
		return
	}
	c.closed = true
	for f := range c.active {
		f.out.Fail(fmt.Errorf("%s %s: %w", f.method, f.target.url, ErrClientClosed))
	}
	for _, p := range c.pools {
		for _, conn := range slices.Clone(p.idle) {
			conn.close()
		}
	}
}

// Fetch is a one-off fetch with a client of its own, closed once the
// future resolves: Tornado's AsyncHTTPClient().fetch for a script that
// fetches once. Programs that fetch repeatedly keep a Client, whose pool
// reuses connections. Loop-only.
func Fetch(loop *ioloop.Loop, req *Request) *concurrent.Future[*Response] {
	c := NewClient(loop, Options{MaxIdleConnsPerHost: -1})
	f := c.Fetch(req)
	f.AddDoneCallback(func(*concurrent.Future[*Response]) { c.Close() })
	return f
}

// Fetch sends req and resolves with the final response, after redirects,
// or fails with one of the package's errors wrapped with the method and
// URL. Cancelling the future abandons the fetch at once: its connection
// is closed (a dial in progress is abandoned, a place in the queue given
// up) and nothing else resolves. Loop-only; the future resolves on the
// loop.
func (c *Client) Fetch(req *Request) *concurrent.Future[*Response] {
	c.loop.AssertOnLoop()
	out := concurrent.New[*Response]()
	method := req.Method
	if method == "" {
		method = "GET"
	}
	if !validToken(method) || method == "CONNECT" {
		return concurrent.Failed[*Response](fmt.Errorf("%w: method %q", ErrInvalidRequest, method))
	}
	t, err := parseTarget(req.URL)
	if err != nil {
		return concurrent.Failed[*Response](err)
	}
	if c.closed {
		return concurrent.Failed[*Response](fmt.Errorf("%s %s: %w", method, req.URL, ErrClientClosed))
	}
	f := &fetch{client: c, req: req, method: method, target: t, out: out, start: time.Now()}
	c.active[f] = struct{}{}
	if d := timeoutOr(req.RequestTimeout, DefaultRequestTimeout); d > 0 {
		f.timer = c.loop.CallLater(d, func() {
			out.Fail(fmt.Errorf("%s %s: %w: no response within %v", f.method, f.target.url, ErrRequestTimeout, d))
		})
	}
	out.AddDoneCallback(func(*concurrent.Future[*Response]) { f.finished() })
	f.send()
	return out
}

func timeoutOr(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// fetch is one Fetch in progress: one hop at a time (the request, then
// each redirect), each on a connection from its host's pool. Loop-owned.
// Every way a fetch ends (response, error, timeout, cancel, Close) goes
// through its future, whose done callback, finished, releases what it
// holds; so a timeout or a cancel cannot leave a connection half-used.
type fetch struct {
	client    *Client
	req       *Request // this hop's request
	method    string
	target    target
	out       *concurrent.Future[*Response]
	start     time.Time
	timer     *ioloop.Timer
	redirects int

	pool    *hostPool
	conn    *conn                    // carrying this hop
	dialing *concurrent.Future[wire] // a connect for this hop
	queued  bool                     // waiting in pool.queue
	retried bool                     // sent again after a stale reused connection
	head    []byte                   // this hop's request head
	gzip    bool                     // Accept-Encoding: gzip was sent
}

func (f *fetch) fail(err error) {
	f.out.Fail(fmt.Errorf("%s %s: %w", f.method, f.target.url, err))
}

// send starts the current hop.
func (f *fetch) send() {
	req := f.req
	f.gzip = !req.DisableGzip && !req.Header.Has("Accept-Encoding")
	head, err := appendRequestHead(nil, f.method, f.target, req, f.gzip, f.client.opts.MaxIdleConnsPerHost < 0, f.client.opts.UserAgent)
	if err != nil {
		f.out.Fail(err)
		return
	}
	f.head = head
	f.pool = f.client.pool(f.target, req.TLSConfig)
	f.pool.acquire(f)
}

// finished runs when the future resolves, however: it releases the timer,
// the connection (closed unless the response was read whole and handed
// back already), the dial and the place in the queue.
func (f *fetch) finished() {
	delete(f.client.active, f)
	if f.timer != nil {
		f.timer.Cancel()
	}
	if f.conn != nil {
		c := f.conn
		f.conn, c.fetch = nil, nil
		c.close()
	}
	if f.dialing != nil {
		f.dialing.Cancel()
	}
	if f.queued {
		f.pool.dequeue(f)
	}
}

// use sends the hop on c.
func (f *fetch) use(c *conn) {
	if c.uses > 0 {
		f.client.stats.Reuses++
	}
	c.uses++
	f.conn, c.fetch = c, f
	c.parser.reset(f.method, cmpOr(f.req.MaxBodySize, DefaultMaxBodySize), f.client.opts.Limits)
	c.wire.send(f.head, f.req.Body)
}

func cmpOr(v, def int64) int64 {
	if v <= 0 {
		return def
	}
	return v
}

// connFailed: c broke before the response was complete. A request that
// found a reused connection already closed by the server (no response
// byte) is sent again once, on a new connection, if it is idempotent: the
// server closing an idle connection as we reuse it is a race, not an error.
func (f *fetch) connFailed(c *conn, err error) {
	f.conn = nil
	if c.uses > 1 && !c.parser.received && !f.retried && idempotent(f.method) && !f.out.Done() {
		f.retried = true
		f.pool.retry(f)
		return
	}
	f.fail(err)
}

// gotResponse finishes a hop: decode, then follow a redirect or resolve.
func (f *fetch) gotResponse(resp *Response) {
	if f.out.Done() {
		return
	}
	if f.gzip && len(resp.Body) > 0 && strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") {
		body, err := gunzip(resp.Body, cmpOr(f.req.MaxBodySize, DefaultMaxBodySize))
		if err != nil {
			f.fail(err)
			return
		}
		resp.Body = body
		resp.Header.Del("Content-Encoding")
		resp.Header.Del("Content-Length")
	}
	next, err := f.redirect(resp)
	if err != nil {
		f.fail(err)
		return
	}
	if next != nil {
		t, err := parseTarget(next.URL)
		if err != nil {
			f.fail(&ProtocolError{Reason: "redirect to an unusable Location", Err: err})
			return
		}
		f.redirects++
		f.req, f.method, f.target, f.retried = next, next.Method, t, false
		f.send()
		return
	}
	resp.EffectiveURL = f.target.url.String()
	resp.Redirects = f.redirects
	resp.RequestTime = time.Since(f.start)
	f.out.Resolve(resp)
}

// gunzip decodes a gzip body, bounded by limit after decoding (a small
// body can inflate a thousandfold). It runs on the loop: see doc.go.
func gunzip(body []byte, limit int64) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, &ProtocolError{Reason: "invalid gzip body", Err: err}
	}
	out, err := io.ReadAll(io.LimitReader(zr, limit+1))
	if err != nil {
		return nil, &ProtocolError{Reason: "invalid gzip body", Err: err}
	}
	if int64(len(out)) > limit {
		return nil, fmt.Errorf("%w: gzip body decodes past the limit of %d", ErrBodyTooLarge, limit)
	}
	return out, nil
}

// redirect returns the request to send next for a redirect response, nil
// for none. RFC 9110 §15.4: 301 and 302 turn a POST into a GET (what
// every browser does), 303 turns anything but HEAD into a GET, both
// dropping the body; 307 and 308 repeat the method and body. Credentials
// (Authorization, Proxy-Authorization, Cookie) are not sent to another
// host, nor from https to http.
func (f *fetch) redirect(resp *Response) (*Request, error) {
	switch resp.Code {
	case 301, 302, 303, 307, 308:
	default:
		return nil, nil
	}
	location := resp.Header.Get("Location")
	max := f.req.MaxRedirects
	if location == "" || max < 0 {
		return nil, nil
	}
	if max == 0 {
		max = DefaultMaxRedirects
	}
	if f.redirects >= max {
		return nil, fmt.Errorf("%w: %d followed, the limit", ErrTooManyRedirects, f.redirects)
	}
	u, err := f.target.url.Parse(location)
	if err != nil {
		return nil, &ProtocolError{Reason: "unparsable Location", Err: err}
	}
	next := *f.req
	next.URL = u.String()
	next.Method = f.method
	next.Header = f.req.Header.Clone()
	if next.Header == nil {
		next.Header = httpserver.Header{}
	}
	toGet := resp.Code == 303 && f.method != "HEAD" || (resp.Code == 301 || resp.Code == 302) && f.method == "POST"
	if toGet {
		next.Method, next.Body = "GET", nil
		for _, name := range []string{"Content-Type", "Content-Encoding", "Content-Language", "Content-Location"} {
			next.Header.Del(name)
		}
	}
	if !strings.EqualFold(u.Host, f.target.url.Host) || f.target.https && u.Scheme != "https" {
		for _, name := range []string{"Authorization", "Proxy-Authorization", "Cookie"} {
			next.Header.Del(name)
		}
	}
	if !strings.EqualFold(u.Host, f.target.url.Host) {
		next.Header.Del("Host") // a Host set for the first server is not the next one's
	}
	return &next, nil
}

// hostPool holds one host's connections and the fetches waiting for one.
// Loop-owned.
type hostPool struct {
	client *Client
	key    string
	target target
	tls    *tls.Config // nil for http
	idle   []*conn     // most recently used last
	open   int         // connections open or opening
	queue  []*fetch    // waiting for a connection, first in first out
}

func (c *Client) pool(t target, override *tls.Config) *hostPool {
	key := t.url.Scheme + "://" + t.address
	if override != nil {
		key += fmt.Sprintf(" tls=%p", override)
	}
	p := c.pools[key]
	if p == nil {
		p = &hostPool{client: c, key: key, target: t}
		if t.https {
			base := override
			if base == nil {
				base = c.opts.TLSConfig
			}
			if base == nil {
				p.tls = &tls.Config{}
			} else {
				p.tls = base.Clone()
			}
			if p.tls.ServerName == "" {
				p.tls.ServerName = t.serverName
			}
			p.tls.NextProtos = []string{"http/1.1"}
		}
		c.pools[key] = p
	}
	return p
}

// acquire gives f an idle connection, a new one, or a place in the queue.
func (p *hostPool) acquire(f *fetch) {
	if n := len(p.idle); n > 0 {
		c := p.idle[n-1]
		p.idle = p.idle[:n-1]
		c.idleTimer.Cancel()
		f.use(c)
		return
	}
	if p.open < p.client.opts.MaxConnsPerHost {
		p.connect(f)
		return
	}
	if len(p.queue) >= p.client.opts.MaxQueuedPerHost {
		f.fail(fmt.Errorf("%w (%d connections busy, %d waiting)", ErrQueueFull, p.open, len(p.queue)))
		return
	}
	f.queued = true
	p.queue = append(p.queue, f)
}

func (p *hostPool) dequeue(f *fetch) {
	f.queued = false
	if i := slices.Index(p.queue, f); i >= 0 {
		p.queue = slices.Delete(p.queue, i, i+1)
	}
}

// connect opens a connection for f.
func (p *hostPool) connect(f *fetch) {
	p.open++
	timeout := timeoutOr(f.req.ConnectTimeout, DefaultConnectTimeout)
	var dialing *concurrent.Future[wire]
	if p.tls != nil {
		dialing = dialTLS(p.client.loop, p.target.address, p.tls, timeout)
	} else {
		dialing = dialPlain(p.client.loop, p.target.address, timeout)
	}
	f.dialing = dialing
	dialing.OnResult(func(w wire, err error) {
		if f.dialing == dialing {
			f.dialing = nil
		}
		if err != nil {
			p.open--
			if !errors.Is(err, concurrent.ErrCancelled) {
				f.fail(err)
			}
			p.serveQueue()
			return
		}
		p.client.stats.Connects++
		c := &conn{pool: p, wire: w}
		w.receive(c.onData)
		f.use(c)
	})
}

// release takes back a connection whose response was read whole.
func (p *hostPool) release(c *conn) {
	if p.client.closed {
		c.close()
		return
	}
	if len(p.queue) > 0 {
		f := p.queue[0]
		p.queue = p.queue[1:]
		f.queued = false
		f.use(c)
		return
	}
	if len(p.idle) >= p.client.opts.MaxIdleConnsPerHost {
		c.close()
		return
	}
	c.idleTimer = p.client.loop.CallLater(p.client.opts.IdleTimeout, c.close)
	p.idle = append(p.idle, c)
}

// closed forgets a connection that closed.
func (p *hostPool) closed(c *conn) {
	p.open--
	if i := slices.Index(p.idle, c); i >= 0 {
		p.idle = slices.Delete(p.idle, i, i+1)
	}
	p.serveQueue()
}

// retry sends f again on a new connection, or puts it first in line when
// every slot is taken (the connection it lost freed one, which a waiting
// fetch may have taken).
func (p *hostPool) retry(f *fetch) {
	if p.open < p.client.opts.MaxConnsPerHost {
		p.connect(f)
		return
	}
	f.queued = true
	p.queue = slices.Insert(p.queue, 0, f)
}

// serveQueue opens a connection for the first waiting fetch if a slot is free.
func (p *hostPool) serveQueue() {
	if len(p.queue) > 0 && p.open < p.client.opts.MaxConnsPerHost && !p.client.closed {
		f := p.queue[0]
		p.queue = p.queue[1:]
		f.queued = false
		p.connect(f)
	}
}

// conn is one pooled connection. Loop-owned. States: busy (fetch set),
// idle (in pool.idle, fetch nil), closed.
type conn struct {
	pool      *hostPool
	wire      wire
	parser    responseParser
	fetch     *fetch
	uses      int
	idleTimer *ioloop.Timer
	isClosed  bool
}

func (c *conn) close() {
	if c.isClosed {
		return
	}
	c.isClosed = true
	if c.idleTimer != nil {
		c.idleTimer.Cancel()
	}
	c.wire.close()
	c.pool.closed(c)
}

// onData receives the connection's bytes, EOF or error.
func (c *conn) onData(data []byte, err error) {
	if c.isClosed {
		return
	}
	f := c.fetch
	if f == nil {
		// Idle: the server closed it, or sent what nobody asked for.
		c.close()
		return
	}
	atEOF := err == io.EOF
	if err != nil && !atEOF {
		c.fetch = nil
		c.close()
		f.connFailed(c, fmt.Errorf("%w: %w", ErrConnectionClosed, err))
		return
	}
	done, err := c.parser.feed(data, atEOF)
	if err != nil {
		c.fetch = nil
		c.close()
		if errors.Is(err, ErrConnectionClosed) {
			f.connFailed(c, err)
		} else {
			f.conn = nil
			f.fail(err)
		}
		return
	}
	if !done {
		return
	}
	reusable := c.parser.reusable() && !atEOF
	resp := c.parser.response()
	c.fetch, f.conn = nil, nil
	if reusable {
		c.pool.release(c)
	} else {
		c.close()
	}
	f.gotResponse(resp)
}
