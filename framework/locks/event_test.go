package locks_test

import (
	"fmt"
	"testing"

	"chat/framework/ioloop/looptest"
	"chat/framework/locks"
)

// TestEvent plays Event's states (clear, clear with waiters, set) x events
// (wait, set, clear, timeout, cancel).
func TestEvent(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps []string
		log   []string
		state string
	}{
		{name: "clear x wait: waits", steps: []string{"wait A"}, state: "set=false waiting=1"},
		{name: "clear with waiters x set: all wake, in order",
			steps: []string{"wait A", "wait B 5s", "set"}, log: []string{"A ok", "B ok"}, state: "set=true waiting=0"},
		{name: "set x wait: resolved at once", steps: []string{"set", "wait A"}, log: []string{"A ok"}, state: "set=true waiting=0"},
		{name: "set x set: nothing more", steps: []string{"set", "set"}, state: "set=true waiting=0"},
		{name: "set x clear, then wait: waits again",
			steps: []string{"set", "clear", "wait A"}, state: "set=false waiting=1"},
		{name: "clear with waiters x timeout: the waiter fails and leaves",
			steps: []string{"wait A 30ms", "wait B", "await A"}, log: []string{"A timeout"}, state: "set=false waiting=1"},
		{name: "timeout racing a set, timeout first: only the other waiter wakes",
			steps: []string{"wait A 30ms", "wait B", "later S 30ms set", "await A", "await S"},
			log:   []string{"A timeout", "B ok"}, state: "set=true waiting=0"},
		{name: "set before the timeout: woken, and its timer is gone",
			steps: []string{"wait A 5s", "later S 20ms set", "await S"}, log: []string{"A ok"}, state: "set=true waiting=0"},
		{name: "clear with waiters x cancel, then set: the others wake",
			steps: []string{"wait A 5s", "wait B", "cancel A", "set"},
			log:   []string{"A cancelled", "B ok"}, state: "set=true waiting=0"},
		{name: "a woken waiter that cancels a later one: that one is skipped, the rest wake",
			steps: []string{"waitcancel A B", "wait B", "wait C", "set"},
			log:   []string{"A ok", "B cancelled", "C ok"}, state: "set=true waiting=0"},
		{name: "a waiter that clears and waits again when woken waits for the next set",
			steps: []string{"rewait A", "wait B", "set"},
			log:   []string{"A ok", "B ok"}, state: "set=false waiting=1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := looptest.NewScript(t)
			var event *locks.Event
			s.Run(append([]string{"new"}, tc.steps...), func(s *looptest.Script, op string, args []string) {
				switch op {
				case "new":
					event = locks.NewEvent(s.Loop)
				case "wait":
					looptest.Track(s, args[0], event.Wait(looptest.TimeoutArg(t, args, 1)))
				case "rewait": // when woken, clear and wait again as NAME2
					fut := event.Wait(0)
					looptest.Track(s, args[0], fut)
					fut.OnResult(func(struct{}, error) {
						event.Clear()
						looptest.Track(s, args[0]+"2", event.Wait(0))
					})
				case "waitcancel": // wait as NAME; when woken, cancel OTHER
					fut := event.Wait(0)
					looptest.Track(s, args[0], fut)
					fut.OnResult(func(struct{}, error) { s.Cancel(args[1]) })
				case "set":
					event.Set()
				case "clear":
					event.Clear()
				default:
					t.Errorf("unknown step %s", op) // Errorf: on the loop
				}
			}, tc.log)
			got := s.State(func() string { return fmt.Sprintf("set=%v waiting=%d", event.IsSet(), event.Waiting()) })
			if want := tc.state + " timers=0"; got != want {
				t.Errorf("state %q, want %q", got, want)
			}
		})
	}
}
