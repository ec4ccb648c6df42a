//go:build !race

package web

// panicOnLateCall: production builds log a response call after the
// request finished and go on (see Context.lateCall).
const panicOnLateCall = false
