// Package looptest starts event loops for tests, for the framework's low
// layers (ioloop, iostream, tcpserver and up): each test gets a running
// loop on its own goroutine, stopped and closed when the test ends, and
// helpers to run code on it (Do), wait for a future started on it
// (Await) or for a channel (Wait), each bounded by Watchdog so a hung loop
// fails the test instead of hanging it. Script plays a table case against
// a loop-only primitive (a lock, a queue: framework/locks and
// framework/queues share it): named futures, timers, cancels, and the
// outcomes checked in the order they happened.
//
// It is the bottom half of Tornado's tornado.testing.AsyncTestCase. The
// whole test kit, with a server on a free port, a client, WebSocket dialing
// and WaitFor, is framework/asynctest, which builds on this package; a test
// of an application or of the higher layers reads better with it. looptest
// stays because a low layer's tests cannot import asynctest, which imports
// them.
//
// Goroutines: Start and the helpers are called from the test goroutine,
// never from the loop; Do and Await run their function on the loop with
// AddCallback and wait for it. Unlike asynctest.Do, Do here does not
// report a panic in its function: the loop recovers and logs it, and Do
// returns.
package looptest
