package main

import (
	"fmt"
	"math"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
	"chat/framework/websocket"
)

// maxReconnects bounds how often one member's WebSocket is opened again
// after the server closed it (1013 too slow, 1001 going away, ...).
const maxReconnects = 10

// roomsRun is -mode rooms in progress. Loop-owned but for the fields set
// before the members connect.
type roomsRun struct {
	r       *chatRun
	prefix  string // of every key this run sends
	members []*member
	rooms   []string
	padding []byte

	committed [][]int64 // by room: the ids the senders' acks carried
	delivery  histogram // send → a member has the message, per delivery
	ack       histogram // send → the sender has the ack

	sent, acked, refused, skipped int // sends, and how they ended
	dupAcks, retried              int // acks of retried sends, sends retried after a reconnect
	deliveries, wrongRoom         int // message frames, and those of another room
	reconnects, gaveUp            int
	stopping                      bool

	// sendLag is how late the latest post left this tool: a busy tool
	// would bunch a member's posts (and so earn rate_limited errors).
	sendLag time.Duration
	// toolLag is the lateness of a 10 ms timer on this tool's loop, from
	// the first post to the end of the drain: about how long a frame that
	// arrived could wait before the tool read it. Small, the latencies
	// are the server's; large, the tool was the bottleneck.
	toolLag histogram
}

// rooms is -mode rooms: -rooms rooms of -members guests, one WebSocket
// each, every member posting once a second for -duration seconds (the
// phases spread evenly over the second, each post with its own key).
// Every member logs the id of every message it receives; after the
// sending, a drain of up to -drain seconds lets the last deliveries and
// acks in, then each member's log is checked against the ids its room's
// senders were acknowledged: exactly once, in increasing order. Reports
// that, delivery and ack latency, the errors by code, and from -debug's
// /stats (sampled every second) commits per second, mean batch size and
// the loop's lag. A member the server disconnects comes back with its
// cursor (after=) and resends its unanswered posts with their keys, as a
// client should, so a drop tests the resume rather than ending the count.
func (t *tool) rooms() error {
	r, err := newChatRun(t)
	if err != nil {
		return err
	}
	nRooms, perRoom := t.cfg.rooms, t.cfg.members
	seconds := max(1, int(math.Ceil(t.cfg.duration)))
	gs, err := r.guests(0, nRooms*perRoom)
	if err != nil {
		return err
	}
	run := &roomsRun{r: r, prefix: "k" + r.runID + ".", committed: make([][]int64, nRooms)}
	run.padding = make([]byte, max(0, t.cfg.payload-len(run.prefix)-12))
	for i := range run.padding {
		run.padding[i] = 'x'
	}
	for i := range nRooms {
		run.rooms = append(run.rooms, fmt.Sprintf("%s-%d", r.runID, i))
		if err := createRoom(r.client, r.base, gs[i*perRoom], run.rooms[i]); err != nil {
			return err
		}
	}
	for i, g := range gs {
		room := i / perRoom
		run.members = append(run.members, &member{run: r, index: i, room: run.rooms[room], roomIndex: room, g: g,
			sentAt: make([]time.Time, seconds), answered: make([]bool, seconds)})
	}
	r.onEvent = run.onEvent
	r.onClose = run.onClose
	if err := r.connect(run.members); err != nil {
		return err
	}
	if err := waitQuiet(t.cfg.pid); err != nil {
		return err
	}

	url := statsURL(t.cfg.debug)
	sampler := startSampler(r, url)
	stats0, missing, err := r.stats(url)
	if err != nil {
		return err
	}
	cpu0 := selfCPU()
	proc0, err := readProc(t.cfg.pid)
	if err != nil {
		return err
	}
	start := time.Now()
	sending := newCountdown(1)
	if _, err := ioloop.RunSync(t.loop, func() *concurrent.Future[struct{}] {
		run.schedule(start, seconds, sending)
		return concurrent.WithTimeout(sending.done, t.loop, time.Duration(seconds)*time.Second+time.Minute)
	}); err != nil {
		return fmt.Errorf("sending: %w", err)
	}
	sendingTime := time.Since(start)
	// An overloaded server may be slow to answer /stats too: past this
	// point a failed reading is reported, not fatal, so the exactly-once
	// verdict is never lost to it.
	statsSent, sentOK := r.patientStats(url)
	sendingEnd := time.Since(start)
	drained := run.drain(time.Duration(t.cfg.drain * float64(time.Second)))
	stats1, finalOK := r.patientStats(url)
	if !sentOK { // the commit rate over sending and drain, then
		statsSent, sendingEnd = stats1, time.Since(start)
	}
	toolCPU := float64(selfCPU()-cpu0) / float64(time.Since(start))
	proc1, err := readProc(t.cfg.pid)
	if err != nil {
		return err
	}
	deliveries := float64(max(1, onLoop(t, func() int { return run.deliveries })))
	seen := sampler.stop()

	line := onLoop(t, func() string {
		run.stopping = true
		return run.report()
	})
	commits := float64(statsSent.Store.Commits - stats0.Store.Commits)
	batch := 0.0
	if !finalOK {
		commits = math.NaN()
	}
	if dc := stats1.Store.Commits - stats0.Store.Commits; dc > 0 {
		batch = float64(stats1.Store.Writes-stats0.Store.Writes) / float64(dc)
	}
	fmt.Printf("mode=rooms rooms=%d members=%d duration_s=%d sending_s=%.1f run_s=%.1f %s commits_per_sec=%.0f mean_batch=%.1f lag_p99_max_ms=%.1f lag_p99_final_ms=%.1f lag_max_ms=%.1f busy_max=%.2f store_queue_max=%d drained=%v tool_cpu=%.2f server_us_per_delivery=%.2f write_syscalls_per_delivery=%.3f stats_missing=%s stats_sent_ok=%v stats_final_ok=%v\n",
		nRooms, perRoom, seconds, sendingTime.Seconds(), time.Since(start).Seconds(), line, commits/sendingEnd.Seconds(), batch, math.Max(seen.lagP99, stats1.Loop.LagP99), stats1.Loop.LagP99, math.Max(seen.lagMax, stats1.Loop.LagMax), seen.busy, seen.queue,
		drained, toolCPU, float64(proc1.userMicros+proc1.sysMicros-proc0.userMicros-proc0.sysMicros)/deliveries,
		float64(proc1.writeSyscalls-proc0.writeSyscalls)/deliveries, list(missing), sentOK, finalOK)
	return nil
}

