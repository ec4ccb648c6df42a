package accounts

import (
	"container/list"
	"strings"
	"time"
)

// The sign-in throttle's policy. A name that fails throttleFreeFailures
// times in a row may try again only after a delay, which starts at
// throttleFirstDelay and doubles with each further failure up to
// throttleMaxDelay: a password guesser gets a handful of tries, then one
// every five minutes, while the name's owner who mistyped waits a second or
// two. The failures are forgotten throttleWindow after the last one (so 5
// failures within 15 minutes start the delays), and at once when the
// right password is given.
//
// A client address gets the same doubling delays after
// throttleAddrFreeFailures failures across all names: more than a name
// gets, because an address may be a whole office behind one NAT, but a
// bound on one client guessing many names (credential stuffing).
const (
	throttleFreeFailures     = 5
	throttleAddrFreeFailures = 20
	throttleWindow           = 15 * time.Minute
	throttleFirstDelay       = time.Second
	throttleMaxDelay         = 5 * time.Minute
	// throttleMaxEntries bounds each of the throttle's tables (names,
	// addresses, new users by address): past it the entry touched longest
	// ago is dropped, so a flood of made-up names costs bounded memory.
	// The flood can push a name out early, forgetting its failures; it
	// then gets throttleFreeFailures tries again, no more.
	throttleMaxEntries = 10_000
	// throttleSweepEvery is how often the loop drops expired entries.
	throttleSweepEvery = time.Minute
)

// lru is a bounded table of entries by key, in order of last touch
// (front: most recent). Loop-owned, as everything here.
type lru[V any] struct {
	max     int
	entries map[string]*list.Element
	order   *list.List // of *lruEntry[V]
}

type lruEntry[V any] struct {
	key     string
	touched time.Time
	value   V
}

func newLRU[V any](max int) *lru[V] {
	return &lru[V]{max: max, entries: make(map[string]*list.Element), order: list.New()}
}

// get returns the key's value, or nil.
func (l *lru[V]) get(key string) *V {
	if e := l.entries[key]; e != nil {
		return &e.Value.(*lruEntry[V]).value
	}
	return nil
}

// touch returns the key's value, made (zero) if missing, and marks it
// touched at now; a new entry past max drops the oldest.
func (l *lru[V]) touch(key string, now time.Time) *V {
	if e := l.entries[key]; e != nil {
		entry := e.Value.(*lruEntry[V])
		entry.touched = now
		l.order.MoveToFront(e)
		return &entry.value
	}
	if l.order.Len() >= l.max {
		oldest := l.order.Back()
		delete(l.entries, oldest.Value.(*lruEntry[V]).key)
		l.order.Remove(oldest)
	}
	entry := &lruEntry[V]{key: key, touched: now}
	l.entries[key] = l.order.PushFront(entry)
	return &entry.value
}

func (l *lru[V]) remove(key string) {
	if e := l.entries[key]; e != nil {
		delete(l.entries, key)
		l.order.Remove(e)
	}
}

// dropTouchedBefore drops the entries last touched before cutoff: they
// sit at the back, so this costs what it drops.
func (l *lru[V]) dropTouchedBefore(cutoff time.Time) {
	for e := l.order.Back(); e != nil; e = l.order.Back() {
		entry := e.Value.(*lruEntry[V])
		if !entry.touched.Before(cutoff) {
			return
		}
		delete(l.entries, entry.key)
		l.order.Remove(e)
	}
}

func (l *lru[V]) len() int { return l.order.Len() }

// failures is one name's or address's run of failed sign-ins.
type failures struct {
	count int
	last  time.Time // the latest failure (or attempt in flight)
}

// wait is how long the next attempt must still wait at now, given free
// failures without delay.
func (f *failures) wait(now time.Time, free int) time.Duration {
	if f == nil || now.Sub(f.last) >= throttleWindow || f.count < free {
		return 0
	}
	delay := throttleMaxDelay
	if n := f.count - free; n < 20 { // 2^20 s is far past the cap
		delay = min(throttleFirstDelay<<n, throttleMaxDelay)
	}
	return max(f.last.Add(delay).Sub(now), 0)
}

