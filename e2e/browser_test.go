package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromePath finds the browser: $E2E_CHROME, else Chromium or Chrome on
// the PATH or in /usr/bin. Without one the test is skipped.
func chromePath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("E2E_CHROME"); p != "" {
		return p
	}
	for _, name := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("e2e: no Chromium found; install chromium (apt-get install chromium) or set E2E_CHROME")
	return ""
}

// blockWebSocketScript is the contract's way of forcing the client off
// WebSocket: it runs before any script of every document.
const blockWebSocketScript = `window.WebSocket = function(){ throw new Error('blocked'); };`

// browserOptions are the knobs of newBrowser.
type browserOptions struct {
	blockWebSocket bool
	width, height  int
}

type browserOption func(*browserOptions)

// withoutWebSocket makes window.WebSocket throw in every page.
func withoutWebSocket() browserOption {
	return func(o *browserOptions) { o.blockWebSocket = true }
}

// withViewport sets the page's viewport (device metrics emulation).
func withViewport(width, height int) browserOption {
	return func(o *browserOptions) { o.width, o.height = width, height }
}

// browser is one person: a Chromium of its own with a fresh profile, so
// each has its own cookies and sessionStorage, and one tab. Every method
// runs on the test's goroutine; one step is bounded by stepTimeout.
// Uncaught exceptions and Content-Security-Policy violations on its pages
// fail the test; other console errors are logged (a server restart makes
// failed requests, which the console reports).
type browser struct {
	t    *testing.T
	name string
	srv  *server
	ctx  context.Context

	mu       sync.Mutex
	console  []string // every console message, for the failure report
	problems []string // exceptions and CSP violations not yet reported
	closed   bool
}

// newBrowser starts a browser for the person called name.
func newBrowser(t *testing.T, srv *server, name string, opts ...browserOption) *browser {
	t.Helper()
	o := browserOptions{width: 1200, height: 800}
	for _, f := range opts {
		f(&o)
	}
	alloc := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromePath(t)),
		chromedp.Headless,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(o.width, o.height),
	}
	b := &browser{t: t, name: name, srv: srv}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), alloc...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx, chromedp.WithErrorf(b.logf), chromedp.WithLogf(b.logf))
	b.ctx = ctx
	consoleDone := make(chan struct{})
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
		<-consoleDone
		b.mu.Lock()
		b.closed = true
		problems := b.problems
		b.problems = nil
		b.mu.Unlock()
		for _, p := range problems {
			t.Errorf("e2e: %s's page: %s", name, p)
		}
	})
	start, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }() // the first Run's context is the browser's life: no timeout on it
	select {
	case err := <-started:
		if err != nil {
			close(consoleDone)
			t.Fatalf("e2e: start Chromium for %s: %v", name, err)
		}
	case <-start.Done():
		cancelCtx()
		close(consoleDone)
		t.Fatalf("e2e: Chromium for %s did not start in time", name)
	}
	messages := chromedp.Console(ctx)
	go func() {
		defer close(consoleDone)
		for m, err := range messages {
			if err != nil {
				return
			}
			b.noteConsole(m)
		}
	}()
	if o.blockWebSocket {
		b.do("block WebSocket", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: blockWebSocketScript})
			return err
		}))
	}
	if o.width != 1200 || o.height != 800 {
		b.do("emulate the viewport", chromedp.EmulateViewport(int64(o.width), int64(o.height)))
	}
	return b
}

func (b *browser) logf(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		b.t.Logf("e2e: %s's chromedp: %s", b.name, fmt.Sprintf(format, args...))
	}
}

func (b *browser) noteConsole(m chromedp.ConsoleMessage) {
	line := fmt.Sprintf("%s (%s:%d)", m, m.URL, m.Line+1)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.console = append(b.console, line)
	if m.IsException() || strings.Contains(m.Text, "Content Security Policy") {
		b.problems = append(b.problems, line)
	}
}

// checkProblems fails the test at the first exception or CSP violation
// the page reported.
func (b *browser) checkProblems() {
	b.t.Helper()
	b.mu.Lock()
	problems := b.problems
	b.problems = nil
	b.mu.Unlock()
	if len(problems) > 0 {
		b.t.Fatalf("e2e: %s's page reported:\n  %s", b.name, strings.Join(problems, "\n  "))
	}
}

// fail reports a failed step with what the page looked like.
func (b *browser) fail(what string, err error) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 3*time.Second)
	defer cancel()
	state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
		const h = s => { const e = document.querySelector(s); return e ? e.outerHTML : '(no ' + s + ')'; };
		let client = '';
		try { client = window.chatClient ? JSON.stringify({door: chatClient.door, state: chatClient.state, lastId: chatClient.lastId, outbox: chatClient.outbox()}) : '(no window.chatClient)'; } catch (e) { client = String(e); }
		return location.href + '\n' + h('#conn-status') + '\nchatClient: ' + client + '\n' + h('#timeline').slice(-4000) + '\n' + h('main').slice(0, 1500);
	})()`))
	b.mu.Lock()
	console := b.console
	if len(console) > 30 {
		console = console[len(console)-30:]
	}
	b.mu.Unlock()
	b.t.Fatalf("e2e: %s: %s: %v\npage: %s\nconsole:\n  %s", b.name, what, err, state, strings.Join(console, "\n  "))
}

// do runs actions as one step.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fail(what, err)
	}
	b.checkProblems()
}

// submit runs actions that end in a navigation (a form's submit) and
// waits for the new page to load.
func (b *browser) submit(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, actions...)
	if err != nil {
		b.fail(what, err)
	}
	if resp != nil && resp.Status >= 400 {
		b.fail(what, fmt.Errorf("the page answered %d", resp.Status))
	}
	b.checkProblems()
}

// open navigates to a path of the server.
func (b *browser) open(path string) {
	b.t.Helper()
	b.submit("open "+path, chromedp.Navigate(b.srv.URL+path))
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](b *browser, what, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.fail(what, err)
	}
	b.checkProblems()
	return v
}

// evalAsync evaluates an expression whose value is a promise, and
// returns what it resolves to.
func evalAsync[T any](b *browser, what, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, func(p *runtime.EvaluateParams) {
		await := true
		p.AwaitPromise = &await
	}))
	if err != nil {
		b.fail(what, err)
	}
	b.checkProblems()
	return v
}

// waitJS waits until a JavaScript expression is truthy in the page.
func (b *browser) waitJS(what, expr string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](expr,
		chromedp.WithPollingInterval(25*time.Millisecond),
		chromedp.WithPollingTimeout(stepTimeout)))
	if err != nil {
		b.fail("wait for "+what, err)
	}
	b.checkProblems()
}

// js quotes a Go string as a JavaScript string literal.
func js(s string) string {
	q, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(q)
}

// css is a CSS selector, the lookup every query here uses.
func css(s string) chromedp.CSS { return chromedp.CSS(s) }
