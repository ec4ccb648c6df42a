// Package static holds the browser-side files (styles and scripts),
// embedded into the binary so the server runs from one file. The web
// layer serves them with content-hashed URLs, cached for a year.
package static

import "embed"

// FS holds the static files, rooted so "css/app.css" is the stylesheet.
//
//go:embed css
var FS embed.FS
