package admin

import (
	"chat/accounts"
	"chat/framework/ioloop"
	"chat/framework/web"
	"chat/rooms"
	"chat/store"
)

// Config configures the dashboard. Every field but Reads is required.
type Config struct {
	Loop     *ioloop.Loop
	Store    *store.Store
	Sessions *accounts.Sessions
	Engine   *rooms.Engine
	// Reads runs the dashboard's store reads. Nil means the loop's
	// default executor.
	Reads *ioloop.Executor
}

// Admin serves /admin. Loop-owned.
type Admin struct {
	cfg  Config
	live *liveState // the live panel and /metrics (live.go), made on first use
}

// New returns the dashboard of cfg.
func New(cfg Config) *Admin {
	if cfg.Reads == nil {
		cfg.Reads = cfg.Loop.DefaultExecutor()
	}
	return &Admin{cfg: cfg}
}

// Routes are every /admin route.
func (a *Admin) Routes() []web.Spec {
	var routes []web.Spec
	routes = append(routes, a.liveRoutes()...)
	routes = append(routes, a.tableRoutes()...)
	routes = append(routes, a.actionRoutes()...)
	return routes
}
