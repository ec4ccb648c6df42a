// Package websocket implements WebSocket (RFC 6455) with permessage-deflate
// (RFC 7692) on the event loop: the counterpart of Tornado's
// tornado.websocket (WebSocketHandler on the server, websocket_connect for
// clients).
//
// A request handler calls Upgrade to answer the handshake — same origin by
// default, an allow-list when configured, 403 for a cross-site upgrade,
// 426 for another protocol version — and the connection's events go to a
// Handler: OnOpen, OnMessage, OnClose. Dial opens a client connection and
// resolves a Future; a Dial that times out or is cancelled never reaches
// its Handler, and its socket is closed. Both sides share Conn, which
// reads frames through the stream's ReadScanner (wire.go parses headers
// and rejects a bad frame before its payload arrives), assembles
// fragmented messages, answers pings,
// validates text as UTF-8 across fragment boundaries (text.go, failing
// with 1007 as soon as a sequence is certainly invalid), enforces the
// message size limit (1009), runs the closing handshake with a deadline
// (reading the peer's reply even when Close was called from OnOpen, and
// lingering after a protocol error so a reset cannot destroy the close
// frame), and pings idle peers so dead ones are found and closed.
//
// Compression (compress.go) is negotiated without context takeover in
// both directions, so idle connections hold no compression state and a
// broadcast is compressed once. PreparedMessage frames a message once and
// writes the same bytes to every connection — one write system call each
// when the socket has room — and Group (a room's members) broadcasts it,
// warming each batch of connections' memory before writing to them
// (group.go says why). A peer that falls more than
// Options.MaxPendingWriteBytes behind is dropped (reported as 1013) rather
// than buffered without bound; it resumes from history when it returns.
// Behind counts the earlier writes still queued when the next one comes,
// so one message larger than the bound still reaches a peer that reads.
//
// Goroutines: everything here is loop-owned. Upgrade, Dial and every Conn
// method must be called on the loop, and Handler methods run there. An
// idle connection holds no read buffer and no goroutine.
package websocket
