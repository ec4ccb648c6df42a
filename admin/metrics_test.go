package admin

import (
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"chat/framework/asynctest"
	"chat/framework/httpserver"
	"chat/store"
)

// parseMetrics parses the text format strictly, failing the test on any
// malformed line.
func parseMetrics(t *testing.T, body string) map[string]*dto.MetricFamily {
	t.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse the metrics: %v\n%s", err, body)
	}
	return families
}

// value finds the sample of a family whose labels include those given.
func metricValue(t *testing.T, families map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	f := families[name]
	if f == nil {
		t.Errorf("no %s", name)
		return 0
	}
next:
	for _, m := range f.GetMetric() {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, lp := range m.GetLabel() {
				if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		}
	}
	t.Errorf("no %s%v", name, labels)
	return 0
}

// The main figures, present and of the right type.
var wantFamilies = map[string]dto.MetricType{
	"chat_connections":                          dto.MetricType_GAUGE,
	"chat_users_online":                         dto.MetricType_GAUGE,
	"chat_rooms_active":                         dto.MetricType_GAUGE,
	"chat_posts_total":                          dto.MetricType_COUNTER,
	"chat_deliveries_total":                     dto.MetricType_COUNTER,
	"chat_loop_lag_seconds":                     dto.MetricType_GAUGE,
	"chat_loop_busy_ratio":                      dto.MetricType_GAUGE,
	"chat_loop_callbacks_total":                 dto.MetricType_COUNTER,
	"chat_loop_io_events_total":                 dto.MetricType_COUNTER,
	"chat_executor_queue_depth":                 dto.MetricType_GAUGE,
	"chat_executor_busy_workers":                dto.MetricType_GAUGE,
	"chat_executor_rejected_total":              dto.MetricType_COUNTER,
	"chat_store_commits_total":                  dto.MetricType_COUNTER,
	"chat_store_commit_p99_seconds":             dto.MetricType_GAUGE,
	"chat_store_batch_mean_writes":              dto.MetricType_GAUGE,
	"chat_heap_bytes":                           dto.MetricType_GAUGE,
	"chat_resident_memory_bytes":                dto.MetricType_GAUGE,
	"chat_gc_pause_max_seconds":                 dto.MetricType_GAUGE,
	"chat_gc_cycles_total":                      dto.MetricType_COUNTER,
	"chat_sample_timestamp_seconds":             dto.MetricType_GAUGE,
	"chat_loop_slowest_recent_callback_seconds": dto.MetricType_GAUGE,
}

// /admin/metrics: administrators get the text format with the figures of
// the latest sample; moderators and users 403; the signed out are sent to
// sign in.
func TestAdminMetrics(t *testing.T) {
	s := startLiveSite(t)
	ada := s.guest("ada", store.RoleUser)
	ada.post("lobby", "one")
	ada.post("lobby", "two")
	at := time.Unix(1_800_000_000, 0)
	s.tick(at)
	ws := s.DialWebSocket("/api/rooms/lobby/ws", ada.cookieHeader())
	s.WaitFor(func() bool { return s.engine.Stats().Members == 1 }, "the WebSocket joins")
	s.tick(at.Add(time.Second))

	boss := s.guest("boss", store.RoleAdmin)
	r := boss.client.Get("/admin/metrics")
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("admin: %d %q\n%s", r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	families := parseMetrics(t, r.Body)
	for name, typ := range wantFamilies {
		if f := families[name]; f == nil || f.GetType() != typ || f.GetHelp() == "" {
			t.Errorf("%s: %v; want a %v with help", name, f, typ)
		}
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"chat_connections", []string{"door", "ws"}, 1},
		{"chat_connections", []string{"door", "sse"}, 0},
		{"chat_connections", []string{"door", "poll"}, 0},
		{"chat_posts_total", nil, 2},
		{"chat_rooms_active", nil, 1},
		{"chat_sample_timestamp_seconds", nil, float64(at.Add(time.Second).Unix())},
	} {
		if got := metricValue(t, families, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v; want %v", c.name, c.labels, got, c.want)
		}
	}
	for _, q := range []string{"0.5", "0.99", "1"} {
		metricValue(t, families, "chat_loop_lag_seconds", "quantile", q)
	}
	if metricValue(t, families, "chat_store_commits_total") < 2 || metricValue(t, families, "chat_loop_callbacks_total") <= 0 {
		t.Error("counters did not count")
	}
	if len(families["chat_executor_queue_depth"].GetMetric()) == 0 {
		t.Error("no executor listed")
	}
	ws.Close(1000, "")

	for _, c := range []struct {
		name   string
		b      *liveBrowser
		status int
	}{
		{"moderator", s.guest("mod", store.RoleModerator), http.StatusForbidden},
		{"user", ada, http.StatusForbidden},
		{"signed out", s.browser(), http.StatusFound},
	} {
		r := c.b.client.Get("/admin/metrics")
		if r.Status != c.status || strings.Contains(r.Body, "chat_posts_total") {
			t.Errorf("%s: %d; want %d and no figures", c.name, r.Status, c.status)
		}
	}
}

// MetricsHandler serves /metrics on a listener of its own, with no
// credentials, and nothing else there; before any tick it reports a
// sample taken when asked.
func TestMetricsHandler(t *testing.T) {
	s := startLiveSite(t)
	var h httpserver.Handler
	s.Do(func() { h = s.admin.MetricsHandler() })
	m := asynctest.Listen(t, &httpserver.Server{Loop: s.Loop, Handler: h})

	r := m.Get("/metrics")
	if r.Status != 200 {
		t.Fatalf("GET /metrics: %d %s", r.Status, r.Body)
	}
	families := parseMetrics(t, r.Body)
	if len(families) < len(wantFamilies) {
		t.Errorf("%d families; want at least %d", len(families), len(wantFamilies))
	}
	if metricValue(t, families, "chat_heap_bytes") <= 0 || metricValue(t, families, "chat_sample_timestamp_seconds") <= 0 {
		t.Error("the sample taken when asked is empty")
	}
	if r := m.Get("/other"); r.Status != http.StatusNotFound {
		t.Errorf("GET /other: %d; want 404", r.Status)
	}
	if r := m.Fetch("POST", "/metrics", ""); r.Status != http.StatusMethodNotAllowed {
		t.Errorf("POST /metrics: %d; want 405", r.Status)
	}
}

// A loop that does not answer makes the collector fail within its bound
// rather than hang: LatestFrom on a stopped loop's sampler.
func TestLatestFromABusyLoop(t *testing.T) {
	s := startLiveSite(t)
	release := make(chan struct{})
	blocked := make(chan struct{})
	var sampler *Sampler
	s.Do(func() { sampler = s.admin.Sampler() })
	s.Loop.AddCallback(func() { close(blocked); <-release })
	<-blocked
	_, err := sampler.LatestFrom(50 * time.Millisecond)
	close(release)
	if err != ErrLoopBusy {
		t.Errorf("LatestFrom on a held loop: %v; want ErrLoopBusy", err)
	}
	if _, err := sampler.LatestFrom(collectWait); err != nil {
		t.Errorf("LatestFrom once the loop is free: %v", err)
	}
}
