package rooms

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"chat/accounts"
	"chat/framework/concurrent"
	"chat/framework/ioloop"
	"chat/framework/websocket"
	"chat/store"
)

// Config configures an Engine. Loop, Store and Sessions are required;
// every other zero value means the default named on the field.
type Config struct {
	Loop     *ioloop.Loop
	Store    *store.Store
	Sessions *accounts.Sessions
	// Reads runs the store's reads (rooms, replay pages, history). Nil
	// means the loop's default executor. Writes do not use an executor:
	// they go to the store's writer queue directly (see post.go).
	Reads *ioloop.Executor
	// Broker carries events between processes. Nil means in-process only.
	Broker Broker
	Logger *slog.Logger

	RingSize        int           // recent events kept per room: DefaultRingSize
	PageSize        int           // events per replay or long-poll answer: DefaultPageSize
	LongPollTimeout time.Duration // DefaultLongPollTimeout
	HubIdle         time.Duration // how long an empty room's hub lives on: DefaultHubIdle
	PresenceGrace   time.Duration // a user gone for less is not reported as leaving: DefaultPresenceGrace
	PresenceFlush   time.Duration // join/leave are sent at most this often per room: DefaultPresenceFlush
	TypingInterval  time.Duration // one user's typing is relayed at most this often: DefaultTypingInterval
	RateLimit       RateLimit     // per user, over all rooms: DefaultRateLimit
	// WebSocket are the options of every room WebSocket. Nil means
	// DefaultWebSocketOptions.
	WebSocket *websocket.Options
	// StreamMaxBehind bounds how far an SSE stream may fall behind (bytes
	// flushed that the kernel has not taken) before it is ended:
	// DefaultStreamMaxBehind. What one turn writes before its flush may
	// be 16 times that (a group commit's batch at once).
	StreamMaxBehind int
	// ReplayStall is how long a replay waits for a connection that takes
	// nothing before it drops it (a WebSocket with 1013, a stream ended),
	// so a stalled client does not hold its page, its presence and its
	// hub: DefaultReplayStall.
	ReplayStall time.Duration
	// Now is the clock for rate limits, slow mode, mutes and bans. Nil
	// means time.Now. Tests inject one.
	Now func() time.Time
}

// The defaults of Config.
const (
	DefaultRingSize        = 1024
	DefaultPageSize        = 500
	DefaultLongPollTimeout = 25 * time.Second
	DefaultHubIdle         = time.Minute
	DefaultPresenceGrace   = 5 * time.Second
	DefaultPresenceFlush   = time.Second
	DefaultTypingInterval  = 3 * time.Second
	DefaultStreamMaxBehind = 256 << 10
	DefaultReplayStall     = 30 * time.Second
	// MaxFrameBytes bounds a client's WebSocket message: a 4,000-character
	// body is at most 16,000 bytes of UTF-8, plus the JSON around it.
	MaxFrameBytes = 20 << 10
)

// DefaultWebSocketOptions are the room WebSockets' options: messages up
// to MaxFrameBytes, the framework's keepalive and pending-write bound.
func DefaultWebSocketOptions() *websocket.Options {
	return &websocket.Options{MaxMessageSize: MaxFrameBytes}
}

