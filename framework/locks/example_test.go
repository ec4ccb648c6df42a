package locks_test

import (
	"fmt"
	"time"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
	"chat/framework/locks"
)

// runOnLoop runs start on a new loop and returns when the loop stops.
func runOnLoop(start func(loop *ioloop.Loop)) {
	loop, err := ioloop.New(ioloop.Options{})
	if err != nil {
		panic(err)
	}
	defer loop.Close()
	loop.AddCallback(func() { start(loop) })
	loop.Run()
}

// An Event tells everyone waiting that something happened: here, that
// startup finished. A wait on a set event resolves at once.
func ExampleEvent() {
	runOnLoop(func(loop *ioloop.Loop) {
		ready := locks.NewEvent(loop)
		for _, name := range []string{"first", "second"} {
			ready.Wait(0).OnResult(func(struct{}, error) { fmt.Println(name, "sees ready") })
		}
		loop.CallLater(time.Millisecond, func() {
			fmt.Println("startup done")
			ready.Set()
			ready.Wait(0).OnResult(func(struct{}, error) {
				fmt.Println("a late waiter sees ready at once")
				loop.Stop()
			})
		})
	})
	// Output:
	// startup done
	// first sees ready
	// second sees ready
	// a late waiter sees ready at once
}

// A Lock keeps two read-modify-write sequences that span an await (here a
// timer standing for an executor call) from interleaving. Waiters get the
// lock in the order they asked.
func ExampleLock() {
	runOnLoop(func(loop *ioloop.Loop) {
		lock := locks.NewLock(loop)
		balance := 100
		withdraw := func(who string, amount int) *concurrent.Future[struct{}] {
			return concurrent.Then(lock.Acquire(time.Second), func(struct{}) *concurrent.Future[struct{}] {
				read := balance
				done := concurrent.New[struct{}]()
				loop.CallLater(time.Millisecond, func() { // the slow step
					balance = read - amount
					fmt.Println(who, "leaves", balance)
					lock.Release()
					done.Resolve(struct{}{})
				})
				return done
			})
		}
		concurrent.All(withdraw("alice", 30), withdraw("bob", 50)).OnResult(func([]struct{}, error) { loop.Stop() })
	})
	// Output:
	// alice leaves 70
	// bob leaves 20
}

// A Semaphore bounds how much work is in flight: here at most two jobs at
// a time; the third waits for the permit job 1 gives back.
func ExampleSemaphore() {
	runOnLoop(func(loop *ioloop.Loop) {
		slots := locks.NewSemaphore(loop, 2)
		inFlight := 0
		var jobs []*concurrent.Future[struct{}]
		for i := 1; i <= 3; i++ {
			jobs = append(jobs, concurrent.Then(slots.Acquire(0), func(struct{}) *concurrent.Future[struct{}] {
				inFlight++
				fmt.Printf("job %d starts, %d in flight\n", i, inFlight)
				done := concurrent.New[struct{}]()
				loop.CallLater(time.Duration(i)*time.Millisecond, func() {
					inFlight--
					slots.Release()
					done.Resolve(struct{}{})
				})
				return done
			}))
		}
		concurrent.All(jobs...).OnResult(func([]struct{}, error) { loop.Stop() })
	})
	// Output:
	// job 1 starts, 1 in flight
	// job 2 starts, 2 in flight
	// job 3 starts, 2 in flight
}

// A Condition wakes whoever waits for news; a wait with a timeout resolves
// false when nothing came, which is an outcome, not an error.
func ExampleCondition() {
	runOnLoop(func(loop *ioloop.Loop) {
		news := locks.NewCondition(loop)
		var inbox []string
		news.Wait(0).OnResult(func(bool, error) { fmt.Println("reader got", inbox) })
		loop.CallLater(time.Millisecond, func() {
			inbox = append(inbox, "hello")
			fmt.Println("woke", news.NotifyAll())
			news.Wait(5 * time.Millisecond).OnResult(func(notified bool, _ error) {
				fmt.Println("more news:", notified)
				loop.Stop()
			})
		})
	})
	// Output:
	// reader got [hello]
	// woke 1
	// more news: false
}

// Waiters parks requests of one's own: here long polls waiting for the
// next chat message. Each poll leaves the line when it is answered, times
// out or is cancelled, so a message goes only to polls still waiting.
func ExampleWaiters() {
	runOnLoop(func(loop *ioloop.Loop) {
		polls := locks.NewWaiters[string](loop, "chat: long poll")
		polls.Wait(0).OnResult(func(msg string, err error) { fmt.Println("poll 1:", msg, err) })
		gone := polls.Wait(0)
		gone.OnResult(func(msg string, err error) { fmt.Println("poll 2:", err) })
		polls.Wait(time.Millisecond).OnResult(func(msg string, err error) {
			fmt.Println("poll 3:", err)
			fmt.Println("woken:", polls.WakeAll("hello"))
			loop.Stop()
		})
		gone.Cancel() // the client went away
	})
	// Output:
	// poll 2: future cancelled
	// poll 3: chat: long poll: not woken within 1ms: future timed out
	// poll 1: hello <nil>
	// woken: 1
}

// The same withdrawals as coroutines: acquire, read, await the slow step,
// write, release, as straight-line code. The deferred Release cannot be
// forgotten on an early return.
func ExampleLock_coroutines() {
	runOnLoop(func(loop *ioloop.Loop) {
		lock := locks.NewLock(loop)
		balance := 100
		withdraw := func(who string, amount int) *concurrent.Future[struct{}] {
			return ioloop.Go(loop, func(co *ioloop.Co) (struct{}, error) {
				acquired := lock.Acquire(time.Second)
				if _, err := ioloop.Await(co, acquired); err != nil {
					acquired.Cancel() // leave the line: the lock goes to the next waiter
					return struct{}{}, err
				}
				defer lock.Release()
				read := balance
				if err := ioloop.Sleep(co, time.Millisecond); err != nil { // the slow step
					return struct{}{}, err
				}
				balance = read - amount
				fmt.Println(who, "leaves", balance)
				return struct{}{}, nil
			})
		}
		concurrent.All(withdraw("alice", 30), withdraw("bob", 50)).OnResult(func([]struct{}, error) { loop.Stop() })
	})
	// Output:
	// alice leaves 70
	// bob leaves 20
}
