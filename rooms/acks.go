package rooms

// recentAcks remembers the acks of a room's recent sends by author and
// client key, so that a retry (a client resending its outbox after a
// reconnect) is answered at once with the original ack, before the rate
// limit or slow mode could refuse a message that is in fact stored. A
// retry of an older key still gets its original ack: the store finds the
// key (store.Result.Duplicate). Bounded: the oldest entries go first.
type recentAcks struct {
	byKey map[ackKey]Ack
	order []ackKey // oldest first, a ring of len limit
	next  int
}

type ackKey struct {
	author int64
	key    string
}

// Ack is what a committed write answers its sender.
type Ack struct {
	Key       string
	EventID   int64
	MessageID int64
	At        string // timestamp
	Duplicate bool   // a retry: nothing new was stored or broadcast
}

// recentAckLimit is how many acks a hub remembers.
const recentAckLimit = 1024

func newRecentAcks(limit int) recentAcks {
	return recentAcks{byKey: make(map[ackKey]Ack, limit), order: make([]ackKey, limit)}
}

func (r *recentAcks) get(author int64, key string) (Ack, bool) {
	a, ok := r.byKey[ackKey{author, key}]
	return a, ok
}

func (r *recentAcks) put(author int64, a Ack) {
	k := ackKey{author, a.Key}
	if _, ok := r.byKey[k]; ok {
		return
	}
	if old := r.order[r.next]; old.key != "" {
		delete(r.byKey, old)
	}
	r.order[r.next] = k
	r.next = (r.next + 1) % len(r.order)
	r.byKey[k] = a
}
