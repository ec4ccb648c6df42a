package rooms

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzCheckBody: whatever the input, an accepted body is valid UTF-8,
// trimmed, 1 to MaxBodyChars characters, without control characters but
// newline and tab; a refusal has a code the protocol lists.
func FuzzCheckBody(f *testing.F) {
	for _, seed := range []string{"hello", "  hi  ", "", "\x00", "a\nb\tc", "\xff", strings.Repeat("é", MaxBodyChars+1), "\u200b", "a\u0085b"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		got, r := checkBody(body)
		if r != nil {
			if r.Code != "invalid" && r.Code != "too_long" {
				t.Fatalf("refusal code %q", r.Code)
			}
			if got != "" {
				t.Fatalf("refused but returned %q", got)
			}
			return
		}
		n := utf8.RuneCountInString(got)
		if !utf8.ValidString(got) || n < 1 || n > MaxBodyChars || got != strings.TrimSpace(got) {
			t.Fatalf("accepted %q (%d characters)", got, n)
		}
		for _, c := range got {
			if unicode.IsControl(c) && c != '\n' && c != '\t' {
				t.Fatalf("accepted a control character %U in %q", c, got)
			}
		}
	})
}

// The edges of the body rules, by characters (not bytes).
func TestCheckBodyEdges(t *testing.T) {
	cases := []struct {
		body string
		code string // "" accepted
	}{
		{"hello", ""},
		{" \t\n ", "invalid"},
		{strings.Repeat("é", MaxBodyChars), ""},
		{strings.Repeat("é", MaxBodyChars+1), "too_long"},
		{"  " + strings.Repeat("a", MaxBodyChars) + "  ", ""},
		{"line one\nline two\tend", ""},
		{"bell\a", "invalid"},
		{"nul\x00", "invalid"},
		{"del\x7f", "invalid"},
		{"c1\u0085x", "invalid"},
		{"bad \xff utf-8", "invalid"},
	}
	for _, c := range cases {
		_, r := checkBody(c.body)
		code := ""
		if r != nil {
			code = r.Code
		}
		if code != c.code {
			t.Errorf("checkBody(%.20q...): %q; want %q", c.body, code, c.code)
		}
	}
}
