package e2e

import (
	"strings"
	"testing"
)

// TestHarness checks the harness itself on pages that exist from the start:
// the server starts and answers, a browser loads /guest and signs in.
func TestHarness(t *testing.T) {
	srv := startServer(t)
	for _, path := range []string{"/", "/guest"} {
		if resp, body := srv.get(path); resp.StatusCode != 200 || !strings.Contains(body, "<html") {
			t.Fatalf("GET %s: %d\n%s", path, resp.StatusCode, body)
		}
	}
	b := newBrowser(t, srv, "gus")
	b.joinAsGuest("gus")
	if got := eval[string](b, "location", "location.pathname"); got != "/" {
		t.Fatalf("after /guest the browser is at %q, want /", got)
	}
}