// add counts one more failure at now, after forgetting a run that expired.
func (f *failures) add(now time.Time) {
	if now.Sub(f.last) >= throttleWindow {
		f.count = 0
	}
	f.count++
	f.last = now
}

// signinThrottle counts failed password checks by name (lower-cased) and
// by client address. Loop-owned: every method must be called on the loop.
//
// An attempt on a name counts as a failure from the moment it starts
// until its answer, so that a burst of simultaneous guesses at one name
// is throttled like the same guesses one after another; the right
// password then clears the name. An attempt from an address counts only
// once it failed (many people may sign in at once behind one address);
// a burst from one address is bounded by the password executor's queue.
type signinThrottle struct {
	names *lru[failures]
	addrs *lru[failures]
}

func newSigninThrottle() *signinThrottle {
	return &signinThrottle{names: newLRU[failures](throttleMaxEntries), addrs: newLRU[failures](throttleMaxEntries)}
}

// attempt is one password check under way, from begin to its outcome.
type attempt struct {
	t          *signinThrottle
	name, addr string
	done       bool
}

// begin starts a password check for name from addr at now. When either is
// throttled it returns how long the client must wait and no attempt.
func (t *signinThrottle) begin(name, addr string, now time.Time) (*attempt, time.Duration) {
	name = strings.ToLower(name)
	wait := max(t.names.get(name).wait(now, throttleFreeFailures), t.addrs.get(addr).wait(now, throttleAddrFreeFailures))
	if wait > 0 {
		return nil, wait
	}
	t.names.touch(name, now).add(now)
	return &attempt{t: t, name: name, addr: addr}, 0
}

// failed records that the password was wrong (or the name unknown).
func (a *attempt) failed(now time.Time) {
	if a.done {
		return
	}
	a.done = true
	a.t.addrs.touch(a.addr, now).add(now)
}

// succeeded records that the password was right: the name's failures are
// forgotten (the address's stay: they were other names' failures).
func (a *attempt) succeeded() {
	if a.done {
		return
	}
	a.done = true
	a.t.names.remove(a.name)
}

// abandoned records that the check could not run (the executor was full,
// the store failed): it counts for nothing.
func (a *attempt) abandoned() {
	if a.done {
		return
	}
	a.done = true
	if f := a.t.names.get(a.name); f != nil && f.count > 0 {
		f.count--
	}
}

// sweep drops the runs that ended throttleWindow ago.
func (t *signinThrottle) sweep(now time.Time) {
	t.names.dropTouchedBefore(now.Add(-throttleWindow))
	t.addrs.dropTouchedBefore(now.Add(-throttleWindow))
}

// window is one address's count in the current fixed window.
type window struct {
	start time.Time
	count int
}

// rateLimiter allows up to limit events per period for each key, in fixed
// windows that start at a key's first event. A limit of zero or less
// allows everything. Loop-owned.
type rateLimiter struct {
	limit  int
	period time.Duration
	keys   *lru[window]
}

func newRateLimiter(limit int, period time.Duration) *rateLimiter {
	return &rateLimiter{limit: limit, period: period, keys: newLRU[window](throttleMaxEntries)}
}

// take counts one event for key at now, or returns how long to wait when
// the key's window is full (and counts nothing). A caller whose event did
// not happen after all (the name was taken) gives it back with refund.
func (r *rateLimiter) take(key string, now time.Time) time.Duration {
	if r.limit <= 0 {
		return 0
	}
	w := r.keys.touch(key, now)
	if now.Sub(w.start) >= r.period {
		*w = window{start: now}
	}
	if w.count >= r.limit {
		return w.start.Add(r.period).Sub(now)
	}
	w.count++
	return 0
}

// refund gives back one event taken for key.
func (r *rateLimiter) refund(key string) {
	if w := r.keys.get(key); w != nil && w.count > 0 {
		w.count--
	}
}

// sweep drops the keys untouched for a whole period: their windows ended.
func (r *rateLimiter) sweep(now time.Time) { r.keys.dropTouchedBefore(now.Add(-r.period)) }
