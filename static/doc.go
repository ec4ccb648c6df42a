// Package static holds the browser-side files, the stylesheet and the
// browser client, embedded into the binary (FS) so the server runs from
// one file.
//
// How it is organised:
//
//   - css/app.css: the one stylesheet, plain CSS.
//   - js/: the browser client, plain ES modules importing each other by
//     relative URL ("./transport.js"). There is no build step: the files
//     served are the files written here.
//   - app.js: the entry, loaded on every page by <script type="module">;
//     it shows times in the reader's zone and starts room.js on a room
//     page (body[data-page="room"]).
//   - room.js: the room client: wires the modules below to the server
//     rendered page (views/room.templ), presence, typing, the composer,
//     edit/delete/report, scroll-back, the connection indicator and
//     window.chatClient (read by the e2e tests).
//   - transport.js: the connection, WebSocket then Server-Sent Events
//     then long poll, with backoff, fallback, upgrade and resume by
//     cursor (docs/protocol.md).
//   - timeline.js: renders and applies events to ol#timeline with the
//     markup of views/room.templ, by createElement and textContent only.
//   - outbox.js: messages not yet acknowledged, kept in sessionStorage and
//     resent with their keys until acknowledged.
//   - text.js: links and mentions, the rules of views/text.go.
//   - util.js: shared helpers (JSON calls with the XSRF header, times,
//     client keys).
//
// URLs are versioned by the web layer, Tornado's static_url: pages link the
// entry module and the stylesheet as /static/js/app.js?v=HASH, which the
// browser may cache for a year. The modules app.js imports are fetched by
// their plain URLs and revalidated with their ETags (a 304 when unchanged),
// so a deploy never mixes old and new modules for long.
//
// FS is read-only and safe to use from any goroutine.
package static
