package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkAppend measures durable appends (synchronous=FULL) with 1, 10 and
// 100 concurrent writers, with group commit and with one transaction per
// message (MaxBatch 1). Each writer appends and waits for its commit, as a
// connection handler would.
func BenchmarkAppend(b *testing.B) {
	for _, mode := range []struct {
		name     string
		maxBatch int
	}{{"group", 0}, {"tx_per_msg", 1}} {
		for _, writers := range []int{1, 10, 100} {
			b.Run(fmt.Sprintf("%s/writers=%d", mode.name, writers), func(b *testing.B) {
				benchAppend(b, Config{Synchronous: SyncFull, MaxBatch: mode.maxBatch}, writers)
			})
		}
	}
}

func benchAppend(b *testing.B, cfg Config, writers int) {
	s := openTest(b, cfg)
	f := newFixture(b, s)
	ctx := context.Background()
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range writers {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				if _, err := s.AppendMessage(ctx, NewMessage{RoomID: f.room.ID, AuthorID: f.user.ID, Body: "hello, world"}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
	if st := s.WriterStats(); st.Commits > 0 {
		b.ReportMetric(float64(st.Writes)/float64(st.Commits), "writes/commit")
	}
}

// The read benchmarks share one 1,000,000-message database (10 rooms of
// 100,000), built once per run in a temporary directory that TestMain removes.
const (
	benchMessages = 1_000_000
	benchRooms    = 10
)

var benchFixture struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func benchDB(b *testing.B) string {
	benchFixture.once.Do(func() {
		benchFixture.dir, benchFixture.err = os.MkdirTemp("", "store-bench-")
		if benchFixture.err != nil {
			return
		}
		benchFixture.path = filepath.Join(benchFixture.dir, "million.db")
		benchFixture.err = buildBenchDB(benchFixture.path)
	})
	if benchFixture.err != nil {
		b.Fatal(benchFixture.err)
	}
	return benchFixture.path
}

func removeBenchFixture() {
	if benchFixture.dir != "" {
		os.RemoveAll(benchFixture.dir)
	}
}

// buildBenchDB fills a database in one statement; the write path is not
// what this fixture measures.
func buildBenchDB(path string) error {
	s, err := Open(context.Background(), Config{Path: path, Synchronous: SyncOff})
	if err != nil {
		return err
	}
	defer s.Close()
	u, err := s.CreateUser(context.Background(), "bench", []byte("h"), RoleUser)
	if err != nil {
		return err
	}
	for r := range benchRooms {
		if _, err := s.CreateRoom(context.Background(), NewRoom{Name: fmt.Sprintf("room%d", r), CreatorID: u.ID}); err != nil {
			return err
		}
	}
	_, err = s.writeDB.Exec(`
		WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ?)
		INSERT INTO messages (room_id, author_id, body, created_at)
		SELECT 1 + x % ?, ?, 'benchmark message number ' || x, x FROM n`,
		benchMessages, benchRooms, u.ID)
	if err != nil {
		return err
	}
	// One event per message, as the migration's backfill makes them.
	_, err = s.writeDB.Exec(`
		INSERT INTO events (room_id, kind, message_id, user_id, body, created_at)
		SELECT room_id, 'message', id, author_id, body, created_at FROM messages ORDER BY id`)
	return err
}

// BenchmarkRead measures one query per iteration on the million-message
// database: a room's latest 50, the 50 after a random id (resume), and the
// same two for events.
func BenchmarkRead(b *testing.B) {
	path := benchDB(b)
	s := openTest(b, Config{Path: path})
	ctx := context.Background()
	b.Run("latest50", func(b *testing.B) {
		for b.Loop() {
			msgs, err := s.LatestMessages(ctx, 1, 50, PublicView)
			if err != nil || len(msgs) != 50 {
				b.Fatalf("got %d messages, %v", len(msgs), err)
			}
		}
	})
	b.Run("resume_after_id", func(b *testing.B) {
		for b.Loop() {
			after := rand.Int64N(benchMessages - 1000)
			msgs, err := s.MessagesAfter(ctx, 1+after%benchRooms, after, 50, PublicView)
			if err != nil || len(msgs) != 50 {
				b.Fatalf("got %d messages, %v", len(msgs), err)
			}
		}
	})
	b.Run("events_latest50", func(b *testing.B) {
		for b.Loop() {
			evs, err := s.EventsBefore(ctx, 1, 0, 50, PublicView)
			if err != nil || len(evs) != 50 {
				b.Fatalf("got %d events, %v", len(evs), err)
			}
		}
	})
	b.Run("events_resume_after_id", func(b *testing.B) {
		for b.Loop() {
			after := rand.Int64N(benchMessages - 1000)
			evs, err := s.EventsAfter(ctx, 1+after%benchRooms, after, 50, PublicView)
			if err != nil || len(evs) != 50 {
				b.Fatalf("got %d events, %v", len(evs), err)
			}
		}
	})
}
