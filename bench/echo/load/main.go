// Command load drives the echo benchmark's servers from its own process
// (so the server's open files and memory are its own):
//
//	-mode rtt   N connections each send a line and wait for its echo, again
//	            and again, for -duration; reports round trips per second.
//	-mode idle  opens N connections, holds them idle and reports the
//	            server's heap and RSS before and after, per connection.
//
// It runs on the framework's own event loop, so one client core can keep
// a thousand connections busy.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
	"chat/framework/iostream"
	"chat/framework/tcpserver"
)

func main() {
	mode := flag.String("mode", "rtt", "rtt or idle")
	addr := flag.String("addr", "", "server address")
	pid := flag.Int("pid", 0, "server pid (idle mode reads its RSS)")
	conns := flag.Int("conns", 1, "connections")
	duration := flag.Duration("duration", 5*time.Second, "how long rtt mode runs")
	flag.Parse()
	l, err := ioloop.New(ioloop.Options{})
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		var err error
		switch *mode {
		case "rtt":
			err = roundTrips(l, *addr, *conns, *duration)
		case "idle":
			err = idle(l, *addr, *pid, *conns)
		default:
			err = fmt.Errorf("unknown -mode %q", *mode)
		}
		if err != nil {
			log.Fatal(err)
		}
		l.Stop()
	}()
	if err := l.Run(); err != nil {
		log.Fatal(err)
	}
}

func connect(l *ioloop.Loop, addr string, n int) ([]*iostream.Stream, error) {
	var streams []*iostream.Stream
	for len(streams) < n {
		batch := min(500, n-len(streams))
		got, err := ioloop.RunSync(l, func() *concurrent.Future[[]*iostream.Stream] {
			fs := make([]*concurrent.Future[*iostream.Stream], batch)
			for i := range fs {
				fs[i] = tcpserver.Connect(l, addr, tcpserver.ConnectOptions{})
			}
			return concurrent.All(fs...)
		})
		if err != nil {
			return nil, fmt.Errorf("after %d connections: %w", len(streams), err)
		}
		streams = append(streams, got...)
	}
	return streams, nil
}

func roundTrips(l *ioloop.Loop, addr string, n int, d time.Duration) error {
	streams, err := connect(l, addr, n)
	if err != nil {
		return err
	}
	ping := []byte("ping 0123456789abcdef0123456789abcdef\n")
	total, err := ioloop.RunSync(l, func() *concurrent.Future[int] {
		done := concurrent.New[int]()
		count, running := 0, len(streams)
		deadline := time.Now().Add(d)
		for _, s := range streams {
			var next iostream.ReadCallback
			next = func(_ []byte, err error) {
				if err != nil {
					done.Fail(err)
					return
				}
				count++
				if count%256 == 0 && time.Now().After(deadline) || done.Done() {
					if running--; running == 0 {
						done.Resolve(count)
					}
					return
				}
				s.QueueWrite(ping)
				s.ReadUntil([]byte("\n"), 0, next)
			}
			s.QueueWrite(ping)
			s.ReadUntil([]byte("\n"), 0, next)
		}
		return done
	})
	if err != nil {
		return err
	}
	fmt.Printf("round_trips_per_sec=%.0f conns=%d\n", float64(total)/d.Seconds(), n)
	return nil
}

// serverStats asks the server for its heap and reads its RSS.
func serverStats(addr string, pid int) (heap, rss int64, err error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, 0, err
	}
	defer c.Close()
	fmt.Fprint(c, "STATS\n")
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return 0, 0, err
	}
	for _, f := range strings.Fields(line) {
		if v, ok := strings.CutPrefix(f, "heap="); ok {
			heap, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, l := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			rss = kb * 1024
		}
	}
	return heap, rss, nil
}

func idle(l *ioloop.Loop, addr string, pid, n int) error {
	heap0, rss0, err := serverStats(addr, pid)
	if err != nil {
		return err
	}
	streams, err := connect(l, addr, n)
	if err != nil {
		return err
	}
	// One echo per connection proves each is established and served.
	if _, err := ioloop.RunSync(l, func() *concurrent.Future[[]struct{}] {
		fs := make([]*concurrent.Future[struct{}], len(streams))
		for i, s := range streams {
			f := concurrent.New[struct{}]()
			fs[i] = f
			s.QueueWrite([]byte("hi\n"))
			s.ReadUntil([]byte("\n"), 0, func(_ []byte, err error) { f.Set(struct{}{}, err) })
		}
		return concurrent.All(fs...)
	}); err != nil {
		return err
	}
	heap1, rss1, err := serverStats(addr, pid)
	if err != nil {
		return err
	}
	fmt.Printf("conns=%d heap_before=%d heap_after=%d rss_before=%d rss_after=%d heap_per_conn=%.0f rss_per_conn=%.0f\n",
		n, heap0, heap1, rss0, rss1, float64(heap1-heap0)/float64(n), float64(rss1-rss0)/float64(n))
	return nil
}
