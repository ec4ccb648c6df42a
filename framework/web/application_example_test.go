package web_test

import (
	"fmt"
	"io"
	"net/http"

	"chat/framework/ioloop"
	"chat/framework/web"
)

// greeter is a Handler: a fresh one serves each request.
type greeter struct{ greeting string }

func (g *greeter) Prepare(c *web.Context) { g.greeting = "Hello" }

func (g *greeter) Get(c *web.Context) {
	fmt.Fprintf(c, "%s, %s", g.greeting, c.Param("name"))
}

func ExampleApplication() {
	loop, err := ioloop.New(ioloop.Options{})
	if err != nil {
		panic(err)
	}
	app, err := web.NewApplication(web.Config{
		Loop: loop,
		Routes: []web.Spec{
			{Name: "greet", Pattern: "/greet/{name}", New: func() web.Handler { return &greeter{} }},
			{Name: "slow", Pattern: "/slow", New: web.Func(func(c *web.Context) {
				// Blocking work runs on the executor; the request is
				// finished from the future's callback, on the loop.
				web.RunInExecutor(c, func() (int, error) { return 6 * 7, nil }).
					OnResult(func(n int, err error) {
						if err != nil {
							c.Fail(err)
							return
						}
						c.WriteJSON(map[string]int{"answer": n})
						c.Finish()
					})
			})},
		},
	})
	if err != nil {
		panic(err)
	}
	addr, err := app.NewServer().Listen("127.0.0.1:0") // before Run: allowed
	if err != nil {
		panic(err)
	}
	// Run on its own goroutine, reporting its return on a channel: the
	// shutdown below must know when Run is over.
	runReturned := make(chan error, 1)
	go func() { runReturned <- loop.Run() }()

	path, _ := app.Reverse("greet", "Go fan")
	for _, p := range []string{path, "/slow", "/missing"} {
		resp, err := http.Get("http://" + addr.String() + p)
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			fmt.Println(p, resp.StatusCode) // the error page is not shown
			continue
		}
		fmt.Println(p, resp.StatusCode, string(body))
	}

	// Shut down: Stop asks Run to return and the channel tells when it
	// has; Close then releases the connections, the poller and the
	// executors. (Close alone would do all of it, since it stops a running
	// loop and waits for Run itself; the channel is here to show Run's
	// result.)
	loop.Stop()
	fmt.Println("loop stopped:", <-runReturned)
	if err := loop.Close(); err != nil {
		panic(err)
	}
	// Output:
	// /greet/Go%20fan 200 Hello, Go fan
	// /slow 200 {"answer":42}
	// /missing 404
	// loop stopped: <nil>
}

func ExampleWrapHTTP() {
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "net/http says hi to %s", r.URL.Path)
	})
	// Mount it like any route; it runs on the executor, not the loop. For
	// net/http/pprof: {Pattern: "/debug/pprof/{path...}", New:
	// web.WrapHTTP(http.HandlerFunc(pprof.Index))}.
	spec := web.Spec{Name: "legacy", Pattern: "/legacy/{path...}", New: web.WrapHTTP(hello)}
	fmt.Println(spec.Pattern)
	// Output: /legacy/{path...}
}
