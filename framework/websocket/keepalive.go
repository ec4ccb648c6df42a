package websocket

import (
	"errors"
	"time"

	"chat/framework/ioloop"
)

// keepalive pings silent connections and closes dead ones for every
// connection of one loop with the same PingInterval and PongTimeout, with
// one periodic sweep instead of a timer per connection: ten thousand idle
// connections cost one slice entry each, not ten thousand timers in the
// loop's heap. Connections share it whichever *Options they were opened
// with (each Dial resolves its own copy, for instance), as long as the two
// durations agree.
//
// A sweep runs every quarter of the shorter of PingInterval and
// PongTimeout. A connection silent for PingInterval is pinged at the next
// sweep (so up to a quarter interval late); one still silent
// PingInterval+PongTimeout after its last frame is closed as dead.
// Loop-owned.
type keepalive struct {
	loop    *ioloop.Loop
	key     keepaliveKey
	members []*Conn // each member's keepaliveSlot is its index here
	sweeper *ioloop.PeriodicCallback
}

// keepaliveKey is what connections of one loop sharing a sweep have in
// common.
type keepaliveKey struct {
	pingInterval, pongTimeout time.Duration
}

func keyOf(opts *Options) keepaliveKey {
	return keepaliveKey{opts.PingInterval, opts.PongTimeout}
}

// keepalives is a loop's sweeps by their settings, kept with the loop
// (ioloop.Loop.Local), since equal settings come in many *Options and the
// sweeps must be found from the settings alone. Loop-owned, so it needs
// no lock, and it goes with the loop.
type keepalives map[keepaliveKey]*keepalive

// keepalivesKey is the key of a loop's keepalives in ioloop.Loop.Local.
type keepalivesKey struct{}

func keepalivesOf(loop *ioloop.Loop) keepalives {
	return loop.Local(keepalivesKey{}, func() any { return keepalives{} }).(keepalives)
}

// keepaliveFor returns the sweep that watches connections of loop opened
// with opts, creating it (stopped) if there is none. Loop-only.
func keepaliveFor(loop *ioloop.Loop, opts *Options) *keepalive {
	sweeps := keepalivesOf(loop)
	key := keyOf(opts)
	ka := sweeps[key]
	if ka == nil {
		ka = &keepalive{loop: loop, key: key}
		ka.sweeper = ioloop.NewPeriodicCallback(loop, sweepInterval(opts), ka.sweep)
		sweeps[key] = ka
	}
	return ka
}

// watchingKeepalive returns the sweep that watches c, nil if none does.
func watchingKeepalive(c *Conn) *keepalive {
	return keepalivesOf(c.Loop())[keyOf(c.opts)]
}

func sweepInterval(opts *Options) time.Duration {
	return max(min(opts.PingInterval, opts.PongTimeout)/4, time.Millisecond)
}

// add starts watching c; the sweep runs while anyone is watched.
func (ka *keepalive) add(c *Conn) {
	c.keepaliveSlot = int32(len(ka.members))
	ka.members = append(ka.members, c)
	if len(ka.members) == 1 {
		ka.sweeper.Start()
	}
}

// remove stops watching c. The last member takes its slot.
func (ka *keepalive) remove(c *Conn) {
	i := int(c.keepaliveSlot)
	if i < 0 || i >= len(ka.members) || ka.members[i] != c {
		return
	}
	last := len(ka.members) - 1
	moved := ka.members[last]
	ka.members[i] = moved
	moved.keepaliveSlot = int32(i)
	ka.members[last] = nil
	ka.members = ka.members[:last]
	c.keepaliveSlot = -1
	if len(ka.members) == 0 {
		ka.sweeper.Stop()
		ka.drop()
	}
}

// drop forgets a sweep that has nobody left to watch.
func (ka *keepalive) drop() {
	sweeps := keepalivesOf(ka.loop)
	if sweeps[ka.key] == ka {
		delete(sweeps, ka.key)
	}
}

// sweep checks every member. Closing a connection here only starts its
// close (its OnClose, which removes it, runs from a later callback), so
// the members do not change during the walk.
func (ka *keepalive) sweep() {
	now := time.Now().UnixNano()
	for _, c := range ka.members {
		c.checkAlive(now, ka.key.pingInterval, ka.key.pongTimeout)
	}
}

// errNoPong closes a connection that did not answer its ping.
var errNoPong = errors.New("websocket: peer did not answer pings")

// checkAlive pings c if it has been silent for PingInterval, and closes
// it if a ping went unanswered for PongTimeout more.
func (c *Conn) checkAlive(now int64, pingInterval, pongTimeout time.Duration) {
	if c.state != stateOpen {
		return
	}
	idle := time.Duration(now - c.lastRead)
	switch {
	case c.pingSent && idle >= pingInterval+pongTimeout:
		c.setClose(CloseAbnormal, "no answer to ping")
		c.stream.Abort(errNoPong)
	case !c.pingSent && idle >= pingInterval:
		c.pingSent = true
		c.writeFrame(OpPing, nil, false)
	case idle < pingInterval:
		c.pingSent = false // a frame arrived since the ping: it is alive
	}
}
