package queues_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
	"chat/framework/ioloop/looptest"
)

// script drives a primitive through a table case: each step is a line
// such as "acquire B 30ms", run on the loop, and every future the steps
// create is tracked by name, so the case can state the outcomes in the
// order they happened. "await B" waits (on the test goroutine, signalled,
// never slept) for B's future, or for a step scheduled with "later B 20ms
// ...". Timeouts are real loop timers.
type script struct {
	t       *testing.T
	loop    *ioloop.Loop
	log     []string                 // loop-owned: outcomes, in order
	done    map[string]chan struct{} // loop-owned: closed when a name resolves
	cancels map[string]func() bool   // loop-owned
	timers0 int                      // pending loop timers before the case
}

func newScript(t *testing.T) *script {
	s := &script{t: t, loop: looptest.Start(t), done: map[string]chan struct{}{}, cancels: map[string]func() bool{}}
	looptest.Do(t, s.loop, func() { s.timers0 = s.loop.Stats().PendingTimers })
	return s
}

// track records fut's outcome under name when it resolves. Loop-only.
func track[T any](s *script, name string, fut *concurrent.Future[T]) {
	ch := s.signal(name)
	s.cancels[name] = fut.Cancel
	fut.OnResult(func(v T, err error) {
		s.log = append(s.log, name+" "+outcome(v, err))
		close(ch)
	})
}

func (s *script) signal(name string) chan struct{} {
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

// run plays steps, handing each line that is not a harness step
// ("await", "later", "cancel") to apply on the loop, then checks the log.
func (s *script) run(steps []string, apply func(s *script, op string, args []string), wantLog []string) {
	s.t.Helper()
	for _, line := range steps {
		fields := strings.Fields(line)
		op, args := fields[0], fields[1:]
		switch op {
		case "await":
			var ch chan struct{}
			looptest.Do(s.t, s.loop, func() { ch = s.done[args[0]] })
			if ch == nil {
				s.t.Fatalf("step %q: nothing named %s", line, args[0])
			}
			looptest.Wait(s.t, ch, line)
		case "later": // later NAME DURATION OP ARGS...: OP runs on a timer
			looptest.Do(s.t, s.loop, func() {
				ch := s.signal(args[0])
				s.loop.CallLater(duration(s.t, args[1]), func() {
					apply(s, args[2], args[3:])
					close(ch)
				})
			})
		case "cancel":
			looptest.Do(s.t, s.loop, func() {
				if !s.cancels[args[0]]() {
					s.log = append(s.log, args[0]+" not cancelled")
				}
			})
		default:
			looptest.Do(s.t, s.loop, func() { apply(s, op, args) })
		}
	}
	var got []string
	looptest.Do(s.t, s.loop, func() { got = slices.Clone(s.log) })
	if !slices.Equal(got, wantLog) {
		s.t.Errorf("outcomes:\n got %q\nwant %q", got, wantLog)
	}
}

// state returns describe's answer, run on the loop, with the number of
// loop timers the case left pending.
func (s *script) state(describe func() string) string {
	var got string
	looptest.Do(s.t, s.loop, func() {
		got = fmt.Sprintf("%s timers=%d", describe(), s.loop.Stats().PendingTimers-s.timers0)
	})
	return got
}

// timeoutArg parses the optional duration at args[i]: 0 when absent.
func timeoutArg(t *testing.T, args []string, i int) time.Duration {
	if len(args) <= i {
		return 0
	}
	return duration(t, args[i])
}

func duration(t *testing.T, s string) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Errorf("bad duration %q: %v", s, err) // Errorf: this may run on the loop
	}
	return d
}

// recordPanic runs fn and logs "panic" if it panics.
func recordPanic(s *script, fn func()) {
	defer func() {
		if recover() != nil {
			s.log = append(s.log, "panic")
		}
	}()
	fn()
}

func errorsIsTimeout(err error) bool { return errors.Is(err, concurrent.ErrTimeout) }
