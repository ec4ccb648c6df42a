package rooms

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"chat/accounts"
	"chat/framework/concurrent"
	"chat/framework/ioloop"
	"chat/store"
)

// The post pipeline: validate → permission checks → submit to the store's
// writer → when the commit comes back to the loop, ack the sender, then
// broadcast once to every door. Nobody, not even the sender, sees an event
// before its commit; a failed commit is an error to the sender and nothing
// to anyone else.
//
// Group commit. The store's writer commits every write waiting in its
// queue in one transaction. Submit only queues (it never blocks), and each
// write's done callback carries its result back to the loop with
// AddCallback, so the loop keeps any number of writes in flight while the
// writer commits: under load, each fsync covers everything that arrived
// during the previous one. The writer calls the callbacks in commit order,
// and the loop runs callbacks in the order they were added, so a room's
// events are published in the order of their ids.

// actionKind is what a client asks for.
type actionKind int

const (
	actSend actionKind = iota
	actEdit
	actDelete
	actChangeRoom // a moderator's change of the room's settings
)

// action is one client request to change the log.
type action struct {
	kind  actionKind
	body  string
	key   string
	msgID int64 // edit, delete
	// change is what actChangeRoom sets (RoomID and ActorID are filled in).
	change store.RoomChange
	// address is the client address the action came from and reason a
	// moderator's words, both for the audit log of a moderator's delete.
	address, reason string
	// slowMarked is when throttle started the sender's slow-mode wait
	// for this send (zero: it did not), slowPrior the mark it replaced
	// (zero: none), so a send that stores nothing can undo it.
	slowMarked, slowPrior time.Time
}

// act runs the pipeline for one action of u in h's room. The future
// resolves on the loop with the ack after the commit, or fails with a
// *Refusal (nothing stored) or another error (the commit's outcome).
//
// A retry of a send already stored is answered with its original ack, not
// refused: the message is in the log, so neither a rule of time (rate
// limit, slow mode) nor a change since (a mute, a lock) may tell the
// client otherwise. The hub remembers recent acks; a keyed send that a
// rule would refuse is looked up in the store before the refusal is sent
// (storedAck), which covers retries the hub has forgotten (after a
// restart, or once the hub was dropped).
func (e *Engine) act(h *hub, u *accounts.User, a action) *concurrent.Future[Ack] {
	if a.kind == actSend && a.key != "" {
		if prior, ok := h.acks.get(u.ID, a.key); ok {
			prior.Duplicate = true
			return concurrent.Resolved(prior)
		}
	}
	r := e.check(h, u, &a)
	if r == nil {
		r = e.throttle(h, u, &a)
	}
	if r == nil {
		return e.submit(h, u, a)
	}
	e.stats.refusals++
	if a.kind == actSend && a.key != "" && r.Code != "invalid" && r.Code != "too_long" {
		return e.storedAck(h, u, a.key, r)
	}
	return concurrent.Failed[Ack](r)
}

// storedAck answers a keyed send that a rule refused: with its original
// ack if the store holds a message of this room under that key (a retry),
// else with the refusal.
func (e *Engine) storedAck(h *hub, u *accounts.User, key string, refusal *Refusal) *concurrent.Future[Ack] {
	st, author, roomID := e.cfg.Store, u.ID, h.room.ID
	h.inflight++ // keeps the hub, whose recent acks the answer goes into
	f := concurrent.New[Ack]()
	ioloop.RunInExecutor(e.cfg.Reads, func() (store.Event, error) {
		return st.MessageByKey(ctxBackground, author, key)
	}).OnResult(func(ev store.Event, err error) {
		h.inflight--
		h.touch()
		if err != nil || ev.RoomID != roomID {
			f.Fail(refusal)
			return
		}
		prior := Ack{Key: key, EventID: ev.ID, MessageID: ev.MessageID, At: timestamp(ev.CreatedAt), Duplicate: true}
		h.acks.put(author, prior)
		f.Resolve(prior)
	})
	return f
}

// check applies the rules that do not depend on time spent: the user's
// standing (first, for every kind of action), the key, the body and the
// room's state.
func (e *Engine) check(h *hub, u *accounts.User, a *action) *Refusal {
	now := e.now()
	if u.BannedAt(now) {
		return refuseUntil(http.StatusForbidden, "banned", u.BannedUntil, now, "You are banned: %s", reasonOr(u.BanReason))
	}
	if r := checkKey(a.key); r != nil {
		return r
	}
	if a.kind == actChangeRoom {
		if !u.Moderator() {
			return refuse(http.StatusForbidden, "forbidden", "Only moderators change a room's settings.")
		}
		return nil
	}
	if (a.kind == actEdit || a.kind == actDelete) && a.msgID <= 0 {
		return refuse(http.StatusNotFound, "not_found", "There is no such message in this room.")
	}
	if a.kind != actDelete {
		body, r := checkBody(a.body)
		if r != nil {
			return r
		}
		a.body = body
	}
	if a.kind != actDelete && u.MutedAt(now) {
		return refuseUntil(http.StatusForbidden, "muted", u.MutedUntil, now, "You are muted: %s.", strings.TrimSuffix(reasonOr(u.MuteReason), "."))
	}
	if m, ok := h.roomMute(u.ID); ok && a.kind != actDelete {
		return refuseUntil(http.StatusForbidden, "muted", m.Until, now, "You are muted in this room: %s.", reasonOr(m.Reason))
	}
	switch {
	case h.room.Archived:
		return refuse(http.StatusForbidden, "archived", "This room is archived: it is read-only.")
	case h.room.Locked && a.kind != actDelete && !u.Moderator():
		return refuse(http.StatusForbidden, "locked", "This room is locked: only moderators can post.")
	}
	return nil
}

