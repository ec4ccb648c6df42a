package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// chatBinary is the server under test, built once by TestMain.
var chatBinary string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "chat-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	chatBinary = filepath.Join(dir, "chat")
	args := []string{"build", "-o", chatBinary}
	if os.Getenv("E2E_RACE") == "1" {
		// The server's races are reported on its stderr, which the server
		// helper turns into test failures. Not by default, even under
		// go test -race: bcrypt under the race detector takes seconds a
		// sign-up, which makes the suite slow and its steps' bounds tight.
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, "chat/cmd/chat")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: go build ./cmd/chat:", err)
		return 1
	}
	return m.Run()
}

// stepTimeout bounds every wait of a test: a server start, one browser
// action, one DOM condition.
const stepTimeout = 15 * time.Second

// server is one chat process on a data directory of its own. Its port is
// chosen by the kernel on the first start and kept across restarts, so the
// pages open in the browsers reconnect to the same address.
//
// A server belongs to one test goroutine; only its log writers run on
// other goroutines.
type server struct {
	t       *testing.T
	dataDir string
	addr    string // host:port; empty until the first start
	URL     string // "http://" + addr, no trailing slash

	// AdminPassword is what the first start printed for the admin account.
	AdminPassword string

	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd.Wait returned
	err    error         // cmd.Wait's result, valid once exited is closed
	ready  chan string   // the address the process reported listening on
}

var (
	listeningRE = regexp.MustCompile(`msg="chat: listening" url=http://(\S+?)/`)
	passwordRE  = regexp.MustCompile(`^\s*password:\s+(\S+)`)
)

// startServer starts a chat server on a fresh data directory; the test's
// cleanup stops it.
func startServer(t *testing.T) *server {
	t.Helper()
	s := &server{t: t, dataDir: filepath.Join(t.TempDir(), "data")}
	t.Cleanup(s.kill)
	s.Start()
	if s.AdminPassword == "" {
		t.Fatal("e2e: the first start printed no admin password")
	}
	return s
}

// Start starts the process (on the port of the first start, if any) and
// waits until it answers /api/rooms.
func (s *server) Start() {
	s.t.Helper()
	if s.cmd != nil {
		s.t.Fatal("e2e: server started twice")
	}
	addr := s.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	cmd := exec.Command(chatBinary, "-addr", addr, "-data", s.dataDir, "-shutdown-grace", "3s")
	ready := make(chan string, 1)
	var password string
	var passwordMu sync.Mutex
	cmd.Stdout = &lineWriter{t: s.t, prefix: "chat stdout: ", line: func(l string) {
		if m := passwordRE.FindStringSubmatch(l); m != nil {
			passwordMu.Lock()
			password = m[1]
			passwordMu.Unlock()
		}
	}}
	cmd.Stderr = &lineWriter{t: s.t, prefix: "chat: ", line: func(l string) {
		if m := listeningRE.FindStringSubmatch(l); m != nil {
			select {
			case ready <- m[1]:
			default:
			}
		}
		if strings.Contains(l, "WARNING: DATA RACE") {
			s.t.Errorf("e2e: the server reported a data race (see the log)")
		}
	}}
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("e2e: start chat: %v", err)
	}
	s.cmd, s.exited, s.ready = cmd, make(chan struct{}), ready
	exited := s.exited
	go func() {
		s.err = cmd.Wait()
		close(exited)
	}()
	select {
	case got := <-ready:
		if s.addr == "" {
			s.addr, s.URL = got, "http://"+got
		} else if got != s.addr {
			s.t.Fatalf("e2e: restarted server listens on %s, want %s", got, s.addr)
		}
	case <-exited:
		s.cmd = nil
		s.t.Fatalf("e2e: chat exited before listening: %v", s.err)
	case <-time.After(stepTimeout):
		s.t.Fatal("e2e: chat did not report listening in time")
	}
	s.waitReady()
	passwordMu.Lock()
	if password != "" {
		s.AdminPassword = password
	}
	passwordMu.Unlock()
}

// waitReady polls GET /api/rooms until it answers 200.
func (s *server) waitReady() {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+"/api/rooms", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case <-ctx.Done():
			s.t.Fatalf("e2e: /api/rooms not ready: %v", err)
		case <-s.exited:
			s.t.Fatalf("e2e: chat exited while starting: %v", s.err)
		case <-time.After(20 * time.Millisecond): // a retry interval, not a wait for an event
		}
	}
}

// Stop sends SIGTERM, as a platform stops the server, and waits for a
// clean exit.
func (s *server) Stop() {
	s.t.Helper()
	if s.cmd == nil {
		s.t.Fatal("e2e: Stop of a stopped server")
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(stepTimeout):
		s.cmd.Process.Kill()
		<-s.exited
		s.cmd = nil
		s.t.Fatal("e2e: chat did not exit within the step timeout after SIGTERM")
	}
	s.cmd = nil
	if s.err != nil {
		s.t.Fatalf("e2e: chat exited with %v after SIGTERM", s.err)
	}
}

// Restart stops the server and starts it again on the same port and data
// directory.
func (s *server) Restart() {
	s.t.Helper()
	s.Stop()
	s.Start()
}

// kill is the cleanup: a process still running is killed (it is ours: we
// started it) and reaped, so its log writers are done before the test is.
func (s *server) kill() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	<-s.exited
	s.cmd = nil
}

// get is a plain HTTP GET against the server, without cookies.
func (s *server) get(path string) (*http.Response, string) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("e2e: GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil && !errors.Is(err, context.Canceled) {
		s.t.Fatalf("e2e: GET %s: body: %v", path, err)
	}
	return resp, buf.String()
}

// lineWriter logs what a process writes, one line at a time, and shows
// each line to a hook. exec.Cmd.Wait waits for its copying goroutine, so
// no line is logged after the process was reaped.
type lineWriter struct {
	t      *testing.T
	prefix string
	line   func(string)
	mu     sync.Mutex
	buf    []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		l := string(w.buf[:i])
		w.buf = w.buf[i+1:]
		w.t.Log(w.prefix + l)
		if w.line != nil {
			w.line(l)
		}
	}
	return len(p), nil
}