// patientStats reads /stats, trying three times (each bounded by the
// setup client's 30 s), and says whether it got an answer; failures go
// to stderr. Without a debug URL it answers zeros, successfully.
func (r *chatRun) patientStats(url string) (serverStats, bool) {
	for range 3 {
		s, _, err := r.stats(url)
		if err == nil {
			return s, true
		}
		fmt.Fprintln(os.Stderr, "chatload:", err)
	}
	return serverStats{}, false
}

// schedule posts for -duration seconds: the run's post number s (member
// s mod N, its send number s / N) goes at start + s/N seconds, so each
// member posts once a second and the posts are spread evenly. A timer
// every 2 ms sends what is due. done ticks when the last is sent.
// Loop-only.
func (run *roomsRun) schedule(start time.Time, seconds int, done *countdown) {
	n := len(run.members)
	total, next := n*seconds, 0
	var tick func()
	tick = func() {
		now := time.Now()
		due := int(float64(now.Sub(start)) / float64(time.Second) * float64(n))
		if next < total && next <= due {
			run.sendLag = max(run.sendLag, now.Sub(start.Add(time.Duration(float64(next)/float64(n)*float64(time.Second)))))
		}
		for ; next < total && next <= due; next++ {
			run.send(run.members[next%n], next/n, now)
		}
		if next == total {
			done.tick()
			return
		}
		run.r.t.loop.CallLater(2*time.Millisecond, tick)
	}
	tick()
	var probe func(time.Time)
	probe = func(armed time.Time) {
		run.toolLag.record(time.Since(armed) - 10*time.Millisecond)
		if !run.stopping {
			at := time.Now()
			run.r.t.loop.CallLater(10*time.Millisecond, func() { probe(at) })
		}
	}
	at := time.Now()
	run.r.t.loop.CallLater(10*time.Millisecond, func() { probe(at) })
}

