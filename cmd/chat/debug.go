package main

import (
	"encoding/json"
	"runtime"
	"runtime/debug"
	"time"

	"chat/admin"
	"chat/framework/httpserver"
	"chat/framework/ioloop"
	"chat/store"
)

// newDebugServer serves GET /stats on its own address (-debug-addr): the
// loop's health, the store's writer, the engine's hubs and the process's
// memory, as JSON, for the load tool and for anyone watching. It is a
// separate listener so it can stay on loopback while the chat is public;
// the admin dashboard will show the same figures to admins. /stats?gc=1
// collects the garbage and returns free memory to the system first, for
// a memory measurement.
func newDebugServer(loop *ioloop.Loop, app *chatApp, st *store.Store) *httpserver.Server {
	return &httpserver.Server{Loop: loop, Handler: httpserver.HandlerFunc(func(w *httpserver.ResponseWriter, r *httpserver.Request) {
		if r.Path != "/stats" {
			w.SendError(404, "")
			return
		}
		if r.Query().Get("gc") == "1" {
			// For a memory measurement: collect, and give free pages
			// back, before reading. It stops the loop for a moment.
			debug.FreeOSMemory()
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(debugStats(loop, app, st))
		w.Finish()
	})}
}

func debugStats(loop *ioloop.Loop, app *chatApp, st *store.Store) map[string]any {
	ls := loop.Stats()
	ws := st.WriterStats()
	es := app.engine.Stats()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return map[string]any{
		"loop": map[string]any{
			"lag_p50_ms": ms(ls.LagP50), "lag_p99_ms": ms(ls.LagP99), "lag_max_ms": ms(ls.LagMax),
			"busy": ls.BusyFraction, "callbacks": ls.CallbacksRun, "io_events": ls.IOEvents,
			"open_conns": ls.OpenConns, "queued_callbacks": ls.QueuedCallbacks,
		},
		"store": map[string]any{"commits": ws.Commits, "writes": ws.Writes, "queue": ws.QueueLen},
		"rooms": map[string]any{
			"hubs": es.Hubs, "members": es.Members, "waiters": es.Waiters, "streams": es.Streams,
			"online": es.Online, "posts": es.Posts, "refusals": es.Refusals, "deliveries": es.Deliveries,
		},
		"sessions_cached": app.sessions.Cached(),
		"heap_inuse":      m.HeapInuse,
		"rss":             admin.ResidentBytes(),
		"goroutines":      runtime.NumGoroutine(),
	}
}
