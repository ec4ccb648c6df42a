package views

import (
	"reflect"
	"strings"
	"testing"
)

func TestSegments(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []Segment
	}{
		{"empty", "", nil},
		{"plain text", "hello there", []Segment{{Text: "hello there"}}},
		{"link alone", "https://example.com/a?b=c#d", []Segment{{URL: "https://example.com/a?b=c#d"}}},
		{"link in text", "see http://example.com now", []Segment{{Text: "see "}, {URL: "http://example.com"}, {Text: " now"}}},
		{"trailing full stop", "go to https://example.com.", []Segment{{Text: "go to "}, {URL: "https://example.com"}, {Text: "."}}},
		{"trailing punctuation run", "https://example.com/x?!.,;:", []Segment{{URL: "https://example.com/x"}, {Text: "?!.,;:"}}},
		{"inner punctuation kept", "https://example.com/a.b,c;d", []Segment{{URL: "https://example.com/a.b,c;d"}}},
		{"unbalanced paren", "(see https://example.com/x)", []Segment{{Text: "(see "}, {URL: "https://example.com/x"}, {Text: ")"}}},
		{"balanced paren kept", "https://en.wikipedia.org/wiki/Go_(game)", []Segment{{URL: "https://en.wikipedia.org/wiki/Go_(game)"}}},
		{"balanced paren then stop", "(https://w.org/Go_(game)).", []Segment{{Text: "("}, {URL: "https://w.org/Go_(game)"}, {Text: ")."}}},
		{"two links", "http://a.io https://b.io", []Segment{{URL: "http://a.io"}, {Text: " "}, {URL: "https://b.io"}}},
		{"scheme alone", "http:// nothing", []Segment{{Text: "http:// nothing"}}},
		{"scheme and punctuation", "https://.", []Segment{{Text: "https://."}}},
		{"javascript stays text", "javascript:alert(1)", []Segment{{Text: "javascript:alert(1)"}}},
		{"data stays text", "data:text/html,<script>", []Segment{{Text: "data:text/html,<script>"}}},
		{"ftp stays text", "ftp://example.com", []Segment{{Text: "ftp://example.com"}}},
		{"uppercase scheme stays text", "HTTP://EXAMPLE.COM", []Segment{{Text: "HTTP://EXAMPLE.COM"}}},
		{"glued to a word", "xhttp://a.io", []Segment{{Text: "xhttp://a.io"}}},
		{"after punctuation", "<https://a.io>", []Segment{{Text: "<"}, {URL: "https://a.io"}, {Text: ">"}}},
		{"stops at quote", `"https://a.io/" onmouseover="x"`, []Segment{{Text: `"`}, {URL: "https://a.io/"}, {Text: `" onmouseover="x"`}}},
		{"stops at newline", "https://a.io\nnext", []Segment{{URL: "https://a.io"}, {Text: "\nnext"}}},
		{"unicode path", "https://a.io/café ok", []Segment{{URL: "https://a.io/café"}, {Text: " ok"}}},
		{"link with javascript in query", "https://a.io/?u=javascript:x", []Segment{{URL: "https://a.io/?u=javascript:x"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Segments(tt.body)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Segments(%q) = %#v, want %#v", tt.body, got, tt.want)
			}
		})
	}
}

func FuzzSegments(f *testing.F) {
	for _, seed := range []string{
		"", "hello", "see https://example.com.", "(http://a.io/x_(y)))", "http://", "https://.",
		"javascript:alert(1)", "xhttp://a", "https://a.io\x00b", "http://ä.de/ü?", "@ada hi",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var b strings.Builder
		for _, s := range Segments(body) {
			if (s.URL == "") == (s.Text == "") {
				t.Fatalf("segment %#v: want exactly one of Text and URL", s)
			}
			if s.URL != "" {
				if !strings.HasPrefix(s.URL, "http://") && !strings.HasPrefix(s.URL, "https://") {
					t.Fatalf("URL %q is not http(s)", s.URL)
				}
				if strings.ContainsAny(s.URL, " \t\n<>\"'`") {
					t.Fatalf("URL %q holds a character that ends links", s.URL)
				}
			}
			b.WriteString(s.Text + s.URL)
		}
		if b.String() != body {
			t.Fatalf("segments join to %q, want %q", b.String(), body)
		}
	})
}

func TestMentions(t *testing.T) {
	tests := []struct {
		name, body, user string
		want             bool
	}{
		{"exact", "@ada hi", "ada", true},
		{"end of body", "hi @ada", "ada", true},
		{"case-insensitive", "hi @ADA!", "ada", true},
		{"name case-insensitive", "hi @ada", "Ada", true},
		{"followed by punctuation", "@ada, look", "ada", true},
		{"followed by comma-less letter", "@adam hi", "ada", false},
		{"followed by dot", "@ada.b", "ada", false},
		{"followed by dash", "@ada-b", "ada", false},
		{"followed by underscore", "@ada_", "ada", false},
		{"followed by digit", "@ada2", "ada", false},
		{"no at sign", "ada hi", "ada", false},
		{"second occurrence", "@adam and @ada", "ada", true},
		{"inside an email", "mail bob@ada now", "ada", true},
		{"name with dot", "hi @a.b", "a.b", true},
		{"non-ASCII not folded", "@\u212ada", "kda", false},
		{"empty name", "@ hi", "", false},
		{"empty body", "", "ada", false},
		{"at sign at end", "ada@", "ada", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Mentions(tt.body, tt.user); got != tt.want {
				t.Errorf("Mentions(%q, %q) = %v, want %v", tt.body, tt.user, got, tt.want)
			}
		})
	}
}