// send posts m's send number seq, unless m is disconnected (then it is
// skipped: a real client would queue it; this one counts it).
func (run *roomsRun) send(m *member, seq int, now time.Time) {
	if m.conn == nil {
		run.skipped++
		return
	}
	m.sentAt[seq] = now
	if err := m.conn.WriteMessage(websocket.OpText, run.frame(m, seq)); err != nil {
		m.sentAt[seq] = time.Time{}
		run.skipped++
		return
	}
	run.sent++
}

func (run *roomsRun) frame(m *member, seq int) []byte {
	key := appendKey(nil, run.prefix, m.index, seq)
	return sendFrame(append(append([]byte(nil), key...), run.padding...), key)
}

// sender finds the member and send number a key of this run names.
func (run *roomsRun) sender(key []byte) (*member, int, bool) {
	i, seq, ok := parseKey(key, run.prefix)
	if !ok || i >= len(run.members) || seq >= len(run.members[i].sentAt) || run.members[i].sentAt[seq].IsZero() {
		return nil, 0, false
	}
	return run.members[i], seq, true
}

func (run *roomsRun) onEvent(m *member, ev *event, now time.Time) {
	switch string(ev.typ) {
	case "message":
		run.deliveries++
		if string(ev.room) != m.room {
			run.wrongRoom++
			return
		}
		m.log.add(ev.id)
		if s, seq, ok := run.sender(ev.key); ok {
			run.delivery.record(now.Sub(s.sentAt[seq]))
		}
	case "ack":
		s, seq, ok := run.sender(ev.key)
		switch {
		case !ok || s != m:
		case m.answered[seq]:
			run.dupAcks++
		default:
			m.answered[seq] = true
			run.acked++
			run.ack.record(now.Sub(m.sentAt[seq]))
			run.committed[m.roomIndex] = append(run.committed[m.roomIndex], ev.id)
		}
	case "error":
		if s, seq, ok := run.sender(ev.key); ok && s == m && !m.answered[seq] {
			m.answered[seq] = true
			run.refused++
		}
	}
}

// onClose brings a member back with its cursor, after a pause that
// grows with each try, at most maxReconnects times.
func (run *roomsRun) onClose(m *member, code int, reason string) {
	if run.stopping {
		return
	}
	if m.reconnects >= maxReconnects {
		run.gaveUp++
		return
	}
	m.reconnects++
	run.reconnects++
	loop := run.r.t.loop
	loop.CallLater(time.Duration(m.reconnects)*200*time.Millisecond, func() {
		websocket.Dial(loop, run.r.wsURLAfter(m.room, m.lastID), m.dialOptions()).OnResult(func(c *websocket.Conn, err error) {
			if err != nil {
				run.onClose(m, 0, err.Error())
				return
			}
			// The same keys again: the server answers a retry with the
			// first ack and broadcasts nothing twice.
			for seq, at := range m.sentAt {
				if !at.IsZero() && !m.answered[seq] {
					c.WriteMessage(websocket.OpText, run.frame(m, seq))
					run.retried++
				}
			}
		})
	})
}

