// Package e2e tests the chat as people use it: the real server binary,
// built from ./cmd/chat, driven by real headless Chromium browsers over
// loopback. It holds no code of its own outside its tests.
//
// What it checks, each scenario in its own test with its own server and
// data directory:
//
//   - two signed-up users chat live both ways in the lobby;
//   - a guest whose browser has no WebSocket (window.WebSocket throws)
//     chats over Server-Sent Events or long polling;
//   - a server restart mid-conversation: the pages reconnect and every
//     message shows exactly once, with no gap;
//   - a message sent while the server is down shows as pending and is
//     delivered once when it is back, also across a reload of the page
//     (the outbox in sessionStorage);
//   - markup in messages, a room's title and topic shows as text and never
//     runs; links get rel="noopener noreferrer nofollow";
//   - the author edits and deletes a message and the other page follows;
//   - the room page fits and works on a 360 px wide screen;
//   - the security headers (Content-Security-Policy and friends).
//
// The tests are written against the page contract: the element ids,
// classes and data attributes of the room page, the forms, and
// window.chatClient. Every wait is bounded (15 s a step) and waits for a
// condition in the page, never for time to pass.
//
// # Running
//
//	go test ./e2e/
//	E2E_RACE=1 go test ./e2e/   # the server under test built with -race
//
// The server is built without the race detector unless E2E_RACE=1, also
// under go test -race: its bcrypt then takes seconds a sign-up, slow for
// CI. Its races are for the in-process tests of its packages, which run
// with -race; a race the server reports under E2E_RACE=1 fails the test.
//
// TestMain builds the server once into a temporary directory. Each person
// is a browser of their own (own profile, cookies and sessionStorage). The
// server's output and the pages' console are in the test log (-v, or on a
// failure); an uncaught exception or a Content-Security-Policy violation
// on a page fails the test.
//
// The browser is $E2E_CHROME, else chromium, chromium-browser or
// google-chrome. Without one the browser tests skip ("e2e: no Chromium
// found"); install it with `apt-get install chromium`, as .ci/run does.
// Tests that need no browser (the security headers) run anyway.
//
// E2E_SCREENSHOT=1 makes TestTwoUsersChatLive write docs/screenshot.png, a
// full-page picture of the lobby with both users' messages at 1200x800:
//
//	E2E_SCREENSHOT=1 go test -run TestTwoUsersChatLive ./e2e/
package e2e
