package main

import (
	"chat/framework/web"
	"chat/framework/websocket"
)

// websocketRoutes serves the WebSocket echo at /ws: every text and binary
// message comes back verbatim, so Autobahn-style suites and strict clients
// can be run against the framework. Limits are generous (16 MiB messages)
// as conformance suites expect; compression is offered.
func websocketRoutes() []web.Spec {
	opts := &websocket.Options{ // shared by every connection
		MaxMessageSize:       16 << 20,
		MaxPendingWriteBytes: 64 << 20,
	}
	return []web.Spec{{Name: "ws", Pattern: "/ws", New: func() web.Handler { return wsEchoHandler{opts} }}}
}

type wsEchoHandler struct{ opts *websocket.Options }

// Get upgrades the request; the connection lives on without the handler.
func (h wsEchoHandler) Get(c *web.Context) {
	websocket.Upgrade(c.Response(), c.Request(), wsEcho{}, h.opts)
}

// wsEcho echoes every message.
type wsEcho struct{}

func (wsEcho) OnOpen(*websocket.Conn) {}

func (wsEcho) OnMessage(c *websocket.Conn, op websocket.Opcode, data []byte) {
	c.WriteMessage(op, data)
}

func (wsEcho) OnClose(*websocket.Conn, int, string) {}
