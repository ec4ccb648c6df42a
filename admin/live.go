package admin

import (
	"encoding/json"
	"net/http"
	"time"

	"chat/accounts"
	"chat/framework/web"
	"chat/framework/websocket"
	"chat/pages"
	"chat/rooms"
	"chat/views"
)

// The live panel: GET /admin/live, a page of figures and sparklines, and
// GET /admin/live/ws, the staff-only WebSocket that feeds it. The socket's
// first frame is {"type":"history","samples":[...]}, every sample held
// (up to ten minutes, oldest first, without their slow-callback lists);
// then each second {"type":"sample", ...the newest Sample's fields}. It
// takes no frames from the client. Each second, before the sample goes
// out, every viewer is checked again: one who is no longer a moderator or
// an administrator is closed with CloseNotStaff, one banned or whose
// session ended (signed out everywhere) with rooms.CloseSessionEnded.
// Everything here runs on the loop.

// CloseNotStaff closes a live panel's socket whose viewer lost the
// moderator or administrator role.
const CloseNotStaff = 4003

// liveSocketPath is where the panel's WebSocket is.
const liveSocketPath = "/admin/live/ws"

// liveState is the live panel's: the sampler, the sockets watching it and
// the metrics registry. Loop-owned, except the registry, which is safe
// from any goroutine.
type liveState struct {
	sampler  *Sampler
	viewers  map[*liveViewer]struct{}
	group    websocket.Group
	wsOpts   *websocket.Options
	registry *metricsRegistry
}

// liveState returns the panel's state, made on first use. Loop-only (or
// before the loop runs).
func (a *Admin) liveState() *liveState {
	if a.live == nil {
		ls := &liveState{
			sampler: NewSampler(a.cfg.Loop, a.cfg.Engine, a.cfg.Store),
			viewers: make(map[*liveViewer]struct{}),
			// Same origin only (the default); samples are small and
			// compress well, history frames are large and compress better.
			wsOpts: &websocket.Options{MaxMessageSize: 4 << 10},
		}
		ls.sampler.onSample = func(s Sample) { a.broadcastSample(s) }
		ls.registry = newMetricsRegistry(ls.sampler)
		a.live = ls
	}
	return a.live
}

// StartSampler starts the live panel's sampler: a sample every second, the
// last ten minutes kept. Call it once on the loop when the server starts;
// starting it again does nothing. Without it the panel and /metrics show
// figures taken when asked, with no rates and no history.
func (a *Admin) StartSampler() { a.liveState().sampler.Start() }

// Sampler is the live panel's sampler (tests drive its Tick). Loop-only.
func (a *Admin) Sampler() *Sampler { return a.liveState().sampler }

// ShutdownLive stops the sampler and closes the panel's sockets with 1001
// Going Away, for a graceful stop. Loop-only.
func (a *Admin) ShutdownLive() {
	ls := a.liveState()
	ls.sampler.Stop()
	for v := range ls.viewers {
		v.conn.Close(websocket.CloseGoingAway, "The server is restarting.")
	}
}

// liveRoutes are the live panel's routes and /admin/metrics.
func (a *Admin) liveRoutes() []web.Spec {
	a.liveState()
	return []web.Spec{
		{Name: "admin-live", Pattern: "/admin/live", New: func() web.Handler { return livePage{a} }},
		{Name: "admin-live-ws", Pattern: liveSocketPath, New: func() web.Handler { return liveSocket{a} },
			RouteSettings: web.RouteSettings{API: true}},
		{Name: "admin-metrics", Pattern: "/admin/metrics", New: func() web.Handler { return metricsPage{a} }},
	}
}

// livePage serves GET /admin/live.
type livePage struct{ a *Admin }

func (h livePage) Get(c *web.Context) {
	h.a.withStaff(c, func(u *accounts.User) {
		page := pages.Layout(c, "Live panel", "admin-live", u)
		page.Script, _ = c.App().StaticURL("js/admin-live.js")
		c.SetHeader("Cache-Control", "no-store")
		c.Render(views.AdminLive(views.AdminLiveData{Page: page, Socket: liveSocketPath, Groups: liveFigures}))
	})
}

// liveSocket serves GET /admin/live/ws. Unlike the pages, a signed-out
// request gets 401 (a socket cannot follow a redirect to the sign-in
// page); a signed-in one who is not staff, or is banned, 403.
type liveSocket struct{ a *Admin }

