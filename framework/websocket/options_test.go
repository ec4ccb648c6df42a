package websocket_test

import (
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"

	"chat/framework/asynctest"
	"chat/framework/httpserver"
	"chat/framework/websocket"
)

// TestCopiedOptionsUseTheirOwnValues copies an Options value after it has
// served a connection, changes a field in the copy, and checks that a
// connection upgraded with the copy follows the copy while one upgraded
// with the original still follows the original.
func TestCopiedOptionsUseTheirOwnValues(t *testing.T) {
	cases := []struct {
		name     string
		original websocket.Options
		change   func(*websocket.Options)
		// check dials path ("/original" or "/copy") and reports whether
		// that connection followed the changed value.
		followsChange func(t *testing.T, addr, path string) bool
	}{
		{"MaxMessageSize", websocket.Options{MaxMessageSize: 1000},
			func(o *websocket.Options) { o.MaxMessageSize = 10 },
			func(t *testing.T, addr, path string) bool {
				rc := dialRawTo(t, addr, path, "")
				rc.send(text("a message of more than ten bytes"))
				f, err := rc.read()
				if err != nil {
					t.Fatal(err)
				}
				return f.op == websocket.OpClose // 1009, where the original echoes
			}},
		{"Subprotocols", websocket.Options{Subprotocols: []string{"chat.v1"}},
			func(o *websocket.Options) { o.Subprotocols = []string{"chat.v2"} },
			func(t *testing.T, addr, path string) bool {
				d := gorilla.Dialer{Subprotocols: []string{"chat.v1", "chat.v2"}}
				c, _, err := d.Dial("ws://"+addr+path, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				return c.Subprotocol() == "chat.v2"
			}},
		{"PingInterval", websocket.Options{PingInterval: -1},
			func(o *websocket.Options) { o.PingInterval, o.PongTimeout = 20*time.Millisecond, time.Hour },
			func(t *testing.T, addr, path string) bool {
				rc := dialRawTo(t, addr, path, "")
				rc.conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
				f, err := rc.read()
				return err == nil && f.op == websocket.OpPing
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			original := tc.original
			var copied websocket.Options
			optsFor := map[string]*websocket.Options{"/original": &original, "/copy": &copied}
			s := asynctest.NewServer(t, httpserver.HandlerFunc(func(w *httpserver.ResponseWriter, r *httpserver.Request) {
				websocket.Upgrade(w, r, echo{}, optsFor[r.Path])
			}))
			if tc.followsChange(t, s.Addr, "/original") {
				t.Fatal("the original follows the change before it was made")
			}
			s.Do(func() { // copied after use, as a caller would
				copied = original
				tc.change(&copied)
			})
			if !tc.followsChange(t, s.Addr, "/copy") {
				t.Errorf("a connection upgraded with the changed copy did not follow the change")
			}
			if tc.followsChange(t, s.Addr, "/original") {
				t.Errorf("the original follows the change made to its copy")
			}
		})
	}
}
