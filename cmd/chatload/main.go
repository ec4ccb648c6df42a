// Command chatload is the WebSocket load tool. It runs on the framework's
// own client and event loop, so one core drives tens of thousands of
// connections, and it measures a server in another process.
//
// On a bare broadcast hub (examples/hub, -url ws://host:port/ws):
//
//	-mode idle    open -conns connections and hold them; report the
//	              server's RSS (and heap, from -stats) per connection
//	-mode fanout  -conns subscribers and one sender on a broadcast hub:
//	              each of -rounds rounds sends a message with a unique
//	              token and times when the last subscriber has it; reports
//	              p50/p99 of that and the server's user and system CPU
//	              time and write system calls per delivered message, read
//	              from /proc/PID/stat and /proc/PID/io
//	-mode echo    -conns connections each send a message and wait for its
//	              echo, again and again, for -duration; reports messages/s
//
// On the chat (cmd/chat, -url http://host:port, -debug its debug address
// for /stats), speaking docs/protocol.md as signed-in guests (set up over
// net/http, not measured):
//
//	-mode roomfanout  fanout's rounds in room -room: -conns members on
//	                  WebSockets, the sends durable (committed, acked)
//	-mode rooms       -rooms rooms of -members members each posting once
//	                  a second for -duration; checks exactly-once delivery
//	                  and reports latency, errors, commits and loop lag
//	-mode members     -conns idle members in -room; RSS and heap per member
//	-mode longpoll    fanout's rounds to -conns parked long polls
//
// Each mode prints one line of key=value. Source addresses are spread
// over 127.0.0.2-127.0.0.9 when more connections are asked for than one
// address has ports (or with -spread), and always in the chat modes.
//
//	chatload -url ws://127.0.0.1:8000/ws -pid 1234 -mode fanout -conns 10000
//	chatload -url http://127.0.0.1:8080 -debug http://127.0.0.1:8081 -pid 1234 -mode rooms -rooms 100 -members 100 -duration 60
package main

import (
	"flag"
	"fmt"
	"log"
	"os"

	"chat/framework/ioloop"
)

type config struct {
	url, statsURL, mode string
	pid, conns, rounds  int
	payload             int
	duration            float64
	hold                float64
	spread              bool

	// The chat modes.
	debug, room, runID string
	rooms, members     int
	drain              float64
}

func main() {
	var cfg config
	flag.StringVar(&cfg.url, "url", "", "WebSocket URL (ws://host:port/path); the chat modes: the chat's http://host:port")
	flag.StringVar(&cfg.statsURL, "stats", "", "server's /stats URL (heap in use), optional")
	flag.StringVar(&cfg.mode, "mode", "fanout", "idle, fanout or echo; on the chat roomfanout, rooms, members or longpoll")
	flag.IntVar(&cfg.pid, "pid", 0, "server PID, for RSS and CPU from /proc")
	flag.IntVar(&cfg.conns, "conns", 1000, "connections")
	flag.IntVar(&cfg.rounds, "rounds", 20, "fan-out rounds")
	flag.IntVar(&cfg.payload, "payload", 64, "message size in bytes")
	flag.Float64Var(&cfg.duration, "duration", 5, "echo and rooms modes: seconds to run")
	flag.Float64Var(&cfg.hold, "hold", 0, "idle and members modes: seconds to keep the connections open after measuring")
	flag.BoolVar(&cfg.spread, "spread", false, "spread source addresses over 127.0.0.2-9 even below the automatic threshold")
	flag.StringVar(&cfg.debug, "debug", "", "chat modes: the server's debug address (http://host:port), for /stats")
	flag.StringVar(&cfg.room, "room", "bench", "roomfanout, members and longpoll modes: the room (created if missing)")
	flag.StringVar(&cfg.runID, "runid", "", "chat modes: names this run's guests (l<runid>-<n>), rooms and keys; default from the clock")
	flag.IntVar(&cfg.rooms, "rooms", 100, "rooms mode: rooms")
	flag.IntVar(&cfg.members, "members", 100, "rooms mode: members per room")
	flag.Float64Var(&cfg.drain, "drain", 10, "rooms mode: at most this many seconds for the last deliveries and acks after the sending")
	flag.Parse()
	if cfg.url == "" {
		log.Fatal("chatload: -url is required")
	}
	loop, err := ioloop.New(ioloop.Options{SlowCallback: -1})
	if err != nil {
		log.Fatal(err)
	}
	t := &tool{cfg: cfg, loop: loop}
	go func() {
		if err := t.run(); err != nil {
			fmt.Fprintln(os.Stderr, "chatload:", err)
			os.Exit(1)
		}
		loop.Stop()
	}()
	if err := loop.Run(); err != nil {
		log.Fatal(err)
	}
}

func (t *tool) run() error {
	switch t.cfg.mode {
	case "idle":
		return t.idle()
	case "fanout":
		return t.fanout()
	case "echo":
		return t.echo()
	case "roomfanout":
		return t.roomFanout()
	case "rooms":
		return t.rooms()
	case "members":
		return t.members()
	case "longpoll":
		return t.longPoll()
	}
	return fmt.Errorf("unknown -mode %q", t.cfg.mode)
}
