// Package tcpserver accepts TCP connections on the event loop and opens
// client connections without blocking it: the counterpart of Tornado's
// tornado.tcpserver.TCPServer and tornado.tcpclient.TCPClient.
//
// A Server listens on one or more addresses (IPv4, IPv6, optionally with
// SO_REUSEPORT so several processes share a port), accepts on the loop and
// hands each connection, wrapped in an iostream.Stream, to its Handler. It
// bounds the connections open at once: one over the limit is accepted and
// closed at once, and counted, rather than left to rot in the kernel's
// queue. Connect dials without blocking and resolves a Future with a
// stream; it gives up after ConnectOptions.Timeout (20 s by default), and
// a connection made after it gave up or was cancelled is closed, never
// delivered.
//
// Goroutines: configure a Server before Listen; after that its methods are
// loop-only, and its Handler runs on the loop.
package tcpserver
