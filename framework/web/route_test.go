package web

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func testRouter(t testing.TB) *Router {
	t.Helper()
	r, err := NewRouter(
		Route{Name: "home", Pattern: "/"},
		Route{Name: "rooms", Pattern: "/rooms/"},
		Route{Name: "room", Pattern: "/rooms/{name}", Settings: "room-settings"},
		Route{Name: "message", Pattern: "/rooms/{name}/messages/{id}"},
		Route{Name: "static", Pattern: "/static/{path...}"},
		Route{Name: "spaced", Pattern: "/a b/{x}"},
		Route{Pattern: "/unnamed"},
	)
	if err != nil {
		t.Fatalf("NewRouter: %v", err)
	}
	return r
}

func TestRouterMatch(t *testing.T) {
	r := testRouter(t)
	tests := []struct {
		name   string
		path   string
		route  string // "" means no match expected
		params Params
	}{
		{"root matches only slash", "/", "home", nil},
		{"trailing slash literal", "/rooms/", "rooms", nil},
		{"missing trailing slash does not match", "/rooms", "", nil},
		{"named parameter", "/rooms/general", "room", Params{{"name", "general"}}},
		{"parameter is percent-decoded", "/rooms/caf%C3%A9", "room", Params{{"name", "café"}}},
		{"encoded slash stays inside one parameter", "/rooms/a%2Fb", "room", Params{{"name", "a/b"}}},
		{"plus is not a space in paths", "/rooms/a+b", "room", Params{{"name", "a+b"}}},
		{"two parameters", "/rooms/x/messages/42", "message", Params{{"name", "x"}, {"id", "42"}}},
		{"extra segment does not match", "/rooms/x/messages/42/more", "", nil},
		{"empty parameter does not match", "/rooms//messages/1", "", nil},
		{"literal compared after decoding", "/r%6Foms/x", "room", Params{{"name", "x"}}},
		{"dot parameter does not match", "/rooms/..", "", nil},
		{"encoded dot parameter does not match", "/rooms/%2e%2E", "", nil},
		{"malformed escape does not match", "/rooms/%zz", "", nil},
		{"catch-all takes the rest", "/static/css/app.css", "static", Params{{"path", "css/app.css"}}},
		{"catch-all may be empty", "/static/", "static", Params{{"path", ""}}},
		{"catch-all needs its slash", "/static", "", nil},
		{"catch-all decodes each segment", "/static/a%20b/c", "static", Params{{"path", "a b/c"}}},
		{"catch-all refuses encoded slash", "/static/a%2Fb", "", nil},
		{"catch-all refuses dot segments", "/static/a/../b", "", nil},
		{"catch-all refuses encoded dot segments", "/static/%2e%2e/b", "", nil},
		{"catch-all keeps empty segments", "/static/a//b", "static", Params{{"path", "a//b"}}},
		{"literal with space", "/a%20b/1", "spaced", Params{{"x", "1"}}},
		{"unnamed route matches", "/unnamed", "", nil},
		{"relative path does not match", "rooms/x", "", nil},
		{"empty path does not match", "", "", nil},
		{"unknown path", "/nope", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			route, params, ok := r.Match(tt.path)
			if tt.route == "" {
				if ok && route.Pattern != "/unnamed" {
					t.Fatalf("Match(%q) = %q %v, want no match", tt.path, route.Pattern, params)
				}
				return
			}
			if !ok {
				t.Fatalf("Match(%q): no match, want route %q", tt.path, tt.route)
			}
			if route.Name != tt.route || !slices.Equal(params, tt.params) {
				t.Fatalf("Match(%q) = %q %v, want %q %v", tt.path, route.Name, params, tt.route, tt.params)
			}
		})
	}
}

func TestRouterMatchReturnsSettings(t *testing.T) {
	route, _, ok := testRouter(t).Match("/rooms/x")
	if !ok || route.Settings != "room-settings" {
		t.Fatalf("got %+v, want the room route's settings", route)
	}
}

func TestRouterFirstMatchWins(t *testing.T) {
	r, err := NewRouter(
		Route{Name: "special", Pattern: "/rooms/new"},
		Route{Name: "room", Pattern: "/rooms/{name}"},
	)
	if err != nil {
		t.Fatal(err)
	}
	if route, _, _ := r.Match("/rooms/new"); route.Name != "special" {
		t.Errorf("got %q, want the earlier route", route.Name)
	}
	if route, params, _ := r.Match("/rooms/old"); route.Name != "room" || params.Get("name") != "old" {
		t.Errorf("got %q %v, want room old", route.Name, params)
	}
}

func TestNewRouterRejectsBadPatterns(t *testing.T) {
	tests := []struct {
		name    string
		routes  []Route
		wantErr error
	}{
		{"relative pattern", []Route{{Pattern: "rooms"}}, ErrBadPattern},
		{"partial-segment parameter", []Route{{Pattern: "/rooms/x{name}"}}, ErrBadPattern},
		{"unclosed parameter", []Route{{Pattern: "/rooms/{name"}}, ErrBadPattern},
		{"stray brace", []Route{{Pattern: "/rooms/}"}}, ErrBadPattern},
		{"catch-all not last", []Route{{Pattern: "/{path...}/x"}}, ErrBadPattern},
		{"non-identifier name", []Route{{Pattern: "/{1x}"}}, ErrBadPattern},
		{"empty name", []Route{{Pattern: "/{}"}}, ErrBadPattern},
		{"repeated name", []Route{{Pattern: "/{a}/{a}"}}, ErrBadPattern},
		{"escaped literal", []Route{{Pattern: "/a%20b"}}, ErrBadPattern},
		{"empty middle segment", []Route{{Pattern: "/a//b"}}, ErrBadPattern},
		{"dot segment", []Route{{Pattern: "/a/../b"}}, ErrBadPattern},
		{"duplicate route name", []Route{{Name: "x", Pattern: "/a"}, {Name: "x", Pattern: "/b"}}, ErrDuplicateRoute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewRouter(tt.routes...); !errors.Is(err, tt.wantErr) {
				t.Fatalf("NewRouter(%+v) error = %v, want %v", tt.routes, err, tt.wantErr)
			}
		})
	}
}

