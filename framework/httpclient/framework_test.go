package httpclient_test

import (
	"testing"

	"chat/framework/asynctest"
	"chat/framework/concurrent"
	"chat/framework/httpclient"
	"chat/framework/web"
)

// TestAgainstFrameworkServer fetches from the framework's own server on
// the same loop: client and server are both callbacks there, and neither
// blocks the other.
func TestAgainstFrameworkServer(t *testing.T) {
	s := asynctest.StartApp(t, web.Config{Routes: []web.Spec{
		{Pattern: "/hello", New: web.Func(func(c *web.Context) { c.WriteString("hello from the loop") })},
		{Pattern: "/stream", New: web.Func(func(c *web.Context) {
			c.WriteString("first,")
			c.Flush() // chunked from here on
			c.WriteString("second")
		})},
	}})
	var c *httpclient.Client
	asynctest.Do(t, s.Loop, func() { c = httpclient.NewClient(s.Loop, httpclient.Options{}) })
	t.Cleanup(func() { asynctest.Do(t, s.Loop, c.Close) })
	for _, tc := range []struct{ path, want string }{
		{"/hello", "hello from the loop"},
		{"/stream", "first,second"},
		{"/hello", "hello from the loop"},
	} {
		resp, err := asynctest.Await(t, s.Loop, func() *concurrent.Future[*httpclient.Response] {
			return c.Fetch(&httpclient.Request{URL: "http://" + s.Addr + tc.path})
		})
		if err != nil || resp.Code != 200 || string(resp.Body) != tc.want {
			t.Fatalf("%s: %v %v", tc.path, resp, err)
		}
	}
	var st httpclient.Stats
	asynctest.Do(t, s.Loop, func() { st = c.Stats() })
	if st.Connects != 1 || st.Reuses != 2 {
		t.Errorf("stats %+v, want one connection reused twice", st)
	}
}
