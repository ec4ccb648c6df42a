// Command webspider is Tornado's demos/webspider on the framework: it
// crawls every page beneath a base URL, a bounded number at a time, with
// the asynchronous HTTP client. As in Tornado's demo, a Queue holds the
// URLs still to fetch and the crawl ends when every URL put in it has
// been processed (Queue.Join); here a Semaphore bounds the fetches in
// flight, and the crawl is bounded in pages too, since everything on the
// loop is bounded. Links are found with a regular expression, good enough
// for a demo (Tornado's uses HTMLParser); fragments are dropped, and only
// links beneath the base URL (so on its host) are followed.
//
//	go run ./examples/webspider -url https://www.tornadoweb.org/en/stable/
package main

import (
	"flag"
	"fmt"
	"log"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"chat/framework/concurrent"
	"chat/framework/httpclient"
	"chat/framework/ioloop"
	"chat/framework/locks"
	"chat/framework/queues"
)

// crawl is the result of a crawl: pages fetched (200), dead links (an
// error or another status) and links not followed past the page bound.
type crawl struct {
	Fetched []string
	Dead    map[string]string // URL: why
	Skipped int
}

// spider crawls beneath base. Loop-owned; start it with run.
type spider struct {
	client   *httpclient.Client
	base     string
	maxPages int
	queue    *queues.Queue[string]
	fetching *locks.Semaphore
	seen     map[string]bool
	result   crawl
}

// newSpider prepares a crawl of base: at most concurrency fetches at a
// time and maxPages pages in all.
func newSpider(loop *ioloop.Loop, client *httpclient.Client, base string, concurrency, maxPages int) *spider {
	return &spider{
		client: client, base: base, maxPages: maxPages,
		// Each URL is put at most once and at most maxPages are, so a Put
		// never waits; one more place for the sentinel that stops the
		// dispatcher.
		queue:    queues.NewQueue[string](loop, maxPages+1),
		fetching: locks.NewSemaphore(loop, concurrency),
		seen:     map[string]bool{},
		result:   crawl{Dead: map[string]string{}},
	}
}

// run crawls and resolves with the result once the queue is done, or
// fails after timeout.
func (s *spider) run(loop *ioloop.Loop, timeout time.Duration) *concurrent.Future[crawl] {
	return ioloop.Go(loop, func(co *ioloop.Co) (crawl, error) {
		s.enqueue(s.base)
		dispatcher := ioloop.Go(loop, s.dispatch)
		if _, err := ioloop.Await(co, s.queue.Join(timeout)); err != nil {
			return s.result, fmt.Errorf("crawl %s: %w", s.base, err)
		}
		s.queue.PutNowait("") // the queue is drained: stop the dispatcher
		ioloop.Await(co, dispatcher)
		slices.Sort(s.result.Fetched)
		return s.result, nil
	})
}

// dispatch takes URLs from the queue and starts a fetch for each as soon
// as the semaphore lets it (Tornado's worker coroutines, as one loop).
func (s *spider) dispatch(co *ioloop.Co) (struct{}, error) {
	for {
		u, err := ioloop.Await(co, s.queue.Get(0))
		if err != nil || u == "" {
			return struct{}{}, err
		}
		if _, err := ioloop.Await(co, s.fetching.Acquire(0)); err != nil {
			return struct{}{}, err
		}
		s.client.Fetch(&httpclient.Request{URL: u}).OnResult(func(r *httpclient.Response, err error) {
			defer s.queue.TaskDone()
			defer s.fetching.Release()
			switch {
			case err != nil:
				s.result.Dead[u] = err.Error()
			case r.Code != 200:
				s.result.Dead[u] = fmt.Sprintf("status %d", r.Code)
			default:
				s.result.Fetched = append(s.result.Fetched, u)
				for _, link := range links(r.EffectiveURL, r.Body) {
					s.enqueue(link)
				}
			}
		})
	}
}

// enqueue puts a URL beneath the base that was not seen before.
func (s *spider) enqueue(u string) {
	if s.seen[u] || !strings.HasPrefix(u, s.base) {
		return
	}
	if len(s.seen) >= s.maxPages {
		s.result.Skipped++
		return
	}
	s.seen[u] = true
	s.queue.PutNowait(u)
}

var hrefPattern = regexp.MustCompile(`(?i)<a\s[^>]*?href\s*=\s*["']([^"']+)["']`)

// links returns the absolute http(s) URLs a page links to, fragments removed.
func links(pageURL string, body []byte) []string {
	page, err := url.Parse(pageURL)
	if err != nil {
		return nil
	}
	var out []string
	for _, m := range hrefPattern.FindAllSubmatch(body, -1) {
		u, err := page.Parse(string(m[1]))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			continue
		}
		u.Fragment, u.RawFragment = "", ""
		out = append(out, u.String())
	}
	return out
}

func main() {
	base := flag.String("url", "https://www.tornadoweb.org/en/stable/", "crawl the pages beneath this URL")
	concurrency := flag.Int("concurrency", 10, "fetches at a time")
	maxPages := flag.Int("max-pages", 500, "pages at most")
	flag.Parse()
	loop, err := ioloop.New(ioloop.Options{})
	if err != nil {
		log.Fatal(err)
	}
	start := time.Now()
	loop.AddCallback(func() {
		client := httpclient.NewClient(loop, httpclient.Options{MaxConnsPerHost: *concurrency})
		newSpider(loop, client, *base, *concurrency, *maxPages).run(loop, 5*time.Minute).OnResult(func(c crawl, err error) {
			for _, u := range c.Fetched {
				fmt.Println("fetched", u)
			}
			for u, why := range c.Dead {
				fmt.Println("dead", u, why)
			}
			fmt.Printf("done in %.1f s: %d fetched, %d dead, %d not followed (-max-pages)\n",
				time.Since(start).Seconds(), len(c.Fetched), len(c.Dead), c.Skipped)
			if err != nil {
				log.Print(err)
			}
			client.Close()
			loop.Stop()
		})
	})
	if err := loop.Run(); err != nil {
		log.Fatal(err)
	}
	loop.Close()
}
