package httpclient_test

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"chat/framework/asynctest"
	"chat/framework/concurrent"
	"chat/framework/httpclient"
)

// BenchmarkFetch measures requests per second to one local server (net/http's,
// on its own goroutines, answering "hello, world"), with 1 and 64 requests in
// flight, for this client and for net/http's client in the same run; over
// keep-alive http and https, and over https with a new connection (so a
// handshake) per request. Run with -benchtime 2s or more for steady figures;
// the server shares the machine with the client.
func BenchmarkFetch(b *testing.B) {
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello, world") })
	plain := httptest.NewServer(hello)
	defer plain.Close()
	secure := httptest.NewTLSServer(hello)
	defer secure.Close()
	roots := secure.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	for _, tc := range []struct {
		name        string
		url         string
		concurrency int
		newConn     bool
	}{
		{"http/1", plain.URL, 1, false},
		{"http/64", plain.URL, 64, false},
		{"https/1", secure.URL, 1, false},
		{"https/64", secure.URL, 64, false},
		{"https-new-conn/1", secure.URL, 1, true},
	} {
		tlsConfig := &tls.Config{RootCAs: roots}
		b.Run("httpclient/"+tc.name, func(b *testing.B) {
			benchHTTPClient(b, tc.url, tc.concurrency, tc.newConn, tlsConfig)
		})
		b.Run("net-http/"+tc.name, func(b *testing.B) {
			benchNetHTTP(b, tc.url, tc.concurrency, tc.newConn, tlsConfig)
		})
	}
}

func benchHTTPClient(b *testing.B, url string, concurrency int, newConn bool, tlsConfig *tls.Config) {
	loop := asynctest.Start(b)
	var c *httpclient.Client
	opts := httpclient.Options{MaxConnsPerHost: concurrency, TLSConfig: tlsConfig}
	if newConn {
		opts.MaxIdleConnsPerHost = -1
	}
	asynctest.Do(b, loop, func() { c = httpclient.NewClient(loop, opts) })
	defer asynctest.Do(b, loop, c.Close)
	// Warm the pool, so both clients start with their connections open.
	for range concurrency {
		asynctest.Await(b, loop, func() *concurrent.Future[*httpclient.Response] {
			return c.Fetch(&httpclient.Request{URL: url})
		})
	}
	done := make(chan error, 1)
	b.ReportAllocs()
	b.ResetTimer()
	asynctest.Do(b, loop, func() {
		issued, finished := 0, 0
		var next func()
		next = func() {
			issued++
			c.Fetch(&httpclient.Request{URL: url}).OnResult(func(r *httpclient.Response, err error) {
				finished++
				if err == nil && r.Code != 200 {
					err = fmt.Errorf("status %d", r.Code)
				}
				if err != nil {
					select {
					case done <- err:
					default:
					}
					return
				}
				if issued < b.N {
					next()
				} else if finished == b.N {
					done <- nil
				}
			})
		}
		for range min(concurrency, b.N) {
			next()
		}
	})
	if err := asynctest.Wait(b, done, "the benchmark's requests"); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

func benchNetHTTP(b *testing.B, url string, concurrency int, newConn bool, tlsConfig *tls.Config) {
	transport := &http.Transport{MaxIdleConnsPerHost: concurrency, MaxConnsPerHost: concurrency,
		DisableKeepAlives: newConn, TLSClientConfig: tlsConfig, ForceAttemptHTTP2: false}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport}
	get := func() error {
		resp, err := client.Get(url)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err == nil && resp.StatusCode != 200 {
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		return err
	}
	var warm sync.WaitGroup
	for range concurrency {
		warm.Go(func() { get() })
	}
	warm.Wait()
	var issued atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	b.ReportAllocs()
	b.ResetTimer()
	for range concurrency {
		wg.Go(func() {
			for issued.Add(1) <= int64(b.N) {
				if err := get(); err != nil {
					failed.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
