package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"chat/framework/asynctest"
	"chat/framework/ioloop"
	"chat/framework/locks"
	"chat/framework/web"
)

type demo struct {
	t      *testing.T
	s      *asynctest.Server
	buf    *messageBuffer
	client *http.Client
	xsrf   string
}

// start serves the demo and loads its page, as a browser would: the
// cookie jar keeps the _xsrf cookie, the form gives the token.
func start(t *testing.T) *demo {
	d := &demo{t: t}
	d.s = asynctest.StartAppFunc(t, nil, func(l *ioloop.Loop) (*web.Application, error) {
		app, buf, err := newApp(l)
		d.buf = buf
		return app, err
	})
	jar, _ := cookiejar.New(nil)
	d.client = &http.Client{Jar: jar, Timeout: asynctest.Watchdog}
	page := d.get("/")
	m := regexp.MustCompile(`name="_xsrf" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no XSRF token in the page:\n%s", page)
	}
	d.xsrf = m[1]
	return d
}

func (d *demo) get(path string) string {
	resp, err := d.client.Get("http://" + d.s.Addr + path)
	if err != nil {
		d.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

func (d *demo) post(ctx context.Context, path string, form url.Values) (int, string, error) {
	req, _ := http.NewRequestWithContext(ctx, "POST", "http://"+d.s.Addr+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), nil
}

func (d *demo) waiters() (n int) {
	d.s.Do(func() { n = d.buf.cond.Waiting() })
	return n
}

func TestLongPollDeliversNewMessages(t *testing.T) {
	d := start(t)
	type result struct {
		code int
		body string
		err  error
	}
	polled := make(chan result, 1)
	go func() {
		code, body, err := d.post(context.Background(), "/a/message/updates", url.Values{"_xsrf": {d.xsrf}})
		polled <- result{code, body, err}
	}()
	d.s.WaitFor(func() bool { return d.buf.cond.Waiting() == 1 }, "the poll is parked")

	code, body, err := d.post(context.Background(), "/a/message/new", url.Values{"_xsrf": {d.xsrf}, "body": {"hello <b>all</b>"}})
	if err != nil || code != 200 || !strings.Contains(body, `"id":"1"`) {
		t.Fatalf("new message: %d %s %v", code, body, err)
	}
	r := asynctest.Wait(t, polled, "the poll's answer")
	var got struct{ Messages []message }
	if r.err != nil || json.Unmarshal([]byte(r.body), &got) != nil || len(got.Messages) != 1 || got.Messages[0].Body != "hello <b>all</b>" {
		t.Fatalf("poll: %d %q %v", r.code, r.body, r.err)
	}

	// A poll behind the cursor is answered at once from the cache; the
	// page shows the message, escaped.
	if code, body, _ := d.post(context.Background(), "/a/message/updates", url.Values{"_xsrf": {d.xsrf}, "cursor": {"0"}}); code != 200 || !strings.Contains(body, "hello") {
		t.Errorf("poll from an old cursor: %d %s", code, body)
	}
	if page := d.get("/"); !strings.Contains(page, `<div id="m1">hello &lt;b&gt;all&lt;/b&gt;</div>`) {
		t.Errorf("page does not show the message escaped:\n%s", page)
	}
}

func TestLeavingPollStopsWaiting(t *testing.T) {
	d := start(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, _, err := d.post(ctx, "/a/message/updates", url.Values{"_xsrf": {d.xsrf}, "cursor": {""}})
		done <- err
	}()
	d.s.WaitFor(func() bool { return d.buf.cond.Waiting() == 1 }, "the poll is parked")
	cancel()
	asynctest.Wait(t, done, "the cancelled poll")
	d.s.WaitFor(func() bool { return d.buf.cond.Waiting() == 0 }, "the departed poll's wait is cancelled")
}

func TestPostsNeedTheXSRFToken(t *testing.T) {
	d := start(t)
	if code, _, _ := d.post(context.Background(), "/a/message/new", url.Values{"body": {"forged"}}); code != 403 {
		t.Errorf("a post without the token: %d, want 403", code)
	}
	if n := d.waiters(); n != 0 {
		t.Errorf("%d waiters", n)
	}
}

func TestMessageBufferKeepsTheLatest(t *testing.T) {
	loop := asynctest.Start(t)
	asynctest.Do(t, loop, func() {
		b := &messageBuffer{cond: locks.NewCondition(loop)}
		for range cacheSize + 5 {
			b.add("x")
		}
		if len(b.cache) != cacheSize || b.cache[0].ID != "6" {
			t.Errorf("cache holds %d from id %s", len(b.cache), b.cache[0].ID)
		}
		if got := b.since("204"); len(got) != 1 || got[0].ID != "205" {
			t.Errorf("since 204: %v", got)
		}
		if got := b.since("1"); len(got) != cacheSize { // fell out: everything
			t.Errorf("since a forgotten cursor: %d messages", len(got))
		}
	})
}
