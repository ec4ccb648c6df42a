package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// guestSession signs a guest in on the running server as a program does
// (GET /guest for the _xsrf cookie, POST /guest asking for JSON) and
// returns a client holding the cookies.
func guestSession(t *testing.T, base, name string) (*http.Client, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, err := client.Get(base + "/guest")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	u, _ := url.Parse(base)
	xsrf := ""
	for _, c := range jar.Cookies(u) {
		if c.Name == "_xsrf" {
			xsrf = c.Value
		}
	}
	req, _ := http.NewRequest("POST", base+"/guest", strings.NewReader(url.Values{"name": {name}, "_xsrf": {xsrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err = client.Do(req)
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("guest sign-in: %v %v", resp.Status, err)
	}
	resp.Body.Close()
	return client, xsrf
}

func cookieHeader(client *http.Client, base string) http.Header {
	u, _ := url.Parse(base)
	var parts []string
	for _, c := range client.Jar.Cookies(u) {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return http.Header{"Cookie": {strings.Join(parts, "; ")}}
}

type event struct {
	Type   string `json:"type"`
	ID     int64  `json:"id"`
	Body   string `json:"body"`
	Events []event
}

func postMessage(t *testing.T, client *http.Client, base, xsrf, body, key string) event {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"body": body, "key": key})
	req, _ := http.NewRequest("POST", base+"/api/rooms/lobby/messages", strings.NewReader(string(b)))
	req.Header.Set("X-XSRFToken", xsrf)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ack event
	json.NewDecoder(resp.Body).Decode(&ack)
	if resp.StatusCode != 201 || ack.Type != "ack" {
		t.Fatalf("post %q: %s %+v", body, resp.Status, ack)
	}
	return ack
}

// SIGTERM stops the server gracefully: every door is answered (1001 to the
// WebSocket, the parked long poll answered, the stream ended), the process
// exits 0 within its grace period, and after a restart on the same data
// directory the clients resume from their cursors with nothing lost and
// nothing repeated.
func TestSIGTERMAnswersEveryDoorAndClientsResumeAfterRestart(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	first := startChat(t, dataDir)
	base := first.URL
	client, xsrf := guestSession(t, base, "ada")
	wsURL := "ws" + strings.TrimPrefix(base, "http") + "/api/rooms/lobby/ws"
	ws, _, err := websocket.DefaultDialer.Dial(wsURL, cookieHeader(client, base))
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	var hello event
	if err := ws.ReadJSON(&hello); err != nil || hello.Type != "hello" {
		t.Fatalf("hello: %+v %v", hello, err)
	}
	var acks []event
	for i, body := range []string{"one", "two", "three"} {
		acks = append(acks, postMessage(t, client, base, xsrf, body, "k"+string(rune('1'+i))))
	}
	last := acks[len(acks)-1].ID

	// Three users, one per door, so the room's online count says when
	// all three are in: ada's WebSocket, bob's stream, cy's parked poll.
	bob, _ := guestSession(t, base, "bob")
	cy, _ := guestSession(t, base, "cy")
	stream, err := bob.Get(base + "/api/rooms/lobby/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	polled := make(chan event, 1)
	go func() {
		resp, err := cy.Get(base + "/api/rooms/lobby/events?after=" + itoa(last))
		var ev event
		if err == nil {
			json.NewDecoder(resp.Body).Decode(&ev)
			resp.Body.Close()
		}
		polled <- ev
	}()
	lines := bufio.NewScanner(stream.Body)
	waitForOnline(t, client, base, 3)

	stopped := time.Now()
	first.cmd.Process.Signal(syscall.SIGTERM)
	for {
		var ev event
		if err := ws.ReadJSON(&ev); err != nil {
			if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
				t.Fatalf("WebSocket after SIGTERM: %v; want close 1001", err)
			}
			break
		}
	}
	if p := <-polled; p.Type != "events" || len(p.Events) != 0 {
		t.Fatalf("parked long poll after SIGTERM: %+v; want an empty answer", p)
	}
	for lines.Scan() {
	}
	if err := first.cmd.Wait(); err != nil {
		t.Fatalf("chat exited with %v after SIGTERM", err)
	}
	if took := time.Since(stopped); took > 10*time.Second {
		t.Fatalf("graceful stop took %v; the grace period is 10 s", took)
	}

	second := startChat(t, dataDir)
	base = second.URL
	resp, err := client.Get(base + "/api/rooms/lobby/events?after=0")
	if err != nil {
		t.Fatal(err)
	}
	var all event
	json.NewDecoder(resp.Body).Decode(&all)
	resp.Body.Close()
	if len(all.Events) != 3 {
		t.Fatalf("after the restart the log holds %+v; want the 3 messages", all.Events)
	}
	for i, ev := range all.Events {
		if ev.ID != acks[i].ID || ev.Body != []string{"one", "two", "three"}[i] {
			t.Fatalf("event %d after restart: %+v; want id %d", i, ev, acks[i].ID)
		}
	}
	wsURL = "ws" + strings.TrimPrefix(base, "http") + "/api/rooms/lobby/ws?after=" + itoa(last)
	ws2, _, err := websocket.DefaultDialer.Dial(wsURL, cookieHeader(client, base))
	if err != nil {
		t.Fatal(err)
	}
	defer ws2.Close()
	ws2.ReadJSON(&hello)
	next := postMessage(t, client, base, xsrf, "four", "k4")
	var got event
	for got.Type != "message" {
		if err := ws2.ReadJSON(&got); err != nil {
			t.Fatal(err)
		}
	}
	if got.ID != next.ID || got.Body != "four" {
		t.Fatalf("resumed after %d, the first event is %+v; want the new message %d", last, got, next.ID)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// waitForOnline asks the room until it counts online users, for a
// bounded time.
func waitForOnline(t *testing.T, client *http.Client, base string, online int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := client.Get(base + "/api/rooms/lobby")
		if err == nil {
			var r struct{ Online int }
			json.NewDecoder(resp.Body).Decode(&r)
			resp.Body.Close()
			if r.Online == online {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the room never counted %d users online", online)
}