// throttle applies the rules of time: the room's slow mode (for new
// messages) and the user's token bucket (for messages and edits).
// Moderators are exempt from slow mode, not from the bucket. A send that
// passes marks the start of its sender's slow-mode wait in a.
func (e *Engine) throttle(h *hub, u *accounts.User, a *action) *Refusal {
	if a.kind == actDelete || a.kind == actChangeRoom {
		return nil
	}
	now := e.now()
	slow := time.Duration(h.room.SlowMode) * time.Second
	if a.kind == actSend && slow > 0 && !u.Moderator() {
		if last, ok := h.lastPost[u.ID]; ok && now.Sub(last) < slow {
			wait := slow - now.Sub(last)
			return refuseAfter(http.StatusTooManyRequests, "slow_mode", wait,
				"Slow mode: one message every %d s; wait %d s.", h.room.SlowMode, ceilSeconds(wait))
		}
	}
	if ok, wait := e.limiter.take(u.ID, now); !ok {
		return refuseAfter(http.StatusTooManyRequests, "rate_limited", wait,
			"Too many messages: wait %d s.", ceilSeconds(wait))
	}
	if a.kind == actSend && slow > 0 {
		if len(h.lastPost) >= maxTrackedUsers {
			pruneBefore(h.lastPost, now.Add(-slow))
		}
		a.slowPrior = h.lastPost[u.ID]
		h.lastPost[u.ID] = now
		a.slowMarked = now
	}
	return nil
}

// unmarkPost undoes a's slow-mode mark after its write stored nothing (the
// queue was full, the commit failed): it was not a post, and its retry
// must not wait for it. A mark made since by another send stays.
func (h *hub) unmarkPost(userID int64, a action) {
	if a.slowMarked.IsZero() || !h.lastPost[userID].Equal(a.slowMarked) {
		return
	}
	if a.slowPrior.IsZero() {
		delete(h.lastPost, userID)
		return
	}
	h.lastPost[userID] = a.slowPrior
}

// notAPost gives back what a write that stored nothing took: its slow-mode
// mark and its token.
func (e *Engine) notAPost(h *hub, u *accounts.User, a action) {
	h.unmarkPost(u.ID, a)
	if a.kind == actSend || a.kind == actEdit {
		e.limiter.refund(u.ID)
	}
}

// submit hands the write to the store's writer and arranges for its result
// to come back to the loop.
func (e *Engine) submit(h *hub, u *accounts.User, a action) *concurrent.Future[Ack] {
	var w store.Write
	switch a.kind {
	case actSend:
		w = store.NewMessage{RoomID: h.room.ID, AuthorID: u.ID, Body: a.body, ClientKey: a.key}
	case actEdit:
		w = store.EditMessage{RoomID: h.room.ID, MessageID: a.msgID, UserID: u.ID, Body: a.body}
	case actDelete:
		w = store.DeleteMessage{RoomID: h.room.ID, MessageID: a.msgID, ActorID: u.ID, AsModerator: u.Moderator(),
			Reason: a.reason, Address: a.address}
	case actChangeRoom:
		change := a.change
		change.RoomID, change.ActorID = h.room.ID, u.ID
		w = change
	}
	f := concurrent.New[Ack]()
	loop := e.cfg.Loop
	err := e.cfg.Store.Submit(w, func(res store.Result) {
		// On the store's writer goroutine: hand over, never touch the hub.
		loop.AddCallback(func() { e.committed(h, u, a, res, f) })
	})
	if err != nil {
		e.stats.refusals++
		e.notAPost(h, u, a)
		return concurrent.Failed[Ack](submitRefusal(err))
	}
	h.inflight++
	h.touch()
	e.stats.posts++
	return f
}

