package rooms

// Clients for tests that run many at once: unlike the harness's helpers,
// which fail the test and so belong to the test goroutine, these return
// errors, so any goroutine may use them. The WebSocket client is gorilla's
// (a reference the server did not write) or a raw one over TCP that can
// stop reading in the middle of a frame; SSE and long poll are net/http.

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"

	"chat/framework/ioloop"
	"chat/framework/websocket"
	"chat/store"
)

// durable is one durable event as a client applied it, or as the store
// holds it: what two doors must agree on.
type durable struct {
	ID   int64
	Type string
	Msg  int64
	Key  string
	User string // author (message, edit) or actor (delete, room)
	Body string
}

func (d durable) String() string {
	return fmt.Sprintf("{%d %s msg=%d key=%q user=%q body=%q}", d.ID, d.Type, d.Msg, d.Key, d.User, d.Body)
}

// durableFrame reports whether f is a durable event and returns it.
func durableFrame(f frame) (durable, bool) {
	d := durable{ID: f.ID, Type: f.Type, Msg: f.Msg, Key: f.Key, Body: f.Body}
	switch f.Type {
	case "message", "edit":
		d.User = f.userName()
	case "delete", "room":
		d.User = f.By
	default:
		return durable{}, false
	}
	return d, f.ID > 0
}

// storedLog reads a room's whole log from the store, as a client resuming
// from 0 must see it.
func storedLog(ctx context.Context, st *store.Store, roomID int64) ([]durable, error) {
	var out []durable
	var after int64
	for {
		page, err := st.EventsAfter(ctx, roomID, after, store.MaxPageSize, store.PublicView)
		if err != nil {
			return nil, err
		}
		for _, ev := range page {
			out = append(out, durable{ID: ev.ID, Type: ev.Kind, Msg: ev.MessageID, Key: ev.ClientKey, User: ev.UserName, Body: ev.Body})
			after = ev.ID
		}
		if len(page) < store.MaxPageSize {
			return out, nil
		}
	}
}

// diffLog compares what a client applied with the stored log and describes
// the first difference ("" when they agree). A body the store no longer
// shows (the message was deleted since) may have reached a client that was
// live at the time; every other field must be equal.
func diffLog(got, want []durable) string {
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		if w.Body == "" {
			g.Body = ""
		}
		if g != w {
			return fmt.Sprintf("event %d of %d: got %v, stored %v (previous id %d)", i, len(want), got[i], w, prevID(want, i))
		}
	}
	switch {
	case len(got) < len(want):
		return fmt.Sprintf("got %d events, stored %d: missing from %v on", len(got), len(want), want[len(got)])
	case len(got) > len(want):
		return fmt.Sprintf("got %d events, stored %d: extra from %v on", len(got), len(want), got[len(want)])
	}
	return ""
}

func prevID(log []durable, i int) int64 {
	if i == 0 {
		return 0
	}
	return log[i-1].ID
}

// peer is a signed-in user's identity for clients on any goroutine: its
// cookie jar (safe for concurrent use) and an HTTP client sharing one
// transport.
type peer struct {
	name string
	addr string // the server's, "127.0.0.1:port"
	jar  http.CookieJar
	http *http.Client
}

