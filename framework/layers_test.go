// Package framework_test keeps the layering of ARCHITECTURE.md §5 (the
// project's design contract, "who may import whom") true:
// TestModuleLayering reads the module's import graph with `go list -deps`
// and fails on a forbidden import; TestLayeringChecker shows, on small fake
// graphs, that each rule fails when broken.
//
// What counts: the imports of non-test files only (`go list -deps` without
// -test), for every rule but one. Tests may use a higher layer as a harness
// (iostream's tests listen through tcpserver) and other implementations as
// oracles (gorilla/websocket in websocket's tests, nbio in bench/peers):
// none of that is linked into a program. The exception: framework/'s tests
// may not import the app, store or templ either, so framework/ can be
// tested, as it is built, without them.
package framework_test

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// frameworkStack lists framework/'s packages lowest first. A package may
// import only packages before it, so the stack runs one way:
// concurrent ← ioloop ← iostream ← tcpserver ← httpserver ← web ←
// websocket; only ioloop has per-OS or per-backend files
// (checkPerOSFiles). Two packages are test kits, for tests only (see
// importRules): looptest (starts a loop) sits just above ioloop, so the
// low layers' own tests can use it; asynctest (Tornado's tornado.testing:
// a loop, a server on a free port, a client) sits on top, since it serves
// applications and dials WebSockets, and builds on looptest. locks and
// queues (tornado.locks, tornado.queues) need only Future and the loop's
// timers, so they sit just above ioloop too, queues above locks (its
// waits are locks.Waiters); every layer from iostream up may use them,
// nothing below may. httpclient (tornado.httpclient) dials through
// tcpserver and reads responses with httpserver's parsers; nothing in the
// framework needs it, so it sits above the server side. A new package in
// framework/ fails the test until it is placed here.
var frameworkStack = []string{
	"chat/framework/concurrent",
	"chat/framework/ioloop",
	"chat/framework/ioloop/looptest",
	"chat/framework/locks",
	"chat/framework/queues",
	"chat/framework/iostream",
	"chat/framework/tcpserver",
	"chat/framework/httpserver",
	"chat/framework/web",
	"chat/framework/websocket",
	"chat/framework/httpclient",
	"chat/framework/asynctest",
}

// importRule restricts who may import dep directly. Patterns are import
// paths; "p/..." matches p and everything below it, as for the go command.
type importRule struct {
	dep     string   // the imported package (pattern)
	scope   string   // importers the rule applies to (pattern)
	allowed []string // importers in scope allowed to import dep (patterns)
	why     string
}

var importRules = []importRule{
	{dep: "golang.org/x/sys/...", scope: "chat/...", allowed: []string{"chat/framework/ioloop"},
		why: "ioloop is the only package with epoll and per-OS code"},
	{dep: "syscall", scope: "chat/framework/...", allowed: []string{"chat/framework/ioloop"},
		why: "inside framework/, system calls are ioloop's alone (programs may use syscall for signals)"},
	{dep: "github.com/mattn/go-sqlite3", scope: "chat/...", allowed: []string{"chat/store/..."},
		why: "SQLite is store's business"},
	{dep: "github.com/gorilla/securecookie", scope: "chat/...", allowed: []string{"chat/framework/web"},
		why: "web is the only user of securecookie"},
	{dep: "chat/framework/ioloop/looptest", scope: "chat/...", allowed: []string{"chat/framework/asynctest"},
		why: "looptest is a test helper (it imports testing); only the other test kit builds on it"},
	{dep: "chat/framework/asynctest", scope: "chat/...", allowed: nil,
		why: "asynctest is a test helper (it imports testing)"},
}

// depRule forbids the packages in from to depend, directly or through any
// chain of imports, on the packages in forbidden (less those in except).
type depRule struct {
	from      string
	forbidden []string
	except    []string
	why       string
}

