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
	"time"
)

// chatProcess is the real binary running against a data directory.
type chatProcess struct {
	cmd        *exec.Cmd
	url        string
	stdoutDone <-chan string
}

// startChat builds nothing: it runs the test binary itself as the server
// (TestMain dispatches on CHAT_TEST_RUN), which keeps the test fast and
// exercises main's real code path: flags, data directory, store, loop.
func startChat(t *testing.T, dataDir string) *chatProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-addr", "127.0.0.1:0", "-data", dataDir)
	cmd.Env = append(os.Environ(), "CHAT_TEST_RUN=1")
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	urls := make(chan string, 1)
	go func() {
		listening := regexp.MustCompile(`msg="chat: listening" url=(\S+)`)
		s := bufio.NewScanner(stderr)
		for s.Scan() {
			if m := listening.FindStringSubmatch(s.Text()); m != nil {
				urls <- m[1]
			}
		}
	}()
	out := make(chan string, 1)
	go func() { b, _ := io.ReadAll(stdout); out <- string(b) }()
	p := &chatProcess{cmd: cmd}
	select {
	case p.url = <-urls:
	case <-time.After(30 * time.Second):
		t.Fatal("chat did not report its address")
	}
	p.stdoutDone = out
	return p
}

func (p *chatProcess) stop(t *testing.T) string {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	stdout := <-p.stdoutDone
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
	resp, err := http.Get(first.url)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "Chat on one event loop") {
		t.Fatalf("home page: %d\n%s", resp.StatusCode, page)
	}
	css := regexp.MustCompile(`href="(/static/css/app\.css\?v=[0-9a-f]+)"`).FindStringSubmatch(string(page))
	if css == nil {
		t.Fatalf("home page links no versioned stylesheet:\n%s", page)
	}
	resp, err = http.Get(strings.TrimSuffix(first.url, "/") + css[1])
	if err != nil || resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
		t.Fatalf("stylesheet: %v %v", resp.Status, resp.Header)
	}
	resp.Body.Close()
	out := first.stop(t)
	if !regexp.MustCompile(`user:\s+admin\s+password:\s+\S{20,}`).MatchString(out) {
		t.Fatalf("first start did not print the admin credentials:\n%s", out)
	}
	secrets, err := os.Stat(filepath.Join(dataDir, "secrets.json"))
	if err != nil || secrets.Mode().Perm() != 0o600 {
		t.Fatalf("secrets.json: %v, mode %v; want mode 0600", err, secrets.Mode())
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
