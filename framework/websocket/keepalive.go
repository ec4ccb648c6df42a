package websocket

import (
	"errors"
	"sync"
	"time"

	"chat/framework/ioloop"
)

// keepalive pings silent connections and closes dead ones for every
// connection that shares one *Options on one loop, with one periodic sweep
// instead of a timer per connection: ten thousand idle connections cost
// one slice entry each, not ten thousand timers in the loop's heap.
//
// A sweep runs every quarter of the shorter of PingInterval and
// PongTimeout. A connection silent for PingInterval is pinged at the next
// sweep (so up to a quarter interval late); one still silent
// PingInterval+PongTimeout after its last frame is closed as dead.
// Loop-owned.
type keepalive struct {
	loop    *ioloop.Loop
	owner   *keepalives
	opts    *Options
	members []*Conn // each member's keepaliveSlot is its index here
	sweeper *ioloop.PeriodicCallback
}

// keepalives finds the keepalive of a loop for one resolved *Options. An
// Options value may serve several loops, so the map is locked; it is used
// when a connection opens and when the last watched one closes, which
// drops the loop's entry (a finished loop is not kept alive by it).
type keepalives struct {
	mu     sync.Mutex
	byLoop map[*ioloop.Loop]*keepalive
}

func (k *keepalives) forLoop(loop *ioloop.Loop, opts *Options) *keepalive {
	k.mu.Lock()
	defer k.mu.Unlock()
	ka := k.byLoop[loop]
	if ka == nil {
		if k.byLoop == nil {
			k.byLoop = make(map[*ioloop.Loop]*keepalive)
		}
		ka = &keepalive{loop: loop, owner: k, opts: opts}
		ka.sweeper = ioloop.NewPeriodicCallback(loop, sweepInterval(opts), ka.sweep)
		k.byLoop[loop] = ka
	}
	return ka
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
		ka.owner.drop(ka)
	}
}

// drop forgets a loop's keepalive that has nobody left to watch.
func (k *keepalives) drop(ka *keepalive) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.byLoop[ka.loop] == ka {
		delete(k.byLoop, ka.loop)
	}
}

// sweep checks every member. Closing a connection here only starts its
// close (its OnClose, which removes it, runs from a later callback), so
// the members do not change during the walk.
func (ka *keepalive) sweep() {
	now := time.Now().UnixNano()
	for _, c := range ka.members {
		c.checkAlive(now, ka.opts)
	}
}

// errNoPong closes a connection that did not answer its ping.
var errNoPong = errors.New("websocket: peer did not answer pings")

// checkAlive pings c if it has been silent for PingInterval, and closes
// it if a ping went unanswered for PongTimeout more.
func (c *Conn) checkAlive(now int64, opts *Options) {
	if c.state != stateOpen {
		return
	}
	idle := time.Duration(now - c.lastRead)
	switch {
	case c.pingSent && idle >= opts.PingInterval+opts.PongTimeout:
		c.setClose(CloseAbnormal, "no answer to ping")
		c.stream.Abort(errNoPong)
	case !c.pingSent && idle >= opts.PingInterval:
		c.pingSent = true
		c.writeFrame(OpPing, nil, false)
	case idle < opts.PingInterval:
		c.pingSent = false // a frame arrived since the ping: it is alive
	}
}