func (u *testUser) peer(transport http.RoundTripper) *peer {
	return &peer{name: u.name, addr: u.tc.Addr, jar: u.jar, http: &http.Client{Jar: u.jar, Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (p *peer) cookies() string {
	var parts []string
	for _, c := range p.jar.Cookies(&url.URL{Scheme: "http", Host: p.addr, Path: "/"}) {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}

func (p *peer) xsrf() string {
	for _, c := range p.jar.Cookies(&url.URL{Scheme: "http", Host: p.addr, Path: "/"}) {
		if c.Name == "_xsrf" {
			return c.Value
		}
	}
	return ""
}

// do makes an API call and returns its status and body.
func (p *peer) do(ctx context.Context, method, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+p.addr+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if method != "GET" {
		req.Header.Set("X-XSRFToken", p.xsrf())
	}
	resp, err := p.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, err
}

// pollOnce makes one long poll; an error status is an error.
func (p *peer) pollOnce(ctx context.Context, room string, after int64) (frame, error) {
	status, body, err := p.do(ctx, "GET", roomPath(room, "events", after), nil)
	if err != nil {
		return frame{}, err
	}
	if status != http.StatusOK {
		return frame{}, fmt.Errorf("long poll %s after %d: %d %s", room, after, status, body)
	}
	var f frame
	if err := json.Unmarshal(body, &f); err != nil {
		return frame{}, fmt.Errorf("long poll %s after %d: %q: %w", room, after, body, err)
	}
	return f, nil
}

// dialWS opens a room's WebSocket with gorilla's client; after < 0 means
// no cursor.
func (p *peer) dialWS(ctx context.Context, room string, after int64) (*gorilla.Conn, error) {
	d := gorilla.Dialer{HandshakeTimeout: 10 * time.Second}
	conn, resp, err := d.DialContext(ctx, "ws://"+p.addr+roomPath(room, "ws", after), http.Header{"Cookie": {p.cookies()}})
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("dial ws %s after %d: %d: %w", room, after, resp.StatusCode, err)
		}
		return nil, fmt.Errorf("dial ws %s after %d: %w", room, after, err)
	}
	return conn, nil
}

// readWSFrame reads one text message from a gorilla connection.
func readWSFrame(conn *gorilla.Conn) (frame, error) {
	conn.SetReadDeadline(time.Now().Add(30 * time.Second)) // against a hang, not for timing
	op, data, err := conn.ReadMessage()
	if err != nil {
		return frame{}, err
	}
	if op != gorilla.TextMessage {
		return frame{}, fmt.Errorf("WebSocket message of type %d: %q", op, data)
	}
	var f frame
	if err := json.Unmarshal(data, &f); err != nil {
		return frame{}, fmt.Errorf("WebSocket frame %q: %w", data, err)
	}
	return f, nil
}

// rawWS is a WebSocket client over a bare TCP connection that reads
// frames itself, so that it can stop in the middle of one.
type rawWS struct {
	conn net.Conn
	r    *bufio.Reader
}

// errRawClosed is a close frame read by rawWS.
var errRawClosed = errors.New("close frame")

func (p *peer) dialRawWS(ctx context.Context, room string, after int64) (*rawWS, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", p.addr)
	if err != nil {
		return nil, err
	}
	req := "GET " + roomPath(room, "ws", after) + " HTTP/1.1\r\nHost: " + p.addr +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13" +
		"\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nCookie: " + p.cookies() + "\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		conn.Close()
		return nil, err
	}
	r := bufio.NewReader(conn)
	resp, err := http.ReadResponse(r, &http.Request{Method: "GET"})
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("raw ws handshake: %w", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		conn.Close()
		return nil, fmt.Errorf("raw ws handshake: %d", resp.StatusCode)
	}
	return &rawWS{conn: conn, r: r}, nil
}

// header reads a frame's head: FIN, opcode and payload length.
func (w *rawWS) header() (fin bool, op byte, n int, err error) {
	var h [2]byte
	if _, err = io.ReadFull(w.r, h[:]); err != nil {
		return
	}
	fin, op = h[0]&0x80 != 0, h[0]&0x0f
	if h[1]&0x80 != 0 {
		return false, 0, 0, errors.New("raw ws: a masked server frame")
	}
	switch l := h[1] & 0x7f; l {
	case 126:
		var b [2]byte
		_, err = io.ReadFull(w.r, b[:])
		n = int(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		_, err = io.ReadFull(w.r, b[:])
		n = int(binary.BigEndian.Uint64(b[:]))
	default:
		n = int(l)
	}
	return
}

// next reads the next text message (pings are skipped).
func (w *rawWS) next() (frame, error) {
	var msg []byte
	for {
		fin, op, n, err := w.header()
		if err != nil {
			return frame{}, err
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(w.r, payload); err != nil {
			return frame{}, err
		}
		switch op {
		case 0x8:
			return frame{}, errRawClosed
		case 0x9, 0xa:
			continue
		case 0x1, 0x0:
			msg = append(msg, payload...)
		default:
			return frame{}, fmt.Errorf("raw ws: opcode %d", op)
		}
		if fin {
			var f frame
			if err := json.Unmarshal(msg, &f); err != nil {
				return frame{}, fmt.Errorf("raw ws frame %q: %w", msg, err)
			}
			return f, nil
		}
	}
}

// dropMidFrame reads the head of the next frame and part of its payload,
// then closes the connection: the frame is never applied.
func (w *rawWS) dropMidFrame() error {
	defer w.conn.Close()
	_, _, n, err := w.header()
	if err != nil {
		return err
	}
	_, err = io.ReadFull(w.r, make([]byte, n/2))
	return err
}

// sseConn is one SSE response read line by line on the caller's goroutine.
type sseConn struct {
	body io.ReadCloser
	r    *bufio.Reader
}

// openSSE opens a room's stream; after < 0 means no cursor, lastEventID
// (if not empty) is sent as Last-Event-ID.
func (p *peer) openSSE(ctx context.Context, room string, after int64, lastEventID string) (*sseConn, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+p.addr+roomPath(room, "stream", after), nil)
	if err != nil {
		return nil, err
	}
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := p.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("stream %s after %d: %d", room, after, resp.StatusCode)
	}
	return &sseConn{body: resp.Body, r: bufio.NewReader(resp.Body)}, nil
}

// next reads the next event with data. midEvent, if set, makes it stop
// after the first line of the next event and close the response instead
// (it then returns errAborted).
func (s *sseConn) next(midEvent bool) (sseEvent, error) {
	var ev sseEvent
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			return sseEvent{}, err
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if ev.data != "" {
				return ev, nil
			}
			ev = sseEvent{}
			continue
		case strings.HasPrefix(line, "id: "):
			ev.id = line[4:]
		case strings.HasPrefix(line, "data: "):
			ev.data = line[6:]
		default:
			continue // retry:, a comment
		}
		if midEvent {
			s.body.Close()
			return sseEvent{}, errAborted
		}
	}
}

var errAborted = errors.New("aborted mid-event")

func (s *sseConn) close() { s.body.Close() }

// The no-gap property (ARCHITECTURE.md §3): clients dropped at any point
// that resume with their cursor, on any door, end with exactly the room's
// log. The run is driven by a seeded generator (NOGAP_SEED reproduces one).

// The doors, in the order a reader switches through them.
const (
	doorWS = iota
	doorSSE
	doorPoll
	doorCount
)

var doorNames = [doorCount]string{"ws", "sse", "poll"}

// swarm is the shared state of one run.
type swarm struct {
	ctx         context.Context
	cancel      context.CancelCauseFunc
	postersDone chan struct{} // closed once every poster has its acks and each room's final id is set
}

// fail stops the run with err (the first one wins).
func (sw *swarm) fail(err error) { sw.cancel(err) }

// stopped is the run's failure, if any.
func (sw *swarm) stopped() error {
	if sw.ctx.Err() != nil {
		return context.Cause(sw.ctx)
	}
	return nil
}

// swarmRoom is one room of a run.
type swarmRoom struct {
	name  string
	id    int64
	final atomic.Int64 // the room's last id, set before postersDone closes

	mu       sync.Mutex
	progress chan struct{}    // closed and replaced at every ack in the room
	acks     map[string]int64 // client key → the event id its acks gave
}