func (h liveSocket) Get(c *web.Context) {
	a := h.a
	c.Async()
	web.Guard(c, a.cfg.Sessions.Load(c)).OnResult(func(u *accounts.User, err error) {
		switch {
		case err != nil:
			c.Fail(err)
		case u == nil:
			c.Fail(&web.HTTPError{Status: http.StatusUnauthorized, Message: "Sign in first."})
		case !u.Moderator() || u.BannedAt(time.Now()):
			c.Fail(&web.HTTPError{Status: http.StatusForbidden, Message: "The live panel is for moderators and administrators."})
		default:
			v := &liveViewer{a: a, user: u, version: u.SessionVersion}
			// On a refused handshake (a foreign origin) Upgrade answered.
			websocket.Upgrade(c.Response(), c.Request(), v, a.liveState().wsOpts)
		}
	})
}

// liveViewer is one staff member's panel socket: its connection's Handler.
// Loop-owned.
type liveViewer struct {
	a       *Admin
	conn    *websocket.Conn
	user    *accounts.User // the cached user: a Refresh changes it in place
	version int64          // the session version its cookie held
}

func (v *liveViewer) OnOpen(c *websocket.Conn) {
	ls := v.a.liveState()
	v.conn = c
	// Held, the user stays cached, so a role change or a ban that
	// refreshes it is seen here at the next sample.
	v.a.cfg.Sessions.Hold(v.user)
	ls.viewers[v] = struct{}{}
	c.WriteMessage(websocket.OpText, historyFrame(ls.sampler.History()))
	ls.group.Add(c)
}

// OnMessage ignores what the client sends: the panel only listens.
func (v *liveViewer) OnMessage(*websocket.Conn, websocket.Opcode, []byte) {}

func (v *liveViewer) OnClose(c *websocket.Conn, code int, reason string) {
	ls := v.a.liveState()
	ls.group.Remove(c)
	if _, ok := ls.viewers[v]; ok {
		delete(ls.viewers, v)
		v.a.cfg.Sessions.Release(v.user)
	}
}

// refusal says why the viewer may no longer watch, as a close code and
// reason; code 0: it may.
func (v *liveViewer) refusal(now time.Time) (int, string) {
	switch {
	case v.user.BannedAt(now):
		return rooms.CloseSessionEnded, "You are banned."
	case !accounts.SessionValid(v.user, v.version, now):
		return rooms.CloseSessionEnded, "Your session has ended."
	case !v.user.Moderator():
		return CloseNotStaff, "You are no longer a moderator."
	}
	return 0, ""
}

// broadcastSample sends a new sample to every viewer still allowed to see
// it, closing those who are not. Loop-only.
func (a *Admin) broadcastSample(s Sample) {
	ls := a.live
	if len(ls.viewers) == 0 {
		return
	}
	now := time.Now() // not the sample's time, which tests choose
	for v := range ls.viewers {
		if code, reason := v.refusal(now); code != 0 {
			ls.group.Remove(v.conn)
			v.conn.Close(code, reason)
		}
	}
	if ls.group.Len() == 0 {
		return
	}
	data, err := json.Marshal(sampleFrame{Type: "sample", Sample: s})
	if err != nil {
		a.cfg.Loop.Logger().Error("admin: encode a live sample", "err", err)
		return
	}
	ls.group.Broadcast(websocket.NewPreparedMessage(websocket.OpText, data))
}

// sampleFrame is {"type":"sample", ...the sample}.
type sampleFrame struct {
	Type string `json:"type"`
	Sample
}

// historyFrame encodes the history frame. Its samples leave out the slow
// callbacks (the next sample brings the current list), which would
// otherwise make most of its size.
func historyFrame(samples []Sample) []byte {
	for i := range samples {
		samples[i].Slow = nil
	}
	data, _ := json.Marshal(struct {
		Type    string   `json:"type"`
		Samples []Sample `json:"samples"`
	}{"history", samples})
	return data
}