func (c Config) withDefaults() Config {
	if c.Reads == nil {
		c.Reads = c.Loop.DefaultExecutor()
	}
	if c.Logger == nil {
		c.Logger = c.Loop.Logger()
	}
	setDefault(&c.RingSize, DefaultRingSize)
	setDefault(&c.PageSize, DefaultPageSize)
	setDefault(&c.LongPollTimeout, DefaultLongPollTimeout)
	setDefault(&c.HubIdle, DefaultHubIdle)
	setDefault(&c.PresenceGrace, DefaultPresenceGrace)
	setDefault(&c.PresenceFlush, DefaultPresenceFlush)
	setDefault(&c.TypingInterval, DefaultTypingInterval)
	setDefault(&c.StreamMaxBehind, DefaultStreamMaxBehind)
	setDefault(&c.ReplayStall, DefaultReplayStall)
	if c.RateLimit.Burst <= 0 || c.RateLimit.PerSecond <= 0 {
		c.RateLimit = DefaultRateLimit
	}
	if c.WebSocket == nil {
		c.WebSocket = DefaultWebSocketOptions()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Engine is the chat's delivery engine: the hubs of the active rooms, the
// post pipeline and the three doors. Loop-owned: every method must be
// called on the loop, Stats included.
type Engine struct {
	cfg     Config
	hubs    map[string]*hub                     // active rooms by name
	byID    map[int64]*hub                      // the same, by room id
	loading map[string]*concurrent.Future[*hub] // rooms being loaded
	limiter *limiter
	sweeper *ioloop.PeriodicCallback
	closing bool
	stats   counters
	// lastConnID numbers the connections on every door (conns.go).
	lastConnID uint64
	// bans is the table of the address bans in force (addressbans.go).
	bans banTable
}

// counters are the engine's running totals, for Stats.
type counters struct {
	posts, refusals, deliveries uint64
}

// New returns an engine on cfg.Loop. Call it on the loop or before the
// loop runs.
func New(cfg Config) *Engine {
	cfg = cfg.withDefaults()
	e := &Engine{
		cfg:     cfg,
		hubs:    make(map[string]*hub),
		byID:    make(map[int64]*hub),
		loading: make(map[string]*concurrent.Future[*hub]),
		limiter: newLimiter(cfg.RateLimit),
	}
	if e.cfg.Broker == nil {
		e.cfg.Broker = &LocalBroker{}
	}
	e.cfg.Broker.Start(e.deliver)
	e.sweeper = ioloop.NewPeriodicCallback(cfg.Loop, time.Minute, func() { e.limiter.sweep(e.now()) })
	e.sweeper.Start()
	e.startAddressBans()
	return e
}

func (e *Engine) now() time.Time { return e.cfg.Now() }

// ctxBackground bounds the store calls made for the loop: the store's own
// timeouts bound them, not a request.
var ctxBackground = context.Background()

// errRoomNotFound is what hub lookups fail with for an unknown room.
var errRoomNotFound = refuse(http.StatusNotFound, "not_found", "There is no such room.")

// errShuttingDown refuses new connections while the server stops.
var errShuttingDown = refuse(http.StatusServiceUnavailable, "unavailable", "The server is restarting; try again in a moment.")

// loadHub returns the named room's hub, loading the room and its last
// event id from the store the first time (every caller during the load
// waits for the same read). It fails with a *Refusal for an unknown room.
// Each caller gets a future of its own, so that a request's guard
// (web.Guard) set on it reaches no other request.
func (e *Engine) loadHub(name string) *concurrent.Future[*hub] {
	if e.closing {
		return concurrent.Failed[*hub](errShuttingDown)
	}
	if h := e.hubs[name]; h != nil {
		return concurrent.Resolved(h)
	}
	if f := e.loading[name]; f != nil {
		return concurrent.Map(f, func(h *hub) (*hub, error) { return h, nil })
	}
	if !store.ValidRoomName(name) {
		return concurrent.Failed[*hub](errRoomNotFound)
	}
	type loaded struct {
		room   store.Room
		lastID int64
		mutes  map[int64]store.RoomMute
	}
	st, now, logger := e.cfg.Store, e.now(), e.cfg.Logger
	f := concurrent.New[*hub]()
	e.loading[name] = f
	ioloop.RunInExecutor(e.cfg.Reads, func() (loaded, error) {
		room, err := st.RoomByName(ctxBackground, name)
		if err != nil {
			return loaded{}, err
		}
		last, err := st.LastEventID(ctxBackground, room.ID)
		if err != nil {
			return loaded{}, err
		}
		mutes, err := readRoomMutes(st, room.ID, now, logger)
		return loaded{room, last, mutes}, err
	}).OnResult(func(l loaded, err error) {
		delete(e.loading, name)
		switch {
		case errors.Is(err, store.ErrNotFound):
			f.Fail(errRoomNotFound)
		case err != nil:
			f.Fail(fmt.Errorf("load room %q: %w", name, err))
		case e.closing:
			// Shutdown ran during the load: it never saw this hub.
			f.Fail(errShuttingDown)
		default:
			h := e.activate(l.room, l.lastID)
			if h.mutes == nil {
				h.mutes = l.mutes
			}
			f.Resolve(h)
		}
	})
	return concurrent.Map(f, func(h *hub) (*hub, error) { return h, nil })
}

// activate makes the hub of a room just loaded. Every event of the room
// after lastID reaches the hub, because every write that makes one goes
// through a hub (post.go), which stays active while writes are in flight.
func (e *Engine) activate(room store.Room, lastID int64) *hub {
	if h := e.hubs[room.Name]; h != nil {
		return h
	}
	h := newHub(e, room, lastID)
	e.hubs[room.Name] = h
	e.byID[room.ID] = h
	h.touch()
	return h
}

// drop forgets an idle hub.
func (e *Engine) drop(h *hub) {
	if e.hubs[h.room.Name] == h {
		delete(e.hubs, h.room.Name)
		delete(e.byID, h.room.ID)
	}
	h.release()
}

// deliver hands a committed event to its room's hub: the broker calls it
// for this process's events and for other processes'.
func (e *Engine) deliver(ev *Event) {
	if h := e.byID[ev.RoomID]; h != nil {
		h.publish(ev)
	}
}

// Kick closes every connection of a user, on every door, with a reason the
// client shows (WebSocket close 4000; a long poll and a stream end with a
// "kicked" error). They may come back. It returns how many connections it
// closed.
func (e *Engine) Kick(userID int64, reason string) int {
	n, r := 0, kickRefusal(reason)
	for _, h := range e.hubs {
		n += h.closeUser(userID, CloseKicked, r)
	}
	return n
}

// EndSessions closes every connection of a user whose session ended (a
// ban, signing out everywhere) with close code 4001 and the reason.
func (e *Engine) EndSessions(userID int64, reason string) int {
	n, r := 0, refuse(http.StatusForbidden, "session_ended", "%s", reasonOr(reason))
	for _, h := range e.hubs {
		n += h.closeUser(userID, CloseSessionEnded, r)
	}
	return n
}

// The application's WebSocket close codes (docs/protocol.md).
const (
	CloseKicked       = 4000
	CloseSessionEnded = 4001
)

// Shutdown starts a graceful stop: new connections are refused, parked
// long polls are answered, WebSockets get 1001 Going Away and streams end.
// Writes already submitted still commit and are acknowledged to whoever is
// still connected. The caller then stops the listener, waits for the
// connections to drain, stops the loop and closes the store.
func (e *Engine) Shutdown() {
	if e.closing {
		return
	}
	e.closing = true
	e.sweeper.Stop()
	for _, h := range e.hubs {
		h.shutdown()
	}
}

// Stats is a snapshot of the engine, for the debug endpoint and the admin
// dashboard.
type Stats struct {
	Hubs, Members, Waiters, Streams, Online int
	Posts, Refusals, Deliveries             uint64
}

// Stats counts what the engine holds. Loop-only.
func (e *Engine) Stats() Stats {
	s := Stats{Hubs: len(e.hubs), Posts: e.stats.posts, Refusals: e.stats.refusals, Deliveries: e.stats.deliveries}
	for _, h := range e.hubs {
		s.Members += len(h.sockets)
		s.Waiters += len(h.polls)
		s.Streams += len(h.streams)
		s.Online += h.presence.online()
	}
	return s
}

// Drained reports, after Shutdown, whether everyone has gone: no
// connection on any door and no write waiting for its commit.
func (e *Engine) Drained() bool {
	for _, h := range e.hubs {
		if len(h.sockets) > 0 || len(h.polls) > 0 || len(h.streams) > 0 || h.inflight > 0 {
			return false
		}
	}
	return true
}
