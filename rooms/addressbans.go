package rooms

import (
	"net/http"
	"net/netip"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
	"chat/store"
)

// The address bans in force, for the doors and for accounts' sign-in
// pages. The store holds them (store/admin_restrict.go); the engine keeps
// a copy on the loop so that no request waits on a read to learn whether
// its address is banned. The table is loaded once the engine starts (New
// schedules the load on the loop, on the reads executor) and reloaded
// whenever the dashboard changes a ban (AddressBansChanged). A request
// that arrives before the first load has finished waits for it.
//
// The table is bounded: MaxAddressBans bans at most, the oldest by id;
// bans past the bound are logged and not enforced here (they are still
// in the store, and still shown on the dashboard). A ban's end is judged
// at each lookup, so one that has run out stops counting without a
// reload. Lookups are one map probe for a single address and a walk of
// the ranges (CIDR bans), which are few in practice. Loop-only.

// MaxAddressBans bounds the engine's table of the address bans in force.
const MaxAddressBans = 10000

// addressBans is the loaded table.
type addressBans struct {
	single map[netip.Addr]store.AddressBan // bans of one address (/32, /128)
	ranges []store.AddressBan              // wider prefixes
}

// banTable is the engine's state of the table: the last loaded one (nil
// before the first load) and the load in flight, if any.
type banTable struct {
	loaded  *addressBans
	loading *concurrent.Future[struct{}]
	gen     int // loads started: only the latest one's table is installed
}

// startAddressBans schedules the first load; New calls it.
func (e *Engine) startAddressBans() {
	e.cfg.Loop.AddCallback(func() {
		if e.bans.loaded == nil && e.bans.loading == nil {
			e.reloadAddressBans()
		}
	})
}

// reloadAddressBans reads the bans in force from the store and installs
// them. A failed read keeps the table that was there (logged); when there
// was none, the next request starts another load.
func (e *Engine) reloadAddressBans() *concurrent.Future[struct{}] {
	st, now := e.cfg.Store, e.now()
	f := concurrent.New[struct{}]()
	e.bans.loading = f
	e.bans.gen++
	gen := e.bans.gen
	ioloop.RunInExecutor(e.cfg.Reads, func() ([]store.AddressBan, error) {
		var all []store.AddressBan
		after := int64(0)
		for len(all) < MaxAddressBans {
			page, err := st.AddressBans(ctxBackground, now, after, store.MaxPageSize)
			if err != nil {
				return nil, err
			}
			all = append(all, page...)
			if len(page) < store.MaxPageSize {
				return all, nil
			}
			after = page[len(page)-1].ID
		}
		return all[:MaxAddressBans], nil
	}).OnResult(func(all []store.AddressBan, err error) {
		if e.bans.loading == f {
			e.bans.loading = nil
		}
		if err != nil {
			e.cfg.Logger.Error("load address bans", "err", err)
			f.Fail(err)
			return
		}
		if gen != e.bans.gen {
			// A later load, started after a later change, installs its
			// own table (this one may predate that change): this load is
			// done when that one is.
			if later := e.bans.loading; later != nil {
				later.OnResult(func(_ struct{}, err error) { f.Set(struct{}{}, err) })
			} else {
				f.Resolve(struct{}{})
			}
			return
		}
		if len(all) == MaxAddressBans {
			e.cfg.Logger.Warn("address bans past the engine's bound are not enforced", "bound", MaxAddressBans)
		}
		t := &addressBans{single: make(map[netip.Addr]store.AddressBan)}
		for _, b := range all {
			if b.Prefix.IsSingleIP() {
				a := b.Prefix.Addr()
				if old, ok := t.single[a]; !ok || b.Until.After(old.Until) {
					t.single[a] = b
				}
			} else {
				t.ranges = append(t.ranges, b)
			}
		}
		e.bans.loaded = t
		f.Resolve(struct{}{})
	})
	return f
}

// addressBansReady resolves once a table is loaded.
func (e *Engine) addressBansReady() *concurrent.Future[struct{}] {
	switch {
	case e.bans.loaded != nil:
		return concurrent.Resolved(struct{}{})
	case e.bans.loading != nil:
		return concurrent.Map(e.bans.loading, func(struct{}) (struct{}, error) { return struct{}{}, nil })
	default:
		return e.reloadAddressBans()
	}
}

// AddressBanned reports the ban in force on the client address ip (as
// Request.RemoteIP has it), the narrowest when several cover it. An
// address that does not parse, or a table not loaded yet, is not banned.
// Loop-only.
func (e *Engine) AddressBanned(ip string) (store.AddressBan, bool) {
	t := e.bans.loaded
	if t == nil {
		return store.AddressBan{}, false
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return store.AddressBan{}, false
	}
	a = a.Unmap().WithZone("")
	now := e.now()
	if b, ok := t.single[a]; ok && b.BannedAt(now) {
		return b, true
	}
	var found store.AddressBan
	ok := false
	for _, b := range t.ranges {
		if b.BannedAt(now) && b.Prefix.Contains(a) && (!ok || b.Prefix.Bits() > found.Prefix.Bits()) {
			found, ok = b, true
		}
	}
	return found, ok
}

// addressRefusal is nil when ip is not banned, else the refusal: 403
// banned with the ban's reason and the time left.
func (e *Engine) addressRefusal(ip string) *Refusal {
	b, ok := e.AddressBanned(ip)
	if !ok {
		return nil
	}
	return refuseUntil(http.StatusForbidden, "banned", b.Until, e.now(), "Your address is banned: %s", reasonOr(b.Reason))
}

// AddressBansChanged applies a change to the address bans that the
// dashboard has just stored: it reloads the table, then ends every open
// connection whose client address is now banned, on every door (a
// WebSocket with close code 4001, a long poll and a stream with the
// banned error), with the ban's reason. It fails when the store cannot be
// read; the old table stays then, and nothing was closed.
func (e *Engine) AddressBansChanged() *concurrent.Future[struct{}] {
	return concurrent.Map(e.reloadAddressBans(), func(struct{}) (struct{}, error) {
		for _, h := range e.hubs {
			h.eachConn(func(c conn) {
				if r := e.addressRefusal(c.meta().address); r != nil {
					c.closeWith(CloseSessionEnded, r)
				}
			})
		}
		return struct{}{}, nil
	})
}
