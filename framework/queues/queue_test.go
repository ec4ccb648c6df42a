package queues_test

import (
	"errors"
	"fmt"
	"strconv"
	"testing"

	"chat/framework/ioloop/looptest"
	"chat/framework/queues"
)

// TestQueue plays Queue's states (empty, empty with getters, holding
// items, full, full with putters) x events (put, get, their Nowait forms,
// timeout, cancel, TaskDone, Join), in each order. Items are ints; steps
// name the futures they track ("get A 30ms", "put P 7").
func TestQueue(t *testing.T) {
	for _, tc := range []struct {
		name    string
		maxsize int
		order   string // fifo (default), lifo, priority
		steps   []string
		log     []string
		state   string
	}{
		{name: "empty x get: waits", maxsize: 2,
			steps: []string{"get A"}, state: "len=0 getters=1 putters=0 unfinished=0"},
		{name: "empty x put: stored", maxsize: 2,
			steps: []string{"put P 7"}, log: []string{"P ok"}, state: "len=1 getters=0 putters=0 unfinished=1"},
		{name: "empty x getnow: ErrQueueEmpty", maxsize: 2,
			steps: []string{"getnow"}, log: []string{"getnow empty"}, state: "len=0 getters=0 putters=0 unfinished=0"},
		{name: "empty with getters x put: handed to the oldest getter", maxsize: 2,
			steps: []string{"get A", "get B", "put P 7"}, log: []string{"A 7", "P ok"}, state: "len=0 getters=1 putters=0 unfinished=1"},
		{name: "holding items x get: the oldest item", maxsize: 3,
			steps: []string{"putnow 1", "putnow 2", "get A"}, log: []string{"putnow 1 ok", "putnow 2 ok", "A 1"},
			state: "len=1 getters=0 putters=0 unfinished=2"},
		{name: "full x put: waits", maxsize: 1,
			steps: []string{"putnow 1", "put P 2"}, log: []string{"putnow 1 ok"}, state: "len=1 getters=0 putters=1 unfinished=1"},
		{name: "full x putnow: ErrQueueFull", maxsize: 1,
			steps: []string{"putnow 1", "putnow 2"}, log: []string{"putnow 1 ok", "putnow 2 full"}, state: "len=1 getters=0 putters=0 unfinished=1"},
		{name: "full with putters x get: the oldest putter's item enters", maxsize: 1,
			steps: []string{"putnow 1", "put P 2", "put Q 3", "get A"}, log: []string{"putnow 1 ok", "P ok", "A 1"},
			state: "len=1 getters=0 putters=1 unfinished=2"},
		{name: "putters are served first in, first out", maxsize: 1,
			steps: []string{"putnow 1", "put P 2", "put Q 3", "getnow", "getnow", "getnow"},
			log:   []string{"putnow 1 ok", "P ok", "getnow 1", "Q ok", "getnow 2", "getnow 3"},
			state: "len=0 getters=0 putters=0 unfinished=3"},
		{name: "empty with getters x timeout: the getter fails and leaves", maxsize: 2,
			steps: []string{"get A 30ms", "await A"}, log: []string{"A timeout"}, state: "len=0 getters=0 putters=0 unfinished=0"},
		{name: "an item put after a getter timed out stays in the queue", maxsize: 2,
			steps: []string{"get A 20ms", "await A", "putnow 5"}, log: []string{"A timeout", "putnow 5 ok"},
			state: "len=1 getters=0 putters=0 unfinished=1"},
		{name: "timeout racing a put, timeout first: the item stays in the queue", maxsize: 2,
			steps: []string{"get A 30ms", "later P 30ms putnow 5", "await A", "await P", "getnow"},
			log:   []string{"A timeout", "putnow 5 ok", "getnow 5"}, state: "len=0 getters=0 putters=0 unfinished=1"},
		{name: "put before the get's timeout: received, and its timer is gone", maxsize: 2,
			steps: []string{"get A 5s", "later P 20ms putnow 5", "await P"},
			log:   []string{"A 5", "putnow 5 ok"}, state: "len=0 getters=0 putters=0 unfinished=1"},
		{name: "a cancelled getter never receives: the next getter does", maxsize: 2,
			steps: []string{"get A 5s", "get B", "cancel A", "putnow 5"},
			log:   []string{"A cancelled", "B 5", "putnow 5 ok"}, state: "len=0 getters=0 putters=0 unfinished=1"},
		{name: "an item put after the only getter was cancelled is not lost", maxsize: 2,
			steps: []string{"get A", "cancel A", "putnow 5", "getnow"},
			log:   []string{"A cancelled", "putnow 5 ok", "getnow 5"}, state: "len=0 getters=0 putters=0 unfinished=1"},
		{name: "cancel after a get resolved does nothing: the item is the caller's", maxsize: 2,
			steps: []string{"putnow 5", "get A", "cancel A"},
			log:   []string{"putnow 5 ok", "A 5", "A not cancelled"}, state: "len=0 getters=0 putters=0 unfinished=1"},
		{name: "full with putters x timeout: the item never enters", maxsize: 1,
			steps: []string{"putnow 1", "put P 2 30ms", "await P", "getnow", "getnow"},
			log:   []string{"putnow 1 ok", "P timeout", "getnow 1", "getnow empty"}, state: "len=0 getters=0 putters=0 unfinished=1"},
		{name: "full with putters x cancel, then get: the next putter's item enters", maxsize: 1,
			steps: []string{"putnow 1", "put P 2 5s", "put Q 3", "cancel P", "getnow", "getnow"},
			log:   []string{"putnow 1 ok", "P cancelled", "Q ok", "getnow 1", "getnow 3"}, state: "len=0 getters=0 putters=0 unfinished=2"},
		{name: "a get racing a put's timeout, timeout first: the queue stays full of the old item", maxsize: 1,
			steps: []string{"putnow 1", "put P 2 30ms", "later G 30ms getnow", "await P", "await G"},
			log:   []string{"putnow 1 ok", "P timeout", "getnow 1"}, state: "len=0 getters=0 putters=0 unfinished=1"},
		{name: "negative timeout on an empty queue fails at once", maxsize: 1,
			steps: []string{"get A -1ms"}, log: []string{"A timeout"}, state: "len=0 getters=0 putters=0 unfinished=0"},
		{name: "a consumer that gets again when woken receives each item once", maxsize: 2,
			steps: []string{"consume C", "putnow 1", "putnow 2"},
			log:   []string{"C 1", "putnow 1 ok", "C 2", "putnow 2 ok"}, state: "len=0 getters=1 putters=0 unfinished=2"},
		{name: "lifo: last in, first out", maxsize: 3, order: "lifo",
			steps: []string{"putnow 1", "putnow 2", "putnow 3", "getnow", "getnow", "getnow"},
			log:   []string{"putnow 1 ok", "putnow 2 ok", "putnow 3 ok", "getnow 3", "getnow 2", "getnow 1"},
			state: "len=0 getters=0 putters=0 unfinished=3"},
		{name: "priority: smallest first", maxsize: 4, order: "priority",
			steps: []string{"putnow 5", "putnow 1", "putnow 4", "putnow 2", "getnow", "getnow", "getnow", "getnow"},
			log:   []string{"putnow 5 ok", "putnow 1 ok", "putnow 4 ok", "putnow 2 ok", "getnow 1", "getnow 2", "getnow 4", "getnow 5"},
			state: "len=0 getters=0 putters=0 unfinished=4"},
		{name: "nothing put x join: resolved at once", maxsize: 1,
			steps: []string{"join J"}, log: []string{"J ok"}, state: "len=0 getters=0 putters=0 unfinished=0"},
		{name: "unfinished items x join: waits for the last TaskDone", maxsize: 2,
			steps: []string{"putnow 1", "putnow 2", "join J", "getnow", "taskdone", "getnow", "taskdone"},
			log:   []string{"putnow 1 ok", "putnow 2 ok", "getnow 1", "getnow 2", "J ok"}, state: "len=0 getters=0 putters=0 unfinished=0"},
		{name: "unfinished items x join timeout", maxsize: 1,
			steps: []string{"putnow 1", "join J 30ms", "await J"},
			log:   []string{"putnow 1 ok", "J timeout"}, state: "len=1 getters=0 putters=0 unfinished=1"},
		{name: "an item handed to a getter counts as unfinished", maxsize: 1,
			steps: []string{"get A", "putnow 1", "join J", "taskdone"},
			log:   []string{"A 1", "putnow 1 ok", "J ok"}, state: "len=0 getters=0 putters=0 unfinished=0"},
		{name: "taskdone more times than puts: panics", maxsize: 1,
			steps: []string{"putnow 1", "taskdone", "taskdone"},
			log:   []string{"putnow 1 ok", "panic"}, state: "len=1 getters=0 putters=0 unfinished=0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := looptest.NewScript(t)
			var q *queues.Queue[int]
			s.Run(append([]string{"new"}, tc.steps...), func(s *looptest.Script, op string, args []string) {
				switch op {
				case "new":
					switch tc.order {
					case "lifo":
						q = queues.NewLifoQueue[int](s.Loop, tc.maxsize)
					case "priority":
						q = queues.NewPriorityQueue(s.Loop, tc.maxsize, func(a, b int) bool { return a < b })
					default:
						q = queues.NewQueue[int](s.Loop, tc.maxsize)
					}
				case "put": // put NAME VALUE [TIMEOUT]
					looptest.Track(s, args[0], q.Put(atoi(t, args[1]), looptest.TimeoutArg(t, args, 2)))
				case "get": // get NAME [TIMEOUT]
					looptest.Track(s, args[0], q.Get(looptest.TimeoutArg(t, args, 1)))
				case "putnow":
					s.Log = append(s.Log, "putnow "+args[0]+" "+errWord(q.PutNowait(atoi(t, args[0]))))
				case "getnow":
					v, err := q.GetNowait()
					if err == nil {
						s.Log = append(s.Log, fmt.Sprint("getnow ", v))
					} else {
						s.Log = append(s.Log, "getnow "+errWord(err))
					}
				case "consume": // get, and get again each time an item arrives
					var next func()
					next = func() {
						q.Get(0).OnResult(func(v int, err error) {
							s.Log = append(s.Log, fmt.Sprint(args[0], " ", v))
							next()
						})
					}
					next()
				case "taskdone":
					looptest.RecordPanic(s, q.TaskDone)
				case "join":
					looptest.Track(s, args[0], q.Join(looptest.TimeoutArg(t, args, 1)))
				default:
					t.Errorf("unknown step %s", op) // Errorf: on the loop
				}
			}, tc.log)
			got := s.State(func() string {
				if q.Full() != (q.Len() == q.Maxsize()) || q.Empty() != (q.Len() == 0) {
					t.Errorf("Full %v, Empty %v with %d of %d items", q.Full(), q.Empty(), q.Len(), q.Maxsize())
				}
				return fmt.Sprintf("len=%d getters=%d putters=%d unfinished=%d", q.Len(), q.Getters(), q.Putters(), q.Unfinished())
			})
			if want := tc.state + " timers=0"; got != want {
				t.Errorf("state %q, want %q", got, want)
			}
		})
	}
}

func atoi(t *testing.T, s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Errorf("bad number %q", s) // Errorf: this runs on the loop
	}
	return n
}

func errWord(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, queues.ErrQueueFull):
		return "full"
	case errors.Is(err, queues.ErrQueueEmpty):
		return "empty"
	}
	return err.Error()
}

func TestQueueConstructorsRequireABound(t *testing.T) {
	s := looptest.NewScript(t)
	for _, tc := range []struct {
		name string
		make func()
	}{
		{"fifo of 0", func() { queues.NewQueue[int](s.Loop, 0) }},
		{"lifo of -1", func() { queues.NewLifoQueue[int](s.Loop, -1) }},
		{"priority of 0", func() { queues.NewPriorityQueue(s.Loop, 0, func(a, b int) bool { return a < b }) }},
		{"priority without less", func() { queues.NewPriorityQueue[int](s.Loop, 1, nil) }},
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