var depRules = []depRule{
	{from: "chat/framework/...", forbidden: []string{"chat/...", "github.com/a-h/templ/..."}, except: []string{"chat/framework/..."},
		why: "framework/ never depends on the app, store, views or templ: it takes interfaces (Render) instead"},
	{from: "chat/store/...", forbidden: []string{"chat/framework/..."},
		why: "store imports neither the loop nor the web layer"},
	{from: "chat/views/...", forbidden: []string{"chat/framework/...", "chat/store/...", "chat/rooms/..."},
		why: "views only present values they are given"},
}

// testImportRule applies to the test files of framework/: they may not
// import anything outside framework/ in the module, nor templ.
var testImportRule = depRule{from: "chat/framework/...", forbidden: []string{"chat/...", "github.com/a-h/templ/..."},
	except: []string{"chat/framework/..."}, why: "framework/ is tested without the app, store or templ"}

// graph maps an import path to the packages its non-test files import.
type graph map[string][]string

// matches reports whether path matches pattern ("p" or "p/...").
func matches(pattern, path string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "/..."); ok {
		return path == prefix || strings.HasPrefix(path, prefix+"/")
	}
	return path == pattern
}

func matchesAny(patterns []string, path string) bool {
	return slices.ContainsFunc(patterns, func(p string) bool { return matches(p, path) })
}

// checkLayering returns one line per forbidden import in g (non-test
// imports) and testImports (the framework packages' test imports), sorted.
func checkLayering(g, testImports graph) []string {
	var problems []string
	problems = append(problems, checkStack(g)...)
	problems = append(problems, checkImportRules(g)...)
	for _, rule := range depRules {
		problems = append(problems, checkDepRule(g, g, rule, "")...)
	}
	problems = append(problems, checkDepRule(testImports, g, testImportRule, "test of ")...)
	slices.Sort(problems)
	return problems
}

// checkStack enforces frameworkStack on direct imports between framework
// packages, and that every framework package is placed in it.
func checkStack(g graph) []string {
	var problems []string
	for pkg, imports := range g {
		if !matches("chat/framework/...", pkg) {
			continue
		}
		level := slices.Index(frameworkStack, pkg)
		if level < 0 {
			problems = append(problems, fmt.Sprintf("%s is not in frameworkStack: place it in the layering", pkg))
			continue
		}
		for _, imp := range imports {
			if l := slices.Index(frameworkStack, imp); l >= level {
				problems = append(problems, fmt.Sprintf("%s imports %s: a framework package may import only the layers below it (%s)",
					pkg, imp, strings.Join(frameworkStack[:level], ", ")))
			}
		}
	}
	return problems
}

func checkImportRules(g graph) []string {
	var problems []string
	for pkg, imports := range g {
		for _, rule := range importRules {
			if !matches(rule.scope, pkg) || matchesAny(rule.allowed, pkg) {
				continue
			}
			for _, imp := range imports {
				if matches(rule.dep, imp) {
					problems = append(problems, fmt.Sprintf("%s imports %s: %s", pkg, imp, rule.why))
				}
			}
		}
	}
	return problems
}

// checkDepRule walks, from every package of roots matching rule.from, the
// imports it has in roots and then everything reachable in g, and reports
// each forbidden package reached with the chain that reaches it.
func checkDepRule(roots, g graph, rule depRule, label string) []string {
	var problems []string
	for pkg, imports := range roots {
		if !matches(rule.from, pkg) {
			continue
		}
		for dep, chain := range reachable(pkg, imports, g) {
			if matchesAny(rule.forbidden, dep) && !matchesAny(rule.except, dep) {
				problems = append(problems, fmt.Sprintf("%s%s depends on %s (%s): %s",
					label, pkg, dep, strings.Join(chain, " -> "), rule.why))
			}
		}
	}
	return problems
}

