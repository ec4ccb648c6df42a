// Command websocketchat is Tornado's demos/websocket chat on the
// framework: one page, one WebSocket per visitor. As in Tornado's
// ChatSocketHandler, every open socket is a waiter, the last 200 messages
// are cached and rendered into the page, and a message from anyone is
// given an id, cached and sent to every waiter. The broadcast is encoded
// once (a PreparedMessage) and written to each socket; a socket too slow
// to keep up is dropped by the websocket package rather than buffered
// without bound.
//
//	go run ./examples/websocketchat -addr 127.0.0.1:8888   # then open http://127.0.0.1:8888/
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"html/template"
	"log"
	"strconv"

	"chat/framework/ioloop"
	"chat/framework/web"
	"chat/framework/websocket"
)

// cacheSize is Tornado's ChatSocketHandler.cache_size.
const cacheSize = 200

// maxBodyBytes bounds one chat message; longer ones are ignored.
const maxBodyBytes = 4 << 10

type chatMessage struct {
	ID   string `json:"id"`
	Body string `json:"body"`
}

// room holds the open sockets (Tornado's waiters) and the cache. Loop-owned.
type room struct {
	waiters websocket.Group
	cache   []chatMessage
	lastID  int
}

func (r *room) OnOpen(c *websocket.Conn) { r.waiters.Add(c) }

func (r *room) OnClose(c *websocket.Conn, code int, reason string) { r.waiters.Remove(c) }

// OnMessage takes {"body": "..."} from a client, as Tornado's demo does.
func (r *room) OnMessage(c *websocket.Conn, op websocket.Opcode, data []byte) {
	var in struct{ Body string }
	if op != websocket.OpText || json.Unmarshal(data, &in) != nil || in.Body == "" || len(in.Body) > maxBodyBytes {
		return
	}
	r.lastID++
	m := chatMessage{ID: strconv.Itoa(r.lastID), Body: in.Body}
	r.cache = append(r.cache, m)
	if len(r.cache) > cacheSize {
		r.cache = append([]chatMessage(nil), r.cache[len(r.cache)-cacheSize:]...)
	}
	encoded, _ := json.Marshal(m)
	r.waiters.Broadcast(websocket.NewPreparedMessage(websocket.OpText, encoded))
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8888", "listen address")
	flag.Parse()
	loop, err := ioloop.New(ioloop.Options{})
	if err != nil {
		log.Fatal(err)
	}
	loop.AddCallback(func() {
		app, _, err := newApp(loop)
		if err != nil {
			log.Fatal(err)
		}
		bound, err := app.NewServer().Listen(*addr)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("websocket chat demo on http://%s/\n", bound)
	})
	log.Fatal(loop.Run())
}

// newApp builds the demo: the page at /, the socket at /chatsocket.
func newApp(loop *ioloop.Loop) (*web.Application, *room, error) {
	r := &room{}
	opts := &websocket.Options{MaxMessageSize: maxBodyBytes + 64}
	app, err := web.NewApplication(web.Config{Loop: loop, Routes: []web.Spec{
		{Pattern: "/", New: web.Func(func(c *web.Context) {
			c.SetHeader("Content-Type", "text/html; charset=utf-8")
			page.Execute(c, r.cache)
		})},
		{Pattern: "/chatsocket", New: web.Func(func(c *web.Context) {
			websocket.Upgrade(c.Response(), c.Request(), r, opts)
		})},
	}})
	return app, r, err
}

var page = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Tornado WebSocket Chat Demo, on the framework</title>
<style>body{font:14px sans-serif;margin:2em}#inbox div{padding:2px 0}</style></head>
<body>
<div id="inbox">{{range .}}<div id="m{{.ID}}">{{.Body}}</div>{{end}}</div>
<form id="messageform"><input name="body" id="message" style="width:30em" autocomplete="off" autofocus>
<input type="submit" value="Post"></form>
<script>
const inbox = document.getElementById("inbox");
const form = document.getElementById("messageform");
const socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/chatsocket");
socket.onmessage = (event) => {
  const m = JSON.parse(event.data);
  const div = document.createElement("div");
  div.id = "m" + m.id;
  div.textContent = m.body;
  inbox.appendChild(div);
};
form.addEventListener("submit", (e) => {
  e.preventDefault();
  socket.send(JSON.stringify({body: form.elements["body"].value}));
  form.elements["body"].value = "";
});
</script>
</body></html>
`))
