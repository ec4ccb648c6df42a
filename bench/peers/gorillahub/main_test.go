package main

import (
	"net/http/httptest"
	"strings"
	"testing"

	"chat/bench/peers/peertest"
)

// TestBroadcast holds this peer to the hub protocol (see peertest).
func TestBroadcast(t *testing.T) {
	srv := httptest.NewServer(newHandler(false))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	peertest.CheckBroadcast(t, addr)
	peertest.CheckEcho(t, addr)
}
