package main

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
	"chat/framework/websocket"
)

// chatRun is a chat mode in progress (roomfanout, rooms, members,
// longpoll): the signed-in guests, their WebSockets and what they
// counted. The fields above the line are set before the loop sees the
// run; everything below it is loop-owned.
type chatRun struct {
	t      *tool
	client *http.Client // setup and /stats; the tool's goroutine only
	base   string       // http://host:port
	host   string       // host:port
	runID  string

	// onEvent and onClose are the mode's hooks, called on the loop after
	// the member's own bookkeeping.
	onEvent func(m *member, ev *event, now time.Time)
	onClose func(m *member, code int, reason string)

	// ---- loop-owned ----
	hellos    *countdown
	closes    map[int]int    // close code → connections closed with it
	errors    map[string]int // error code → error frames
	badFrames int            // frames that were not a JSON object
	resets    int            // reset frames
}

func newChatRun(t *tool) (*chatRun, error) {
	u, err := url.Parse(t.cfg.url)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("the chat modes want -url http://host:port, not %q", t.cfg.url)
	}
	runID := t.cfg.runID
	if runID == "" {
		runID = strconv.FormatInt(time.Now().Unix()%(36*36*36*36*36), 36)
	}
	return &chatRun{
		t: t, client: setupClient(), base: "http://" + u.Host, host: u.Host, runID: runID,
		onEvent: func(*member, *event, time.Time) {},
		onClose: func(*member, int, string) {},
		closes:  map[int]int{}, errors: map[string]int{},
	}, nil
}

// guests signs in n guests named l<run>-<first+i>.
func (r *chatRun) guests(first, n int) ([]guest, error) {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("l%s-%d", r.runID, first+i)
	}
	return signIn(r.client, r.base, names)
}

// member is one guest's WebSocket in one room. Loop-owned.
type member struct {
	run   *chatRun
	index int // among the run's members, for the source address too
	room  string
	g     guest
	conn  *websocket.Conn // nil while not connected

	helloed    bool
	helloLast  int64 // last_id of the first hello
	lastID     int64 // cursor: the last durable event's id
	reconnects int

	// The rooms mode's bookkeeping.
	roomIndex int
	log       deliveryLog
	sentAt    []time.Time // by send sequence number; zero: not sent
	answered  []bool      // by send sequence number: ack or error came
}

// durable reports whether frames of type typ carry a cursor id.
func durable(typ []byte) bool {
	switch string(typ) {
	case "message", "edit", "delete", "room":
		return true
	}
	return false
}

func (m *member) OnOpen(c *websocket.Conn) { m.conn = c }

func (m *member) OnMessage(c *websocket.Conn, op websocket.Opcode, data []byte) {
	r := m.run
	now := time.Now()
	var ev event
	if scanEvent(data, &ev) != nil {
		r.badFrames++
		return
	}
	switch {
	case string(ev.typ) == "hello":
		if !m.helloed {
			m.helloed = true
			m.helloLast = ev.lastID
			if m.lastID == 0 {
				m.lastID = ev.lastID // without after, live events follow it
			}
			r.hellos.tick()
		}
	case durable(ev.typ):
		m.lastID = max(m.lastID, ev.id)
	case string(ev.typ) == "error":
		r.errors[string(ev.code)]++
	case string(ev.typ) == "reset":
		r.resets++
		m.lastID = ev.lastID
	}
	r.onEvent(m, &ev, now)
}

func (m *member) OnClose(c *websocket.Conn, code int, reason string) {
	m.conn = nil
	m.run.closes[code]++
	m.run.onClose(m, code, reason)
}

// wsURL is the member's WebSocket URL; after > 0 resumes from it.
func (r *chatRun) wsURL(room string, after int64) string {
	u := "ws://" + r.host + "/api/rooms/" + url.PathEscape(room) + "/ws"
	if after > 0 {
		u += "?after=" + strconv.FormatInt(after, 10)
	}
	return u
}

// sourceAddr spreads connections over 127.0.0.2-9, always: the chat
// modes run one after another against fresh servers, and ten thousand
// closed connections' TIME_WAIT ports on one address would crowd the
// next run.
func sourceAddr(i int) *net.TCPAddr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i%8))}
}

// dialOptions is how every chat WebSocket is dialled: no compression (as
// the hub benchmark), no pings from this side, the guest's cookies.
func (m *member) dialOptions() websocket.DialOptions {
	return websocket.DialOptions{
		Handler:          m,
		Header:           m.g.header(),
		LocalAddr:        sourceAddr(m.index),
		HandshakeTimeout: 30 * time.Second,
		Options:          websocket.Options{DisableCompression: true, PingInterval: -1},
	}
}

// connect opens every member's WebSocket in waves of 500 (so the server's
// accept backlog never overflows) and waits, at most a minute, until each
// has had its hello: then it is in its room's hub and will get every
// event committed after.
func (r *chatRun) connect(ms []*member) error {
	start := time.Now()
	if _, err := ioloop.RunSync(r.t.loop, func() *concurrent.Future[struct{}] {
		r.hellos = newCountdown(len(ms))
		return concurrent.Resolved(struct{}{})
	}); err != nil {
		return err
	}
	for done := 0; done < len(ms); {
		wave := ms[done:min(done+500, len(ms))]
		_, err := ioloop.RunSync(r.t.loop, func() *concurrent.Future[[]*websocket.Conn] {
			fs := make([]*concurrent.Future[*websocket.Conn], len(wave))
			for i, m := range wave {
				fs[i] = websocket.Dial(r.t.loop, r.wsURL(m.room, 0), m.dialOptions())
			}
			return concurrent.All(fs...)
		})
		if err != nil {
			return fmt.Errorf("after %d WebSockets: %w", done, err)
		}
		done += len(wave)
	}
	_, err := ioloop.RunSync(r.t.loop, func() *concurrent.Future[struct{}] {
		return concurrent.WithTimeout(r.hellos.done, r.t.loop, time.Minute)
	})
	if err != nil {
		left, _ := ioloop.RunSync(r.t.loop, func() *concurrent.Future[int] { return concurrent.Resolved(r.hellos.left) })
		return fmt.Errorf("%d of %d WebSockets had no hello after %v: %w", left, len(ms), time.Since(start).Round(time.Millisecond), err)
	}
	return nil
}

// countdown resolves done when tick has been called n times. Loop-owned.
type countdown struct {
	left int
	done *concurrent.Future[struct{}]
}

func newCountdown(n int) *countdown {
	c := &countdown{left: n, done: concurrent.New[struct{}]()}
	if n <= 0 {
		c.done.Resolve(struct{}{})
	}
	return c
}

func (c *countdown) tick() {
	if c.left--; c.left == 0 {
		c.done.Resolve(struct{}{})
	}
}

// onLoop runs fn on the loop and waits for it: for reading loop-owned
// counters from the tool's goroutine.
func onLoop[T any](t *tool, fn func() T) T {
	v, _ := ioloop.RunSync(t.loop, func() *concurrent.Future[T] { return concurrent.Resolved(fn()) })
	return v
}

// counts formats a map as k:v,k:v in key order, "none" when empty.
func counts[K int | string](m map[K]int) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%v:%d", k, m[k])
	}
	return strings.Join(parts, ",")
}