// reachable returns every package reachable from start's imports, each with
// the shortest import chain from start to it.
func reachable(start string, imports []string, g graph) map[string][]string {
	chains := map[string][]string{}
	var queue []string
	for _, imp := range imports {
		if _, seen := chains[imp]; !seen {
			chains[imp] = []string{start, imp}
			queue = append(queue, imp)
		}
	}
	for len(queue) > 0 {
		pkg := queue[0]
		queue = queue[1:]
		for _, imp := range g[pkg] {
			if _, seen := chains[imp]; !seen && imp != start {
				chains[imp] = append(slices.Clip(chains[pkg]), imp)
				queue = append(queue, imp)
			}
		}
	}
	return chains
}

// goList runs the go command in the module and parses lines of
// "importpath<TAB>space-separated imports".
func goList(t *testing.T, env []string, args ...string) graph {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to read the import graph: %v", err)
	}
	cmd := exec.Command(goCmd, append([]string{"list"}, args...)...)
	cmd.Dir = ".." // the module root
	cmd.Env = append(cmd.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	g := graph{}
	scanner := bufio.NewScanner(bytes.NewReader(out))
	for scanner.Scan() {
		if scanner.Text() == "" {
			continue
		}
		pkg, imports, _ := strings.Cut(scanner.Text(), "\t")
		g[pkg] = strings.Fields(imports)
	}
	return g
}

// TestModuleLayering checks the real module, for each build configuration
// whose files differ: Linux with the epoll backend, Linux with the portable
// backend, and another OS (per-OS files).
func TestModuleLayering(t *testing.T) {
	if g := goList(t, nil, "-m", "-f", "{{.Path}}\t"); len(g) != 1 || g["chat"] == nil {
		t.Fatalf("module path is not chat (%v): the patterns here need updating", g)
	}
	filesByConfig := map[string]graph{}
	for _, config := range []struct {
		name string
		env  []string
		tags string
	}{
		{name: "linux epoll", env: []string{"GOOS=linux"}},
		{name: "linux portable", env: []string{"GOOS=linux"}, tags: "ioloop_portable"},
		{name: "darwin", env: []string{"GOOS=darwin"}},
	} {
		t.Run(config.name, func(t *testing.T) {
			tags := "-tags=" + config.tags
			// A package without non-test files (this one) cannot be imported: left out.
			g := goList(t, config.env, tags, "-deps", "-f", "{{if or .GoFiles .CgoFiles}}{{.ImportPath}}\t{{join .Imports \" \"}}{{end}}", "./...")
			testImports := goList(t, config.env, tags, "-f", "{{.ImportPath}}\t{{join .TestImports \" \"}} {{join .XTestImports \" \"}}", "./framework/...")
			filesByConfig[config.name] = goList(t, config.env, tags, "-f", "{{.ImportPath}}\t{{join .GoFiles \" \"}} {{join .CgoFiles \" \"}}", "./framework/...")
			for _, pkg := range frameworkStack {
				if _, ok := g[pkg]; !ok {
					t.Errorf("%s is in frameworkStack but not in the module", pkg)
				}
			}
			for _, p := range checkLayering(g, testImports) {
				t.Error(p)
			}
		})
	}
	for _, p := range checkPerOSFiles(filesByConfig) {
		t.Error(p)
	}
}

// perOSPackage is the one framework package whose files may differ from
// one OS or backend to another (STYLE: per-OS code is confined, behind one
// seam, to the package that needs it).
const perOSPackage = "chat/framework/ioloop"

// checkPerOSFiles reports framework packages other than perOSPackage
// whose Go files differ between build configurations (each a map of
// package to its files).
func checkPerOSFiles(filesByConfig map[string]graph) []string {
	configs := make([]string, 0, len(filesByConfig))
	for name := range filesByConfig {
		configs = append(configs, name)
	}
	slices.Sort(configs)
	var problems []string
	for i := 1; i < len(configs); i++ {
		first, other := filesByConfig[configs[0]], filesByConfig[configs[i]]
		for pkg, files := range first {
			if pkg != perOSPackage && matches("chat/framework/...", pkg) && !slices.Equal(files, other[pkg]) {
				problems = append(problems, fmt.Sprintf("%s builds %v for %s but %v for %s: per-OS and per-backend files belong in %s",
					pkg, files, configs[0], other[pkg], configs[i], perOSPackage))
			}
		}
	}
	slices.Sort(problems)
	return problems
}

