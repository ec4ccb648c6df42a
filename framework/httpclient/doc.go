// Package httpclient is an asynchronous HTTP/1.1 client on the event
// loop: the counterpart of Tornado's tornado.httpclient.AsyncHTTPClient in
// its simple_httpclient form (HTTP/1.1 over the framework's own streams).
//
// A Client fetches a Request and resolves a concurrent.Future with the
// final Response: Client.Fetch, or the package's Fetch for a one-off
// request. It keeps a pool per host (scheme, host, port and TLS
// configuration) of keep-alive connections: at most MaxConnsPerHost open,
// MaxIdleConnsPerHost kept idle for reuse (closed after IdleTimeout, or at
// once when the server closes them); fetches beyond the bound wait, first
// in first out, in a queue of MaxQueuedPerHost, and fail with ErrQueueFull
// past it. A connection is reused only when the server allows it (HTTP/1.1
// without Connection: close, or HTTP/1.0 keep-alive), the body was framed
// by length and read whole, and nothing followed it. An idempotent request
// that finds its reused connection closed by the server before any
// response byte is sent once more on a new one (the server's idle close
// racing our reuse); a POST is not.
//
// Responses are read with the server's parsers (httpserver.HeadScanner,
// httpserver.ParseResponseHead, httpserver.ChunkedDecoder), with the
// server's strictness: no obs-fold, bare CR or LF, invalid bytes, only
// HTTP/1.0 and 1.1, Transfer-Encoding exactly chunked, Content-Length
// digits only and never conflicting. Framing follows RFC 9112 §6.3: no
// body for HEAD, 1xx, 204 and 304; chunked wins over Content-Length (and
// the connection is then not reused); then Content-Length; otherwise the
// body runs to the server's close. Interim 1xx responses (100 Continue,
// 103 Early Hints; at most 5) are skipped; a 101 ends the exchange and the
// connection. Status codes are not errors (check Response.Code).
// Redirects are followed up to MaxRedirects (5): 301 and 302 turn a POST
// into a GET, 303 anything but HEAD, dropping the body; 307 and 308 keep
// method and body; credentials are not sent to another host or from https
// to http. gzip is asked for and decoded unless DisableGzip. Everything is
// bounded: the connect (ConnectTimeout, 20 s), the whole fetch
// (RequestTimeout, 60 s, queue wait, connects and redirects included),
// the body before and after decoding (MaxBodySize, 64 MiB), the head
// (Options.Limits). Each failure has its error (ErrConnectTimeout,
// ErrRequestTimeout, ErrConnect, ErrConnectionClosed, ErrBodyTooLarge,
// ErrTooManyRedirects, ErrQueueFull, ErrClientClosed, ErrInvalidRequest,
// *ProtocolError), wrapped with the method and URL, for errors.Is and
// errors.As. Cancelling a fetch's future abandons it: its connection is
// closed, a connect in progress abandoned, its place in the queue given
// up, and nothing else resolves.
//
// # TLS, and what it costs
//
// https uses crypto/tls; nothing here does cryptography. A plain http
// connection is the loop's: a non-blocking socket in epoll, read and
// written by an iostream.Stream like the server's connections. crypto/tls
// wants a blocking net.Conn, and its handshake cannot be resumed
// piecewise from a loop callback, so an https connection runs beside the
// loop instead: a goroutine dials and handshakes (bounded by
// ConnectTimeout), then two goroutines per connection do the blocking
// tls.Conn Read and Write. The reader hands each plaintext chunk (up to
// 64 KiB) to the loop with AddCallback and waits until the loop has
// consumed it, so the loop paces it and one chunk per connection is in
// flight; the writer takes requests from a bounded queue, so the loop
// never blocks. The response parsing, pooling, redirects and timeouts are
// the same code on the loop for both. Closing an https connection closes
// its TCP socket, which ends both goroutines at once (no close_notify:
// HTTP framing never relies on it, and sending it could block).
//
// The cost, then: per https connection two goroutines (about 8 KB of
// stack), a 16 KiB plaintext buffer and crypto/tls's own buffers, and a
// handoff through AddCallback per chunk read (about a microsecond). The
// crypto runs on those goroutines, off the loop: a new connection's
// handshake measured 2.5 to 3.1 ms per fetch in BenchmarkFetch
// (https-new-conn, client and server on the same 2 cores; net/http's
// client 2.6 to 2.9 ms), and the record layer (AES-GCM with hardware
// support) runs at GB/s per core, so bulk transfer costs little beyond
// the copy. Those goroutines compete with the loop for the CPU: with 64
// busy https connections on 2 cores the loop was now and then descheduled
// for 100 to 150 ms inside a callback (logged as slow callbacks), and
// keep-alive https at 64 in flight ran at 0.7 to 1 times net/http's rate
// where plain http runs at 1.7 to 2.5 times it. The loop's rule of no
// goroutine per connection holds for plain http only; a program that
// keeps thousands of https connections pays the goroutines, a trade this
// package makes for the simplest correct use of crypto/tls. gzip decoding
// runs on the loop (hundreds of MB/s): a large compressed body costs the
// loop that time, bounded by MaxBodySize.
//
// # Goroutines
//
// A Client is loop-owned: NewClient, Fetch, Stats and Close, and every
// future's callbacks, run on the loop (AssertOnLoop checks it in -race
// builds); other goroutines hand a fetch to the loop with AddCallback. A
// Request must not change until its fetch resolves; a Response belongs to
// whoever receives it. Close the client before its loop, so the
// goroutines of https connections end with them.
package httpclient
