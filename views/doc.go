// Package views holds the chat's HTML as templ components: each .templ file
// sits beside the _templ.go that `go tool templ generate` makes from it,
// and both are committed. Components only present what they are given;
// they import nothing from the framework, the store or the chat domain.
//
// How it is organised:
//
//   - roomdata.go: the data types of the room list and the room page
//     (RoomListData, RoomPageData and their parts). The page handlers fill
//     them; nothing here reads a store or a hub.
//   - layout.templ: Page, the shell's data, and Layout, the HTML shell every
//     page renders inside (head with the versioned stylesheet and script
//     module, the header with who is signed in, main#content); UserName,
//     the one way a user's name appears (guests marked with .badge-guest).
//   - one templ file per page: home.templ, guest.templ, rooms.templ
//     (RoomList) and room.templ (RoomPage, with MessageItem, NoticeItem
//     and MessageBody).
//   - text.go: the rules for message text: Segments (which parts of a body
//     are http and https links) and Mentions (whether a body mentions a
//     user). MessageBody renders a body with them: text escaped, links as
//     <a rel="noopener noreferrer nofollow" target="_blank">.
//
// The room page's markup is a contract (the browser client and the e2e
// tests rely on its ids and classes): static/js/timeline.js renders the
// same markup for live events, and static/js/text.js repeats the rules of
// text.go. Change them together.
//
// The pages carry no inline script, style or event handler: the Content
// Security Policy forbids them. User text is only ever rendered through
// templ's escaping, never with templ.Raw; the only raw HTML is the hidden
// XSRF field the web layer makes.
//
// The web layer renders components on the loop (a templ component
// satisfies web's Render(ctx, w) interface), so they must not block. They
// hold no state: rendering is safe from any goroutine.
package views
