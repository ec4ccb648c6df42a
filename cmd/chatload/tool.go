package main

import (
	"bytes"
	"fmt"
	"net"
	"time"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
	"chat/framework/websocket"
)

// tool holds the connections and the measurement in progress. Everything
// but the fields set before the loop runs is loop-owned.
type tool struct {
	cfg   config
	loop  *ioloop.Loop
	conns []*websocket.Conn

	// Fan-out round in progress.
	token     []byte
	sentAt    time.Time
	received  int
	roundDone *concurrent.Future[time.Duration]
}

// portsPerAddress is about how many ephemeral ports one source address has.
const portsPerAddress = 25000

// connect opens n connections in waves (so the server's accept backlog
// never overflows), with handler h.
func (t *tool) connect(n int, h websocket.Handler) ([]*websocket.Conn, error) {
	var conns []*websocket.Conn
	spread := n > portsPerAddress || t.cfg.spread
	for len(conns) < n {
		batch := min(500, n-len(conns))
		first := len(conns)
		got, err := ioloop.RunSync(t.loop, func() *concurrent.Future[[]*websocket.Conn] {
			fs := make([]*concurrent.Future[*websocket.Conn], batch)
			for i := range fs {
				opts := websocket.DialOptions{Handler: h, Options: websocket.Options{DisableCompression: true, PingInterval: -1}}
				if spread {
					opts.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+(first+i)%8))}
				}
				fs[i] = websocket.Dial(t.loop, t.cfg.url, opts)
			}
			return concurrent.All(fs...)
		})
		if err != nil {
			return nil, fmt.Errorf("after %d connections: %w", len(conns), err)
		}
		conns = append(conns, got...)
	}
	return conns, nil
}

// ignorer drops every message (the sender's own copy, idle connections).
type ignorer struct{}

func (ignorer) OnOpen(*websocket.Conn)                              {}
func (ignorer) OnClose(*websocket.Conn, int, string)                {}
func (ignorer) OnMessage(*websocket.Conn, websocket.Opcode, []byte) {}

// subscriber counts fan-out deliveries. Loop-owned through the tool.
type subscriber struct{ t *tool }

func (s subscriber) OnOpen(*websocket.Conn)               {}
func (s subscriber) OnClose(*websocket.Conn, int, string) {}
func (s subscriber) OnMessage(c *websocket.Conn, op websocket.Opcode, data []byte) {
	t := s.t
	if t.roundDone == nil || !bytes.HasPrefix(data, t.token) {
		return
	}
	t.received++
	if t.received == len(t.conns) {
		t.roundDone.Resolve(time.Since(t.sentAt))
	}
}

func (t *tool) fanout() error {
	conns, err := t.connect(t.cfg.conns, subscriber{t})
	if err != nil {
		return err
	}
	sender, err := t.connect(1, ignorer{}) // its own copy is not counted
	if err != nil {
		return err
	}
	t.conns = conns
	// The server's work of accepting everyone (and collecting the
	// garbage of the handshakes) must not be billed to the deliveries.
	if err := waitQuiet(t.cfg.pid); err != nil {
		return err
	}
	before, err := readProc(t.cfg.pid)
	if err != nil {
		return err
	}
	var latencies []time.Duration
	for round := range t.cfg.rounds {
		d, err := ioloop.RunSync(t.loop, func() *concurrent.Future[time.Duration] {
			return t.startRound(sender[0], round)
		})
		if err != nil {
			return fmt.Errorf("round %d: %w", round, err)
		}
		latencies = append(latencies, d)
		time.Sleep(100 * time.Millisecond) // let the server settle between rounds
	}
	after, err := readProc(t.cfg.pid)
	if err != nil {
		return err
	}
	deliveries := float64(t.cfg.rounds * (len(conns) + 1))
	fmt.Printf("mode=fanout conns=%d rounds=%d p50_ms=%.1f p99_ms=%.1f user_us_per_delivery=%.2f sys_us_per_delivery=%.2f write_syscalls_per_delivery=%.3f\n",
		len(conns), t.cfg.rounds,
		ms(percentile(latencies, 50)), ms(percentile(latencies, 99)),
		float64(after.userMicros-before.userMicros)/deliveries,
		float64(after.sysMicros-before.sysMicros)/deliveries,
		float64(after.writeSyscalls-before.writeSyscalls)/deliveries)
	return nil
}

