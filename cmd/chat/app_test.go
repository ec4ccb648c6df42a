package main

import (
	"context"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"chat/framework/asynctest"
	"chat/framework/ioloop"
	"chat/framework/web"
	"chat/store"
)

// startChatApp serves the chat's application, as newApp builds it for
// main, on a loop of the test's own, with a fresh store and secrets in a
// temporary data directory: Tornado's AsyncHTTPTestCase.get_app. The store
// is closed after the loop, which may still have executor work using it.
func startChatApp(t *testing.T) *asynctest.Server {
	t.Helper()
	dataDir := t.TempDir()
	st, err := store.Open(context.Background(), store.Config{Path: filepath.Join(dataDir, "chat.db")})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if err := ensureAdmin(context.Background(), st, bcrypt.MinCost, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := ensureLobby(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	sec, err := loadOrCreateSecrets(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	return asynctest.StartAppFunc(t, nil, func(loop *ioloop.Loop) (*web.Application, error) {
		a, err := newApp(loop, st, sec, appOptions{AllowGuests: true, BcryptCost: bcrypt.MinCost})
		if err != nil {
			return nil, err
		}
		return a.web, nil
	})
}

// The room list is the home page: it lists the lobby and links a
// stylesheet, a script module and an icon by versioned URLs served as immutable.
func TestRoomListLinksVersionedAssets(t *testing.T) {
	s := startChatApp(t)
	home := s.Get("/")
	if home.Status != 200 || !strings.Contains(home.Body, `data-room="lobby"`) {
		t.Fatalf("home page: %d\n%s", home.Status, home.Body)
	}
	for _, pattern := range []string{
		`<link rel="stylesheet" href="(/static/css/app\.css\?v=[0-9a-f]+)"`,
		`<script type="module" src="(/static/js/app\.js\?v=[0-9a-f]+)"`,
		`<link rel="icon" type="image/svg\+xml" href="(/static/img/icon\.svg\?v=[0-9a-f]+)"`,
	} {
		link := regexp.MustCompile(pattern).FindStringSubmatch(home.Body)
		if link == nil {
			t.Errorf("home page has no %s:\n%s", pattern, home.Body)
			continue
		}
		asset := s.Get(link[1])
		if asset.Status != 200 || !strings.Contains(asset.Header.Get("Cache-Control"), "immutable") || asset.Body == "" {
			t.Errorf("%s: %d %v, %d bytes", link[1], asset.Status, asset.Header, len(asset.Body))
		}
	}
}

// Every response carries the security headers: pages, API answers,
// static files and errors.
func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	s := startChatApp(t)
	for _, path := range []string{"/", "/guest", "/api/rooms", "/api/me", "/no/such/page", "/rooms/lobby", "/static/css/app.css"} {
		r := s.Get(path)
		csp := r.Header.Get("Content-Security-Policy")
		for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "default-src 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s (%d): CSP %q lacks %q", path, r.Status, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") {
			t.Errorf("GET %s: CSP allows inline code: %q", path, csp)
		}
		if r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("Referrer-Policy") == "" || r.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("GET %s: headers %v", path, r.Header)
		}
	}
}

func TestUnknownPathIsNotFound(t *testing.T) {
	s := startChatApp(t)
	if r := s.Get("/no/such/page"); r.Status != 404 {
		t.Fatalf("GET /no/such/page: %d", r.Status)
	}
}

// -set-role gives a registered user a role and refuses what it cannot do.
func TestSetRole(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{Path: filepath.Join(t.TempDir(), "chat.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := ensureAdmin(ctx, st, bcrypt.MinCost, io.Discard); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateUser(ctx, "ada", []byte("hash"), store.RoleUser); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateGuest(ctx, "visitor"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		spec     string
		wantErr  string
		wantRole store.Role
	}{
		{"ada=moderator", "", store.RoleModerator},
		{"ADA=user", "", store.RoleUser},
		{"ada", "want name=role", ""},
		{"=moderator", "want name=role", ""},
		{"nobody=moderator", "find \"nobody\"", ""},
		{"visitor=moderator", "is a guest", ""},
		{"ada=emperor", "ada=emperor", ""},
	}
	for _, c := range cases {
		var out strings.Builder
		err := setRole(ctx, st, c.spec, &out)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("setRole(%q) = %v; want an error with %q", c.spec, err, c.wantErr)
			}
			continue
		}
		u, _ := st.UserByName(ctx, "ada")
		if err != nil || u.Role != c.wantRole || !strings.Contains(out.String(), "now "+string(c.wantRole)) {
			t.Errorf("setRole(%q) = %v, role %q, said %q; want role %q", c.spec, err, u.Role, out.String(), c.wantRole)
		}
	}
}
