package accounts_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"testing"
	"time"

	"chat/accounts"
	"chat/framework/asynctest"
	"chat/framework/ioloop"
	"chat/framework/web"
	"chat/store"
)

// Fifty sign-ins at once at the production bcrypt cost: the compares run
// on the password executor, so the loop stays responsive throughout. A
// loop timer that asks to run every millisecond measures how late it
// runs; the 99th percentile must stay under 5 ms. This is the one timed
// test of the package (issue 12); it is skipped with -short and under the
// race detector, which slows bcrypt and the scheduler several times over,
// and CI runs it on its own without -race (.ci/run). On a two-core host
// shared with other test runs (load average 5 to 9), bcrypt at the usual
// thread priority measured a p99 of 4.6 to 6.5 ms here; on the niced
// threads of a background executor (ioloop.Loop.NewBackgroundExecutor),
// 1.5 to 1.7 ms; at rest, about 1 ms either way. The idle loop's figure
// is logged beside the result.
func TestSigninLoopLag(t *testing.T) {
	if testing.Short() {
		t.Skip("timed test: skipped with -short")
	}
	if raceBuild {
		t.Skip("timed test: skipped under the race detector")
	}
	const signins = 50
	// The recommended executor (NewPasswordExecutor: half the processors,
	// at least one, niced), with room in the queue for every sign-in, so
	// none is refused busy.
	workers := max(1, runtime.GOMAXPROCS(0)/2)
	as := startAccounts(t, accountsOptions{cost: accounts.DefaultBcryptCost, passwords: func(l *ioloop.Loop) *ioloop.Executor {
		return l.NewBackgroundExecutor("passwords", workers, signins)
	}})
	// One hash at cost 12 shared by every user: made once, not 50 times.
	hash, err := accounts.HashPassword("", "correct horse battery", accounts.DefaultBcryptCost)
	if err != nil {
		t.Fatal(err)
	}
	for i := range signins {
		if _, err := as.store.CreateUser(context.Background(), fmt.Sprintf("user%d", i), hash, store.RoleUser); err != nil {
			t.Fatal(err)
		}
	}

	// The sampler: loop-owned, read back on the loop once it stopped.
	var (
		lags    []time.Duration
		timer   *ioloop.Timer
		stopped bool
		tick    func()
	)
	tick = func() {
		lags = append(lags, time.Since(timer.Deadline()))
		if !stopped {
			timer = as.Loop.CallLater(time.Millisecond, tick)
		}
	}
	asynctest.Do(t, as.Loop, func() { timer = as.Loop.CallLater(time.Millisecond, tick) })

	xsrf := web.EncodeXSRF(web.NewXSRFToken(), time.Now())
	client := as.browser().client
	client.HTTPClient.Timeout = 2 * time.Minute // fifty quarter-seconds on one worker, and slow machines
	results := make(chan error, signins)
	start := make(chan struct{})
	for i := range signins {
		go func() {
			<-start
			form := url.Values{"name": {fmt.Sprintf("user%d", i)}, "password": {"correct horse battery"}, "_xsrf": {xsrf}}
			req, err := asynctest.NewRequest("POST", client.URL+"/signin", form.Encode(),
				"Content-Type: application/x-www-form-urlencoded", "Accept: application/json", "Cookie: _xsrf="+xsrf)
			if err == nil {
				var r asynctest.Response
				if r, err = client.RoundTrip(req); err == nil && r.Status != http.StatusOK {
					err = fmt.Errorf("user%d: %d %s", i, r.Status, r.Body)
				}
			}
			results <- err
		}()
	}
	// A second of the idle loop first, logged beside the figures under
	// load: on a machine loaded by other work, even the idle loop is late.
	time.Sleep(time.Second)
	var baseline []time.Duration
	asynctest.Do(t, as.Loop, func() { baseline = slices.Clone(lags); lags = lags[:0] })
	slices.Sort(baseline)
	began := time.Now()
	close(start)
	for range signins {
		if err := <-results; err != nil {
			t.Error(err)
		}
	}
	took := time.Since(began)
	var samples []time.Duration
	asynctest.Do(t, as.Loop, func() {
		stopped = true
		timer.Cancel()
		samples = slices.Clone(lags)
	})
	if len(samples) < 100 {
		t.Fatalf("only %d samples in %v", len(samples), took)
	}
	slices.Sort(samples)
	p50, p99, worst := samples[len(samples)/2], samples[len(samples)*99/100], samples[len(samples)-1]
	t.Logf("%d sign-ins at cost %d on %d workers in %v; loop lag over %d samples: p50 %v, p99 %v, max %v "+
		"(idle loop before: p99 %v over %d samples)", signins, accounts.DefaultBcryptCost, workers,
		took.Round(time.Millisecond), len(samples), p50, p99, worst, baseline[len(baseline)*99/100], len(baseline))
	if p99 >= 5*time.Millisecond {
		t.Fatalf("loop lag p99 %v, want under 5 ms", p99)
	}
}
