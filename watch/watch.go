// Package watch runs doctor again and again (nvlint doctor --watch) and
// serves what the latest run found as Prometheus metrics, so operators
// are paged before an integration breaks instead of after.
//
// Runs never overlap: the next one starts an interval after the previous
// one started, or at once when it took longer. A run that panics counts
// as a failure and leaves the metrics of the last good run in place.
// Label values are bounded (rule IDs, severities, areas, regions, the
// names forecasts give): no job, allocation or token ever becomes one.
package watch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/nvlint/nvlint/forecast"
)

// Outcome is what one doctor run found, already redacted.
type Outcome struct {
	// At is when the clusters were read; expiries count from it.
	At       time.Time
	Findings []Finding
	Areas    []Area
	Expiries []forecast.Expiry
	// Region is the Nomad region the run read ("" when unknown).
	Region string
}

// Finding is one finding, as the metrics and the log need it.
type Finding struct {
	Rule, Severity string
	// Object names what it is about, for telling findings apart from
	// run to run.
	Object  string
	Message string
}

// Area is one area's verdict.
type Area struct {
	Name, Status string
	// Asked is false for an area of a side doctor was given no address
	// of: it has no metrics.
	Asked bool
}

// Verdict statuses, as reports.Verdict has them.
const (
	statusOK         = "ok"
	statusNotChecked = "not checked"
)

// Options configure a Watcher.
type Options struct {
	// Run is one doctor run: read-only, bounded by its own deadline.
	Run func(ctx context.Context) (Outcome, error)
	// Interval between the starts of runs.
	Interval time.Duration
	// Log receives one line per run; JSON says it is one JSON object.
	Log  io.Writer
	JSON bool
	// Region is the region label when the run cannot tell (servers
	// down); a region a run reads replaces it.
	Region string
}

// Watcher runs doctor and holds the metrics of its runs.
type Watcher struct {
	o   Options
	reg *prometheus.Registry
	log *slog.Logger

	findings, areaUp, areaChecked, expiry *prometheus.GaugeVec
	duration                              prometheus.Histogram
	lastRun                               prometheus.Gauge
	failures                              prometheus.Counter

	ready atomic.Bool // the first run has finished

	mu     sync.Mutex // guards what follows: one run at a time
	runs   int
	prev   *Outcome
	region string
}

// New makes a Watcher and registers its metrics.
func New(o Options) *Watcher {
	if o.Log == nil {
		o.Log = io.Discard
	}
	w := &Watcher{o: o, reg: prometheus.NewRegistry(), region: o.Region}
	var h slog.Handler
	if o.JSON {
		h = slog.NewJSONHandler(o.Log, nil)
	} else {
		h = slog.NewTextHandler(o.Log, nil)
	}
	w.log = slog.New(h)
	w.findings = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "nvlint_findings", Help: "Findings of the latest doctor run, by rule and severity.",
	}, []string{"rule", "severity", "region"})
	w.areaUp = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "nvlint_area_up", Help: "1 if the area was checked and is ok, 0 if it is at risk, broken or not checked.",
	}, []string{"area", "region"})
	w.areaChecked = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "nvlint_area_checked", Help: "1 if every read the area rests on succeeded in the latest run, 0 if not.",
	}, []string{"area", "region"})
	w.expiry = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "nvlint_expiry_seconds", Help: "Seconds until the earliest forecast expiry (negative once passed), by kind and name.",
	}, []string{"kind", "name"})
	w.duration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "nvlint_run_duration_seconds", Help: "How long doctor runs take.",
		Buckets: []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120},
	})
	w.lastRun = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "nvlint_last_run_timestamp_seconds", Help: "When the latest doctor run that finished started, in Unix seconds.",
	})
	w.failures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "nvlint_run_failures_total", Help: "Doctor runs that crashed or failed before reporting.",
	})
	w.reg.MustRegister(w.findings, w.areaUp, w.areaChecked, w.expiry, w.duration, w.lastRun, w.failures,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return w
}

// Handler serves /metrics, and /healthz: 200 once the first run has
// finished, 503 before.
func (w *Watcher) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(w.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(rw http.ResponseWriter, _ *http.Request) {
		if !w.ready.Load() {
			http.Error(rw, "the first run has not finished", http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(rw, "ok\n")
	})
	return mux
}

// Loop runs doctor every interval until ctx is done; runs is the number
// of runs to make, 0 for no limit.
func (w *Watcher) Loop(ctx context.Context, runs int) {
	for n := 0; runs == 0 || n < runs; n++ {
		start := time.Now()
		w.RunOnce(ctx)
		if runs != 0 && n+1 == runs {
			return
		}
		wait := time.NewTimer(max(0, w.o.Interval-time.Since(start)))
		select {
		case <-ctx.Done():
			wait.Stop()
			return
		case <-wait.C:
		}
	}
}

// Serve listens on addr and runs doctor until ctx is done. ready, when
// not nil, receives the address listened on.
func (w *Watcher) Serve(ctx context.Context, addr string, ready func(net.Addr)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if ready != nil {
		ready(ln.Addr())
	}
	srv := &http.Server{Handler: w.Handler(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	loopDone := make(chan struct{})
	go func() {
		w.Loop(ctx, 0)
		close(loopDone)
	}()
	select {
	case err = <-served:
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdown)
	<-loopDone
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// RunOnce makes one run, updates the metrics and logs a line.
func (w *Watcher) RunOnce(ctx context.Context) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.runs++
	start := time.Now()
	out, err := w.safeRun(ctx)
	took := time.Since(start)
	w.duration.Observe(took.Seconds())
	if err != nil {
		w.failures.Inc()
		w.log.Error("run failed", "run", w.runs, "took", took.Round(time.Millisecond).String(), "error", err.Error())
		return
	}
	if out.Region != "" {
		w.region = out.Region
	}
	w.update(out)
	w.lastRun.Set(float64(start.UnixNano()) / 1e9)
	w.logRun(took, out)
	w.prev = &out
	w.ready.Store(true)
}

// safeRun is one run with a panic turned into an error.
func (w *Watcher) safeRun(ctx context.Context) (out Outcome, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error: %v (%s)", r, firstFrame(debug.Stack()))
		}
	}()
	return w.o.Run(ctx)
}

// firstFrame is the function that panicked, for the log.
func firstFrame(stack []byte) string {
	lines := strings.Split(string(stack), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "panic(") && i+2 < len(lines) {
			return strings.TrimSpace(lines[i+2])
		}
	}
	return "no stack"
}