func newSwarmRoom(name string, id int64) *swarmRoom {
	return &swarmRoom{name: name, id: id, progress: make(chan struct{}), acks: make(map[string]int64)}
}

// changed returns a channel closed at the room's next ack.
func (r *swarmRoom) changed() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.progress
}

// acked records an ack of a send; every ack of one key must give one id.
func (r *swarmRoom) acked(key string, id int64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	close(r.progress)
	r.progress = make(chan struct{})
	if prev, ok := r.acks[key]; ok && prev != id {
		return fmt.Errorf("key %q acked as %d, then as %d", key, prev, id)
	}
	r.acks[key] = id
	return nil
}

func (r *swarmRoom) bump() {
	r.mu.Lock()
	defer r.mu.Unlock()
	close(r.progress)
	r.progress = make(chan struct{})
}

// reader is one client that reads a room from 0 to its end, dropping its
// connection at random points and resuming with its cursor on the next
// door. Its fields belong to its goroutine, cursor excepted (the watcher
// reads it).
type reader struct {
	name     string
	p        *peer
	room     *swarmRoom
	door     int
	cursor   atomic.Int64
	got      []durable
	sessions [doorCount]int
	midFrame int // WebSocket frames dropped half read
	midEvent int // SSE events dropped half read
	abandons int // long polls abandoned
	// cutByServer counts sessions the server ended for being too far
	// behind (WebSocket 1013, a stream's end).
	cutByServer int
}

// finished reports whether the reader has everything it will ever get.
func (sw *swarm) finished(r *reader) bool {
	select {
	case <-sw.postersDone:
		return r.cursor.Load() == r.room.final.Load()
	default:
		return false
	}
}

// watch calls closeFn when the run fails, or when the posters are done and
// the reader already has the room's last event (it would wait for
// nothing). A reader behind the end gets the rest and stops by itself.
func (sw *swarm) watch(r *reader, closeFn func()) (stop func()) {
	done := make(chan struct{})
	go func() {
		select {
		case <-sw.ctx.Done():
			closeFn()
			return
		case <-sw.postersDone:
			if sw.finished(r) {
				closeFn()
				return
			}
		case <-done:
			return
		}
		select {
		case <-sw.ctx.Done():
			closeFn()
		case <-done:
		}
	}()
	return func() { close(done) }
}

// apply takes a durable event: ids must only grow.
func (r *reader) apply(d durable, door string) error {
	if c := r.cursor.Load(); d.ID <= c {
		return fmt.Errorf("%s got event %d at cursor %d: a duplicate or out of order", door, d.ID, c)
	}
	r.got = append(r.got, d)
	r.cursor.Store(d.ID)
	return nil
}

func (r *reader) run(sw *swarm, rng *rand.Rand) error {
	for !sw.finished(r) {
		if err := sw.stopped(); err != nil {
			return err
		}
		budget := 1 + rng.IntN(25) // durable events before the drop
		if rng.IntN(10) == 0 {
			budget = 1 + rng.IntN(150) // a long stay
		}
		var err error
		switch r.door {
		case doorWS:
			err = r.wsSession(sw, rng, budget)
		case doorSSE:
			err = r.sseSession(sw, rng, budget)
		case doorPoll:
			err = r.pollSession(sw, rng, budget)
		}
		r.sessions[r.door]++
		if err != nil {
			if stop := sw.stopped(); stop != nil {
				return stop
			}
			return fmt.Errorf("%s on %s at cursor %d: %w", r.name, doorNames[r.door], r.cursor.Load(), err)
		}
		r.door = (r.door + 1) % doorCount
		r.away(sw, rng.IntN(16))
	}
	return nil
}

// away keeps a dropped reader away while the room takes n more acks (not
// past the posters' end), so that it comes back behind: from the ring when
// it is large, from SQLite when it is small.
func (r *reader) away(sw *swarm, n int) {
	for range n {
		select {
		case <-r.room.changed():
		case <-sw.postersDone:
			return
		case <-sw.ctx.Done():
			return
		}
	}
}

// wsSession reads one WebSocket: gorilla's client, dropped by closing it
// (abruptly or with a close frame), or the raw one, dropped mid-frame.
func (r *reader) wsSession(sw *swarm, rng *rand.Rand, budget int) error {
	after := r.cursor.Load()
	if rng.IntN(3) == 0 {
		return r.rawWSSession(sw, after, budget)
	}
	conn, err := r.p.dialWS(sw.ctx, r.room.name, after)
	if err != nil {
		return err
	}
	defer conn.Close()
	defer sw.watch(r, func() { conn.Close() })()
	abrupt := rng.IntN(2) == 0
	for n, first := 0, true; ; first = false {
		f, err := readWSFrame(conn)
		switch {
		case err != nil && sw.finished(r):
			return nil
		case err != nil:
			var ce *gorilla.CloseError
			if errors.As(err, &ce) && ce.Code == 1013 {
				r.cutByServer++
				return nil // too slow: resume
			}
			return err
		case first && f.Type != "hello":
			return fmt.Errorf("first frame %+v, want hello", f)
		case f.Type == "reset" || f.Type == "error":
			return fmt.Errorf("unexpected frame %+v", f)
		}
		d, ok := durableFrame(f)
		if !ok {
			continue
		}
		if err := r.apply(d, "ws"); err != nil {
			return err
		}
		if n++; sw.finished(r) {
			return nil
		}
		if n >= budget {
			if !abrupt {
				conn.WriteControl(gorilla.CloseMessage, gorilla.FormatCloseMessage(gorilla.CloseNormalClosure, ""), time.Now().Add(time.Second))
			}
			return nil
		}
	}
}

