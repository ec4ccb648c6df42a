package ioloop_test

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
)

// A coroutine reads as sequential code: each Await gives the loop back
// until the awaited future resolves, and the code between two awaits runs
// on the loop's turn, like a callback. Here the blocking step goes to the
// executor and the result is used right after, with no nested callback.
func ExampleGo() {
	loop, _ := ioloop.New(ioloop.Options{})
	defer loop.Close()
	loop.AddCallback(func() {
		greeting := ioloop.Go(loop, func(co *ioloop.Co) (string, error) {
			name, err := ioloop.Await(co, ioloop.RunInExecutor(loop.DefaultExecutor(), func() (string, error) {
				return "ada", nil // a database lookup, say
			}))
			if err != nil {
				return "", fmt.Errorf("look up the user: %w", err)
			}
			return "hello, " + strings.ToUpper(name[:1]) + name[1:], nil
		})
		greeting.OnResult(func(s string, err error) {
			fmt.Println(s, err)
			loop.Stop()
		})
	})
	loop.Run()
	// Output: hello, Ada <nil>
}

// Gather, Tornado's gen.multi: await concurrent.All of futures started
// together. They run at the same time; the values come back in argument
// order.
func ExampleAwait_gather() {
	loop, _ := ioloop.New(ioloop.Options{})
	defer loop.Close()
	double := func(n int) *concurrent.Future[int] {
		return ioloop.RunInExecutor(loop.DefaultExecutor(), func() (int, error) { return 2 * n, nil })
	}
	loop.AddCallback(func() {
		ioloop.Go(loop, func(co *ioloop.Co) (struct{}, error) {
			defer loop.Stop()
			values, err := ioloop.Await(co, concurrent.All(double(1), double(2), double(3)))
			fmt.Println(values, err)
			return struct{}{}, err
		})
	})
	loop.Run()
	// Output: [2 4 6] <nil>
}

// Sleep is gen.sleep and AwaitTimeout is with_timeout: a wait that takes
// too long ends with an error matching concurrent.ErrTimeout (the slow
// future itself is left alone).
func ExampleAwaitTimeout() {
	loop, _ := ioloop.New(ioloop.Options{})
	defer loop.Close()
	loop.AddCallback(func() {
		ioloop.Go(loop, func(co *ioloop.Co) (struct{}, error) {
			defer loop.Stop()
			if err := ioloop.Sleep(co, 5*time.Millisecond); err != nil {
				return struct{}{}, err
			}
			fmt.Println("slept")
			never := concurrent.New[int]()
			_, err := ioloop.AwaitTimeout(co, never, 10*time.Millisecond)
			fmt.Println(errors.Is(err, concurrent.ErrTimeout))
			return struct{}{}, nil
		})
	})
	loop.Run()
	// Output:
	// slept
	// true
}

// Cancelling a coroutine's future makes its pending Await return
// concurrent.ErrCancelled; the body decides what to do with it.
func ExampleCo_Cancelled() {
	loop, _ := ioloop.New(ioloop.Options{})
	defer loop.Close()
	loop.AddCallback(func() {
		f := ioloop.Go(loop, func(co *ioloop.Co) (int, error) {
			_, err := ioloop.Await(co, concurrent.New[int]()) // never resolves
			fmt.Println("woken:", err, co.Cancelled())
			return 0, err
		})
		loop.CallLater(time.Millisecond, func() {
			f.Cancel()
			loop.Stop()
		})
	})
	loop.Run()
	// Output: woken: future cancelled true
}
