package httpclient_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"chat/framework/httpclient"
	"chat/framework/ioloop"
)

// A Client fetches on the loop: Fetch returns a future whose callback
// runs on the loop with the response. Here two fetches share one
// keep-alive connection.
func ExampleClient_Fetch() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello from "+r.URL.Path)
	}))
	defer srv.Close()

	loop, _ := ioloop.New(ioloop.Options{})
	defer loop.Close()
	loop.AddCallback(func() {
		client := httpclient.NewClient(loop, httpclient.Options{})
		client.Fetch(&httpclient.Request{URL: srv.URL + "/first"}).OnResult(func(r *httpclient.Response, err error) {
			fmt.Println(r.Code, string(r.Body), err)
			client.Fetch(&httpclient.Request{URL: srv.URL + "/second"}).OnResult(func(r *httpclient.Response, err error) {
				fmt.Println(r.Code, string(r.Body), err)
				fmt.Println("connections opened:", client.Stats().Connects)
				client.Close()
				loop.Stop()
			})
		})
	})
	loop.Run()
	// Output:
	// 200 hello from /first <nil>
	// 200 hello from /second <nil>
	// connections opened: 1
}

// Fetch is a one-off request with a client of its own, closed when the
// future resolves. Errors name what failed; errors.Is tells them apart.
func ExampleFetch() {
	loop, _ := ioloop.New(ioloop.Options{})
	defer loop.Close()
	loop.AddCallback(func() {
		httpclient.Fetch(loop, &httpclient.Request{URL: "ftp://example.com/"}).OnResult(func(r *httpclient.Response, err error) {
			fmt.Println(err)
			loop.Stop()
		})
	})
	loop.Run()
	// Output: httpclient: invalid request: scheme "ftp" (only http and https)
}