func (r *reader) rawWSSession(sw *swarm, after int64, budget int) error {
	ws, err := r.p.dialRawWS(sw.ctx, r.room.name, after)
	if err != nil {
		return err
	}
	defer ws.conn.Close()
	defer sw.watch(r, func() { ws.conn.Close() })()
	f, err := ws.next()
	if err != nil {
		return err
	}
	if f.Type != "hello" {
		return fmt.Errorf("first frame %+v, want hello", f)
	}
	for n := 0; ; {
		if n >= budget {
			r.midFrame++
			ws.dropMidFrame() // its error is the watcher's close, or the drop itself
			return nil
		}
		f, err := ws.next()
		switch {
		case err != nil && sw.finished(r):
			return nil
		case err != nil:
			return err
		case f.Type == "reset" || f.Type == "error":
			return fmt.Errorf("unexpected frame %+v", f)
		}
		d, ok := durableFrame(f)
		if !ok {
			continue
		}
		if err := r.apply(d, "raw ws"); err != nil {
			return err
		}
		if n++; sw.finished(r) {
			return nil
		}
	}
}

// sseSession reads one stream, resuming with after or with Last-Event-ID
// (which must win over an after of 0), and drops it between events or in
// the middle of one.
func (r *reader) sseSession(sw *swarm, rng *rand.Rand, budget int) error {
	cursor := r.cursor.Load()
	after, lastEventID := cursor, ""
	switch rng.IntN(3) {
	case 1:
		after, lastEventID = 0, itoa(cursor)
	case 2:
		after, lastEventID = -1, itoa(cursor)
	}
	s, err := r.p.openSSE(sw.ctx, r.room.name, after, lastEventID)
	if err != nil {
		return err
	}
	defer s.close()
	defer sw.watch(r, s.close)()
	midEvent := rng.IntN(2) == 0
	if ev, err := s.next(false); err != nil || ev.id != "" || !strings.HasPrefix(ev.data, `{"type":"hello"`) {
		return fmt.Errorf("first event %+v %v, want the hello", ev, err)
	}
	for n := 0; ; {
		ev, err := s.next(midEvent && n >= budget)
		switch {
		case errors.Is(err, errAborted):
			r.midEvent++
			return nil
		case err != nil && sw.finished(r):
			return nil
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			r.cutByServer++
			return nil // the server ended the stream (too far behind): resume
		case err != nil:
			return err
		}
		var f frame
		if err := json.Unmarshal([]byte(ev.data), &f); err != nil {
			return fmt.Errorf("stream data %q: %w", ev.data, err)
		}
		if f.Type == "reset" || f.Type == "error" {
			return fmt.Errorf("unexpected event %+v", f)
		}
		d, ok := durableFrame(f)
		if !ok {
			if ev.id != "" {
				return fmt.Errorf("ephemeral event %q with id %q", ev.data, ev.id)
			}
			continue
		}
		if ev.id != itoa(d.ID) {
			return fmt.Errorf("event %d sent with id: %q", d.ID, ev.id)
		}
		if err := r.apply(d, "sse"); err != nil {
			return err
		}
		if n++; sw.finished(r) {
			return nil
		}
		if n >= budget && !midEvent {
			return nil
		}
	}
}

// pollSession makes a few long polls; the last one of some sessions is
// abandoned at the room's next ack (its answer, if any, is never read).
func (r *reader) pollSession(sw *swarm, rng *rand.Rand, budget int) error {
	abandon := rng.IntN(2) == 0
	for n := 0; ; {
		if sw.finished(r) {
			return nil
		}
		cursor := r.cursor.Load()
		ctx, cancel := context.WithCancel(sw.ctx)
		if abandon && n >= budget {
			next := r.room.changed()
			go func() {
				select {
				case <-next:
				case <-sw.postersDone:
				case <-ctx.Done():
				}
				cancel()
			}()
			r.p.pollOnce(ctx, r.room.name, cursor) // abandoned: never applied
			cancel()
			r.abandons++
			return nil
		}
		stop := sw.watch(r, cancel)
		f, err := r.p.pollOnce(ctx, r.room.name, cursor)
		stop()
		cancel()
		switch {
		case err != nil && sw.finished(r):
			return nil
		case err != nil:
			return err
		case f.Type != "events":
			return fmt.Errorf("answer %+v, want events", f)
		}
		last := cursor
		for _, e := range f.Events {
			d, ok := durableFrame(e)
			if !ok {
				return fmt.Errorf("a long poll carried %+v", e)
			}
			if err := r.apply(d, "poll"); err != nil {
				return err
			}
			last = d.ID
		}
		if f.LastID != last {
			return fmt.Errorf("answer after %d: last_id %d, its last event %d", cursor, f.LastID, last)
		}
		if n += len(f.Events); n >= budget && !abandon {
			return nil
		}
	}
}

// poster posts n messages to a room (and edits and deletes some of its
// own), retrying some with the same key. Its fields belong to its
// goroutine.
type poster struct {
	name string
	p    *peer
	room *swarmRoom
	n    int
	mine []int64 // its messages not deleted
	keys []string
}

func (po *poster) key(i int) string { return fmt.Sprintf("%s-%d", po.name, i) }

// pick returns one of the poster's messages, removing it if del.
func (po *poster) pick(rng *rand.Rand, del bool) int64 {
	i := rng.IntN(len(po.mine))
	m := po.mine[i]
	if del {
		po.mine = append(po.mine[:i], po.mine[i+1:]...)
	}
	return m
}

