// Command chatload is the WebSocket load tool. It runs on the framework's
// own client and event loop, so one core drives tens of thousands of
// connections, and it measures a server in another process:
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
// Source addresses are spread over 127.0.0.2-127.0.0.9 when more
// connections are asked for than one address has ports (or with -spread).
//
//	chatload -url ws://127.0.0.1:8000/ws -pid 1234 -mode fanout -conns 10000
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
}

func main() {
	var cfg config
	flag.StringVar(&cfg.url, "url", "", "WebSocket URL (ws://host:port/path)")
	flag.StringVar(&cfg.statsURL, "stats", "", "server's /stats URL (heap in use), optional")
	flag.StringVar(&cfg.mode, "mode", "fanout", "idle, fanout or echo")
	flag.IntVar(&cfg.pid, "pid", 0, "server PID, for RSS and CPU from /proc")
	flag.IntVar(&cfg.conns, "conns", 1000, "connections")
	flag.IntVar(&cfg.rounds, "rounds", 20, "fan-out rounds")
	flag.IntVar(&cfg.payload, "payload", 64, "message size in bytes")
	flag.Float64Var(&cfg.duration, "duration", 5, "echo mode: seconds to run")
	flag.Float64Var(&cfg.hold, "hold", 0, "idle mode: seconds to keep the connections open after measuring")
	flag.BoolVar(&cfg.spread, "spread", false, "spread source addresses over 127.0.0.2-9 even below the automatic threshold")
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
	}
	return fmt.Errorf("unknown -mode %q", t.cfg.mode)
}
