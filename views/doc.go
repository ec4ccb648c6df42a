// Package views holds the chat's HTML as templ components: each .templ file
// sits beside the _templ.go that `go tool templ generate` makes from it,
// and both are committed. Components only present what they are given;
// they import nothing from the framework, the store or the chat domain.
// The web layer renders them on the loop (a templ component satisfies
// web's Render(ctx, w) interface), so they must not block.
package views