// runWS posts over a WebSocket, several frames in flight at once.
func (po *poster) runWS(sw *swarm, rng *rand.Rand) error {
	conn, err := po.p.dialWS(sw.ctx, po.room.name, -1)
	if err != nil {
		return err
	}
	defer func() { conn.Close() }()
	send := func(v map[string]any) error {
		b, _ := json.Marshal(v)
		return conn.WriteMessage(gorilla.TextMessage, b)
	}
	for i := 0; i < po.n; {
		want := map[string]int{} // acks awaited by key
		sends := map[string]bool{}
		for depth := 1 + rng.IntN(4); depth > 0 && i < po.n; depth-- {
			switch r := rng.IntN(20); {
			case r == 0 && len(po.mine) > 0:
				k := "e-" + po.key(i)
				want[k]++
				err = send(map[string]any{"type": "edit", "msg": po.pick(rng, false), "body": "edited " + k, "key": k})
			case r == 1 && len(po.mine) > 0:
				k := "d-" + po.key(i)
				want[k]++
				err = send(map[string]any{"type": "delete", "msg": po.pick(rng, true), "key": k})
			default:
				k := po.key(i)
				po.keys = append(po.keys, k)
				sends[k] = true
				times := 1
				if r == 2 {
					times = 2 // a retry while the first is in flight
				}
				for range times {
					want[k]++
					if err = send(map[string]any{"type": "send", "body": "hello from " + k, "key": k}); err != nil {
						break
					}
				}
			}
			if err != nil {
				return err
			}
			i++
		}
		for len(want) > 0 {
			f, err := readWSFrame(conn)
			if err != nil {
				return err
			}
			switch f.Type {
			case "error":
				return fmt.Errorf("poster %s: %+v", po.name, f)
			case "ack":
			default:
				continue
			}
			if want[f.Key] == 0 {
				return fmt.Errorf("poster %s: unexpected ack %+v", po.name, f)
			}
			if want[f.Key]--; want[f.Key] == 0 {
				delete(want, f.Key)
			}
			if sends[f.Key] {
				if err := po.room.acked(f.Key, f.ID); err != nil {
					return err
				}
				if want[f.Key] == 0 {
					po.mine = append(po.mine, f.Msg)
				}
			} else {
				po.room.bump()
			}
		}
		switch rng.IntN(10) {
		case 0: // a retry of an acked key: the same ack, no second event
			k := po.keys[rng.IntN(len(po.keys))]
			if err := send(map[string]any{"type": "send", "body": "hello from " + k, "key": k}); err != nil {
				return err
			}
			if err := po.awaitAck(conn, k); err != nil {
				return err
			}
		case 1: // drop before the ack, then resend from the outbox
			k := po.key(i)
			i++
			po.keys = append(po.keys, k)
			if err := send(map[string]any{"type": "send", "body": "hello from " + k, "key": k}); err != nil {
				return err
			}
			conn.Close()
			again, err := po.p.dialWS(sw.ctx, po.room.name, -1)
			if err != nil {
				return err
			}
			conn = again
			if err := send(map[string]any{"type": "send", "body": "hello from " + k, "key": k}); err != nil {
				return err
			}
			if err := po.awaitAck(conn, k); err != nil {
				return err
			}
		}
	}
	return nil
}

// awaitAck reads frames until the ack of key, and records it.
func (po *poster) awaitAck(conn *gorilla.Conn, key string) error {
	for {
		f, err := readWSFrame(conn)
		if err != nil {
			return err
		}
		switch {
		case f.Type == "error":
			return fmt.Errorf("poster %s: %+v", po.name, f)
		case f.Type == "ack" && f.Key == key:
			return po.room.acked(key, f.ID)
		}
	}
}

