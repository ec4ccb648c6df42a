package web_test

import (
	"fmt"
	"net/url"
	"testing/fstest"

	"chat/framework/web"
)

func ExampleStaticFiles() {
	// In the application the FS is an embed.FS holding static/.
	assets := fstest.MapFS{"css/app.css": {Data: []byte("body { margin: 0 }")}}
	static, err := web.NewStaticFiles(assets, web.StaticConfig{Prefix: "/static/"})
	if err != nil {
		panic(err)
	}

	// Templates link the versioned URL...
	link, _ := static.StaticURL("css/app.css")
	fmt.Println(link)

	// ...which the static handler serves with a year of caching.
	u, _ := url.Parse(link)
	resp := static.Serve(web.StaticRequest{Method: "GET", Path: u.EscapedPath(), Version: u.Query().Get("v")})
	fmt.Println(resp.Status, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))

	// A revalidation with the ETag costs no body.
	resp = static.Serve(web.StaticRequest{Method: "GET", Path: "/static/css/app.css", IfNoneMatch: resp.Header.Get("Etag")})
	fmt.Println(resp.Status, len(resp.Body))

	// Traversal in any encoding is refused.
	fmt.Println(static.Serve(web.StaticRequest{Method: "GET", Path: "/static/%2e%2e%2fsecret"}).Status)
	// Output:
	// /static/css/app.css?v=997faceca2605a98
	// 200 text/css; charset=utf-8 public, max-age=31536000, immutable
	// 304 0
	// 400
}
