package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"chat/framework/asynctest"
	"chat/framework/concurrent"
	"chat/framework/httpclient"
)

// site is a small local web site: / links to twenty pages (and to itself,
// with a fragment, outside the base, to another host, to a missing page);
// each page links back and to the next. Pages hold their answer until
// concurrency of them are in flight at once, so the test sees the crawl
// reach its bound, and records the most in flight, to see it never passes it.
type site struct {
	*httptest.Server
	concurrency int

	mu          sync.Mutex
	inFlight    int
	maxInFlight int
	gate        chan struct{} // closed once concurrency pages are in flight
}

func newSite(t *testing.T, concurrency int) *site {
	s := &site{concurrency: concurrency, gate: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("/docs/", func(w http.ResponseWriter, r *http.Request) {
		var n int
		switch _, err := fmt.Sscanf(r.URL.Path, "/docs/p%d", &n); {
		case r.URL.Path == "/docs/":
			var b strings.Builder
			for i := range 20 {
				fmt.Fprintf(&b, `<a href="/docs/p%d">page %d</a> `, i, i)
			}
			b.WriteString(`<a href="/docs/#top">top</a> <a href="/elsewhere">out</a> <a href="http://other.invalid/docs/">other</a> <A HREF='missing'>missing</A>`)
			w.Write([]byte(b.String()))
		case err == nil:
			s.page(w, n)
		default:
			http.NotFound(w, r)
		}
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// page n waits at the gate, then links back and to the next page.
func (s *site) page(w http.ResponseWriter, n int) {
	s.mu.Lock()
	s.inFlight++
	s.maxInFlight = max(s.maxInFlight, s.inFlight)
	if s.inFlight == s.concurrency {
		select {
		case <-s.gate:
		default:
			close(s.gate)
		}
	}
	s.mu.Unlock()
	<-s.gate
	fmt.Fprintf(w, `<a href="./">back</a> <a href="p%d#x">next</a>`, (n+1)%20)
	s.mu.Lock()
	s.inFlight--
	s.mu.Unlock()
}

func TestCrawlFollowsLinksBeneathTheBase(t *testing.T) {
	const concurrency = 3
	site := newSite(t, concurrency)
	loop := asynctest.Start(t)
	var client *httpclient.Client
	asynctest.Do(t, loop, func() { client = httpclient.NewClient(loop, httpclient.Options{MaxConnsPerHost: concurrency}) })
	t.Cleanup(func() { asynctest.Do(t, loop, client.Close) })

	base := site.URL + "/docs/"
	c, err := asynctest.Await(t, loop, func() *concurrent.Future[crawl] {
		return newSpider(loop, client, base, concurrency, 100).run(loop, 10*time.Second)
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{base}
	for i := range 20 {
		want = append(want, fmt.Sprintf("%sp%d", base, i))
	}
	slices.Sort(want)
	if !slices.Equal(c.Fetched, want) {
		t.Errorf("fetched %q\nwant %q", c.Fetched, want)
	}
	if len(c.Dead) != 1 || c.Dead[base+"missing"] != "status 404" {
		t.Errorf("dead %v, want the missing page only", c.Dead)
	}
	site.mu.Lock()
	defer site.mu.Unlock()
	if site.maxInFlight != concurrency {
		t.Errorf("at most %d fetches in flight, want %d", site.maxInFlight, concurrency)
	}
}

func TestCrawlStopsAtMaxPages(t *testing.T) {
	site := newSite(t, 1)
	loop := asynctest.Start(t)
	var client *httpclient.Client
	asynctest.Do(t, loop, func() { client = httpclient.NewClient(loop, httpclient.Options{}) })
	t.Cleanup(func() { asynctest.Do(t, loop, client.Close) })
	c, err := asynctest.Await(t, loop, func() *concurrent.Future[crawl] {
		return newSpider(loop, client, site.URL+"/docs/", 1, 5).run(loop, 10*time.Second)
	})
	if err != nil || len(c.Fetched)+len(c.Dead) != 5 || c.Skipped == 0 {
		t.Fatalf("%d fetched, %d dead, %d skipped, %v; want 5 pages in all", len(c.Fetched), len(c.Dead), c.Skipped, err)
	}
}

func TestLinks(t *testing.T) {
	got := links("http://h/a/b", []byte(`<a href="c">x</a><a class=x href='/d#f'>y</a><a href="mailto:x@y">m</a><link href="/style.css">`))
	if want := []string{"http://h/a/c", "http://h/d"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
