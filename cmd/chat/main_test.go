package main

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"chat/framework/asynctest"
)

// chatProcess is the real binary running against a data directory, with a
// client pointed at it.
type chatProcess struct {
	*asynctest.Client
	cmd         *exec.Cmd
	stdoutDone  <-chan string
	metricsURLs <-chan string // the -metrics-addr URL, when it was given
}

// startChat builds nothing: it runs the test binary itself as the server
// (TestMain dispatches on CHAT_TEST_RUN), which keeps the test fast and
// exercises main's real code path: flags, data directory, store, admin
// account, loop, signals. What the application serves is tested in
// process, on the kit (app_test.go); this is what only the process shows.
func startChat(t *testing.T, dataDir string) *chatProcess {
	t.Helper()
	return startChatWith(t, dataDir)
}

// startChatWith starts the server with more flags; it returns once the
// main address is listening.
func startChatWith(t *testing.T, dataDir string, flags ...string) *chatProcess {
	t.Helper()
	// The lowest bcrypt cost: under the race detector a hash at the
	// default cost takes seconds, and the graceful stop waits for the
	// password executor's warm-up hash.
	args := append([]string{"-addr", "127.0.0.1:0", "-data", dataDir, "-bcrypt-cost", "4"}, flags...)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "CHAT_TEST_RUN=1")
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	urls := make(chan string, 1)
	metricsURLs := make(chan string, 1)
	go func() {
		listening := regexp.MustCompile(`msg="chat: listening" url=(\S+)`)
		metrics := regexp.MustCompile(`msg="chat: metrics listening" url=(\S+)`)
		s := bufio.NewScanner(stderr)
		for s.Scan() {
			if m := listening.FindStringSubmatch(s.Text()); m != nil {
				urls <- m[1]
			}
			if m := metrics.FindStringSubmatch(s.Text()); m != nil {
				metricsURLs <- m[1]
			}
		}
	}()
	out := make(chan string, 1)
	go func() { b, _ := io.ReadAll(stdout); out <- string(b) }()
	url := asynctest.Wait(t, urls, "chat reporting its address")
	return &chatProcess{Client: asynctest.NewClient(t, url), cmd: cmd, stdoutDone: out, metricsURLs: metricsURLs}
}

// stop sends SIGTERM, as a platform stops the server, and returns what it
// printed on stdout; it must exit cleanly.
func (p *chatProcess) stop(t *testing.T) string {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	stdout := asynctest.Wait(t, p.stdoutDone, "chat exiting after SIGTERM")
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("chat exited with %v after SIGTERM", err)
	}
	return stdout
}

func TestMain(m *testing.M) {
	if os.Getenv("CHAT_TEST_RUN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

func TestFirstStartCreatesAdminAndSecretsOnce(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	first := startChat(t, dataDir)
	if home := first.Get("/"); home.Status != 200 || !strings.Contains(home.Body, `data-room="lobby"`) {
		t.Fatalf("home page: %d\n%s", home.Status, home.Body)
	}
	out := first.stop(t)
	if !regexp.MustCompile(`user:\s+admin\s+password:\s+\S{20,}`).MatchString(out) {
		t.Fatalf("first start did not print the admin credentials:\n%s", out)
	}
	secrets, err := os.Stat(filepath.Join(dataDir, "secrets.json"))
	if err != nil {
		t.Fatalf("secrets.json: %v", err)
	}
	if secrets.Mode().Perm() != 0o600 {
		t.Fatalf("secrets.json has mode %v; want 0600", secrets.Mode().Perm())
	}

	second := startChat(t, dataDir)
	if out := second.stop(t); strings.Contains(out, "password") {
		t.Fatalf("second start printed credentials again:\n%s", out)
	}
}

func TestPortEnvironmentVariable(t *testing.T) {
	t.Setenv("PORT", "5123")
	cfg, err := loadConfig(nil)
	if err != nil || cfg.Addr != ":5123" {
		t.Fatalf("PORT=5123: addr %q, %v", cfg.Addr, err)
	}
	t.Setenv("PORT", "http")
	if _, err := loadConfig(nil); err == nil {
		t.Fatal("PORT=http accepted")
	}
}

func TestBcryptCostFlag(t *testing.T) {
	cases := []struct {
		args    []string
		want    int
		wantErr bool
	}{
		{nil, 12, false},
		{[]string{"-bcrypt-cost", "4"}, 4, false},
		{[]string{"-bcrypt-cost", "3"}, 0, true},
		{[]string{"-bcrypt-cost", "32"}, 0, true},
	}
	for _, c := range cases {
		cfg, err := loadConfig(c.args)
		if (err != nil) != c.wantErr || (!c.wantErr && cfg.BcryptCost != c.want) {
			t.Errorf("loadConfig(%q): cost %d, %v; want %d, error %v", c.args, cfg.BcryptCost, err, c.want, c.wantErr)
		}
	}
}

// -metrics-addr serves the Prometheus text on an address of its own,
// without sign-in; the main address keeps /admin/metrics for admins only.
func TestMetricsAddress(t *testing.T) {
	p := startChatWith(t, filepath.Join(t.TempDir(), "data"), "-metrics-addr", "127.0.0.1:0")
	url := asynctest.Wait(t, p.metricsURLs, "chat reporting its metrics address")
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "chat_loop_lag_seconds") {
		t.Fatalf("GET %s: %d\n%s", url, resp.StatusCode, body)
	}
	if r := p.Get("/admin/metrics"); r.Status == 200 {
		t.Errorf("/admin/metrics on the main address answered 200 to a stranger")
	}
}
