package ioloop_test

import (
	"fmt"
	"strings"
	"time"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
)

// A loop runs on the goroutine that calls Run; other goroutines talk to it
// only through AddCallback. Run returns after Stop; the deferred Close
// then releases the loop's connections, executors and poller.
func ExampleLoop() {
	loop, err := ioloop.New(ioloop.Options{})
	if err != nil {
		panic(err)
	}
	defer loop.Close()
	go func() {
		// Another goroutine: AddCallback is the one safe way in.
		loop.AddCallback(func() {
			fmt.Println("on the loop")
			loop.CallLater(time.Millisecond, func() {
				fmt.Println("a timer fired")
				loop.Stop()
			})
		})
	}()
	loop.Run()
	// Output:
	// on the loop
	// a timer fired
}

// Blocking work goes to an executor; its result comes back on the loop.
func ExampleRunInExecutor() {
	loop, _ := ioloop.New(ioloop.Options{})
	defer loop.Close()
	db := loop.NewExecutor("db", 1, 16) // one worker: writes stay in order
	loop.AddCallback(func() {
		future := ioloop.RunInExecutor(db, func() (string, error) {
			return strings.ToUpper("blocking work done"), nil // runs on the worker
		})
		future.OnResult(func(v string, err error) { // runs on the loop
			fmt.Println(v, err)
			loop.Stop()
		})
	})
	loop.Run()
	// Output: BLOCKING WORK DONE <nil>
}

// RunSync gives code outside the loop one asynchronous answer. The loop
// runs on its own goroutine; Close stops it, waits for Run to return and
// releases everything the loop holds.
func ExampleRunSync() {
	loop, _ := ioloop.New(ioloop.Options{})
	go loop.Run()
	defer loop.Close()
	n, err := ioloop.RunSync(loop, func() *concurrent.Future[int] {
		return ioloop.RunInExecutor(loop.DefaultExecutor(), func() (int, error) { return 6 * 7, nil })
	})
	fmt.Println(n, err)
	// Output: 42 <nil>
}
