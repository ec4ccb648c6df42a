package store

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The crash test runs this test binary again as a child (TestMain sees
// crashChildEnv) that appends as fast as it can and prints one line per
// acknowledged message. The parent kills it with SIGKILL at a random moment,
// reopens the file and checks every acknowledged message is there, intact.
const (
	crashChildEnv   = "STORE_CRASH_CHILD_DB"
	crashCycleEnv   = "STORE_CRASH_CHILD_CYCLE"
	crashKills      = 20
	crashWriters    = 8
	crashMaxRunTime = 300 * time.Millisecond // random kill point, after the first ack
)

// crashBody is the body the child writes for a key; the parent recomputes it.
func crashBody(key string) string { return "body of " + key + strings.Repeat(".", len(key)) }

// runCrashChild is the child's main: "ack <id> <key>" per committed message.
func runCrashChild() int {
	ctx := context.Background()
	s, err := Open(ctx, Config{Path: os.Getenv(crashChildEnv)})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 2
	}
	author, room, err := crashFixture(ctx, s)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 2
	}
	cycle := os.Getenv(crashCycleEnv)
	var out sync.Mutex
	var wg sync.WaitGroup
	for w := range crashWriters {
		wg.Go(func() {
			for n := 0; ; n++ {
				key := fmt.Sprintf("c%s-w%d-n%d", cycle, w, n)
				a, err := s.AppendMessage(ctx, NewMessage{RoomID: room, AuthorID: author, Body: crashBody(key), ClientKey: key})
				if err != nil {
					fmt.Fprintln(os.Stderr, "child:", err)
					os.Exit(2)
				}
				out.Lock()
				fmt.Fprintf(os.Stdout, "ack %d %s\n", a.ID, key) // unbuffered: one write per ack
				out.Unlock()
			}
		})
	}
	wg.Wait()
	return 0
}

// crashFixture finds or creates the child's author and room; an earlier
// child may have been killed between the two.
func crashFixture(ctx context.Context, s *Store) (author, room int64, err error) {
	u, err := s.UserByName(ctx, "writer")
	if err != nil {
		if u, err = s.CreateUser(ctx, "writer", []byte("h"), RoleUser); err != nil {
			return 0, 0, err
		}
	}
	r, err := s.RoomByName(ctx, "crash")
	if err != nil {
		if r, err = s.CreateRoom(ctx, NewRoom{Name: "crash", Title: "Crash", CreatorID: u.ID}); err != nil {
			return 0, 0, err
		}
	}
	return u.ID, r.ID, nil
}

func TestCrashKeepsAcknowledgedMessages(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test re-runs the binary 20 times")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	acked := map[int64]string{}
	for cycle := range crashKills {
		for id, key := range runAndKillChild(t, path, cycle) {
			acked[id] = key
		}
		verifyAcked(t, path, acked)
	}
	if len(acked) < crashKills {
		t.Fatalf("only %d acknowledged messages over %d cycles", len(acked), crashKills)
	}
	t.Logf("%d kills, %d acknowledged messages all present", crashKills, len(acked))
}

// runAndKillChild starts a child on path, waits for its first ack, lets it
// run a random while longer, SIGKILLs it by PID and returns what it acked.
func runAndKillChild(t *testing.T, path string, cycle int) map[int64]string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path, crashCycleEnv+"="+strconv.Itoa(cycle))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewReader(stdout)
	acked := map[int64]string{}
	first, err := lines.ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("cycle %d: child acknowledged nothing (%v); stderr: %s", cycle, err, stderr.String())
	}
	parseAck(first, acked)
	killAt := time.AfterFunc(rand.N(crashMaxRunTime), func() { cmd.Process.Kill() }) // SIGKILL, our child only
	defer killAt.Stop()
	for { // ends when the killed child's pipe closes
		line, err := lines.ReadString('\n')
		if err != nil {
			break // a line without its newline is torn; do not trust it
		}
		parseAck(line, acked)
	}
	cmd.Wait()
	if stderr.Len() > 0 {
		t.Fatalf("cycle %d: child failed: %s", cycle, stderr.String())
	}
	return acked
}

// parseAck records a complete line "ack <id> <key>\n".
func parseAck(line string, acked map[int64]string) {
	fields := strings.Fields(line)
	if len(fields) != 3 || fields[0] != "ack" {
		return
	}
	if id, err := strconv.ParseInt(fields[1], 10, 64); err == nil {
		acked[id] = fields[2]
	}
}

func verifyAcked(t *testing.T, path string, acked map[int64]string) {
	t.Helper()
	s := openTest(t, Config{Path: path})
	defer s.Close()
	var check string
	if err := s.readDB.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q, %v", check, err)
	}
	for id, key := range acked {
		m, err := s.MessageByID(context.Background(), id, ModeratorView)
		if err != nil {
			t.Fatalf("acknowledged message %d (%s): %v", id, key, err)
		}
		if m.ClientKey != key || m.Body != crashBody(key) {
			t.Fatalf("message %d = key %q body %q, want key %q body %q", id, m.ClientKey, m.Body, key, crashBody(key))
		}
	}
}
