package main

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"time"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
	"chat/framework/iostream"
	"chat/framework/tcpserver"
	"chat/framework/websocket"
)

// longPoll is -mode longpoll: -conns guests each parked in a long poll
// GET /api/rooms/{room}/events?after=ID, polling again with the answer's
// last_id as soon as an answer is in, and fanoutSenders WebSocket senders
// taking turns; each round one posts a token and the round ends when the
// last poller has an answer holding it. Reports p50/p99 over -rounds and
// the server's CPU per delivery, like roomfanout, for the comparison of
// the two doors.
//
// The pollers are raw HTTP/1.1 on the tool's loop (tcpserver.Connect,
// an iostream per poller, one kept-alive connection each), not net/http:
// so both doors are read by the same loop on the same core, the
// comparison measures the server's doors rather than two client stacks,
// and ten thousand parked requests cost a file descriptor and a small
// struct each instead of goroutines and buffers.
func (t *tool) longPoll() error {
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
	senders := make([]*member, fanoutSenders)
	for i := range senders {
		senders[i] = &member{run: r, index: t.cfg.conns + i, room: t.cfg.room, g: gs[t.cfg.conns+i]}
	}
	var round *roundWatch
	r.onEvent = func(m *member, ev *event, now time.Time) {
		if round != nil && string(ev.typ) == "error" && string(ev.key) == round.token {
			round.done.Fail(fmt.Errorf("the sender got error %s", ev.code))
		}
	}
	if err := r.connect(senders); err != nil {
		return err
	}
	lp := &pollRun{run: r, path: "/api/rooms/" + url.PathEscape(t.cfg.room) + "/events", statuses: map[int]int{}}
	lp.onAnswer = func(p *poller, body []byte, now time.Time) {
		if round != nil && bytes.Contains(body, round.needle) {
			round.arrived(now)
		}
	}
	after := onLoop(t, func() int64 { return senders[0].helloLast })
	pollers := make([]*poller, t.cfg.conns)
	for i := range pollers {
		pollers[i] = &poller{run: lp, index: i, cookie: gs[i].cookie, after: after}
	}
	if err := lp.connect(pollers); err != nil {
		return err
	}
	url := statsURL(t.cfg.debug)
	if err := r.waitParked(url, len(pollers), time.Minute); err != nil {
		return err
	}
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
			token := fmt.Sprintf("p%s-%d-%d", r.runID, i, time.Now().UnixNano())
			round = &roundWatch{token: token, want: len(pollers), done: concurrent.New[time.Duration]()}
			round.needle = []byte(`"body":"` + token + `"`)
			sender := senders[i%len(senders)]
			round.sentAt = time.Now()
			if sender.conn == nil {
				return concurrent.Failed[time.Duration](fmt.Errorf("sender %d is disconnected", i%len(senders)))
			}
			if err := sender.conn.WriteMessage(websocket.OpText, sendFrame([]byte(token), []byte(token))); err != nil {
				return concurrent.Failed[time.Duration](err)
			}
			return concurrent.WithTimeout(round.done, t.loop, 60*time.Second)
		})
		if err != nil {
			got := onLoop(t, func() int { return round.received })
			return fmt.Errorf("round %d (%d of %d pollers answered): %w", i, got, len(pollers), err)
		}
		latencies = append(latencies, d)
		// Everyone polls again at once; the next round starts when all
		// are parked again, as every WebSocket member is all the time.
		if err := r.waitParked(url, len(pollers), 10*time.Second); err != nil {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
	end, err := readProc(t.cfg.pid)
	if err != nil {
		return err
	}
	logRounds(t.cfg.mode, latencies)
	deliveries := float64(t.cfg.rounds * (len(pollers) + len(senders)))
	type tally struct {
		statuses, closes                    string
		polls, reconnects, failures, resets int
	}
	n := onLoop(t, func() tally {
		return tally{counts(lp.statuses), counts(r.closes), lp.polls, lp.reconnects, lp.failures, lp.resets}
	})
	fmt.Printf("mode=longpoll conns=%d senders=%d rounds=%d p50_ms=%.1f p99_ms=%.1f user_us_per_delivery=%.2f sys_us_per_delivery=%.2f write_syscalls_per_delivery=%.3f polls=%d statuses=%s reconnects=%d failures=%d resets=%d closes=%s\n",
		len(pollers), len(senders), t.cfg.rounds,
		ms(percentile(latencies, 50)), ms(percentile(latencies, 99)),
		float64(end.userMicros-before.userMicros)/deliveries,
		float64(end.sysMicros-before.sysMicros)/deliveries,
		float64(end.writeSyscalls-before.writeSyscalls)/deliveries,
		n.polls, n.statuses, n.reconnects, n.failures, n.resets, n.closes)
	return nil
}

