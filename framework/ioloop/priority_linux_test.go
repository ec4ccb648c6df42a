package ioloop_test

import (
	"testing"

	"golang.org/x/sys/unix"

	"chat/framework/ioloop"
	"chat/framework/ioloop/looptest"
)

// threadNice is the calling thread's niceness. The raw getpriority system
// call answers 20 - nice.
func threadNice() (int, error) {
	p, err := unix.Getpriority(unix.PRIO_PROCESS, unix.Gettid())
	return 20 - p, err
}

// A background executor's jobs run on threads niced to 10, an ordinary
// executor's at the process's own niceness; the loop's thread is never
// lowered.
func TestBackgroundExecutorRunsNiced(t *testing.T) {
	l := looptest.Start(t)
	base, err := threadNice()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		ex   *ioloop.Executor
		want int
	}{
		{"background", l.NewBackgroundExecutor("background", 2, 8), max(base, 10)},
		{"ordinary", l.NewExecutor("ordinary", 2, 8), base},
	}
	for _, c := range cases {
		for range 4 { // every worker, whichever takes the job
			got, err := looptest.Await(t, l, func() *concurrentFuture {
				return ioloop.RunInExecutor(c.ex, threadNice)
			})
			if err != nil || got != c.want {
				t.Errorf("%s executor: job ran at nice %d (%v); want %d", c.name, got, err, c.want)
			}
		}
	}
	var loopNice int
	looptest.Do(t, l, func() { loopNice, _ = threadNice() })
	if loopNice != base {
		t.Errorf("the loop's thread runs at nice %d; want %d", loopNice, base)
	}
}