// committed runs on the loop when the writer has answered: ack first, then
// one broadcast, or the error to the sender alone.
func (e *Engine) committed(h *hub, u *accounts.User, a action, res store.Result, f *concurrent.Future[Ack]) {
	h.inflight--
	defer h.touch()
	if res.Err != nil {
		e.notAPost(h, u, a)
		r := commitRefusal(res.Err)
		if r.Code == "unavailable" {
			e.cfg.Logger.Error("rooms: commit failed", "room", h.room.Name, "user", u.ID, "err", res.Err)
		}
		f.Fail(r)
		return
	}
	ev := res.Event
	if res.Duplicate {
		e.notAPost(h, u, a) // a retry: it costs no token and starts no slow-mode wait
	}
	if res.Duplicate && ev.RoomID != h.room.ID {
		// The store keeps a key per author, across rooms: this one names a
		// message of another room, so this send was not stored here.
		f.Fail(refuse(http.StatusConflict, "invalid", "This key was already used for a message in another room; send with a new key."))
		return
	}
	ev.UserName, ev.UserGuest = u.Name, u.Guest
	reply := Ack{Key: a.key, EventID: ev.ID, MessageID: ev.MessageID, At: timestamp(ev.CreatedAt), Duplicate: res.Duplicate}
	if a.kind == actSend && a.key != "" {
		h.acks.put(u.ID, reply)
	}
	f.Resolve(reply)
	if res.Duplicate {
		return // stored and broadcast the first time
	}
	e.cfg.Broker.Publish(newEvent(h.room.Name, ev))
}

// busy is the refusal of work the server has no room for now (the writer's
// queue or the reads executor is full).
var busy = refuseAfter(http.StatusServiceUnavailable, "busy", time.Second, "The server is busy; try again in a moment.")

// submitRefusal explains a write the store would not queue.
func submitRefusal(err error) *Refusal {
	switch {
	case errors.Is(err, store.ErrQueueFull):
		return busy
	case errors.Is(err, store.ErrInvalid):
		return refuse(http.StatusBadRequest, "invalid", "%v", err)
	default:
		return refuse(http.StatusServiceUnavailable, "unavailable", "The server cannot store messages right now.")
	}
}

// commitRefusal explains a write that failed in its transaction.
func commitRefusal(err error) *Refusal {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return refuse(http.StatusNotFound, "not_found", "There is no such message in this room.")
	case errors.Is(err, store.ErrForbidden):
		return refuse(http.StatusForbidden, "forbidden", "You can only change your own messages.")
	case errors.Is(err, store.ErrInvalid):
		return refuse(http.StatusBadRequest, "invalid", "%v", err)
	default:
		return refuse(http.StatusServiceUnavailable, "unavailable", "The server could not store this; nothing was saved. Try again.")
	}
}

// refuseUntil refuses with the time left until until (none if zero: for good).
func refuseUntil(status int, code string, until, now time.Time, format string, args ...any) *Refusal {
	r := refuse(status, code, format, args...)
	if !until.IsZero() && until.Year() < 9000 {
		r.RetryAfter = until.Sub(now)
		r.Message += fmt.Sprintf(" Time left: %s.", r.RetryAfter.Round(time.Second))
	}
	return r
}

func reasonOr(reason string) string {
	if reason == "" {
		return "no reason given"
	}
	return reason
}

func ceilSeconds(d time.Duration) int { return (&Refusal{RetryAfter: d}).retryAfterSeconds() }

// ChangeRoom applies a moderator's change to a room's settings (lock,
// archive, slow mode, title, topic) through the same pipeline as a post:
// the room event commits, then reaches every door and the hub's own state,
// so later posts see it at once. It fails with a *Refusal for an unknown
// room or an actor who is not a moderator. The audit entry, in the same
// transaction, records change.Address, the actor's client address: the
// caller sets it (RoomID and ActorID are filled in here). Loop-only; the
// admin dashboard calls it.
func (e *Engine) ChangeRoom(room string, actor *accounts.User, change store.RoomChange) *concurrent.Future[Ack] {
	return concurrent.Then(e.loadHub(room), func(h *hub) *concurrent.Future[Ack] {
		return e.act(h, actor, action{kind: actChangeRoom, change: change})
	})
}

// DeleteMessage deletes a message of a room through the pipeline, as a
// member's delete frame does: a moderator (or admin) may delete anyone's,
// anyone else only their own, and the tombstone reaches every door. It
// fails with a *Refusal for an unknown room or message, or an actor who
// may not. Loop-only. The audit entry of a moderator's delete made this
// way has no address nor reason: the dashboard calls DeleteMessageAs.
func (e *Engine) DeleteMessage(room string, actor *accounts.User, msgID int64) *concurrent.Future[Ack] {
	return e.DeleteMessageAs(room, actor, "", msgID, "")
}

// DeleteMessageAs is DeleteMessage with the actor's client address and the
// moderator's reason, which the audit entry of a moderator's delete
// records in the same transaction as the delete (store.DeleteMessage's
// Address and Reason). Loop-only; the admin
// dashboard calls it.
func (e *Engine) DeleteMessageAs(room string, actor *accounts.User, address string, msgID int64, reason string) *concurrent.Future[Ack] {
	return concurrent.Then(e.loadHub(room), func(h *hub) *concurrent.Future[Ack] {
		return e.act(h, actor, action{kind: actDelete, msgID: msgID, address: address, reason: reason})
	})
}
