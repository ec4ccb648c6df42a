package static

import "embed"

// FS holds the static files, rooted so "css/app.css" is the stylesheet and
// "js/app.js" the browser client's entry module (and "img/icon.svg" the
// site's icon). It is read-only and safe
// to use from any goroutine.
//
//go:embed css js img
var FS embed.FS
