package main

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"chat/framework/asynctest"
	"chat/framework/ioloop"
	"chat/framework/web"
	"chat/store"
)

// testVersion is the version the in-process application reports.
const testVersion = "test-1.2.3"

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
	sec, err := loadOrCreateSecrets(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	return asynctest.StartAppFunc(t, nil, func(loop *ioloop.Loop) (*web.Application, error) {
		a, err := newApp(loop, st, sec, appOptions{Version: testVersion, AllowGuests: true})
		if err != nil {
			return nil, err
		}
		return a.web, nil
	})
}

// The home page names the server and its version, and links a stylesheet
// by a versioned URL that is served as immutable.
func TestHomePageLinksAVersionedStylesheet(t *testing.T) {
	s := startChatApp(t)
	home := s.Get("/")
	if home.Status != 200 || !strings.Contains(home.Body, "Chat on one event loop") || !strings.Contains(home.Body, "<dd>"+testVersion+"</dd>") {
		t.Fatalf("home page: %d\n%s", home.Status, home.Body)
	}
	css := regexp.MustCompile(`href="(/static/css/app\.css\?v=[0-9a-f]+)"`).FindStringSubmatch(home.Body)
	if css == nil {
		t.Fatalf("home page links no versioned stylesheet:\n%s", home.Body)
	}
	sheet := s.Get(css[1])
	if sheet.Status != 200 || !strings.Contains(sheet.Header.Get("Cache-Control"), "immutable") || sheet.Body == "" {
		t.Fatalf("stylesheet %s: %d %v, %d bytes", css[1], sheet.Status, sheet.Header, len(sheet.Body))
	}
}

// The home page counts the loop's open connections: another client's
// idle connection and the one asking.
func TestHomePageCountsOpenConnections(t *testing.T) {
	s := startChatApp(t)
	s.DialRaw()
	s.WaitFor(func() bool { return s.Loop.OpenConns() == 1 }, "the loop holds the raw connection")
	if home := s.Get("/"); !regexp.MustCompile(`Open connections</dt>\s*<dd>2</dd>`).MatchString(home.Body) {
		t.Fatalf("home page with two connections open:\n%s", home.Body)
	}
}

func TestUnknownPathIsNotFound(t *testing.T) {
	s := startChatApp(t)
	if r := s.Get("/no/such/page"); r.Status != 404 {
		t.Fatalf("GET /no/such/page: %d", r.Status)
	}
}
