package asynctest_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"chat/framework/asynctest"
	"chat/framework/web"
	"chat/framework/websocket"
)

// echoHub is a WebSocket echo that counts its members, loop-owned.
type echoHub struct{ members int }

func (h *echoHub) Members() int { return h.members }

func (h *echoHub) OnOpen(*websocket.Conn) { h.members++ }
func (h *echoHub) OnMessage(c *websocket.Conn, op websocket.Opcode, data []byte) {
	c.WriteMessage(op, data)
}
func (h *echoHub) OnClose(*websocket.Conn, int, string) { h.members-- }

var hub = &echoHub{}

var routes = []web.Spec{
	{Pattern: "/", New: web.Func(func(c *web.Context) { c.WriteString("Welcome") })},
	{Pattern: "/ws", New: web.Func(func(c *web.Context) {
		websocket.Upgrade(c.Response(), c.Request(), hub, nil)
	})},
}

// TestHome is the package documentation's example, as it is written
// there (TestDocExampleIsTestHome keeps the two the same), with the
// routes and hub it assumes. A WebSocket still open at the end of a test
// is closed at cleanup; this one closes it itself so WaitFor sees the
// hub empty.
func TestHome(t *testing.T) {
	s := asynctest.StartApp(t, web.Config{Routes: routes})
	r := s.Get("/")
	if r.Status != 200 || !strings.Contains(r.Body, "Welcome") {
		t.Fatalf("GET /: %d %q", r.Status, r.Body)
	}
	ws := s.DialWebSocket("/ws")
	ws.Send("hello")
	if got := ws.ReadText(); got != "hello" {
		t.Fatalf("echo: %q", got)
	}
	ws.Close(websocket.CloseNormal, "")
	s.WaitFor(func() bool { return hub.Members() == 0 }, "the hub is empty")
}

// The code in doc.go is TestHome's, line for line, so the documentation
// shows code that compiles and passes.
func TestDocExampleIsTestHome(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	var docLines []string
	for _, line := range strings.Split(string(doc), "\n") {
		if code, ok := strings.CutPrefix(line, "//\t"); ok {
			docLines = append(docLines, strings.TrimSpace(code))
		}
	}
	body := regexp.MustCompile(`(?s)\nfunc TestHome\(t \*testing\.T\) \{\n.*?\n\}\n`).Find(src)
	var testLines []string
	for _, line := range strings.Split(strings.TrimSpace(string(body)), "\n") {
		testLines = append(testLines, strings.TrimSpace(line))
	}
	if len(docLines) == 0 || strings.Join(docLines, "\n") != strings.Join(testLines, "\n") {
		t.Fatalf("doc.go's example:\n%s\n\nTestHome:\n%s", strings.Join(docLines, "\n"), strings.Join(testLines, "\n"))
	}
}
