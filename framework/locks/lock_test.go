package locks_test

import (
	"fmt"
	"testing"

	"chat/framework/ioloop/looptest"
	"chat/framework/locks"
)

// TestLock plays Lock's states (unlocked, locked, locked with waiters) x
// events (acquire, release, timeout, cancel), including the second event:
// a timed-out or cancelled waiter never takes a later Release.
func TestLock(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps []string
		log   []string
		state string
	}{
		{name: "unlocked x acquire: granted at once",
			steps: []string{"acquire A"}, log: []string{"A ok"}, state: "locked=true waiting=0"},
		{name: "unlocked x release: panics",
			steps: []string{"release"}, log: []string{"panic"}, state: "locked=false waiting=0"},
		{name: "locked x acquire: waits",
			steps: []string{"acquire A", "acquire B"}, log: []string{"A ok"}, state: "locked=true waiting=1"},
		{name: "locked x release: unlocked",
			steps: []string{"acquire A", "release"}, log: []string{"A ok"}, state: "locked=false waiting=0"},
		{name: "locked with waiters x release: the oldest gets the lock",
			steps: []string{"acquire A", "acquire B", "acquire C", "release"},
			log:   []string{"A ok", "B ok"}, state: "locked=true waiting=1"},
		{name: "waiters are served first in, first out",
			steps: []string{"acquire A", "acquire B", "acquire C", "acquire D", "release", "release", "release"},
			log:   []string{"A ok", "B ok", "C ok", "D ok"}, state: "locked=true waiting=0"},
		{name: "locked with waiters x timeout: the waiter fails and leaves",
			steps: []string{"acquire A", "acquire B 30ms", "await B"},
			log:   []string{"A ok", "B timeout"}, state: "locked=true waiting=0"},
		{name: "a timed-out waiter does not take a later release",
			steps: []string{"acquire A", "acquire B 20ms", "acquire C", "await B", "release"},
			log:   []string{"A ok", "B timeout", "C ok"}, state: "locked=true waiting=0"},
		{name: "timeout racing a release, timeout first: the lock is free",
			steps: []string{"acquire A", "acquire B 30ms", "later R 30ms release", "await B", "await R"},
			log:   []string{"A ok", "B timeout"}, state: "locked=false waiting=0"},
		{name: "release before the timeout: granted, and its timer is gone",
			steps: []string{"acquire A", "acquire B 5s", "later R 20ms release", "await R"},
			log:   []string{"A ok", "B ok"}, state: "locked=true waiting=0"},
		{name: "locked with waiters x cancel, then release: the next waiter gets it",
			steps: []string{"acquire A", "acquire B 5s", "acquire C", "cancel B", "release"},
			log:   []string{"A ok", "B cancelled", "C ok"}, state: "locked=true waiting=0"},
		{name: "cancel the only waiter, then release: unlocked",
			steps: []string{"acquire A", "acquire B", "cancel B", "release"},
			log:   []string{"A ok", "B cancelled"}, state: "locked=false waiting=0"},
		{name: "cancel after the lock was granted does nothing",
			steps: []string{"acquire A", "cancel A"},
			log:   []string{"A ok", "A not cancelled"}, state: "locked=true waiting=0"},
		{name: "a holder that releases as soon as it is granted passes the lock on",
			steps: []string{"acquire A", "acquirerelease B", "acquire C", "release"},
			log:   []string{"A ok", "B ok", "C ok"}, state: "locked=true waiting=0"},
		{name: "and with nobody waiting, the lock ends free",
			steps: []string{"acquire A", "acquirerelease B", "release"},
			log:   []string{"A ok", "B ok"}, state: "locked=false waiting=0"},
		{name: "negative timeout on a locked lock fails at once",
			steps: []string{"acquire A", "acquire B -1ms"},
			log:   []string{"A ok", "B timeout"}, state: "locked=true waiting=0"},
		{name: "negative timeout on an unlocked lock is granted",
			steps: []string{"acquire A -1ms"}, log: []string{"A ok"}, state: "locked=true waiting=0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := looptest.NewScript(t)
			var lock *locks.Lock
			s.Run(append([]string{"new"}, tc.steps...), func(s *looptest.Script, op string, args []string) {
				switch op {
				case "new":
					lock = locks.NewLock(s.Loop)
				case "acquire":
					looptest.Track(s, args[0], lock.Acquire(looptest.TimeoutArg(t, args, 1)))
				case "acquirerelease": // acquire as NAME, release when granted
					fut := lock.Acquire(0)
					looptest.Track(s, args[0], fut)
					fut.OnResult(func(_ struct{}, err error) {
						if err == nil {
							lock.Release()
						}
					})
				case "release":
					looptest.RecordPanic(s, lock.Release)
				default:
					t.Errorf("unknown step %s", op) // Errorf: on the loop
				}
			}, tc.log)
			got := s.State(func() string { return fmt.Sprintf("locked=%v waiting=%d", lock.Locked(), lock.Waiting()) })
			if want := tc.state + " timers=0"; got != want {
				t.Errorf("state %q, want %q", got, want)
			}
		})
	}
}
