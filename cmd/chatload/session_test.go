package main

import (
	"slices"
	"testing"
)

func TestMissingFields(t *testing.T) {
	full := `{"loop":{"lag_p50_ms":0.1,"lag_p99_ms":2,"lag_max_ms":9,"busy":0.5},"store":{"commits":1,"writes":2,"queue":0},` +
		`"rooms":{"hubs":1,"members":2,"waiters":0,"streams":0},"heap_inuse":1,"rss":2,"goroutines":3}`
	cases := []struct {
		name string
		body string
		want []string
	}{
		{"everything", full, nil},
		{"extra fields are fine", `{"x":{"y":1},` + full[1:], nil},
		{"a missing leaf", `{"loop":{"lag_p50_ms":0.1,"lag_p99_ms":2,"lag_max_ms":9},"store":{"commits":1,"writes":2,"queue":0},` +
			`"rooms":{"hubs":1,"members":2,"waiters":0,"streams":0},"heap_inuse":1,"rss":2,"goroutines":3}`, []string{"loop.busy"}},
		{"a missing group", `{"loop":{"lag_p50_ms":0.1,"lag_p99_ms":2,"lag_max_ms":9,"busy":0.5},"store":{"commits":1,"writes":2,"queue":0},` +
			`"heap_inuse":1,"rss":2,"goroutines":3}`, []string{"rooms.hubs", "rooms.members", "rooms.waiters", "rooms.streams"}},
		{"a string is not a number", `{"heap_inuse":"1"}`, statsFields},
		{"not JSON", `nope`, statsFields},
	}
	for _, tc := range cases {
		if got := missingFields([]byte(tc.body)); !slices.Equal(got, tc.want) {
			t.Errorf("%s: missing %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestStatsURL(t *testing.T) {
	for in, want := range map[string]string{
		"":                         "",
		"http://127.0.0.1:9":       "http://127.0.0.1:9/stats",
		"http://127.0.0.1:9/":      "http://127.0.0.1:9/stats",
		"http://127.0.0.1:9/stats": "http://127.0.0.1:9/stats",
	} {
		if got := statsURL(in); got != want {
			t.Errorf("statsURL(%q) = %q, want %q", in, got, want)
		}
	}
}
