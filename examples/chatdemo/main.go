// Command chatdemo is Tornado's demos/chat on the framework: a chat room
// in one page, delivered by long polling. It keeps Tornado's shape: a
// MessageBuffer holds the last 200 messages and a Condition that wakes
// every parked poll; MainHandler renders the page with the cached
// messages; MessageNewHandler (POST /a/message/new) adds one;
// MessageUpdatesHandler (POST /a/message/updates) answers at once with the
// messages after the client's cursor, or parks until there are some, and
// stops waiting when its client leaves (on_connection_close). XSRF is on,
// as in Tornado's demo (xsrf_cookies=True): the page's form carries the
// token and the script sends it back.
//
// Everything runs on the loop: the buffer needs no mutex, and a parked
// poll is a future waiting on the Condition, not a goroutine.
//
//	go run ./examples/chatdemo -addr 127.0.0.1:8888   # then open http://127.0.0.1:8888/
package main

import (
	"flag"
	"fmt"
	"html/template"
	"log"
	"strconv"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
	"chat/framework/locks"
	"chat/framework/web"
)

// cacheSize is how many messages the buffer keeps: a client whose cursor
// fell out of it gets the whole cache (Tornado's cache_size).
const cacheSize = 200

// message is one chat line; ids increase, so a cursor is the last id seen.
type message struct {
	ID   string `json:"id"`
	Body string `json:"body"`
}

// messageBuffer is Tornado's MessageBuffer. Loop-owned.
type messageBuffer struct {
	cond   *locks.Condition
	cache  []message
	lastID int
}

// since returns the messages after cursor: all of the cache if the cursor
// is empty or unknown.
func (b *messageBuffer) since(cursor string) []message {
	for i := len(b.cache) - 1; i >= 0; i-- {
		if b.cache[i].ID == cursor {
			return b.cache[i+1:]
		}
	}
	return b.cache
}

func (b *messageBuffer) add(body string) message {
	b.lastID++
	m := message{ID: strconv.Itoa(b.lastID), Body: body}
	b.cache = append(b.cache, m)
	if len(b.cache) > cacheSize {
		b.cache = append([]message(nil), b.cache[len(b.cache)-cacheSize:]...)
	}
	b.cond.NotifyAll()
	return m
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
		fmt.Printf("chat demo on http://%s/\n", bound)
	})
	log.Fatal(loop.Run())
}

// newApp builds the demo's application and its message buffer.
func newApp(loop *ioloop.Loop) (*web.Application, *messageBuffer, error) {
	buf := &messageBuffer{cond: locks.NewCondition(loop)}
	app, err := web.NewApplication(web.Config{Loop: loop, Routes: []web.Spec{
		{Pattern: "/", New: web.Func(func(c *web.Context) {
			c.SetHeader("Content-Type", "text/html; charset=utf-8")
			page.Execute(c, map[string]any{"Messages": buf.cache, "XSRF": template.HTML(c.XSRFFormHTML())})
		})},
		{Pattern: "/a/message/new", New: func() web.Handler { return &messageNewHandler{buf: buf} }},
		{Pattern: "/a/message/updates", New: func() web.Handler { return &messageUpdatesHandler{buf: buf} }},
	}})
	return app, buf, err
}

// messageNewHandler is Tornado's MessageNewHandler.
type messageNewHandler struct{ buf *messageBuffer }

func (h *messageNewHandler) Post(c *web.Context) {
	body := c.GetArgument("body", "")
	if body == "" {
		c.SendError(400)
		return
	}
	m := h.buf.add(body)
	if next := c.GetArgument("next", ""); next != "" {
		c.Redirect(web.SafeNextURL(next, "/"), 303)
		return
	}
	c.WriteJSON(m)
}

// messageUpdatesHandler is Tornado's MessageUpdatesHandler: a long poll.
type messageUpdatesHandler struct {
	buf     *messageBuffer
	waiting *concurrent.Future[bool]
}

func (h *messageUpdatesHandler) Post(c *web.Context) {
	c.Async() // finished later, from the Condition's callback
	h.answerOrWait(c, c.GetArgument("cursor", ""))
}

func (h *messageUpdatesHandler) answerOrWait(c *web.Context, cursor string) {
	if messages := h.buf.since(cursor); len(messages) > 0 {
		c.WriteJSON(map[string]any{"messages": messages})
		c.Finish()
		return
	}
	h.waiting = h.buf.cond.Wait(0)
	h.waiting.OnResult(func(_ bool, err error) {
		if err == nil { // not cancelled
			h.answerOrWait(c, cursor)
		}
	})
}

// OnConnectionClose: the client left; stop waiting (Tornado cancels
// wait_future), so the buffer holds no dead waiter.
func (h *messageUpdatesHandler) OnConnectionClose(c *web.Context) {
	if h.waiting != nil {
		h.waiting.Cancel()
	}
}

var page = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Tornado Chat Demo, on the framework</title>
<style>body{font:14px sans-serif;margin:2em}#inbox div{padding:2px 0}</style></head>
<body>
<div id="inbox">{{range .Messages}}<div id="m{{.ID}}">{{.Body}}</div>{{end}}</div>
<form action="/a/message/new" method="post" id="messageform">
<input name="body" id="message" style="width:30em" autocomplete="off" autofocus>
<input type="submit" value="Post">
<input type="hidden" name="next" value="/">
{{.XSRF}}
</form>
<script>
const form = document.getElementById("messageform");
const xsrf = form.elements["_xsrf"].value;
const inbox = document.getElementById("inbox");
let cursor = inbox.lastElementChild ? inbox.lastElementChild.id.slice(1) : "";

function show(m) {
  if (document.getElementById("m" + m.id)) return;
  const div = document.createElement("div");
  div.id = "m" + m.id;
  div.textContent = m.body;
  inbox.appendChild(div);
  cursor = m.id;
}

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  const body = new URLSearchParams({body: form.elements["body"].value, _xsrf: xsrf});
  form.elements["body"].value = "";
  const r = await fetch("/a/message/new", {method: "POST", body});
  if (r.ok) show(await r.json());
});

async function poll() {
  for (;;) {
    try {
      const r = await fetch("/a/message/updates", {method: "POST",
        body: new URLSearchParams({cursor, _xsrf: xsrf})});
      if (!r.ok) throw new Error(r.status);
      (await r.json()).messages.forEach(show);
    } catch (err) {
      await new Promise(done => setTimeout(done, 5000)); // as Tornado's demo: retry after a pause
    }
  }
}
poll();
</script>
</body></html>
`))
