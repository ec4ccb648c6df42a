package main

import (
	"fmt"
	"strings"
	"time"
)

// members is -mode members: -conns guests, each with one WebSocket in
// room -room (presence on: each is in the online list), idle. Reports the
// server's RSS per member (VmRSS after the connections minus before,
// both read once the server is quiet, over -conns; -pid) and heap per
// member (heap_inuse from -debug's /stats, the same way), and what
// /stats counts.
func (t *tool) members() error {
	r, err := newChatRun(t)
	if err != nil {
		return err
	}
	gs, err := r.guests(0, t.cfg.conns)
	if err != nil {
		return err
	}
	if err := createRoom(r.client, r.base, gs[0], t.cfg.room); err != nil {
		return err
	}
	ms := make([]*member, len(gs))
	for i, g := range gs {
		ms[i] = &member{run: r, index: i, room: t.cfg.room, g: g}
	}
	url := statsURL(t.cfg.debug)
	if url != "" {
		// Collect the garbage and return free memory to the system before
		// each reading, so the figures are what the members hold, not
		// what the last sign-ins left for the collector.
		url += "?gc=1"
	}
	// Signing in is done; what follows is the cost of being a member.
	if err := waitQuiet(t.cfg.pid); err != nil {
		return err
	}
	before, err := readProc(t.cfg.pid)
	if err != nil {
		return err
	}
	stats0, missing, err := r.stats(url)
	if err != nil {
		return err
	}
	if err := r.connect(ms); err != nil {
		return err
	}
	time.Sleep(time.Second) // presence is sent at most once a second: let the last snapshot go out
	if err := waitQuiet(t.cfg.pid); err != nil {
		return err
	}
	after, err := readProc(t.cfg.pid)
	if err != nil {
		return err
	}
	stats1, _, err := r.stats(url)
	if err != nil {
		return err
	}
	n := float64(len(ms))
	closes := onLoop(t, func() string { return counts(r.closes) })
	fmt.Printf("mode=members conns=%d rss_before=%d rss_after=%d rss_per_member=%.0f heap_before=%d heap_after=%d heap_per_member=%.0f server_members=%d server_hubs=%d goroutines=%d closes=%s stats_missing=%s\n",
		len(ms), before.rss, after.rss, float64(after.rss-before.rss)/n,
		stats0.HeapInuse, stats1.HeapInuse, float64(stats1.HeapInuse-stats0.HeapInuse)/n,
		stats1.Rooms.Members, stats1.Rooms.Hubs, stats1.Goroutines, closes, list(missing))
	time.Sleep(time.Duration(t.cfg.hold * float64(time.Second)))
	return nil
}

// stats reads /stats when the run has a debug URL; without one it
// returns zeros and no error.
func (r *chatRun) stats(url string) (serverStats, []string, error) {
	if url == "" {
		return serverStats{}, nil, nil
	}
	return fetchStats(r.client, url)
}

// list joins names with commas, "none" when empty.
func list(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ",")
}
