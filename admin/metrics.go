package admin

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"chat/accounts"
	"chat/framework/concurrent"
	"chat/framework/httpserver"
	"chat/framework/ioloop"
	"chat/framework/web"
)

// /metrics: the live panel's figures in the Prometheus text format, made
// with client_golang (github.com/prometheus/client_golang) and encoded by
// expfmt. Two ways in: GET /admin/metrics on the main address, for
// administrators only (a scraper would need an admin's session cookie),
// and MetricsHandler, to serve on an address of its own (the -metrics-addr
// flag), which should be kept private (loopback, or a network only the
// monitoring reaches): it asks for no credentials.
//
// Goroutines: the collector runs where the registry's Gather runs, which
// must not be the loop. Both handlers run Gather on the dashboard's Reads
// executor; the collector asks the loop for the sampler's latest sample
// with AddCallback and waits for it at most collectWait, so a stuck loop
// answers 503 rather than holding the worker. Then the text comes back to
// the loop, which writes it.

// collectWait bounds how long a scrape waits for the loop.
const collectWait = 2 * time.Second

// metricsRegistry is the registry of the chat's collector. Safe from any
// goroutine.
type metricsRegistry struct {
	reg *prometheus.Registry
}

func newMetricsRegistry(s *Sampler) *metricsRegistry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(&sampleCollector{sampler: s})
	return &metricsRegistry{reg: reg}
}

// metricsFormat is the text exposition format, version 0.0.4.
var metricsFormat = expfmt.NewFormat(expfmt.TypeTextPlain)

// text gathers every metric and encodes them. Never on the loop.
func (m *metricsRegistry) text() ([]byte, error) {
	families, err := m.reg.Gather()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, metricsFormat)
	for _, f := range families {
		if err := enc.Encode(f); err != nil {
			return nil, fmt.Errorf("encode %s: %w", f.GetName(), err)
		}
	}
	return buf.Bytes(), nil
}

// gatherMetrics runs text on the Reads executor and resolves on the
// loop. Loop-only.
func (a *Admin) gatherMetrics() *concurrent.Future[[]byte] {
	reg := a.liveState().registry
	return ioloop.RunInExecutor(a.cfg.Reads, reg.text)
}

// metricsPage serves GET /admin/metrics to administrators.
type metricsPage struct{ a *Admin }

func (h metricsPage) Get(c *web.Context) {
	h.a.withAdmin(c, func(*accounts.User) {
		web.Guard(c, h.a.gatherMetrics()).OnResult(func(text []byte, err error) {
			if err != nil {
				c.Fail(&web.HTTPError{Status: http.StatusServiceUnavailable, Message: "The figures could not be gathered now.", Err: err})
				return
			}
			c.SetHeader("Content-Type", string(metricsFormat))
			c.SetHeader("Cache-Control", "no-store")
			c.Write(text)
			c.Finish()
		})
	})
}

// MetricsHandler serves GET /metrics (and only that path) with no
// credentials, for a listener of its own: the lead's -metrics-addr flag
// gives it an httpserver.Server on the loop, as the debug server is. Keep
// that address private. It runs on the loop, like every httpserver
// handler.
func (a *Admin) MetricsHandler() httpserver.Handler {
	a.liveState()
	return httpserver.HandlerFunc(func(w *httpserver.ResponseWriter, r *httpserver.Request) {
		switch {
		case r.Path != "/metrics":
			w.SendError(http.StatusNotFound, "")
			return
		case r.Method != http.MethodGet && r.Method != http.MethodHead:
			w.Header().Set("Allow", "GET, HEAD")
			w.SendError(http.StatusMethodNotAllowed, "")
			return
		}
		a.gatherMetrics().OnResult(func(text []byte, err error) {
			if w.Finished() {
				return // the client went away
			}
			if err != nil {
				a.cfg.Loop.Logger().Warn("admin: gather metrics", "err", err)
				w.SendError(http.StatusServiceUnavailable, "")
				return
			}
			w.Header().Set("Content-Type", string(metricsFormat))
			w.Header().Set("Cache-Control", "no-store")
			w.Write(text)
			w.Finish()
		})
	})
}

// sampleCollector exports the sampler's latest sample. Collect runs on
// the goroutine that gathers (never the loop) and reads the sample from
// the loop (Sampler.LatestFrom).
type sampleCollector struct{ sampler *Sampler }

// A metric of one value taken from a sample.
type sampleMetric struct {
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	value func(s *Sample) float64
}

func gauge(name, help string, value func(s *Sample) float64) sampleMetric {
	return sampleMetric{prometheus.NewDesc(name, help, nil, nil), prometheus.GaugeValue, value}
}

