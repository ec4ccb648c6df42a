package looptest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
)

// Script drives a loop-only primitive (a lock, a queue) through a table
// case: each step is a line
// such as "acquire B 30ms", run on the loop, and every future the steps
// create is tracked by name, so the case can state the outcomes in the
// order they happened. "await B" waits (on the test goroutine, signalled,
// never slept) for B's future, or for a step scheduled with "later B 20ms
// ...". Timeouts are real loop timers.
type Script struct {
	T       *testing.T
	Loop    *ioloop.Loop
	Log     []string                 // loop-owned: outcomes, in order
	done    map[string]chan struct{} // loop-owned: closed when a name resolves
	cancels map[string]func() bool   // loop-owned
	timers0 int                      // pending loop timers before the case
}

// NewScript starts a loop for one table case.
func NewScript(t *testing.T) *Script {
	s := &Script{T: t, Loop: Start(t), done: map[string]chan struct{}{}, cancels: map[string]func() bool{}}
	Do(t, s.Loop, func() { s.timers0 = s.Loop.Stats().PendingTimers })
	return s
}

// Track records fut's outcome under name when it resolves. Loop-only.
func Track[T any](s *Script, name string, fut *concurrent.Future[T]) {
	ch := s.signal(name)
	s.cancels[name] = fut.Cancel
	fut.OnResult(func(v T, err error) {
		s.Log = append(s.Log, name+" "+outcome(v, err))
		close(ch)
	})
}

func (s *Script) signal(name string) chan struct{} {
	ch := make(chan struct{})
	s.done[name] = ch
	return ch
}

func outcome[T any](v T, err error) string {
	switch {
	case errors.Is(err, concurrent.ErrTimeout):
		return "timeout"
	case errors.Is(err, concurrent.ErrCancelled):
		return "cancelled"
	case err != nil:
		return "error " + err.Error()
	}
	if _, empty := any(v).(struct{}); empty {
		return "ok"
	}
	return fmt.Sprint(v)
}

// Run plays steps, handing each line that is not a harness step
// ("await", "later", "cancel") to apply on the loop, then checks the log.
func (s *Script) Run(steps []string, apply func(s *Script, op string, args []string), wantLog []string) {
	s.T.Helper()
	for _, line := range steps {
		fields := strings.Fields(line)
		op, args := fields[0], fields[1:]
		switch op {
		case "await":
			var ch chan struct{}
			Do(s.T, s.Loop, func() { ch = s.done[args[0]] })
			if ch == nil {
				s.T.Fatalf("step %q: nothing named %s", line, args[0])
			}
			Wait(s.T, ch, line)
		case "later": // later NAME DURATION OP ARGS...: OP runs on a timer
			Do(s.T, s.Loop, func() {
				ch := s.signal(args[0])
				s.Loop.CallLater(Duration(s.T, args[1]), func() {
					apply(s, args[2], args[3:])
					close(ch)
				})
			})
		case "cancel":
			Do(s.T, s.Loop, func() {
				if !s.cancels[args[0]]() {
					s.Log = append(s.Log, args[0]+" not cancelled")
				}
			})
		default:
			Do(s.T, s.Loop, func() { apply(s, op, args) })
		}
	}
	var got []string
	Do(s.T, s.Loop, func() { got = slices.Clone(s.Log) })
	if !slices.Equal(got, wantLog) {
		s.T.Errorf("outcomes:\n got %q\nwant %q", got, wantLog)
	}
}

// State returns describe's answer, run on the loop, with the number of
// loop timers the case left pending.
func (s *Script) State(describe func() string) string {
	var got string
	Do(s.T, s.Loop, func() {
		got = fmt.Sprintf("%s timers=%d", describe(), s.Loop.Stats().PendingTimers-s.timers0)
	})
	return got
}

// TimeoutArg parses the optional duration at args[i]: 0 when absent.
func TimeoutArg(t *testing.T, args []string, i int) time.Duration {
	if len(args) <= i {
		return 0
	}
	return Duration(t, args[i])
}

// Duration parses a step's duration, reporting a bad one.
func Duration(t *testing.T, s string) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Errorf("bad duration %q: %v", s, err) // Errorf: this may run on the loop
	}
	return d
}

// RecordPanic runs fn and logs "panic" if it panics.
func RecordPanic(s *Script, fn func()) {
	defer func() {
		if recover() != nil {
			s.Log = append(s.Log, "panic")
		}
	}()
	fn()
}

// Cancel cancels the future tracked under name and reports whether it was
// still pending. Loop-only.
func (s *Script) Cancel(name string) bool { return s.cancels[name]() }
