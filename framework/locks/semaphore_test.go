package locks_test

import (
	"fmt"
	"testing"

	"chat/framework/ioloop/looptest"
	"chat/framework/locks"
)

// TestSemaphore plays Semaphore's states (permits free, none free, none
// free with waiters) x events (acquire, release, timeout, cancel), bounded
// and not.
func TestSemaphore(t *testing.T) {
	for _, tc := range []struct {
		name    string
		bounded bool
		value   int
		steps   []string
		log     []string
		state   string
	}{
		{name: "free x acquire: granted, one permit fewer", value: 2,
			steps: []string{"acquire A"}, log: []string{"A ok"}, state: "value=1 waiting=0"},
		{name: "none free x acquire: waits", value: 1,
			steps: []string{"acquire A", "acquire B"}, log: []string{"A ok"}, state: "value=0 waiting=1"},
		{name: "none free x release: a permit is free", value: 1,
			steps: []string{"acquire A", "release"}, log: []string{"A ok"}, state: "value=1 waiting=0"},
		{name: "waiters x release: the oldest gets the permit, the count stays 0", value: 1,
			steps: []string{"acquire A", "acquire B", "acquire C", "release"},
			log:   []string{"A ok", "B ok"}, state: "value=0 waiting=1"},
		{name: "waiters x timeout: the waiter fails and leaves", value: 1,
			steps: []string{"acquire A", "acquire B 30ms", "await B"},
			log:   []string{"A ok", "B timeout"}, state: "value=0 waiting=0"},
		{name: "timeout racing a release, timeout first: the permit is free", value: 1,
			steps: []string{"acquire A", "acquire B 30ms", "later R 30ms release", "await B", "await R"},
			log:   []string{"A ok", "B timeout"}, state: "value=1 waiting=0"},
		{name: "release before the timeout: granted, and its timer is gone", value: 1,
			steps: []string{"acquire A", "acquire B 5s", "later R 20ms release", "await R"},
			log:   []string{"A ok", "B ok"}, state: "value=0 waiting=0"},
		{name: "waiters x cancel, then release: the next waiter gets it", value: 1,
			steps: []string{"acquire A", "acquire B 5s", "acquire C", "cancel B", "release"},
			log:   []string{"A ok", "B cancelled", "C ok"}, state: "value=0 waiting=0"},
		{name: "zero permits x acquire: waits", value: 0,
			steps: []string{"acquire A"}, state: "value=0 waiting=1"},
		{name: "unbounded x release above the initial value: allowed", value: 1,
			steps: []string{"release"}, state: "value=2 waiting=0"},
		{name: "bounded x release above the initial value: panics", bounded: true, value: 2,
			steps: []string{"acquire A", "release", "release"}, log: []string{"A ok", "panic"}, state: "value=2 waiting=0"},
		{name: "bounded x release with a waiter: handed over", bounded: true, value: 1,
			steps: []string{"acquire A", "acquire B", "release", "release"}, log: []string{"A ok", "B ok"}, state: "value=1 waiting=0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := looptest.NewScript(t)
			var sem *locks.Semaphore
			s.Run(append([]string{"new"}, tc.steps...), func(s *looptest.Script, op string, args []string) {
				switch op {
				case "new":
					if tc.bounded {
						sem = locks.NewBoundedSemaphore(s.Loop, tc.value)
					} else {
						sem = locks.NewSemaphore(s.Loop, tc.value)
					}
				case "acquire":
					looptest.Track(s, args[0], sem.Acquire(looptest.TimeoutArg(t, args, 1)))
				case "release":
					looptest.RecordPanic(s, sem.Release)
				default:
					t.Errorf("unknown step %s", op) // Errorf: on the loop
				}
			}, tc.log)
			got := s.State(func() string { return fmt.Sprintf("value=%d waiting=%d", sem.Value(), sem.Waiting()) })
			if want := tc.state + " timers=0"; got != want {
				t.Errorf("state %q, want %q", got, want)
			}
		})
	}
}

func TestSemaphoreConstructorsRejectBadValues(t *testing.T) {
	s := looptest.NewScript(t)
	for _, tc := range []struct {
		name string
		make func()
	}{
		{"negative semaphore", func() { locks.NewSemaphore(s.Loop, -1) }},
		{"bounded semaphore of 0", func() { locks.NewBoundedSemaphore(s.Loop, 0) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			tc.make()
		})
	}
}