// update replaces every gauge with the run's values: labels of findings
// and forecasts gone since the last run disappear.
func (w *Watcher) update(out Outcome) {
	w.findings.Reset()
	type key struct{ rule, severity string }
	counts := map[key]int{}
	for _, f := range out.Findings {
		counts[key{f.Rule, f.Severity}]++
	}
	for k, n := range counts {
		w.findings.WithLabelValues(k.rule, k.severity, w.region).Set(float64(n))
	}
	w.areaUp.Reset()
	w.areaChecked.Reset()
	for _, a := range out.Areas {
		if !a.Asked {
			continue
		}
		w.areaUp.WithLabelValues(a.Name, w.region).Set(b2f(a.Status == statusOK))
		w.areaChecked.WithLabelValues(a.Name, w.region).Set(b2f(a.Status != statusNotChecked))
	}
	w.expiry.Reset()
	earliest := map[[2]string]time.Time{}
	for _, e := range out.Expiries {
		k := [2]string{e.Kind, e.Name}
		if t, ok := earliest[k]; !ok || e.At.Before(t) {
			earliest[k] = e.At
		}
	}
	for k, t := range earliest {
		w.expiry.WithLabelValues(k[0], k[1]).Set(t.Sub(out.At).Seconds())
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// digits are left out of what tells findings apart: a forecast's "in
// 5h12m" changes every run while the finding stays the same.
var digits = regexp.MustCompile(`[0-9]+`)

func (f Finding) identity() string {
	return f.Rule + "\x00" + f.Object + "\x00" + digits.ReplaceAllString(f.Message, "#")
}

// logRun writes the run's line: the areas that changed state, and the
// findings new or resolved since the previous run.
func (w *Watcher) logRun(took time.Duration, out Outcome) {
	var changed []string
	var added, resolved []Finding
	prevAreas := map[string]string{}
	prevFindings := map[string]Finding{}
	if w.prev != nil {
		for _, a := range w.prev.Areas {
			prevAreas[a.Name] = a.Status
		}
		for _, f := range w.prev.Findings {
			prevFindings[f.identity()] = f
		}
	}
	for _, a := range out.Areas {
		if !a.Asked {
			continue
		}
		if old, ok := prevAreas[a.Name]; !ok || old != a.Status {
			if !ok {
				old = "unknown"
			}
			changed = append(changed, fmt.Sprintf("%s: %s -> %s", a.Name, old, a.Status))
		}
	}
	now := map[string]bool{}
	for _, f := range out.Findings {
		id := f.identity()
		now[id] = true
		if _, ok := prevFindings[id]; !ok {
			added = append(added, f)
		}
	}
	for id, f := range prevFindings {
		if !now[id] {
			resolved = append(resolved, f)
		}
	}
	newLines, addedMore := firstListed(added)
	resolvedLines, resolvedMore := firstListed(resolved)
	attrs := []any{"run", w.runs, "took", took.Round(time.Millisecond).String(), "findings", len(out.Findings)}
	if w.o.JSON {
		attrs = append(attrs, "areas_changed", nonNil(changed), "new", nonNil(newLines), "resolved", nonNil(resolvedLines))
	} else {
		for _, l := range []struct {
			name string
			v    []string
		}{{"areas_changed", changed}, {"new", newLines}, {"resolved", resolvedLines}} {
			if len(l.v) > 0 {
				attrs = append(attrs, l.name, strings.Join(l.v, "; "))
			}
		}
	}
	if addedMore > 0 {
		attrs = append(attrs, "new_more", addedMore)
	}
	if resolvedMore > 0 {
		attrs = append(attrs, "resolved_more", resolvedMore)
	}
	w.log.Info("run", attrs...)
}

// maxListed is how many new or resolved findings a run's log line lists.
// A first run over a fleet finds thousands: one line of megabytes, which
// log shippers cut or drop. The metrics hold them all.
const maxListed = 20

// firstListed writes findings as "SEVERITY RULE MESSAGE", errors first,
// then warnings, then the rest, and keeps the first maxListed; more is
// how many it left out.
func firstListed(fs []Finding) (listed []string, more int) {
	rank := func(f Finding) int {
		switch f.Severity {
		case "error":
			return 0
		case "warning":
			return 1
		}
		return 2
	}
	slices.SortFunc(fs, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), strings.Compare(a.Rule, b.Rule), strings.Compare(a.Message, b.Message))
	})
	for _, f := range fs[:min(len(fs), maxListed)] {
		listed = append(listed, f.Severity+" "+f.Rule+" "+f.Message)
	}
	return listed, len(fs) - len(listed)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
