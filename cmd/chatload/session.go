package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// The chat modes' setup runs on plain net/http, off the loop, in the
// tool's own goroutine: signing in ten thousand guests and creating rooms
// is not measured, only made fast enough (signInParallel requests in
// flight on kept-alive connections).

// guest is a signed-in guest: its nickname and the Cookie header that
// carries its session and XSRF cookies.
type guest struct {
	name, xsrf, cookie string
}

// header is the handshake header of the guest's WebSocket.
func (g guest) header() http.Header { return http.Header{"Cookie": {g.cookie}} }

const signInParallel = 64

// setupClient makes the setup's HTTP client: redirects are answers, not
// followed; every request is bounded.
func setupClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: signInParallel, MaxConnsPerHost: signInParallel},
		Timeout:   30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// signIn signs in one guest per name, signInParallel at a time, and
// returns them in the order of names.
func signIn(client *http.Client, base string, names []string) ([]guest, error) {
	guests := make([]guest, len(names))
	next := make(chan int)
	errs := make(chan error, signInParallel)
	var wg sync.WaitGroup
	for range signInParallel {
		wg.Go(func() {
			for i := range next {
				g, err := signInGuest(client, base, names[i])
				if err != nil {
					errs <- err
					return
				}
				guests[i] = g
			}
		})
	}
	var err error
feed:
	for i := range names {
		select {
		case next <- i:
		case err = <-errs:
			break feed
		}
	}
	close(next)
	wg.Wait()
	close(errs)
	if err == nil {
		err = <-errs
	}
	if err != nil {
		return nil, fmt.Errorf("sign in: %w", err)
	}
	return guests, nil
}

// signInGuest fetches the guest form (for the _xsrf cookie) and posts
// the nickname asking for JSON: 201 and a session cookie.
func signInGuest(client *http.Client, base, name string) (guest, error) {
	g := guest{name: name}
	resp, err := client.Get(base + "/guest")
	if err != nil {
		return g, fmt.Errorf("GET /guest: %w", err)
	}
	drain(resp)
	for _, c := range resp.Cookies() {
		if c.Name == "_xsrf" {
			g.xsrf = c.Value
		}
	}
	if g.xsrf == "" {
		return g, fmt.Errorf("GET /guest: %s and no _xsrf cookie", resp.Status)
	}
	form := url.Values{"name": {name}, "_xsrf": {g.xsrf}}
	req, _ := http.NewRequest("POST", base+"/guest", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Cookie", "_xsrf="+g.xsrf)
	resp, err = client.Do(req)
	if err != nil {
		return g, fmt.Errorf("POST /guest %s: %w", name, err)
	}
	body := drain(resp)
	if resp.StatusCode != http.StatusCreated {
		return g, fmt.Errorf("POST /guest %s: %s %s", name, resp.Status, body)
	}
	session := ""
	for _, c := range resp.Cookies() {
		switch c.Name {
		case "session":
			session = c.Value
		case "_xsrf":
			g.xsrf = c.Value
		}
	}
	if session == "" {
		return g, fmt.Errorf("POST /guest %s: 201 without a session cookie", name)
	}
	g.cookie = "_xsrf=" + g.xsrf + "; session=" + session
	return g, nil
}

// drain reads (up to 64 KiB of) a body and closes it, so the connection
// is kept alive; it returns what it read, for error messages.
func drain(resp *http.Response) []byte {
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	io.Copy(io.Discard, resp.Body)
	return bytes.TrimSpace(b)
}

// createRoom creates room name as g; a room that exists already (409) is
// fine, so a rerun against the same server reuses its rooms.
func createRoom(client *http.Client, base string, g guest, name string) error {
	body, _ := json.Marshal(map[string]string{"name": name, "title": "Load " + name, "topic": "cmd/chatload"})
	req, _ := http.NewRequest("POST", base+"/api/rooms", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-XSRFToken", g.xsrf)
	req.Header.Set("Cookie", g.cookie)
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("create room %s: %w", name, err)
	}
	answer := drain(resp)
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusConflict {
		return fmt.Errorf("create room %s: %s %s", name, resp.Status, answer)
	}
	return nil
}

// serverStats is the part of the server's debug /stats the tool reports.
type serverStats struct {
	Loop struct {
		LagP50 float64 `json:"lag_p50_ms"`
		LagP99 float64 `json:"lag_p99_ms"`
		LagMax float64 `json:"lag_max_ms"`
		Busy   float64 `json:"busy"`
	} `json:"loop"`
	Store struct {
		Commits int64 `json:"commits"`
		Writes  int64 `json:"writes"`
		Queue   int64 `json:"queue"`
	} `json:"store"`
	Rooms struct {
		Hubs    int64 `json:"hubs"`
		Members int64 `json:"members"`
		Waiters int64 `json:"waiters"`
		Streams int64 `json:"streams"`
	} `json:"rooms"`
	HeapInuse  int64 `json:"heap_inuse"`
	RSS        int64 `json:"rss"`
	Goroutines int64 `json:"goroutines"`
}

// statsFields are the fields of serverStats, as paths into the JSON.
var statsFields = []string{
	"loop.lag_p50_ms", "loop.lag_p99_ms", "loop.lag_max_ms", "loop.busy",
	"store.commits", "store.writes", "store.queue",
	"rooms.hubs", "rooms.members", "rooms.waiters", "rooms.streams",
	"heap_inuse", "rss", "goroutines",
}

// statsURL is the /stats URL of a -debug address (a base URL or the
// endpoint itself); "" stays "".
func statsURL(debug string) string {
	if debug == "" || strings.HasSuffix(debug, "/stats") {
		return debug
	}
	return strings.TrimSuffix(debug, "/") + "/stats"
}

// fetchStats reads /stats; missing lists the fields of statsFields the
// answer lacks (or holds as something other than a number).
func fetchStats(client *http.Client, url string) (s serverStats, missing []string, err error) {
	resp, err := client.Get(url)
	if err != nil {
		return s, nil, fmt.Errorf("stats: %w", err)
	}
	body := drain(resp)
	if resp.StatusCode != http.StatusOK {
		return s, nil, fmt.Errorf("stats: %s %s", resp.Status, body)
	}
	if err := json.Unmarshal(body, &s); err != nil {
		return s, nil, fmt.Errorf("stats: %w", err)
	}
	return s, missingFields(body), nil
}

// missingFields lists the paths of statsFields that body does not hold
// as numbers.
func missingFields(body []byte) []string {
	var tree map[string]any
	json.Unmarshal(body, &tree)
	var missing []string
	for _, path := range statsFields {
		var node any = tree
		for _, part := range strings.Split(path, ".") {
			m, _ := node.(map[string]any)
			node = m[part]
		}
		if _, ok := node.(float64); !ok {
			missing = append(missing, path)
		}
	}
	return missing
}