func counter(name, help string, value func(s *Sample) float64) sampleMetric {
	return sampleMetric{prometheus.NewDesc(name, help, nil, nil), prometheus.CounterValue, value}
}

func seconds(ms float64) float64 { return ms / 1000 }

// The single-valued metrics. Every figure is the sampler's (sampler.go
// says what each means); the rates of the panel are left to PromQL's
// rate() over the _total counters.
var sampleMetrics = []sampleMetric{
	gauge("chat_users_online", "People present, summed over the active rooms (one in two rooms counts twice).", func(s *Sample) float64 { return float64(s.UsersOnline) }),
	gauge("chat_rooms_active", "Rooms whose hub is loaded: someone connected within the last minute.", func(s *Sample) float64 { return float64(s.RoomsActive) }),
	counter("chat_posts_total", "Posts accepted and stored.", func(s *Sample) float64 { return float64(s.Totals.Posts) }),
	counter("chat_deliveries_total", "Events handed to connections (one event to 100 members counts 100).", func(s *Sample) float64 { return float64(s.Totals.Deliveries) }),
	counter("chat_refusals_total", "Posts refused (rate limit, mute, lock, slow mode, bad input).", func(s *Sample) float64 { return float64(s.Totals.Refusals) }),

	gauge("chat_loop_busy_ratio", "Share of the last ~10 s the event loop spent running callbacks, timers and I/O handlers.", func(s *Sample) float64 { return s.Busy }),
	gauge("chat_loop_io_busy_ratio", "The I/O handlers' part of chat_loop_busy_ratio.", func(s *Sample) float64 { return s.IOBusy }),
	counter("chat_loop_callbacks_total", "Callbacks the event loop ran.", func(s *Sample) float64 { return float64(s.Totals.Callbacks) }),
	counter("chat_loop_timers_total", "Timers the event loop fired.", func(s *Sample) float64 { return float64(s.Totals.Timers) }),
	counter("chat_loop_io_events_total", "I/O readiness events the event loop dispatched.", func(s *Sample) float64 { return float64(s.Totals.IOEvents) }),
	counter("chat_loop_panics_total", "Callbacks and coroutines that panicked and were recovered.", func(s *Sample) float64 { return float64(s.Totals.Panics) }),
	gauge("chat_loop_queued_callbacks", "Callbacks waiting for the event loop's next iteration.", func(s *Sample) float64 { return float64(s.QueuedCallbacks) }),
	gauge("chat_loop_pending_timers", "Timers scheduled on the event loop.", func(s *Sample) float64 { return float64(s.PendingTimers) }),
	gauge("chat_loop_sockets", "Sockets registered with the event loop.", func(s *Sample) float64 { return float64(s.LoopConns) }),
	gauge("chat_loop_coroutines", "Coroutines running on the event loop.", func(s *Sample) float64 { return float64(s.Coroutines) }),
	gauge("chat_loop_slowest_recent_callback_seconds", "The longest of the loop's last 32 slow callbacks (0: none); the live panel shows where each was scheduled.", func(s *Sample) float64 {
		if len(s.Slow) == 0 {
			return 0
		}
		return seconds(s.Slow[0].Ms)
	}),

	counter("chat_store_commits_total", "Transactions the store's writer committed.", func(s *Sample) float64 { return float64(s.Totals.Commits) }),
	counter("chat_store_writes_total", "Writes in those transactions.", func(s *Sample) float64 { return float64(s.Totals.Writes) }),
	gauge("chat_store_queue_length", "Writes waiting for the store's writer.", func(s *Sample) float64 { return float64(s.StoreQueue) }),
	gauge("chat_store_commit_last_seconds", "The latest commit's time, BEGIN to the end of COMMIT, fsync included.", func(s *Sample) float64 { return seconds(s.CommitLastMs) }),
	gauge("chat_store_commit_mean_seconds", "Mean commit time over the latest 256 commits.", func(s *Sample) float64 { return seconds(s.CommitMeanMs) }),
	gauge("chat_store_commit_p99_seconds", "99th percentile of the latest 256 commits' times.", func(s *Sample) float64 { return seconds(s.CommitP99Ms) }),
	gauge("chat_store_batch_last_writes", "Writes in the latest commit.", func(s *Sample) float64 { return float64(s.BatchLast) }),
	gauge("chat_store_batch_mean_writes", "Mean writes per commit over the latest 256 commits.", func(s *Sample) float64 { return s.BatchMean }),

	gauge("chat_heap_bytes", "Heap objects, live and not yet swept (runtime/metrics).", func(s *Sample) float64 { return float64(s.HeapBytes) }),
	gauge("chat_resident_memory_bytes", "The process's resident set size (0 without /proc).", func(s *Sample) float64 { return float64(s.RSSBytes) }),
	gauge("chat_goroutines", "Goroutines of the process.", func(s *Sample) float64 { return float64(s.Goroutines) }),
	counter("chat_gc_cycles_total", "Garbage collections completed.", func(s *Sample) float64 { return float64(s.Totals.GCCycles) }),
	counter("chat_gc_pauses_total", "GC stop-the-world pauses.", func(s *Sample) float64 { return float64(s.Totals.GCPauses) }),
	gauge("chat_gc_pause_max_seconds", "Longest GC pause in the sampler's last interval (a histogram bucket's upper bound).", func(s *Sample) float64 { return seconds(s.GCPauseMaxMs) }),
	gauge("chat_sample_timestamp_seconds", "When the exported sample was taken, Unix time.", func(s *Sample) float64 { return float64(s.At) / 1000 }),
}

