// Package hubstats writes the /stats reply of the benchmark's hub protocol
// (bench/peers/README.md) for the peers served by net/http, so gorillahub
// and nbiohub report their memory the same way.
package hubstats

import (
	"encoding/json"
	"net/http"
	"runtime"
)

// Write collects garbage, then replies with the load tool's memory
// snapshot: {"conns": conns, "goroutines": G, "heap_inuse": bytes}.
func Write(w http.ResponseWriter, conns int) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"conns":      conns,
		"goroutines": runtime.NumGoroutine(),
		"heap_inuse": ms.HeapInuse,
	})
}
