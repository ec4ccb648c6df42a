package locks_test

import (
	"fmt"
	"strconv"
	"testing"

	"chat/framework/ioloop/looptest"
	"chat/framework/locks"
)

// TestCondition plays Condition's states (no waiter, waiters) x events
// (wait, notify, notify all, timeout, cancel). A timed-out wait resolves
// false; Notify reports how many it woke.
func TestCondition(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps []string
		log   []string
		state string
	}{
		{name: "no waiter x notify: lost", steps: []string{"notify 1", "wait A"},
			log: []string{"notified 0"}, state: "waiting=1"},
		{name: "waiters x notify 1: the oldest wakes with true",
			steps: []string{"wait A", "wait B", "notify 1"}, log: []string{"A true", "notified 1"}, state: "waiting=1"},
		{name: "waiters x notify more than wait: all wake",
			steps: []string{"wait A", "wait B", "notify 5"}, log: []string{"A true", "B true", "notified 2"}, state: "waiting=0"},
		{name: "waiters x notify all", steps: []string{"wait A", "wait B 5s", "wait C", "notifyall"},
			log: []string{"A true", "B true", "C true", "notified 3"}, state: "waiting=0"},
		{name: "waiters x timeout: resolves false and leaves",
			steps: []string{"wait A 30ms", "await A"}, log: []string{"A false"}, state: "waiting=0"},
		{name: "a timed-out waiter is not counted by a later notify",
			steps: []string{"wait A 20ms", "wait B", "await A", "notify 1"},
			log:   []string{"A false", "B true", "notified 1"}, state: "waiting=0"},
		{name: "timeout racing a notify, timeout first: the notify wakes the next",
			steps: []string{"wait A 30ms", "wait B", "later N 30ms notify 1", "await A", "await N"},
			log:   []string{"A false", "B true", "notified 1"}, state: "waiting=0"},
		{name: "notify before the timeout: true, and its timer is gone",
			steps: []string{"wait A 5s", "later N 20ms notify 1", "await N"},
			log:   []string{"A true", "notified 1"}, state: "waiting=0"},
		{name: "waiters x cancel, then notify 1: the next waiter wakes",
			steps: []string{"wait A 5s", "wait B", "cancel A", "notify 1"},
			log:   []string{"A cancelled", "B true", "notified 1"}, state: "waiting=0"},
		{name: "negative timeout: false at once", steps: []string{"wait A -1ms"},
			log: []string{"A false"}, state: "waiting=0"},
		{name: "a waiter that waits again when woken is not woken by the same notify",
			steps: []string{"rewait A", "notifyall"},
			log:   []string{"A true", "notified 1"}, state: "waiting=1"},
		{name: "nor by the same notify n",
			steps: []string{"rewait A", "notify 2"},
			log:   []string{"A true", "notified 1"}, state: "waiting=1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := looptest.NewScript(t)
			var cond *locks.Condition
			s.Run(append([]string{"new"}, tc.steps...), func(s *looptest.Script, op string, args []string) {
				switch op {
				case "new":
					cond = locks.NewCondition(s.Loop)
				case "wait":
					looptest.Track(s, args[0], cond.Wait(looptest.TimeoutArg(t, args, 1)))
				case "rewait": // when woken, wait again as NAME2
					fut := cond.Wait(0)
					looptest.Track(s, args[0], fut)
					fut.OnResult(func(bool, error) { looptest.Track(s, args[0]+"2", cond.Wait(0)) })
				case "notify":
					n, _ := strconv.Atoi(args[0])
					s.Log = append(s.Log, fmt.Sprintf("notified %d", cond.Notify(n)))
				case "notifyall":
					s.Log = append(s.Log, fmt.Sprintf("notified %d", cond.NotifyAll()))
				default:
					t.Errorf("unknown step %s", op) // Errorf: on the loop
				}
			}, tc.log)
			got := s.State(func() string { return fmt.Sprintf("waiting=%d", cond.Waiting()) })
			if want := tc.state + " timers=0"; got != want {
				t.Errorf("state %q, want %q", got, want)
			}
		})
	}
}