func TestRouterReverse(t *testing.T) {
	r := testRouter(t)
	tests := []struct {
		name    string
		route   string
		values  []string
		want    string
		wantErr error
	}{
		{"no parameters", "home", nil, "/", nil},
		{"trailing slash kept", "rooms", nil, "/rooms/", nil},
		{"plain value", "room", []string{"general"}, "/rooms/general", nil},
		{"slash in named parameter is escaped", "room", []string{"a/b"}, "/rooms/a%2Fb", nil},
		{"query and fragment characters escaped", "room", []string{"a?b#c"}, "/rooms/a%3Fb%23c", nil},
		{"non-ASCII escaped", "room", []string{"café"}, "/rooms/caf%C3%A9", nil},
		{"percent escaped", "room", []string{"100%"}, "/rooms/100%25", nil},
		{"two parameters", "message", []string{"x", "7"}, "/rooms/x/messages/7", nil},
		{"catch-all keeps slashes", "static", []string{"css/a b.css"}, "/static/css/a%20b.css", nil},
		{"empty catch-all", "static", []string{""}, "/static/", nil},
		{"literal escaped", "spaced", []string{"1"}, "/a%20b/1", nil},
		{"unknown route", "nope", nil, "", ErrUnknownRoute},
		{"missing parameter", "message", []string{"x"}, "", ErrMissingParam},
		{"extra parameter", "room", []string{"x", "y"}, "", ErrExtraParam},
		{"empty named parameter", "room", []string{""}, "", ErrInvalidParam},
		{"dot-dot named parameter", "room", []string{".."}, "", ErrInvalidParam},
		{"dot segment in catch-all", "static", []string{"a/../b"}, "", ErrInvalidParam},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := r.Reverse(tt.route, tt.values...)
			if !errors.Is(err, tt.wantErr) || got != tt.want {
				t.Fatalf("Reverse(%q, %q) = %q, %v; want %q, %v", tt.route, tt.values, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestRouterReverseMatchRoundTrip(t *testing.T) {
	r := testRouter(t)
	for _, value := range []string{"a", "a/b", "%2F", "café", "a b", "?#", ";,", "+", "..."} {
		path, err := r.Reverse("room", value)
		if err != nil {
			t.Fatalf("Reverse(room, %q): %v", value, err)
		}
		route, params, ok := r.Match(path)
		if !ok || route.Name != "room" || params.Get("name") != value {
			t.Errorf("Match(Reverse(room, %q) = %q) = %v %v, want %q back", value, path, ok, params, value)
		}
	}
}

func TestRouterMatchAllocations(t *testing.T) {
	r := testRouter(t)
	tests := []struct {
		path string
		max  float64
	}{
		{"/", 0},
		{"/rooms/general", 1},
		{"/rooms/x/messages/42", 1},
		{"/nope/nothing/here", 0},
	}
	for _, tt := range tests {
		if got := testing.AllocsPerRun(100, func() { r.Match(tt.path) }); got > tt.max {
			t.Errorf("Match(%q) allocates %v times, want at most %v", tt.path, got, tt.max)
		}
	}
}

func BenchmarkRouterMatch(b *testing.B) {
	r := testRouter(b)
	b.ReportAllocs()
	for b.Loop() {
		r.Match("/rooms/general/messages/42")
	}
}

// FuzzRouterMatch checks that matching never panics, that every match's
// parameters survive Reverse and a second Match unchanged, and that no
// parameter is ever a dot segment.
func FuzzRouterMatch(f *testing.F) {
	for _, seed := range []string{
		"/", "/rooms/", "/rooms/x", "/rooms/a%2Fb", "/rooms/x/messages/1",
		"/static/a/b/c", "/static/", "/static/%2e%2e/x", "/static/a%2fb", "/rooms/%zz",
		"/a%20b/%00", "//", "", "/static/a//b",
	} {
		f.Add(seed)
	}
	r := testRouter(f)
	f.Fuzz(func(t *testing.T, path string) {
		route, params, ok := r.Match(path)
		if !ok || route.Name == "" {
			return
		}
		for _, p := range params {
			if route.Name != "static" && (p.Value == "" || isDotSegment(p.Value)) {
				t.Fatalf("Match(%q) gave parameter %q = %q", path, p.Name, p.Value)
			}
		}
		rebuilt, err := r.Reverse(route.Name, params.Values()...)
		if err != nil {
			t.Fatalf("Match(%q) = %s %v, but Reverse fails: %v", path, route.Name, params, err)
		}
		route2, params2, ok := r.Match(rebuilt)
		if !ok || route2 != route || !slices.Equal(params, params2) {
			t.Fatalf("round trip %q -> %s %v -> %q -> %v %v", path, route.Name, params, rebuilt, route2, params2)
		}
		// A path made only of characters Reverse never escapes must come
		// back byte for byte.
		if isUnescapedPath(path) && rebuilt != path {
			t.Fatalf("Reverse(Match(%q)) = %q", path, rebuilt)
		}
	})
}

// isUnescapedPath reports whether s holds only characters url.PathEscape
// leaves alone, plus slashes.
func isUnescapedPath(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		if !alnum && !strings.ContainsRune("-._~:@&=+$/", rune(c)) {
			return false
		}
	}
	return true
}
