// Command server is the HTTP benchmark's target, in two implementations
// behind one flag so they are compared like for like:
//
//	-impl loop     the framework's httpserver on one event loop
//	-impl nethttp  the standard library's net/http
//
// Both answer GET /hello with "Hello, world" (text/plain) and GET /page
// with the chat's templ front page (views.RoomList, three rooms), the loop through the whole
// web layer (web.Application: routing, handler lifecycle, Render).
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"time"

	"chat/framework/httpserver"
	"chat/framework/ioloop"
	"chat/framework/web"
	"chat/views"
)

var hello = []byte("Hello, world")

func main() {
	impl := flag.String("impl", "loop", "loop or nethttp")
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile here until SIGINT")
	flag.Parse()
	if *cpuProfile != "" {
		stop := startProfile(*cpuProfile)
		defer stop()
	}
	switch *impl {
	case "loop":
		runLoop(*addr)
	case "nethttp":
		runNetHTTP(*addr)
	default:
		log.Fatalf("unknown -impl %q", *impl)
	}
}

func announce(a net.Addr) { fmt.Printf("listening %s pid %d\n", a, os.Getpid()) }

// pageData is what both servers render at /page.
var pageData = views.RoomListData{
	Page: views.Page{Title: "Rooms · Tornado Chat", Stylesheet: "/static/css/app.css?v=0123456789abcdef",
		Script: "/static/js/app.js?v=0123456789abcdef", Kind: "rooms"},
	Rooms: []views.RoomSummary{
		{Name: "lobby", Title: "Lobby", Topic: "Say hello", Online: 64, LastActivity: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)},
		{Name: "go", Title: "Go", Topic: "Event loops & goroutines", Online: 12},
		{Name: "tornado", Title: "Tornado", Topic: "IOLoop, IOStream, web", Online: 3, Locked: true},
	},
}

func runLoop(addr string) {
	l, err := ioloop.New(ioloop.Options{})
	if err != nil {
		log.Fatal(err)
	}
	app, err := web.NewApplication(web.Config{
		Loop:        l,
		DisableXSRF: true,
		Routes: []web.Spec{
			{Pattern: "/page", New: web.Func(func(c *web.Context) { c.Render(views.RoomList(pageData)) })},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	// /hello goes straight to the HTTP server's handler; everything else
	// through the web layer.
	srv := &httpserver.Server{Loop: l, Handler: httpserver.HandlerFunc(func(w *httpserver.ResponseWriter, r *httpserver.Request) {
		if r.Path != "/hello" {
			app.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write(hello)
		w.Finish()
	})}
	l.AddCallback(func() {
		a, err := srv.Listen(addr)
		if err != nil {
			log.Fatal(err)
		}
		announce(a)
	})
	interrupted := make(chan os.Signal, 1)
	signal.Notify(interrupted, os.Interrupt)
	go func() { <-interrupted; l.Stop() }()
	if err := l.Run(); err != nil {
		log.Fatal(err)
	}
}

func startProfile(path string) func() {
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	pprof.StartCPUProfile(f)
	return func() { pprof.StopCPUProfile(); f.Close() }
}

func runNetHTTP(addr string) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write(hello)
	})
	mux.HandleFunc("GET /page", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := views.RoomList(pageData).Render(r.Context(), w); err != nil {
			http.Error(w, err.Error(), 500)
		}
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatal(err)
	}
	announce(ln.Addr())
	log.Fatal(http.Serve(ln, mux))
}