// liveFigures are the figures the panel shows, in groups: Key names the
// Sample's JSON field (sampler.go documents each), Unit how the page
// formats it, Spark whether it draws the last ten minutes.
var liveFigures = []views.LiveGroup{
	{Title: "Traffic", Figures: []views.LiveFigure{
		{Key: "conns_ws", Label: "WebSockets", Unit: "count", Spark: true, Help: "Open WebSocket connections."},
		{Key: "conns_sse", Label: "SSE streams", Unit: "count", Spark: true, Help: "Open Server-Sent Events streams."},
		{Key: "conns_poll", Label: "Long polls", Unit: "count", Spark: true, Help: "Long polls waiting for an event now."},
		{Key: "users_online", Label: "Users online", Unit: "count", Spark: true, Help: "People present, summed over rooms."},
		{Key: "rooms_active", Label: "Rooms active", Unit: "count", Spark: true, Help: "Rooms with someone connected in the last minute."},
		{Key: "messages_per_s", Label: "Messages", Unit: "per_s", Spark: true, Help: "Posts stored per second."},
		{Key: "deliveries_per_s", Label: "Deliveries", Unit: "per_s", Spark: true, Help: "Events sent to connections per second."},
		{Key: "refusals_per_s", Label: "Refused posts", Unit: "per_s", Spark: true, Help: "Posts refused per second (rate limit, mute, lock, slow mode)."},
	}},
	{Title: "Event loop", Figures: []views.LiveFigure{
		{Key: "lag_p50_ms", Label: "Lag p50", Unit: "ms", Spark: true, Help: "How late work ran after it became due: median."},
		{Key: "lag_p99_ms", Label: "Lag p99", Unit: "ms", Spark: true, Help: "99th percentile of the lag."},
		{Key: "lag_max_ms", Label: "Lag max", Unit: "ms", Spark: true, Help: "The worst of the loop's last 1024 lag samples."},
		{Key: "busy", Label: "Busy", Unit: "ratio", Spark: true, Help: "Share of the last 10 s the loop was working, not waiting."},
		{Key: "callbacks_per_s", Label: "Callbacks", Unit: "per_s", Spark: true, Help: "Callbacks run per second."},
		{Key: "io_events_per_s", Label: "I/O events", Unit: "per_s", Spark: true, Help: "Socket readiness events handled per second."},
		{Key: "timers_per_s", Label: "Timers", Unit: "per_s", Spark: true, Help: "Timers fired per second."},
		{Key: "queued_callbacks", Label: "Queued callbacks", Unit: "count", Help: "Callbacks waiting for the loop's next turn."},
		{Key: "loop_conns", Label: "Loop sockets", Unit: "count", Help: "Sockets registered with the loop."},
		{Key: "coroutines", Label: "Coroutines", Unit: "count", Help: "Coroutines running now."},
	}},
	{Title: "Store", Figures: []views.LiveFigure{
		{Key: "commit_last_ms", Label: "Commit, last", Unit: "ms", Spark: true, Help: "The latest transaction's time, fsync included."},
		{Key: "commit_p99_ms", Label: "Commit p99", Unit: "ms", Spark: true, Help: "99th percentile over the latest 256 commits."},
		{Key: "commit_mean_ms", Label: "Commit mean", Unit: "ms", Help: "Mean over the latest 256 commits."},
		{Key: "batch_last", Label: "Batch, last", Unit: "count", Spark: true, Help: "Writes in the latest commit."},
		{Key: "batch_mean", Label: "Batch mean", Unit: "count", Help: "Writes per commit over the latest 256 commits."},
		{Key: "commits_per_s", Label: "Commits", Unit: "per_s", Spark: true, Help: "Transactions committed per second."},
		{Key: "store_queue", Label: "Write queue", Unit: "count", Spark: true, Help: "Writes waiting for the writer."},
	}},
	{Title: "Process", Figures: []views.LiveFigure{
		{Key: "heap_bytes", Label: "Heap", Unit: "bytes", Spark: true, Help: "Heap objects, live and not yet swept."},
		{Key: "rss_bytes", Label: "RSS", Unit: "bytes", Spark: true, Help: "Resident memory."},
		{Key: "gc_pause_max_ms", Label: "GC pause", Unit: "ms", Spark: true, Help: "Longest stop-the-world GC pause in the last second."},
		{Key: "gc_per_s", Label: "GC cycles", Unit: "per_s", Spark: true, Help: "Garbage collections per second."},
		{Key: "goroutines", Label: "Goroutines", Unit: "count", Spark: true, Help: "Every goroutine of the process."},
	}},
}
