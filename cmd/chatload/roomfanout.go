package main

import (
	"fmt"
	"time"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
	"chat/framework/websocket"
)

// fanoutSenders take turns sending the rounds' messages: the server's
// token bucket lets a user post 5 at once and then 1 a second, and a
// round takes well under a second, so one sender would be rate limited
// after five rounds. With five, each posts at most every fifth round.
const fanoutSenders = 5

// roundWatch is one fan-out round in progress: the token, when it was
// sent and how many receivers have it. Loop-owned.
type roundWatch struct {
	token    string
	needle   []byte // what an answer holding the token contains (long poll)
	sentAt   time.Time
	received int
	want     int
	done     *concurrent.Future[time.Duration]
}

// arrived counts one receiver that has the token; the last one resolves
// the round with the time since the send.
func (w *roundWatch) arrived(now time.Time) {
	if w == nil || w.done.Done() {
		return
	}
	if w.received++; w.received == w.want {
		w.done.Resolve(now.Sub(w.sentAt))
	}
}

// roomFanout is -mode roomfanout: -conns guests in room -room, each on
// its own WebSocket, and fanoutSenders more taking turns; each round one
// sender posts a unique token (the body and the key) and the round ends
// when the last receiver has the message event with it. Reports p50/p99
// of that over -rounds and the server's CPU and write system calls per
// delivery (the senders get their copies too: conns+senders deliveries a
// round), as -mode fanout does on the bare hub.
func (t *tool) roomFanout() error {
	r, err := newChatRun(t)
	if err != nil {
		return err
	}
	gs, err := r.guests(0, t.cfg.conns+fanoutSenders)
	if err != nil {
		return err
	}
	if err := createRoom(r.client, r.base, gs[0], t.cfg.room); err != nil {
		return err
	}
	members := make([]*member, len(gs))
	for i, g := range gs {
		members[i] = &member{run: r, index: i, room: t.cfg.room, g: g}
	}
	receivers, senders := members[:t.cfg.conns], members[t.cfg.conns:]
	var round *roundWatch
	r.onEvent = func(m *member, ev *event, now time.Time) {
		switch {
		case round == nil:
		case string(ev.typ) == "message" && string(ev.body) == round.token && m.index < t.cfg.conns:
			round.arrived(now)
		case string(ev.typ) == "error" && string(ev.key) == round.token:
			round.done.Fail(fmt.Errorf("the sender got error %s", ev.code))
		}
	}
	if err := r.connect(members); err != nil {
		return err
	}
	// Joining ten thousand members (and the presence snapshots it causes)
	// must not be billed to the deliveries.
	if err := waitQuiet(t.cfg.pid); err != nil {
		return err
	}
	before, err := readProc(t.cfg.pid)
	if err != nil {
		return err
	}
	latencies := make([]time.Duration, 0, t.cfg.rounds)
	for i := range t.cfg.rounds {
		d, err := ioloop.RunSync(t.loop, func() *concurrent.Future[time.Duration] {
			round = &roundWatch{
				token: fmt.Sprintf("f%s-%d-%d", r.runID, i, time.Now().UnixNano()),
				want:  len(receivers), done: concurrent.New[time.Duration](),
			}
			sender := senders[i%len(senders)]
			round.sentAt = time.Now()
			if sender.conn == nil {
				return concurrent.Failed[time.Duration](fmt.Errorf("sender %d is disconnected", i%len(senders)))
			}
			if err := sender.conn.WriteMessage(websocket.OpText, sendFrame([]byte(round.token), []byte(round.token))); err != nil {
				return concurrent.Failed[time.Duration](err)
			}
			return concurrent.WithTimeout(round.done, t.loop, 60*time.Second)
		})
		if err != nil {
			got := onLoop(t, func() int { return round.received })
			return fmt.Errorf("round %d (%d of %d received): %w", i, got, len(receivers), err)
		}
		latencies = append(latencies, d)
		time.Sleep(100 * time.Millisecond) // let the server settle between rounds
	}
	after, err := readProc(t.cfg.pid)
	if err != nil {
		return err
	}
	logRounds(t.cfg.mode, latencies)
	deliveries := float64(t.cfg.rounds * len(members))
	closes := onLoop(t, func() string { return counts(r.closes) })
	fmt.Printf("mode=roomfanout conns=%d senders=%d rounds=%d p50_ms=%.1f p99_ms=%.1f user_us_per_delivery=%.2f sys_us_per_delivery=%.2f write_syscalls_per_delivery=%.3f closes=%s\n",
		len(receivers), len(senders), t.cfg.rounds,
		ms(percentile(latencies, 50)), ms(percentile(latencies, 99)),
		float64(after.userMicros-before.userMicros)/deliveries,
		float64(after.sysMicros-before.sysMicros)/deliveries,
		float64(after.writeSyscalls-before.writeSyscalls)/deliveries, closes)
	return nil
}
