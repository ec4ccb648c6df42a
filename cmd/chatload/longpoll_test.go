package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"chat/framework/ioloop"
)

// TestPollerFollowsTheCursor runs one raw poller against a real net/http
// server that answers each cursor in another way: a Content-Length body,
// a chunked one, one with Connection: close (the poller must reconnect),
// a reset, a 429 (the poller waits a second and asks again), and then
// parks.
func TestPollerFollowsTheCursor(t *testing.T) {
	type seen struct {
		after  string
		cookie string
	}
	requests := make(chan seen, 16)
	release := make(chan struct{})
	var refused atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		after := r.URL.Query().Get("after")
		requests <- seen{after, r.Header.Get("Cookie")}
		if r.URL.Path != "/api/rooms/lobby/events" {
			http.NotFound(w, r)
			return
		}
		switch after {
		case "3":
			body := `{"type":"events","events":[{"type":"message","id":5,"body":"a"}],"last_id":5,"more":false}`
			w.Header().Set("Content-Length", fmt.Sprint(len(body)))
			fmt.Fprint(w, body)
		case "5":
			fmt.Fprint(w, `{"type":"events","events":[{"type":"message","id":9,`)
			w.(http.Flusher).Flush() // no length: chunked
			fmt.Fprint(w, `"body":"tok"}],"last_id":9,"more":false}`)
		case "9":
			w.Header().Set("Connection", "close")
			fmt.Fprint(w, `{"type":"events","events":[],"last_id":12,"more":false}`)
		case "12":
			fmt.Fprint(w, `{"type":"reset","last_id":20}`)
		case "20":
			if refused.Swap(true) {
				<-release // the second time: parked until the test ends
				return
			}
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprint(w, `{"error":"slow down"}`)
			requests <- seen{"refused", ""}
		default:
			<-release // parked until the test ends
		}
	}))
	defer srv.Close()
	defer close(release)
	u, _ := url.Parse(srv.URL)

	loop, err := ioloop.New(ioloop.Options{SlowCallback: -1})
	if err != nil {
		t.Fatal(err)
	}
	go loop.Run()
	defer loop.Stop()
	tl := &tool{loop: loop}
	lp := &pollRun{run: &chatRun{t: tl, host: u.Host}, path: "/api/rooms/lobby/events", statuses: map[int]int{}}
	bodies := make(chan string, 16)
	lp.onAnswer = func(p *poller, body []byte, now time.Time) { bodies <- string(body) }
	p := &poller{run: lp, cookie: "session=s1", after: 3}
	if err := lp.connect([]*poller{p}); err != nil {
		t.Fatal(err)
	}
	// The body check must see the chunked answer whole.
	var answers []string
	for range 4 {
		select {
		case b := <-bodies:
			answers = append(answers, b)
		case <-time.After(10 * time.Second):
			t.Fatalf("only %d answers: %q", len(answers), answers)
		}
	}
	if want := `{"type":"events","events":[{"type":"message","id":9,"body":"tok"}],"last_id":9,"more":false}`; answers[1] != want {
		t.Errorf("chunked answer read as %q, want %q", answers[1], want)
	}
	want := []string{"3", "5", "9", "12", "20", "refused", "20"}
	var afters []string
	for len(afters) < len(want) {
		select {
		case got := <-requests:
			if got.cookie != "session=s1" && got.after != "refused" {
				t.Errorf("poll after=%s sent Cookie %q", got.after, got.cookie)
			}
			afters = append(afters, got.after)
		case <-time.After(10 * time.Second):
			t.Fatalf("polls went after %v, want %v", afters, want)
		}
	}
	if fmt.Sprint(afters) != fmt.Sprint(want) {
		t.Fatalf("polls went after %v, want %v", afters, want)
	}
	type tally struct{ polls, reconnects, resets, failures, ok, refused int }
	got := onLoop(tl, func() tally {
		return tally{lp.polls, lp.reconnects, lp.resets, lp.failures, lp.statuses[200], lp.statuses[429]}
	})
	if got.reconnects != 1 || got.resets != 1 || got.failures != 0 || got.ok != 4 || got.refused != 1 || got.polls != 6 {
		t.Errorf("tally %+v: want 6 polls, 1 reconnect (Connection: close), 1 reset, no failures, 4 answers of 200, one 429", got)
	}
}