// startRound sends one token and returns a future resolved when every
// subscriber has it. Loop-only.
func (t *tool) startRound(sender *websocket.Conn, round int) *concurrent.Future[time.Duration] {
	t.token = fmt.Appendf(nil, "round-%d-%d:", round, time.Now().UnixNano())
	msg := append(t.token, bytes.Repeat([]byte("x"), max(0, t.cfg.payload-len(t.token)))...)
	t.received = 0
	t.roundDone = concurrent.New[time.Duration]()
	t.sentAt = time.Now()
	if err := sender.WriteMessage(websocket.OpText, msg); err != nil {
		t.roundDone.Fail(err)
	}
	return concurrent.WithTimeout(t.roundDone, t.loop, 60*time.Second)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func (t *tool) idle() error {
	heap0 := heapInUse(t.cfg.statsURL)
	before, err := readProc(t.cfg.pid)
	if err != nil {
		return err
	}
	conns, err := t.connect(t.cfg.conns, ignorer{})
	if err != nil {
		return err
	}
	time.Sleep(time.Second) // let the server's allocations settle
	after, err := readProc(t.cfg.pid)
	if err != nil {
		return err
	}
	heap1 := heapInUse(t.cfg.statsURL)
	n := float64(len(conns))
	fmt.Printf("mode=idle conns=%d rss_before=%d rss_after=%d rss_per_conn=%.0f heap_before=%d heap_after=%d heap_per_conn=%.0f\n",
		len(conns), before.rss, after.rss, float64(after.rss-before.rss)/n, heap0, heap1, float64(heap1-heap0)/n)
	time.Sleep(time.Duration(t.cfg.hold * float64(time.Second)))
	return nil
}

// echoer counts echoed messages and sends the next one.
type echoer struct {
	t     *tool
	msg   []byte
	count *int
	stop  *bool
}

func (e echoer) OnOpen(*websocket.Conn)               {}
func (e echoer) OnClose(*websocket.Conn, int, string) {}
func (e echoer) OnMessage(c *websocket.Conn, op websocket.Opcode, data []byte) {
	*e.count++
	if !*e.stop {
		c.WriteMessage(websocket.OpText, e.msg)
	}
}

func (t *tool) echo() error {
	count, stop := 0, false
	msg := bytes.Repeat([]byte("e"), t.cfg.payload)
	conns, err := t.connect(t.cfg.conns, echoer{t: t, msg: msg, count: &count, stop: &stop})
	if err != nil {
		return err
	}
	if err := waitQuiet(t.cfg.pid); err != nil {
		return err
	}
	d := time.Duration(t.cfg.duration * float64(time.Second))
	start := make(chan struct{})
	t.loop.AddCallback(func() {
		for _, c := range conns {
			c.WriteMessage(websocket.OpText, msg)
		}
		close(start)
	})
	<-start
	before, err := readProc(t.cfg.pid)
	if err != nil {
		return err
	}
	time.Sleep(d)
	done := make(chan int)
	t.loop.AddCallback(func() { stop = true; done <- count })
	total := <-done
	after, err := readProc(t.cfg.pid)
	if err != nil {
		return err
	}
	// The rate is bounded by whichever side saturates its core first (with
	// many connections, often this tool); the server's CPU per message
	// says what each message cost the server, whichever it was.
	fmt.Printf("mode=echo conns=%d msgs_per_sec=%.0f server_us_per_msg=%.2f\n", len(conns), float64(total)/d.Seconds(),
		float64(after.userMicros+after.sysMicros-before.userMicros-before.sysMicros)/float64(max(total, 1)))
	return nil
}
