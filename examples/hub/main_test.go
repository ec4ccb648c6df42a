package main

import (
	"net"
	"testing"

	"chat/bench/peers/peertest"
	"chat/framework/ioloop/looptest"
)

// TestBroadcast holds the framework's hub to the same protocol test as the
// benchmark peers.
func TestBroadcast(t *testing.T) {
	loop := looptest.Start(t)
	srv := newServer(loop, false)
	var addr net.Addr
	looptest.Do(t, loop, func() {
		var err error
		if addr, err = srv.Listen("127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
	})
	peertest.CheckBroadcast(t, addr.String())
	peertest.CheckEcho(t, addr.String())
}
