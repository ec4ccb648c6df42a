// Package httpserver is an HTTP/1.1 server on the event loop: the
// counterpart of Tornado's tornado.httpserver.HTTPServer together with
// tornado.http1connection.HTTP1Connection.
//
// A Server accepts connections through tcpserver and runs one small state
// machine per connection (conn.go): wait for a request head (idle), read it
// with HeadScanner and ParseRequestHead, read the body (Content-Length in
// pieces, or chunked with ChunkedDecoder), hand the Request to the Handler,
// write the response, and once the kernel has taken all of it read the
// next head while keep-alive allows. Requests on one connection are served
// one at a time, so pipelined requests are answered in order, and a client
// that pipelines without reading has at most one response queued. Once an
// error or a timeout has been answered (400, 408, ...), nothing more is
// dispatched on the connection: it sends FIN, discards what the client
// still sends for at most LingerTimeout, and closes.
//
// The parsers enforce RFC 9112's framing rules strictly — a missing or
// repeated Host, Transfer-Encoding with Content-Length, any coding but a
// final chunked, duplicate or malformed lengths, obs-fold, bare CR or LF,
// space before a colon, invalid bytes — answering 400 and closing, so no
// request can be smuggled past a proxy that reads it differently. Limits
// bound the request line (414), the header section (431), the body (413);
// MaxBodyBytesInFlight bounds the body bytes held across all connections
// (503, body unread), and a body's buffer grows as its bytes arrive rather
// than to the length its head declares. Timeouts bound reading heads (from
// a request's first byte), bodies, idle keep-alive waits and the close
// linger, each its own deadline, so a slow client never holds a connection
// forever.
//
// A Handler gets a ResponseWriter: Write buffers into a pooled buffer with
// room for the head in front, and Finish sends head and body in one write
// from that buffer, without copying the body, with Content-Length, a Date,
// an ETag (304 when If-None-Match matches) and gzip when the client accepts
// it and the handler has not encoded the body itself (Content-Encoding);
// Flush streams with chunked encoding instead. A handler may return before
// finishing and call Finish later from any loop callback — a long poll
// parks this way, and OnConnectionClose tells it when the client leaves
// first (either Finish completes or the close hooks run, never both).
// Hijack hands the connection to a WebSocket.
//
// Goroutines: everything here runs on the loop, except the access-log
// writer, one goroutine per Server that writes the lines the loop queues
// (bounded; drops are counted by AccessLogDropped), so a slow log pipe
// never stalls the loop. Handlers must not block; blocking work goes to an
// executor and finishes the response from the future's callback. The
// parsers (HeadScanner, ParseRequestHead, ChunkedDecoder,
// AppendResponseHead) are plain functions over bytes, usable and fuzzable
// on their own.
package httpserver
