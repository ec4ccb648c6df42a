package queues_test

import (
	"fmt"
	"time"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
	"chat/framework/queues"
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

// A producer faster than its consumer is held to the consumer's pace by
// the bound: its Put waits while the queue is full. Join resolves once the
// consumer has marked every item done.
func ExampleQueue() {
	runOnLoop(func(loop *ioloop.Loop) {
		q := queues.NewQueue[string](loop, 2)

		var consume func()
		consume = func() {
			q.Get(0).OnResult(func(item string, err error) {
				loop.CallLater(time.Millisecond, func() { // slow work
					fmt.Println("consumed", item)
					q.TaskDone()
					consume()
				})
			})
		}
		consume()

		var produce func(i int) *concurrent.Future[struct{}]
		produce = func(i int) *concurrent.Future[struct{}] {
			if i > 4 {
				return concurrent.Resolved(struct{}{})
			}
			return concurrent.Then(q.Put(fmt.Sprint("job ", i), time.Second), func(struct{}) *concurrent.Future[struct{}] {
				return produce(i + 1)
			})
		}
		concurrent.Then(produce(1), func(struct{}) *concurrent.Future[struct{}] {
			fmt.Println("all produced")
			return q.Join(time.Second)
		}).OnResult(func(_ struct{}, err error) {
			fmt.Println("all done", err)
			loop.Stop()
		})
	})
	// Output:
	// consumed job 1
	// all produced
	// consumed job 2
	// consumed job 3
	// consumed job 4
	// all done <nil>
}

// PutNowait never waits: a producer that would rather drop than wait (a
// slow consumer's outbox) sees ErrQueueFull.
func ExampleQueue_PutNowait() {
	runOnLoop(func(loop *ioloop.Loop) {
		outbox := queues.NewQueue[string](loop, 1)
		fmt.Println(outbox.PutNowait("first"))
		fmt.Println(outbox.PutNowait("second"))
		loop.Stop()
	})
	// Output:
	// <nil>
	// queues: queue is full
}

// A priority queue hands out the smallest item first; a LIFO queue the
// newest.
func ExampleNewPriorityQueue() {
	runOnLoop(func(loop *ioloop.Loop) {
		urgent := queues.NewPriorityQueue(loop, 8, func(a, b int) bool { return a < b })
		stack := queues.NewLifoQueue[int](loop, 8)
		for _, n := range []int{3, 1, 2} {
			urgent.PutNowait(n)
			stack.PutNowait(n)
		}
		for !urgent.Empty() {
			u, _ := urgent.GetNowait()
			s, _ := stack.GetNowait()
			fmt.Println(u, s)
		}
		loop.Stop()
	})
	// Output:
	// 1 2
	// 2 1
	// 3 3
}

// The same producer and consumer as coroutines (ioloop.Go): each reads as
// the sequential loop it is, and every Await hands the loop to the other.
func ExampleQueue_coroutines() {
	runOnLoop(func(loop *ioloop.Loop) {
		q := queues.NewQueue[string](loop, 2)
		ioloop.Go(loop, func(co *ioloop.Co) (struct{}, error) {
			for {
				got := q.Get(0)
				item, err := ioloop.Await(co, got)
				if err != nil {
					got.Cancel() // leave the line: the item goes to the next getter
					return struct{}{}, err
				}
				ioloop.Sleep(co, time.Millisecond) // slow work
				fmt.Println("consumed", item)
				q.TaskDone()
			}
		})
		ioloop.Go(loop, func(co *ioloop.Co) (struct{}, error) {
			defer loop.Stop()
			for i := 1; i <= 4; i++ {
				if _, err := ioloop.Await(co, q.Put(fmt.Sprint("job ", i), time.Second)); err != nil {
					return struct{}{}, err
				}
			}
			fmt.Println("all produced")
			_, err := ioloop.Await(co, q.Join(time.Second))
			fmt.Println("all done", err)
			return struct{}{}, err
		})
	})
	// Output:
	// consumed job 1
	// all produced
	// consumed job 2
	// consumed job 3
	// consumed job 4
	// all done <nil>
}