// The metrics with labels.
var (
	connectionsDesc = prometheus.NewDesc("chat_connections", "Connections open now, by door: ws (WebSocket), sse (Server-Sent Events), poll (parked long polls).", []string{"door"}, nil)
	lagDesc         = prometheus.NewDesc("chat_loop_lag_seconds", "How late the event loop ran work after it became due, over its last 1024 lag samples: quantile 0.5, 0.99 and 1 (the maximum).", []string{"quantile"}, nil)

	executorWorkersDesc   = prometheus.NewDesc("chat_executor_workers", "Workers of the executor.", []string{"executor"}, nil)
	executorBusyDesc      = prometheus.NewDesc("chat_executor_busy_workers", "Workers running a job now.", []string{"executor"}, nil)
	executorQueueDesc     = prometheus.NewDesc("chat_executor_queue_depth", "Jobs waiting in the executor's queue.", []string{"executor"}, nil)
	executorCapacityDesc  = prometheus.NewDesc("chat_executor_queue_capacity", "The bound of the executor's queue.", []string{"executor"}, nil)
	executorCompletedDesc = prometheus.NewDesc("chat_executor_completed_total", "Jobs the executor completed.", []string{"executor"}, nil)
	executorRejectedDesc  = prometheus.NewDesc("chat_executor_rejected_total", "Jobs refused because the executor's queue was full.", []string{"executor"}, nil)
)

func (sc *sampleCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range sampleMetrics {
		ch <- m.desc
	}
	for _, d := range []*prometheus.Desc{connectionsDesc, lagDesc, executorWorkersDesc, executorBusyDesc,
		executorQueueDesc, executorCapacityDesc, executorCompletedDesc, executorRejectedDesc} {
		ch <- d
	}
}

func (sc *sampleCollector) Collect(ch chan<- prometheus.Metric) {
	s, err := sc.sampler.LatestFrom(collectWait)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(connectionsDesc, err)
		return
	}
	for _, m := range sampleMetrics {
		ch <- prometheus.MustNewConstMetric(m.desc, m.kind, m.value(&s))
	}
	for door, n := range map[string]int{"ws": s.ConnsWS, "sse": s.ConnsSSE, "poll": s.ConnsPoll} {
		ch <- prometheus.MustNewConstMetric(connectionsDesc, prometheus.GaugeValue, float64(n), door)
	}
	for q, ms := range map[float64]float64{0.5: s.LagP50Ms, 0.99: s.LagP99Ms, 1: s.LagMaxMs} {
		ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, seconds(ms), strconv.FormatFloat(q, 'g', -1, 64))
	}
	seen := make(map[string]int, len(s.Executors))
	for _, ex := range s.Executors {
		// Two executors of one name would make a duplicate series, which
		// fails the whole scrape: number the later ones.
		name := ex.Name
		if seen[ex.Name]++; seen[ex.Name] > 1 {
			name = fmt.Sprintf("%s#%d", ex.Name, seen[ex.Name])
		}
		ch <- prometheus.MustNewConstMetric(executorWorkersDesc, prometheus.GaugeValue, float64(ex.Workers), name)
		ch <- prometheus.MustNewConstMetric(executorBusyDesc, prometheus.GaugeValue, float64(ex.Busy), name)
		ch <- prometheus.MustNewConstMetric(executorQueueDesc, prometheus.GaugeValue, float64(ex.Queue), name)
		ch <- prometheus.MustNewConstMetric(executorCapacityDesc, prometheus.GaugeValue, float64(ex.Capacity), name)
		ch <- prometheus.MustNewConstMetric(executorCompletedDesc, prometheus.CounterValue, float64(ex.Completed), name)
		ch <- prometheus.MustNewConstMetric(executorRejectedDesc, prometheus.CounterValue, float64(ex.Rejected), name)
	}
}