// waitParked waits until the server's /stats counts at least n parked
// long polls (rooms.waiters), polling it every 20 ms for at most limit.
// Without a debug URL it can only wait a fixed second.
func (r *chatRun) waitParked(url string, n int, limit time.Duration) error {
	if url == "" {
		time.Sleep(time.Second)
		return nil
	}
	deadline := time.Now().Add(limit)
	for {
		s, missing, err := fetchStats(r.client, url)
		if err != nil {
			return err
		}
		if slices.Contains(missing, "rooms.waiters") {
			time.Sleep(time.Second) // a server that does not count them: wait a second, as without -debug
			return nil
		}
		if s.Rooms.Waiters >= int64(n) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d long polls parked after %v (rooms.waiters in /stats)", s.Rooms.Waiters, n, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pollRun is the pollers' shared state. Loop-owned but for the fields
// set before the pollers start.
type pollRun struct {
	run      *chatRun
	path     string
	onAnswer func(p *poller, body []byte, now time.Time)

	statuses   map[int]int // HTTP status → answers
	polls      int         // requests sent
	reconnects int         // connections the server closed and the poller opened again
	failures   int         // pollers that gave up
	resets     int         // reset answers
}

// maxPollReconnects bounds how often one poller opens its connection
// again (the server closed it, or answered Connection: close).
const maxPollReconnects = 10

// poller is one guest's long poll on its own kept-alive connection: it
// sends a request, reads the answer (Content-Length or chunked), takes
// the cursor and polls again. Loop-owned.
type poller struct {
	run        *pollRun
	index      int
	cookie     string
	after      int64
	stream     *iostream.Stream
	reconnects int

	// The answer being read.
	status int
	close  bool
	body   []byte
}

// connect opens every poller's connection in waves of 500 and sends its
// first poll.
func (lp *pollRun) connect(ps []*poller) error {
	t := lp.run.t
	for done := 0; done < len(ps); {
		wave := ps[done:min(done+500, len(ps))]
		_, err := ioloop.RunSync(t.loop, func() *concurrent.Future[[]struct{}] {
			fs := make([]*concurrent.Future[struct{}], len(wave))
			for i, p := range wave {
				fs[i] = p.open()
			}
			return concurrent.All(fs...)
		})
		if err != nil {
			return fmt.Errorf("after %d long-poll connections: %w", done, err)
		}
		done += len(wave)
	}
	return nil
}

// open connects and sends the first poll; the future resolves once the
// request is queued.
func (p *poller) open() *concurrent.Future[struct{}] {
	t := p.run.run.t
	f := tcpserver.Connect(t.loop, p.run.run.host, tcpserver.ConnectOptions{
		Dial:    ioloop.DialOptions{LocalAddr: sourceAddr(p.index)},
		Timeout: 30 * time.Second,
	})
	return concurrent.Map(f, func(s *iostream.Stream) (struct{}, error) {
		p.stream = s
		p.poll()
		return struct{}{}, nil
	})
}

func (p *poller) poll() {
	req := fmt.Appendf(nil, "GET %s?after=%d HTTP/1.1\r\nHost: %s\r\nCookie: %s\r\n\r\n", p.run.path, p.after, p.run.run.host, p.cookie)
	if err := p.stream.QueueWrite(req); err != nil {
		p.lost(err)
		return
	}
	p.run.polls++
	p.stream.ReadUntil([]byte("\r\n\r\n"), 16<<10, p.onHead)
}

var errBadResponse = errors.New("chatload: bad HTTP response")

// onHead reads the status line and the headers that say how the body
// comes.
func (p *poller) onHead(head []byte, err error) {
	if err != nil {
		p.lost(err)
		return
	}
	lines := bytes.Split(bytes.TrimSuffix(head, []byte("\r\n\r\n")), []byte("\r\n"))
	status := bytes.Fields(lines[0])
	if len(status) < 2 || !bytes.HasPrefix(status[0], []byte("HTTP/1.")) {
		p.lost(errBadResponse)
		return
	}
	p.status, _ = strconv.Atoi(string(status[1]))
	p.close, p.body = bytes.HasPrefix(status[0], []byte("HTTP/1.0")), p.body[:0]
	length, chunked := -1, false
	for _, line := range lines[1:] {
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		value = bytes.TrimSpace(value)
		switch string(bytes.ToLower(name)) {
		case "content-length":
			length, _ = strconv.Atoi(string(value))
		case "transfer-encoding":
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case "connection":
			p.close = bytes.EqualFold(value, []byte("close"))
		}
	}
	switch {
	case chunked:
		p.stream.ReadUntil([]byte("\r\n"), 64, p.onChunkSize)
	case length >= 0:
		p.stream.ReadBytes(length, p.onBody)
	default:
		p.close = true
		p.stream.ReadUntilClose(p.onBody)
	}
}

func (p *poller) onChunkSize(line []byte, err error) {
	if err != nil {
		p.lost(err)
		return
	}
	size, perr := strconv.ParseUint(string(bytes.TrimSpace(bytes.SplitN(line, []byte(";"), 2)[0])), 16, 31)
	switch {
	case perr != nil:
		p.lost(errBadResponse)
	case size == 0:
		p.stream.ReadUntil([]byte("\r\n"), 1024, func(_ []byte, err error) { p.onBody(p.body, err) }) // no trailers expected
	default:
		p.stream.ReadBytes(int(size)+2, func(chunk []byte, err error) {
			if err != nil {
				p.lost(err)
				return
			}
			p.body = append(p.body, chunk[:len(chunk)-2]...)
			p.stream.ReadUntil([]byte("\r\n"), 64, p.onChunkSize)
		})
	}
}

// onBody takes the answer: the cursor from an events answer (or a
// reset), the mode's look at the body, and the next poll at once (a
// second later after a refusal).
func (p *poller) onBody(body []byte, err error) {
	if err != nil {
		p.lost(err)
		return
	}
	now := time.Now()
	lp := p.run
	lp.statuses[p.status]++
	var ev event
	if p.status == 200 && scanEvent(body, &ev) == nil {
		switch string(ev.typ) {
		case "events":
			p.after = max(p.after, ev.lastID)
		case "reset":
			lp.resets++
			p.after = ev.lastID
		}
		lp.onAnswer(p, body, now)
	}
	next := p.poll
	if p.close {
		next = p.reopen
	}
	if p.status != 200 {
		lp.run.t.loop.CallLater(time.Second, next)
		return
	}
	next()
}

// lost handles a connection that failed: it is opened again, a bounded
// number of times.
func (p *poller) lost(err error) {
	if p.stream != nil {
		p.stream.Close(err)
		p.stream = nil
	}
	p.reopen()
}

func (p *poller) reopen() {
	if p.stream != nil {
		p.stream.Close(nil)
		p.stream = nil
	}
	if p.reconnects >= maxPollReconnects {
		p.run.failures++
		return
	}
	p.reconnects++
	p.run.reconnects++
	p.open().OnResult(func(_ struct{}, err error) {
		if err != nil {
			p.run.failures++
		}
	})
}
