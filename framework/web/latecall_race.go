//go:build race

package web

// panicOnLateCall: race builds (how the tests run) panic on a response
// call after the request finished, so a forgotten Async fails a test
// instead of passing as a log line (see Context.lateCall).
const panicOnLateCall = true
