package web_test

import (
	"fmt"

	"chat/framework/web"
)

func ExampleRouter_Match() {
	router, err := web.NewRouter(
		web.Route{Name: "room", Pattern: "/rooms/{name}"},
		web.Route{Name: "static", Pattern: "/static/{path...}"},
	)
	if err != nil {
		panic(err)
	}
	route, params, ok := router.Match("/rooms/caf%C3%A9")
	fmt.Println(ok, route.Name, params.Get("name"))
	route, params, _ = router.Match("/static/css/app.css")
	fmt.Println(route.Name, params.Get("path"))
	_, _, ok = router.Match("/static/..%2Fsecret")
	fmt.Println(ok)
	// Output:
	// true room café
	// static css/app.css
	// false
}

func ExampleRouter_Reverse() {
	router, err := web.NewRouter(
		web.Route{Name: "room", Pattern: "/rooms/{name}"},
		web.Route{Name: "static", Pattern: "/static/{path...}"},
	)
	if err != nil {
		panic(err)
	}
	fmt.Println(router.Reverse("room", "a/b c"))
	fmt.Println(router.Reverse("static", "img/my logo.svg"))
	_, err = router.Reverse("room")
	fmt.Println(err)
	// Output:
	// /rooms/a%2Fb%20c <nil>
	// /static/img/my%20logo.svg <nil>
	// reverse "room": parameter "name": web: missing route parameter
}
