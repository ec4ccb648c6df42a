package httpclient_test

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"chat/framework/asynctest"
	"chat/framework/concurrent"
	"chat/framework/httpclient"
	"chat/framework/ioloop"
)

// newClient starts a loop and a client on it, closed at cleanup (before the loop).
func newClient(t *testing.T, opts httpclient.Options) (*ioloop.Loop, *httpclient.Client) {
	t.Helper()
	loop := asynctest.Start(t)
	var c *httpclient.Client
	asynctest.Do(t, loop, func() { c = httpclient.NewClient(loop, opts) })
	t.Cleanup(func() { asynctest.Do(t, loop, c.Close) })
	return loop, c
}

func fetch(t *testing.T, loop *ioloop.Loop, c *httpclient.Client, req *httpclient.Request) (*httpclient.Response, error) {
	t.Helper()
	return asynctest.Await(t, loop, func() *concurrent.Future[*httpclient.Response] { return c.Fetch(req) })
}

func stats(t *testing.T, loop *ioloop.Loop, c *httpclient.Client) (s httpclient.Stats) {
	t.Helper()
	asynctest.Do(t, loop, func() { s = c.Stats() })
	return s
}

// countingServer is an httptest server that counts the connections it
// accepted (ConnState's StateNew), the client's reuse seen from the server.
type countingServer struct {
	*httptest.Server
	conns atomic.Int64
}

func newCountingServer(t *testing.T, h http.Handler, useTLS bool) *countingServer {
	s := &countingServer{}
	s.Server = httptest.NewUnstartedServer(h)
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	if useTLS {
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s
}

// rawServer accepts connections on loopback and runs serve on each, on a
// goroutine of its own: for responses net/http's server will not send.
func rawServer(t *testing.T, serve func(c net.Conn, r *bufio.Reader)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var open []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range open {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			open = append(open, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				serve(c, bufio.NewReader(c))
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// answer reads one request and writes response, reporting whether a
// request came.
func answer(c net.Conn, r *bufio.Reader, response string) bool {
	req, err := http.ReadRequest(r)
	if err != nil {
		return false
	}
	req.Body.Close()
	_, err = c.Write([]byte(response))
	return err == nil
}
