package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
	"chat/framework/web"
)

// checkPassword stands for blocking work (bcrypt, SQLite): it must run on
// the executor, never on the loop.
func checkPassword(name, password string) (string, error) {
	if password != "secret" {
		return "", &web.HTTPError{Status: http.StatusForbidden, Message: "wrong password"}
	}
	return strings.ToUpper(name[:1]) + name[1:], nil
}

// welcomePage is a Component, as a templ component would be.
func welcomePage(user string) web.Component {
	return web.ComponentFunc(func(_ context.Context, w io.Writer) error {
		_, err := fmt.Fprintf(w, "<p>Welcome, %s</p>", user)
		return err
	})
}

// loginHandler serves POST /login as a coroutine: it awaits the executor
// and then renders, in sequence, with no callback. An error returned by
// the body is answered by Fail, here a 403.
type loginHandler struct{}

func (loginHandler) Post(c *web.Context) {
	c.Go(func(co *ioloop.Co) error {
		name, password := c.GetArgument("name", ""), c.GetArgument("password", "")
		user, err := ioloop.Await(co, web.RunInExecutor(c, func() (string, error) {
			return checkPassword(name, password) // copies, not c: this runs off the loop
		}))
		if err != nil {
			return err
		}
		c.Render(welcomePage(user))
		return nil
	})
}

// roomPage loads what every method needs in PrepareAsync; Get runs
// once it has succeeded.
type roomPage struct{ room string }

func (h *roomPage) PrepareAsync(c *web.Context) *concurrent.Future[struct{}] {
	return c.Go(func(co *ioloop.Co) error {
		id := c.Param("id")
		room, err := ioloop.Await(co, web.RunInExecutor(c, func() (string, error) { return "room " + id, nil }))
		h.room = room
		return err
	})
}

func (h *roomPage) Get(c *web.Context) { c.WriteString(h.room) }

func ExampleContext_Go() {
	loop, _ := ioloop.New(ioloop.Options{})
	app, _ := web.NewApplication(web.Config{Loop: loop, Routes: []web.Spec{
		{Pattern: "/login", New: func() web.Handler { return loginHandler{} }, RouteSettings: web.RouteSettings{DisableXSRF: true}},
		{Pattern: "/rooms/{id}", New: func() web.Handler { return &roomPage{} }},
	}})
	addr, _ := app.NewServer().Listen("127.0.0.1:0")
	runReturned := make(chan error, 1)
	go func() { runReturned <- loop.Run() }()

	base := "http://" + addr.String()
	for _, password := range []string{"secret", "guess"} {
		resp, err := http.Post(base+"/login", "application/x-www-form-urlencoded",
			strings.NewReader("name=ada&password="+password))
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			fmt.Println(resp.StatusCode)
			continue
		}
		fmt.Println(resp.StatusCode, string(body))
	}
	resp, err := http.Get(base + "/rooms/7")
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, string(body))

	loop.Stop()
	<-runReturned
	loop.Close()
	// Output:
	// 200 <p>Welcome, Ada</p>
	// 403
	// 200 room 7
}