// runHTTP posts with POST /api/rooms/{room}/messages, edits with PATCH
// and deletes with DELETE; some keys are posted twice at once, some again
// after their ack.
func (po *poster) runHTTP(sw *swarm, rng *rand.Rand) error {
	base := "/api/rooms/" + po.room.name + "/messages"
	for i := 0; i < po.n; i++ {
		switch r := rng.IntN(20); {
		case r == 0 && len(po.mine) > 0:
			if err := po.change(sw.ctx, "PATCH", base, po.pick(rng, false), map[string]string{"body": "edited " + po.key(i)}); err != nil {
				return err
			}
		case r == 1 && len(po.mine) > 0:
			if err := po.change(sw.ctx, "DELETE", base, po.pick(rng, true), nil); err != nil {
				return err
			}
		default:
			k := po.key(i)
			po.keys = append(po.keys, k)
			times := 1
			if r == 2 || r == 3 {
				times = 2 // both at once: one stores, the other finds it
			}
			statuses := make([]int, times)
			acks := make([]frame, times)
			errs := make([]error, times)
			var wg sync.WaitGroup
			for j := range times {
				wg.Go(func() { statuses[j], acks[j], errs[j] = po.postOnce(sw.ctx, base, k) })
			}
			wg.Wait()
			created := 0
			for j := range times {
				if errs[j] != nil {
					return errs[j]
				}
				if statuses[j] == http.StatusCreated {
					created++
				}
				if err := po.room.acked(k, acks[j].ID); err != nil {
					return err
				}
			}
			if created != 1 {
				return fmt.Errorf("poster %s: key %q posted %d times at once: statuses %v, want one 201", po.name, k, times, statuses)
			}
			po.mine = append(po.mine, acks[0].Msg)
			if rng.IntN(8) == 0 { // again after the ack
				status, a, err := po.postOnce(sw.ctx, base, k)
				if err != nil {
					return err
				}
				if status != http.StatusOK {
					return fmt.Errorf("poster %s: a retry of %q answered %d, want 200", po.name, k, status)
				}
				if err := po.room.acked(k, a.ID); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (po *poster) postOnce(ctx context.Context, base, key string) (int, frame, error) {
	status, body, err := po.p.do(ctx, "POST", base, map[string]string{"body": "hello from " + key, "key": key})
	if err != nil {
		return 0, frame{}, err
	}
	var f frame
	if status != http.StatusCreated && status != http.StatusOK || json.Unmarshal(body, &f) != nil || f.Type != "ack" || f.Key != key || f.ID == 0 {
		return 0, frame{}, fmt.Errorf("poster %s: POST %q: %d %s", po.name, key, status, body)
	}
	return status, f, nil
}

func (po *poster) change(ctx context.Context, method, base string, msg int64, body any) error {
	status, data, err := po.p.do(ctx, method, base+"/"+itoa(msg), body)
	if err != nil {
		return err
	}
	var f frame
	if status != http.StatusOK || json.Unmarshal(data, &f) != nil || f.Type != "ack" || f.ID == 0 {
		return fmt.Errorf("poster %s: %s message %d: %d %s", po.name, method, msg, status, data)
	}
	po.room.bump()
	return nil
}

// swarmSeed is NOGAP_SEED when set (to replay a failure), else the clock.
func swarmSeed(t *testing.T) uint64 {
	if s := os.Getenv("NOGAP_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("NOGAP_SEED=%q: %v", s, err)
		}
		return n
	}
	return uint64(time.Now().UnixNano())
}

// swarmSize is one run's shape.
type swarmSize struct {
	ringSize, pageSize int
	hubIdle            time.Duration // also the presence grace: a hub dropped as soon as it is empty
	posters            int           // per room and kind (WebSocket, HTTP)
	messages           int           // per poster
	readers            int           // per room and starting door
	httpOnly           bool          // no WebSocket posters (they would keep the hubs)
	tight              bool          // small write bounds: slow readers are cut by the server
}

// TestNoGap runs posters and readers on two rooms at once. Posters send
// over WebSocket and HTTP, retry some keys (at once, after the ack, after
// a drop); readers start from 0, drop their connection at random points
// (a WebSocket closed or cut in the middle of a frame, a stream cut
// between or in the middle of events, a long poll abandoned) and resume
// with their cursor on the next door. At the end every reader holds
// exactly the room's stored log, and every key is stored once, with the
// id its acks gave. With a ring of 8 and pages of 16, most resumes read
// SQLite and most replays take several pages; "hubchurn" also drops a
// room's hub as soon as it is empty, so hubs are reloaded mid-run.
func TestNoGap(t *testing.T) {
	for _, tt := range []struct {
		name string
		size swarmSize
	}{
		{"ring1024", swarmSize{ringSize: 0, pageSize: 0, posters: 2, messages: 80, readers: 3}},
		{"ring8", swarmSize{ringSize: 8, pageSize: 16, posters: 2, messages: 80, readers: 3}},
		{"tight", swarmSize{ringSize: 8, pageSize: 16, tight: true, posters: 2, messages: 80, readers: 3}},
		{"hubchurn", swarmSize{ringSize: 8, pageSize: 16, hubIdle: time.Millisecond, httpOnly: true, posters: 2, messages: 80, readers: 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			seed := swarmSeed(t)
			t.Logf("seed %d (NOGAP_SEED=%d reproduces the choices)", seed, seed)
			runSwarm(t, seed, tt.size)
		})
	}
}

func runSwarm(t *testing.T, seed uint64, size swarmSize) {
	var reads *ioloop.Executor
	tc := startChat(t, func(c *Config) {
		c.RateLimit = RateLimit{Burst: 1000, PerSecond: 1000}
		c.RingSize, c.PageSize = size.ringSize, size.pageSize
		c.HubIdle, c.PresenceGrace = size.hubIdle, size.hubIdle
		if size.tight {
			c.StreamMaxBehind = 2 << 10
			c.WebSocket = &websocket.Options{MaxMessageSize: MaxFrameBytes, MaxPendingWriteBytes: 2 << 10}
		}
		reads = c.Loop.NewExecutor("reads", 4, 1024)
		c.Reads = reads
	})
	den := tc.createRoom("den")
	// The den's log starts with a room event, stored before any hub exists.
	if err := tc.store.SetRoomTopic(context.Background(), tc.owner.ID, den.ID, "DEN", "the den's topic"); err != nil {
		t.Fatal(err)
	}
	rooms := []*swarmRoom{newSwarmRoom("lobby", tc.lobby.ID), newSwarmRoom("den", den.ID)}

	transport := &http.Transport{MaxIdleConnsPerHost: 64}
	t.Cleanup(transport.CloseIdleConnections)
	ctx, cancel := context.WithTimeoutCause(context.Background(), 60*time.Second, errors.New("the run took over 60 s"))
	defer cancel()
	sctx, scancel := context.WithCancelCause(ctx)
	defer scancel(nil)
	sw := &swarm{ctx: sctx, cancel: scancel, postersDone: make(chan struct{})}

	var posters []*poster
	var readers []*reader
	for ri, room := range rooms {
		for i := range 2 * size.posters {
			name := fmt.Sprintf("p%d-%d", ri, i)
			posters = append(posters, &poster{name: name, p: tc.guest(name).peer(transport), room: room, n: size.messages})
		}
		for i := range doorCount * size.readers {
			name := fmt.Sprintf("r%d-%d", ri, i)
			readers = append(readers, &reader{name: name, p: tc.guest(name).peer(transport), room: room, door: i % doorCount})
		}
	}

	// Count, every millisecond, the rooms whose hub was replaced since
	// (dropped when empty and loaded again: hubchurn).
	reloads := 0
	seen := map[string]*hub{}
	var sampler *ioloop.PeriodicCallback
	tc.Do(func() {
		sampler = ioloop.NewPeriodicCallback(tc.Loop, time.Millisecond, func() {
			for name, h := range tc.engine.hubs {
				if prev := seen[name]; prev != nil && prev != h {
					reloads++
				}
				seen[name] = h
			}
		})
		sampler.Start()
	})
	start := time.Now()
	var posting, reading sync.WaitGroup
	for i, r := range readers {
		rng := rand.New(rand.NewPCG(seed, uint64(1000+i)))
		reading.Go(func() {
			if err := r.run(sw, rng); err != nil {
				sw.fail(err)
			}
		})
	}
	for i, po := range posters {
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		posting.Go(func() {
			var err error
			if i%2 == 0 && !size.httpOnly {
				err = po.runWS(sw, rng)
			} else {
				err = po.runHTTP(sw, rng)
			}
			if err != nil {
				sw.fail(fmt.Errorf("poster %s: %w", po.name, err))
			}
		})
	}
	posting.Wait()
	logs := make([][]durable, len(rooms))
	if sw.stopped() == nil {
		for i, room := range rooms {
			log, err := storedLog(context.Background(), tc.store, room.id)
			if err != nil {
				t.Fatal(err)
			}
			logs[i] = log
			room.final.Store(log[len(log)-1].ID)
		}
	}
	postedIn := time.Since(start)
	close(sw.postersDone)
	reading.Wait()
	tc.Do(sampler.Stop)
	transport.CloseIdleConnections()
	// Every connection the readers cut, abandoned or closed is gone from
	// the server too: no WebSocket or stream is left behind.
	// (Polls are only reported: a poll whose client left at once on a
	// keep-alive connection can stay parked, the framework bug that
	// TestPollDroppedWhenClientLeavesAtOnce/keep-alive shows.)
	var left, polls []string
	deadline := time.Now().Add(10 * time.Second)
	tc.WaitFor(func() bool {
		left, polls = left[:0], polls[:0]
		for _, h := range tc.engine.hubs {
			for s := range h.sockets {
				left = append(left, fmt.Sprintf("%s: socket of %s", h.room.Name, s.user.Name))
			}
			for s := range h.streams {
				left = append(left, fmt.Sprintf("%s: stream of %s (live %v)", h.room.Name, s.user.Name, s.live))
			}
			for p := range h.polls {
				polls = append(polls, fmt.Sprintf("%s: poll of %s after %d (%d connections open)",
					h.room.Name, p.user.Name, p.cursor, tc.HTTPServer.Stats().Active))
			}
		}
		return len(left) == 0 || time.Now().After(deadline)
	}, "every WebSocket and stream gone after the run")
	if len(left) > 0 {
		t.Errorf("seed %d: connections left on the server 10 s after the run: %v", seed, left)
	}
	if len(polls) > 0 {
		t.Errorf("seed %d: polls still parked after the run: %v", seed, polls)
	}
	if err := sw.stopped(); err != nil {
		t.Fatalf("seed %d: %v", seed, err)
	}

	var sessions [doorCount]int
	var midFrame, midEvent, abandons, cut int
	for _, r := range readers {
		ri := slices.Index(rooms, r.room)
		if d := diffLog(r.got, logs[ri]); d != "" {
			t.Errorf("seed %d: reader %s of %s: %s", seed, r.name, r.room.name, d)
		}
		for d := range sessions {
			sessions[d] += r.sessions[d]
		}
		midFrame += r.midFrame
		midEvent += r.midEvent
		abandons += r.abandons
		cut += r.cutByServer
	}
	for ri, room := range rooms {
		stored := map[string][]int64{}
		kinds := map[string]int{}
		for _, ev := range logs[ri] {
			kinds[ev.Type]++
			if ev.Type == "message" {
				stored[ev.Key] = append(stored[ev.Key], ev.ID)
			}
		}
		for key, id := range room.acks {
			if ids := stored[key]; len(ids) != 1 || ids[0] != id {
				t.Errorf("seed %d: %s: key %q acked as %d, stored as %v", seed, room.name, key, id, ids)
			}
		}
		if len(stored) != len(room.acks) {
			t.Errorf("seed %d: %s: %d keys stored, %d acked", seed, room.name, len(stored), len(room.acks))
		}
		t.Logf("%s: %d events %v", room.name, len(logs[ri]), kinds)
	}
	t.Logf("%d posters, %d readers: posted in %v, all read in %v; sessions ws %d, sse %d, poll %d; %d ws frames and %d sse events cut in the middle, %d polls abandoned; %d store reads; %d hub reloads seen; %d sessions cut by the server for falling behind",
		len(posters), len(readers), postedIn.Round(time.Millisecond), time.Since(start).Round(time.Millisecond),
		sessions[doorWS], sessions[doorSSE], sessions[doorPoll], midFrame, midEvent, abandons, reads.Stats().Completed, reloads, cut)
}

// TestCursorReset: a cursor the room cannot serve (beyond its last id, or
// an id of another room, whether older than the ring's span, within it or
// newer than the room's last) is answered with a reset carrying the room's
// last id on every door, never with a silent skip; a stream stays live. A
// cursor the room can serve, from the ring or from SQLite, is no reset.
func TestCursorReset(t *testing.T) {
	tc := startChat(t, func(c *Config) {
		c.RateLimit = RateLimit{Burst: 1000, PerSecond: 1000}
		c.RingSize = 4
	})
	tc.createRoom("den")
	ada := tc.guest("ada")
	post := func(room string) int64 {
		t.Helper()
		r := ada.post(room, "hi", "")
		if r.Status != 201 {
			t.Fatalf("post to %s: %d %s", room, r.Status, r.Body)
		}
		return decodeFrame(t, r.Body).ID
	}
	var lobby []int64
	for range 2 {
		lobby = append(lobby, post("lobby"))
	}
	denOld := post("den") // older than the lobby's ring will reach
	for range 6 {
		lobby = append(lobby, post("lobby"))
	}
	denWithin := post("den") // above the ring's base, below the lobby's last id
	lobby = append(lobby, post("lobby"))
	denNewer := post("den") // above the lobby's last id
	last := lobby[len(lobby)-1]

	for _, tt := range []struct {
		name   string
		cursor int64
		reset  bool
	}{
		{"beyond the last id", last + 1000, true},
		{"another room's id, older than the ring", denOld, true},
		{"another room's id, within the ring's span", denWithin, true},
		{"another room's id, newer than the room's last", denNewer, true},
		{"the room's id, in the ring", lobby[len(lobby)-2], false},
		{"the room's id, in SQLite only", lobby[1], false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u := *ada
			u.t = t
			check := func(door string, f frame) {
				t.Helper()
				switch {
				case tt.reset && (f.Type != "reset" || f.LastID != last):
					t.Errorf("%s after %d: %+v, want a reset with last_id %d", door, tt.cursor, f, last)
				case !tt.reset && f.Type == "reset":
					t.Errorf("%s after %d: a reset, want events", door, tt.cursor)
				}
			}
			ws := u.ws("lobby", tt.cursor)
			if f := readFrame(t, ws); f.Type != "hello" {
				t.Fatalf("ws: first frame %+v", f)
			}
			check("ws", readFrame(t, ws))
			ws.Close(1000, "")

			p := u.poll("lobby", tt.cursor)
			if !tt.reset && p.Type != "events" {
				t.Errorf("poll: %+v, want events", p)
			}
			check("poll", p)

			for _, sse := range []struct {
				name        string
				after       int64
				lastEventID string
			}{
				{"sse after", tt.cursor, ""},
				{"sse Last-Event-ID", 0, itoa(tt.cursor)},
			} {
				s := u.stream("lobby", sse.after, sse.lastEventID)
				if _, f := s.next(t); f.Type != "hello" {
					t.Fatalf("%s: first event %+v", sse.name, f)
				}
				ev, f := s.next(t)
				check(sse.name, f)
				if tt.reset {
					// The reset carries the new cursor as its id, so the
					// browser's own reconnect resumes from there, and the
					// stream stays live: the next event arrives on it.
					if ev.id != itoa(last) {
						t.Errorf("%s: the reset came with id %q, want %d", sse.name, ev.id, last)
					}
					next := post("lobby")
					last = next
					for ev.id == "" || ev.id == itoa(f.LastID) {
						ev, _ = s.next(t)
					}
					if ev.id != itoa(next) {
						t.Errorf("%s: after the reset the stream sent event %s, want %d", sse.name, ev.id, next)
					}
				}
				s.close()
			}
		})
	}
}

// TestRoomChangeReachesClients: a room change made through the engine
// (Engine.ChangeRoom; the store's setters bypass the hubs and must not be
// used while the server runs) gets the next cursor id, so a client that is
// live, and one that resumes from the ring, receive it in order.
func TestRoomChangeReachesClients(t *testing.T) {
	tc := startChat(t, nil)
	ada := tc.guest("ada")
	ws := ada.ws("lobby", 0)
	readUntil(t, ws, "hello")
	title, topic := "Lobby", "new topic"
	if _, err := tc.changeRoom("lobby", store.RoomChange{Title: &title, Topic: &topic}); err != nil {
		t.Fatal(err)
	}
	ws.Send(`{"type":"send","body":"after the change","key":"k1"}`)
	var got []durable
	for len(got) == 0 || got[len(got)-1].Type != "message" {
		if d, ok := durableFrame(readFrame(t, ws)); ok {
			got = append(got, d)
		}
	}
	want, err := storedLog(context.Background(), tc.store, tc.lobby.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := diffLog(got, want); d != "" {
		t.Errorf("live WebSocket: %s", d)
	}
	if p := ada.poll("lobby", 0); len(p.Events) != len(want) {
		t.Errorf("a poll from 0 got %d events, stored %d", len(p.Events), len(want))
	}
}

// TestDropMidFrame: a WebSocket client that stops in the middle of an
// event's frame (it has read the head and half the payload of a 12 KB
// frame) and closes has not applied it: resuming with the same cursor
// brings it once, whole; the server forgets the cut connection.
func TestDropMidFrame(t *testing.T) {
	tc := startChat(t, nil)
	ada, bob := tc.guest("ada"), tc.guest("bob")
	body := strings.Repeat("€", MaxBodyChars) // 12 KB of UTF-8
	first := ada.post("lobby", "short", "k0")
	big := ada.post("lobby", body, "k1")
	if first.Status != 201 || big.Status != 201 {
		t.Fatalf("posts: %d %d", first.Status, big.Status)
	}
	cursor, bigID := decodeFrame(t, first.Body).ID, decodeFrame(t, big.Body).ID
	p := bob.peer(http.DefaultTransport)
	ctx := context.Background()
	ws, err := p.dialRawWS(ctx, "lobby", cursor)
	if err != nil {
		t.Fatal(err)
	}
	if f, err := ws.next(); err != nil || f.Type != "hello" {
		t.Fatalf("first frame %+v %v", f, err)
	}
	if err := ws.dropMidFrame(); err != nil {
		t.Fatal(err)
	}
	tc.WaitFor(func() bool { return tc.engine.Stats().Members == 0 }, "the cut socket gone")

	ws, err = p.dialRawWS(ctx, "lobby", cursor)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.conn.Close()
	var got []durable
	for len(got) == 0 {
		f, err := ws.next()
		if err != nil {
			t.Fatal(err)
		}
		if d, ok := durableFrame(f); ok {
			got = append(got, d)
		}
	}
	if got[0].ID != bigID || got[0].Body != body {
		t.Fatalf("after the cut, resuming from %d: %v, want event %d with the whole body", cursor, got[0], bigID)
	}
	ada.post("lobby", "next", "k2")
	for {
		f, err := ws.next()
		if err != nil {
			t.Fatal(err)
		}
		if d, ok := durableFrame(f); ok {
			if d.Key != "k2" {
				t.Fatalf("after the big event: %v, want k2's message (no duplicate)", d)
			}
			return
		}
	}
}