func TestPerOSFilesChecker(t *testing.T) {
	same := graph{"chat/framework/iostream": {"stream.go"}, "chat/framework/ioloop": {"loop.go", "poller_epoll.go"}, "chat/store": {"a.go"}}
	for _, tc := range []struct {
		name  string
		other graph
		want  int
	}{
		{name: "only ioloop differs", other: graph{"chat/framework/iostream": {"stream.go"}, "chat/framework/ioloop": {"loop.go", "poller_portable.go"}, "chat/store": {"b.go"}}},
		{name: "iostream has a per-OS file", other: graph{"chat/framework/iostream": {"stream.go", "stream_linux.go"}, "chat/framework/ioloop": {"loop.go"}}, want: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := checkPerOSFiles(map[string]graph{"linux": same, "darwin": tc.other})
			if len(got) != tc.want {
				t.Errorf("got %d problems, want %d: %q", len(got), tc.want, got)
			}
			if tc.want > 0 && !strings.Contains(got[0], "chat/framework/iostream builds") {
				t.Errorf("problem %q does not name iostream", got[0])
			}
		})
	}
}

// todaysGraph is the module's shape in brief: every rule holds on it.
func todaysGraph() graph {
	return graph{
		"chat/framework/concurrent":       {"errors", "time"},
		"chat/framework/ioloop":           {"chat/framework/concurrent", "golang.org/x/sys/unix", "syscall"},
		"chat/framework/ioloop/looptest":  {"chat/framework/concurrent", "chat/framework/ioloop", "testing"},
		"chat/framework/locks":            {"chat/framework/concurrent", "chat/framework/ioloop"},
		"chat/framework/queues":           {"chat/framework/concurrent", "chat/framework/ioloop", "chat/framework/locks"},
		"chat/framework/iostream":         {"chat/framework/concurrent", "chat/framework/ioloop"},
		"chat/framework/tcpserver":        {"chat/framework/ioloop", "chat/framework/iostream"},
		"chat/framework/httpserver":       {"chat/framework/ioloop", "chat/framework/iostream", "chat/framework/tcpserver", "net/http"},
		"chat/framework/web":              {"chat/framework/httpserver", "github.com/gorilla/securecookie"},
		"chat/framework/websocket":        {"chat/framework/httpserver", "chat/framework/tcpserver"},
		"chat/framework/asynctest":        {"chat/framework/ioloop/looptest", "net/http", "testing"},
		"chat/store":                      {"database/sql", "github.com/mattn/go-sqlite3"},
		"chat/views":                      {"github.com/a-h/templ"},
		"chat/cmd/chat":                   {"chat/framework/web", "chat/store", "chat/views", "syscall"},
		"chat/bench/writefloor":           {"syscall"},
		"github.com/a-h/templ":            {"context"},
		"github.com/gorilla/securecookie": {"crypto/hmac"},
		"github.com/mattn/go-sqlite3":     {"database/sql"},
		"golang.org/x/sys/unix":           {"syscall"},
	}
}

func todaysTestImports() graph {
	return graph{
		"chat/framework/iostream":  {"chat/framework/tcpserver", "chat/framework/ioloop/looptest"},
		"chat/framework/websocket": {"github.com/gorilla/websocket", "chat/framework/ioloop/looptest"},
		"chat/framework/web":       {"chat/framework/asynctest"},
	}
}

