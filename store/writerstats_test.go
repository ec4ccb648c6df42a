package store

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// The recent window's figures, from known commits.
func TestCommitWindowFigures(t *testing.T) {
	cases := []struct {
		name      string
		times     []time.Duration // in order of commit
		batches   []int
		wantLast  time.Duration
		wantBatch int
		wantMean  time.Duration
		wantP99   time.Duration
		wantBMean float64
	}{
		{"none", nil, nil, 0, 0, 0, 0, 0},
		{"one", []time.Duration{3 * time.Millisecond}, []int{5}, 3 * time.Millisecond, 5, 3 * time.Millisecond, 3 * time.Millisecond, 5},
		{"few: p99 is the maximum", []time.Duration{1, 9, 2}, []int{1, 2, 3}, 2, 3, 4, 9, 2},
	}
	for _, c := range cases {
		var cw commitWindow
		for i, d := range c.times {
			cw.record(d, c.batches[i])
		}
		var ws WriterStats
		cw.fill(&ws)
		if ws.LastCommit != c.wantLast || ws.LastBatch != c.wantBatch || ws.CommitMean != c.wantMean ||
			ws.CommitP99 != c.wantP99 || ws.BatchMean != c.wantBMean {
			t.Errorf("%s: last %v batch %d mean %v p99 %v batch mean %v; want %v %d %v %v %v", c.name,
				ws.LastCommit, ws.LastBatch, ws.CommitMean, ws.CommitP99, ws.BatchMean,
				c.wantLast, c.wantBatch, c.wantMean, c.wantP99, c.wantBMean)
		}
	}
}

// The window keeps the latest commitWindowSize commits only: old slow
// commits leave it.
func TestCommitWindowForgetsOldCommits(t *testing.T) {
	var cw commitWindow
	for range commitWindowSize {
		cw.record(time.Second, 100)
	}
	for i := range commitWindowSize {
		cw.record(time.Duration(i+1)*time.Millisecond, 2)
	}
	var ws WriterStats
	cw.fill(&ws)
	if ws.LastCommit != commitWindowSize*time.Millisecond || ws.LastBatch != 2 || ws.BatchMean != 2 {
		t.Errorf("last %v batch %d batch mean %v; want %v 2 2", ws.LastCommit, ws.LastBatch, ws.BatchMean, commitWindowSize*time.Millisecond)
	}
	// 1..256 ms: the mean is 128.5 ms; index 253 of the sorted times is 254 ms.
	if ws.CommitMean != 128500*time.Microsecond || ws.CommitP99 != 254*time.Millisecond {
		t.Errorf("mean %v p99 %v; want 128.5ms 254ms", ws.CommitMean, ws.CommitP99)
	}
}

// Real commits move the figures, and WriterStats may be read from other
// goroutines while the writer commits (the race detector watches).
func TestWriterStatsFromRealCommits(t *testing.T) {
	s := openTest(t, Config{})
	f := newFixture(t, s)
	if ws := s.WriterStats(); ws.LastCommit != 0 || ws.LastBatch != 0 {
		t.Fatalf("before any message: %+v", ws)
	}
	before := s.WriterStats().Commits

	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 4 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
					if ws := s.WriterStats(); ws.CommitP99 < 0 || ws.BatchMean < 0 {
						t.Errorf("negative figures: %+v", ws)
						return
					}
				}
			}
		}()
	}
	var writers sync.WaitGroup
	const n = 40
	for i := range n {
		writers.Add(1)
		go func() {
			defer writers.Done()
			mustAppend(t, s, NewMessage{RoomID: f.room.ID, AuthorID: f.user.ID, Body: fmt.Sprint("message ", i)})
		}()
	}
	writers.Wait()
	close(stop)
	readers.Wait()

	ws := s.WriterStats()
	if ws.Commits <= before || ws.Commits > before+n {
		t.Errorf("commits %d, before %d: want between 1 and %d more", ws.Commits, before, n)
	}
	if ws.LastCommit <= 0 || ws.CommitMean <= 0 || ws.CommitP99 <= 0 {
		t.Errorf("commit times: last %v mean %v p99 %v", ws.LastCommit, ws.CommitMean, ws.CommitP99)
	}
	if ws.LastBatch < 1 || ws.BatchMean < 1 {
		t.Errorf("batches: last %d mean %v; want at least 1", ws.LastBatch, ws.BatchMean)
	}
	if ws.CommitP99 < ws.CommitMean && ws.Commits <= 100 {
		t.Errorf("with at most 100 commits p99 is the maximum, yet %v < mean %v", ws.CommitP99, ws.CommitMean)
	}
}
