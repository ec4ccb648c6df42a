// Package asynctest is the framework's test kit, the counterpart of
// Tornado's tornado.testing: it starts a loop for a test, serves an
// Application or an httpserver on a free port on it, and gives the test a
// client and helpers, so an application's tests read like
// AsyncHTTPTestCase's:
//
//	func TestHome(t *testing.T) {
//		s := asynctest.StartApp(t, web.Config{Routes: routes})
//		r := s.Get("/")
//		if r.Status != 200 || !strings.Contains(r.Body, "Welcome") {
//			t.Fatalf("GET /: %d %q", r.Status, r.Body)
//		}
//		ws := s.DialWebSocket("/ws")
//		ws.Send("hello")
//		if got := ws.ReadText(); got != "hello" {
//			t.Fatalf("echo: %q", got)
//		}
//		ws.Close(websocket.CloseNormal, "")
//		s.WaitFor(func() bool { return hub.Members() == 0 }, "the hub is empty")
//	}
//
// The correspondence: AsyncTestCase's io_loop is Start (a running loop,
// stopped and closed at cleanup); AsyncHTTPTestCase's get_app, get_url and
// fetch are StartApp (StartAppFunc for a program that builds its own
// application, NewServer and Listen for a bare httpserver), Server.URL and
// Client.Fetch; gen_test, which runs asynchronous code to completion, is
// Await (any future: a coroutine's, an executor call's); websocket_connect
// with read_message is Server.DialWebSocket and WSClient.Read. Two helpers
// have no Tornado counterpart: WaitFor polls a condition on the loop, and
// HangingAddr gives an address where a connect hangs, for timeout tests.
// RawConn speaks bytes for what net/http's client hides (pipelining,
// malformed requests, watching the server close). Fetch does not follow
// redirects and keeps no cookies (set Client.HTTPClient.Jar): a test sees
// each answer as sent.
//
// Every wait is bounded by Watchdog, so a hung loop or a server that never
// answers fails the test with what it waited for rather than hanging it.
// Cleanups run in the order a shutdown needs: WebSocket clients closed,
// the Client's idle connections closed, the server closed on the loop, the
// loop stopped, Run waited for, the loop closed.
//
// Goroutines: a test's code runs on the test goroutine and the loop runs
// on its own, so the kit keeps to the loop's rule that loop-owned state is
// touched only on the loop. Do, Await, AwaitFuture, WaitFor, Send and Close
// hand their work to the loop with AddCallback (WaitFor's condition and
// Do's function run there, and may read anything a callback may); the
// test goroutine only waits for their answer. Fetch, RawConn and Read run
// on the test goroutine and touch nothing of the loop's. None of the
// helpers may be called from the loop (a Do inside a callback would wait
// for itself). Use t.Error, not t.Fatal, inside a function run on the
// loop: t.Fatal ends the loop's goroutine (Do reports it at once, but the
// loop is gone). A Server reports to the test that started it; for
// subtests, use Server.With(t).
//
// asynctest sits on top of the framework's layers (it serves web
// Applications and dials WebSockets) and is imported by tests only. The
// low layers' own tests, which it would import in a cycle, start loops
// with framework/ioloop/looptest, on which this package builds.
package asynctest