// TestLayeringChecker breaks each rule once on a copy of todaysGraph and
// checks the checker names the edge (or the chain) that breaks it.
func TestLayeringChecker(t *testing.T) {
	for _, tc := range []struct {
		name       string
		edit       func(g, tests graph)
		violations []string // substrings, one per expected problem
	}{
		{name: "today's shape is clean", edit: func(g, tests graph) {}},
		{name: "websocket may import web, which is below it", edit: func(g, _ graph) {
			g["chat/framework/websocket"] = append(g["chat/framework/websocket"], "chat/framework/web")
		}},
		{name: "a layer importing a higher one", edit: func(g, _ graph) {
			g["chat/framework/iostream"] = append(g["chat/framework/iostream"], "chat/framework/httpserver")
		}, violations: []string{"chat/framework/iostream imports chat/framework/httpserver: a framework package may import only the layers below it"}},
		{name: "web importing websocket", edit: func(g, _ graph) {
			g["chat/framework/web"] = append(g["chat/framework/web"], "chat/framework/websocket")
		}, violations: []string{"chat/framework/web imports chat/framework/websocket"}},
		{name: "concurrent importing ioloop", edit: func(g, _ graph) {
			g["chat/framework/concurrent"] = append(g["chat/framework/concurrent"], "chat/framework/ioloop")
		}, violations: []string{"chat/framework/concurrent imports chat/framework/ioloop"}},
		{name: "ioloop importing locks, which is above it", edit: func(g, _ graph) {
			g["chat/framework/ioloop"] = append(g["chat/framework/ioloop"], "chat/framework/locks")
		}, violations: []string{"chat/framework/ioloop imports chat/framework/locks"}},
		{name: "locks importing queues", edit: func(g, _ graph) {
			g["chat/framework/locks"] = append(g["chat/framework/locks"], "chat/framework/queues")
		}, violations: []string{"chat/framework/locks imports chat/framework/queues"}},
		{name: "websocket may import queues", edit: func(g, _ graph) {
			g["chat/framework/websocket"] = append(g["chat/framework/websocket"], "chat/framework/queues")
		}},
		{name: "a framework package not in the stack", edit: func(g, _ graph) {
			g["chat/framework/pubsub"] = []string{"chat/framework/ioloop"}
		}, violations: []string{"chat/framework/pubsub is not in frameworkStack"}},
		{name: "x/sys/unix outside ioloop", edit: func(g, _ graph) {
			g["chat/framework/iostream"] = append(g["chat/framework/iostream"], "golang.org/x/sys/unix")
		}, violations: []string{"chat/framework/iostream imports golang.org/x/sys/unix: ioloop is the only package"}},
		{name: "x/sys/unix in a program", edit: func(g, _ graph) {
			g["chat/cmd/chat"] = append(g["chat/cmd/chat"], "golang.org/x/sys/unix")
		}, violations: []string{"chat/cmd/chat imports golang.org/x/sys/unix"}},
		{name: "syscall in a framework package other than ioloop", edit: func(g, _ graph) {
			g["chat/framework/httpserver"] = append(g["chat/framework/httpserver"], "syscall")
		}, violations: []string{"chat/framework/httpserver imports syscall"}},
		{name: "go-sqlite3 outside store", edit: func(g, _ graph) {
			g["chat/cmd/chat"] = append(g["chat/cmd/chat"], "github.com/mattn/go-sqlite3")
		}, violations: []string{"chat/cmd/chat imports github.com/mattn/go-sqlite3: SQLite is store's business"}},
		{name: "go-sqlite3 in a package under store", edit: func(g, _ graph) {
			g["chat/store/migrate"] = []string{"github.com/mattn/go-sqlite3"}
		}},
		{name: "securecookie outside web", edit: func(g, _ graph) {
			g["chat/framework/websocket"] = append(g["chat/framework/websocket"], "github.com/gorilla/securecookie")
		}, violations: []string{"chat/framework/websocket imports github.com/gorilla/securecookie"}},
		{name: "asynctest imported by a program", edit: func(g, _ graph) {
			g["chat/cmd/chat"] = append(g["chat/cmd/chat"], "chat/framework/asynctest")
		}, violations: []string{"chat/cmd/chat imports chat/framework/asynctest: asynctest is a test helper"}},
		{name: "looptest imported by a framework package other than asynctest", edit: func(g, _ graph) {
			g["chat/framework/web"] = append(g["chat/framework/web"], "chat/framework/ioloop/looptest")
		}, violations: []string{"chat/framework/web imports chat/framework/ioloop/looptest: looptest is a test helper"}},
		{name: "a framework package importing asynctest", edit: func(g, _ graph) {
			g["chat/framework/websocket"] = append(g["chat/framework/websocket"], "chat/framework/asynctest")
		}, violations: []string{
			"chat/framework/websocket imports chat/framework/asynctest: a framework package may import only the layers below it",
			"chat/framework/websocket imports chat/framework/asynctest: asynctest is a test helper",
		}},
		{name: "looptest imported by a program", edit: func(g, _ graph) {
			g["chat/cmd/chat"] = append(g["chat/cmd/chat"], "chat/framework/ioloop/looptest")
		}, violations: []string{"chat/cmd/chat imports chat/framework/ioloop/looptest: looptest is a test helper"}},
		{name: "framework importing views", edit: func(g, _ graph) {
			g["chat/framework/web"] = append(g["chat/framework/web"], "chat/views")
		}, violations: []string{
			"chat/framework/web depends on chat/views (chat/framework/web -> chat/views)",
			"chat/framework/web depends on github.com/a-h/templ (chat/framework/web -> chat/views -> github.com/a-h/templ)",
		}},
		{name: "framework reaching store through a third-party package", edit: func(g, _ graph) {
			g["chat/framework/websocket"] = append(g["chat/framework/websocket"], "example.com/helper")
			g["example.com/helper"] = []string{"chat/store"}
		}, violations: []string{"chat/framework/websocket depends on chat/store (chat/framework/websocket -> example.com/helper -> chat/store)"}},
		{name: "framework importing an app package", edit: func(g, _ graph) {
			g["chat/rooms"] = nil
			g["chat/framework/websocket"] = append(g["chat/framework/websocket"], "chat/rooms")
		}, violations: []string{"chat/framework/websocket depends on chat/rooms"}},
		{name: "store importing the loop", edit: func(g, _ graph) {
			g["chat/store"] = append(g["chat/store"], "chat/framework/concurrent")
		}, violations: []string{"chat/store depends on chat/framework/concurrent (chat/store -> chat/framework/concurrent): store imports neither"}},
		{name: "views importing store", edit: func(g, _ graph) {
			g["chat/views"] = append(g["chat/views"], "chat/store")
		}, violations: []string{"chat/views depends on chat/store (chat/views -> chat/store)"}},
		{name: "views importing rooms", edit: func(g, _ graph) {
			g["chat/views"] = append(g["chat/views"], "chat/rooms")
		}, violations: []string{"chat/views depends on chat/rooms"}},
		{name: "views importing framework", edit: func(g, _ graph) {
			g["chat/views"] = append(g["chat/views"], "chat/framework/concurrent")
		}, violations: []string{"chat/views depends on chat/framework/concurrent"}},
		{name: "a framework test importing store", edit: func(_, tests graph) {
			tests["chat/framework/web"] = []string{"chat/store"}
		}, violations: []string{"test of chat/framework/web depends on chat/store"}},
		{name: "a framework test importing templ", edit: func(_, tests graph) {
			tests["chat/framework/web"] = []string{"github.com/a-h/templ"}
		}, violations: []string{"test of chat/framework/web depends on github.com/a-h/templ"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, tests := todaysGraph(), todaysTestImports()
			tc.edit(g, tests)
			got := checkLayering(g, tests)
			if len(got) != len(tc.violations) {
				t.Fatalf("got %d problems, want %d:\n%s", len(got), len(tc.violations), strings.Join(got, "\n"))
			}
			for _, want := range tc.violations {
				if !slices.ContainsFunc(got, func(p string) bool { return strings.Contains(p, want) }) {
					t.Errorf("no problem mentions %q; got:\n%s", want, strings.Join(got, "\n"))
				}
			}
		})
	}
}