// drain waits, at most limit, until every send is answered and no
// delivery has come for a second; it reports whether that happened.
func (run *roomsRun) drain(limit time.Duration) bool {
	t := run.r.t
	deadline := time.Now().Add(limit)
	last, quietSince := -1, time.Now()
	for time.Now().Before(deadline) {
		type state struct{ deliveries, open int }
		s := onLoop(t, func() state { return state{run.deliveries, run.sent - run.acked - run.refused} })
		if s.deliveries != last {
			last, quietSince = s.deliveries, time.Now()
		}
		if s.open <= 0 && time.Since(quietSince) >= time.Second {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

// report checks every member's log and formats the counts. Loop-only,
// once the run is over.
func (run *roomsRun) report() string {
	var total onceReport
	perRoom := len(run.members) / len(run.rooms)
	for room, ids := range run.committed {
		slices.Sort(ids)
		ids = slices.Compact(ids) // a retried key's ack carries the first id
		seen := make([]bool, len(ids))
		for _, m := range run.members[room*perRoom : (room+1)*perRoom] {
			total.add(checkOnce(ids, &m.log, seen))
		}
	}
	unanswered := run.sent - run.acked - run.refused
	verdict := "yes"
	if !total.ok() {
		verdict = "no"
	}
	return fmt.Sprintf("send_lag_max_ms=%.1f tool_lag_p99_ms=%.1f tool_lag_max_ms=%.1f ", ms(run.sendLag), ms(run.toolLag.percentile(99)), ms(run.toolLag.max)) + fmt.Sprintf("sent=%d acked=%d refused=%d unanswered=%d skipped=%d errors=%s exactly_once=%s delivered=%d expected=%d duplicates=%d missing=%d out_of_order=%d unexpected=%d wrong_room=%d delivery_p50_ms=%.1f delivery_p99_ms=%.1f ack_p50_ms=%.1f ack_p99_ms=%.1f closes=%s reconnects=%d gave_up=%d retried=%d retry_acks=%d resets=%d bad_frames=%d",
		run.sent, run.acked, run.refused, unanswered, run.skipped, counts(run.r.errors), verdict,
		total.delivered, total.expected, total.duplicates, total.missing, total.outOfOrder, total.unexpected, run.wrongRoom,
		ms(run.delivery.percentile(50)), ms(run.delivery.percentile(99)), ms(run.ack.percentile(50)), ms(run.ack.percentile(99)),
		counts(run.r.closes), run.reconnects, run.gaveUp, run.retried, run.dupAcks, run.r.resets, run.r.badFrames)
}

// wsURLAfter is the WebSocket URL resuming after the cursor (0 too: from
// the room's beginning).
func (r *chatRun) wsURLAfter(room string, after int64) string {
	return r.wsURL(room, 0) + fmt.Sprintf("?after=%d", after)
}

// sampler reads /stats every second in its own goroutine and keeps the
// largest loop lag p99 seen.
type sampler struct {
	mu     sync.Mutex
	maxLag float64 // lag_p99_ms
	lagMax float64 // lag_max_ms
	busy   float64 // loop.busy
	queue  int64   // store.queue
	quit   chan struct{}
	done   chan struct{}
}

func startSampler(r *chatRun, url string) *sampler {
	s := &sampler{quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		if url == "" {
			<-s.quit
			return
		}
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-s.quit:
				return
			case <-tick.C:
			}
			if st, _, err := fetchStats(r.client, url); err == nil {
				s.mu.Lock()
				s.maxLag = max(s.maxLag, st.Loop.LagP99)
				s.lagMax = max(s.lagMax, st.Loop.LagMax)
				s.busy = max(s.busy, st.Loop.Busy)
				s.queue = max(s.queue, st.Store.Queue)
				s.mu.Unlock()
			}
		}
	}()
	return s
}

// stop ends the sampling and returns the largest values seen.
func (s *sampler) stop() sampled {
	close(s.quit)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return sampled{s.maxLag, s.lagMax, s.busy, s.queue}
}

// sampled is the largest of each figure the sampler saw: lag p99 and
// lag max in ms, the loop's busy fraction, the writer's queue.
type sampled struct {
	lagP99, lagMax, busy float64
	queue                int64
}

// selfCPU is this process's user plus system time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
