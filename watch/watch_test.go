package watch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/nvlint/nvlint/forecast"
)

// Scrape reads /metrics with Prometheus's own text parser.
func Scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	return fams
}

// Value is the value of the sample of family name whose labels include
// labels; ok is false when there is none.
func Value(fams map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range labels {
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}

func healthz(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestMetricsFollowRuns(t *testing.T) {
	at := time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)
	ok := Outcome{
		At: at, Region: "eu",
		Areas: []Area{{Name: "Vault", Status: "ok", Asked: true}, {Name: "Jobs", Status: "ok", Asked: true}, {Name: "Nomad", Status: "not checked", Asked: false}},
		Expiries: []forecast.Expiry{
			{Kind: forecast.KindServerToken, Name: "nomad-server", At: at.Add(5 * time.Hour)},
			{Kind: forecast.KindServerToken, Name: "nomad-server", At: at.Add(9 * time.Hour)},
		},
	}
	broken := Outcome{
		At:       at.Add(time.Minute),
		Areas:    []Area{{Name: "Vault", Status: "ok", Asked: true}, {Name: "Jobs", Status: "not checked", Asked: true}},
		Findings: []Finding{{Rule: "NV602", Severity: "error", Object: "x", Message: "could not check /v1/jobs: 403"}, {Rule: "NV602", Severity: "error", Object: "y", Message: "could not check /v1/job/a"}},
	}
	var mu sync.Mutex
	outcomes := []func() (Outcome, error){
		func() (Outcome, error) { return ok, nil },
		func() (Outcome, error) { return broken, nil },
		func() (Outcome, error) { panic("boom") },
		func() (Outcome, error) { return Outcome{}, errors.New("no report") },
		func() (Outcome, error) { return ok, nil },
	}
	var log syncBuffer
	w := New(Options{Interval: time.Hour, Log: &log, Run: func(context.Context) (Outcome, error) {
		mu.Lock()
		next := outcomes[0]
		outcomes = outcomes[1:]
		mu.Unlock()
		return next()
	}})
	srv := httptest.NewServer(w.Handler())
	defer srv.Close()

	if code := healthz(t, srv.URL); code != http.StatusServiceUnavailable {
		t.Fatalf("healthz before the first run: %d", code)
	}
	w.RunOnce(context.Background())
	if code := healthz(t, srv.URL); code != http.StatusOK {
		t.Fatalf("healthz after the first run: %d", code)
	}
	m := Scrape(t, srv.URL)
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"nvlint_area_up", map[string]string{"area": "Jobs", "region": "eu"}, 1},
		{"nvlint_area_checked", map[string]string{"area": "Jobs", "region": "eu"}, 1},
		{"nvlint_expiry_seconds", map[string]string{"kind": "server_token", "name": "nomad-server"}, 5 * 3600}, // the earliest
		{"nvlint_run_failures_total", nil, 0},
		{"nvlint_run_duration_seconds", nil, 1},
	} {
		if got, found := Value(m, c.name, c.labels); !found || got != c.want {
			t.Errorf("%s%v = %v (found %t), want %v", c.name, c.labels, got, found, c.want)
		}
	}
	if _, found := Value(m, "nvlint_area_up", map[string]string{"area": "Nomad"}); found {
		t.Error("an area not asked for has a gauge")
	}

	w.RunOnce(context.Background())
	m = Scrape(t, srv.URL)
	// The region stays what the last run that knew it said.
	if got, _ := Value(m, "nvlint_area_checked", map[string]string{"area": "Jobs", "region": "eu"}); got != 0 {
		t.Errorf("Jobs checked = %v after its reads failed", got)
	}
	if got, _ := Value(m, "nvlint_findings", map[string]string{"rule": "NV602", "severity": "error", "region": "eu"}); got != 2 {
		t.Errorf("NV602 findings = %v, want 2", got)
	}
	if _, found := Value(m, "nvlint_expiry_seconds", nil); found {
		t.Error("a forecast gone is still exported")
	}
	last, _ := Value(m, "nvlint_last_run_timestamp_seconds", nil)

	// A run that panics and one that fails: counted, and the metrics of
	// the last good run stay.
	w.RunOnce(context.Background())
	w.RunOnce(context.Background())
	m = Scrape(t, srv.URL)
	if got, _ := Value(m, "nvlint_run_failures_total", nil); got != 2 {
		t.Errorf("failures = %v, want 2", got)
	}
	if got, _ := Value(m, "nvlint_last_run_timestamp_seconds", nil); got != last {
		t.Errorf("a failed run moved the last run's time")
	}
	if got, _ := Value(m, "nvlint_findings", map[string]string{"rule": "NV602"}); got != 2 {
		t.Errorf("a failed run changed the findings: %v", got)
	}

	w.RunOnce(context.Background())
	m = Scrape(t, srv.URL)
	if _, found := Value(m, "nvlint_findings", map[string]string{"rule": "NV602"}); found {
		t.Error("resolved findings are still exported")
	}

	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	if len(lines) != 5 {
		t.Fatalf("want one line per run, got:\n%s", log.String())
	}
	for i, want := range []string{
		`areas_changed="Vault: unknown -> ok; Jobs: unknown -> ok"`,
		`areas_changed="Jobs: ok -> not checked" new="error NV602 could not check /v1/job/a; error NV602 could not check /v1/jobs: 403"`,
		`level=ERROR msg="run failed" run=3`,
		`error="no report"`,
		`areas_changed="Jobs: not checked -> ok" resolved="error NV602 could not check /v1/job/a; error NV602 could not check /v1/jobs: 403"`,
	} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("line %d: %s\nwant %s", i+1, lines[i], want)
		}
	}
	if !strings.Contains(lines[2], "boom") {
		t.Errorf("the panic is not named: %s", lines[2])
	}
}

// A forecast's time in a message changes every run; the finding is the
// same and is not logged again.
func TestFindingIdentityIgnoresNumbers(t *testing.T) {
	run := 0
	var log syncBuffer
	w := New(Options{Interval: time.Hour, Log: &log, JSON: true, Run: func(context.Context) (Outcome, error) {
		run++
		msg := "dies in 5h12m (2026-11-23T08:12:00Z)"
		if run == 2 {
			msg = "dies in 5h11m (2026-11-23T08:12:00Z)"
		}
		return Outcome{Findings: []Finding{{Rule: "NV613", Severity: "error", Object: "token", Message: msg}}}, nil
	}})
	w.RunOnce(context.Background())
	w.RunOnce(context.Background())
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	var second struct {
		Run          int      `json:"run"`
		New          []string `json:"new"`
		Resolved     []string `json:"resolved"`
		AreasChanged []string `json:"areas_changed"`
	}
	if err := json.Unmarshal([]byte(lines[1]), &second); err != nil {
		t.Fatalf("not JSON: %s", lines[1])
	}
	if second.Run != 2 || len(second.New) != 0 || len(second.Resolved) != 0 || second.AreasChanged == nil {
		t.Errorf("second run: %s", lines[1])
	}
}

// Runs never overlap, and the next starts an interval after the last
// started.
func TestLoopNeverOverlaps(t *testing.T) {
	var mu sync.Mutex
	running, most, runs := 0, 0, 0
	w := New(Options{Interval: 10 * time.Millisecond, Run: func(context.Context) (Outcome, error) {
		mu.Lock()
		running++
		runs++
		most = max(most, running)
		mu.Unlock()
		time.Sleep(15 * time.Millisecond) // longer than the interval
		mu.Lock()
		running--
		mu.Unlock()
		return Outcome{}, nil
	}})
	w.Loop(context.Background(), 5)
	if most != 1 || runs != 5 {
		t.Errorf("%d runs, at most %d at once", runs, most)
	}
}

// A run with thousands of new findings (a first run over a fleet) logs
// the first maxListed, errors first, and how many more there are; the
// metrics still count them all.
func TestLogListsFirstFindings(t *testing.T) {
	var fs []Finding
	for i := range 3000 {
		fs = append(fs, Finding{Rule: "NV626", Severity: "warning", Object: fmt.Sprintf("job j%04d", i), Message: fmt.Sprintf("job j%04d renews past its max_ttl", i)})
	}
	fs = append(fs, Finding{Rule: "NV601", Severity: "error", Object: "vault", Message: "could not reach vault"})
	for _, jsonLog := range []bool{false, true} {
		var log syncBuffer
		w := New(Options{Interval: time.Hour, Log: &log, JSON: jsonLog, Run: func(context.Context) (Outcome, error) {
			return Outcome{Findings: fs}, nil
		}})
		w.RunOnce(context.Background())
		line := strings.TrimSpace(log.String())
		if len(line) > 8<<10 {
			t.Errorf("json %v: a line of %d bytes", jsonLog, len(line))
		}
		if jsonLog {
			var run struct {
				Findings int      `json:"findings"`
				New      []string `json:"new"`
				More     int      `json:"new_more"`
			}
			if err := json.Unmarshal([]byte(line), &run); err != nil {
				t.Fatalf("not JSON: %s", line)
			}
			if run.Findings != 3001 || len(run.New) != maxListed || run.More != 3001-maxListed || run.New[0] != "error NV601 could not reach vault" {
				t.Errorf("findings %d, %d new listed (first %q), %d more", run.Findings, len(run.New), run.New[0], run.More)
			}
			continue
		}
		for _, want := range []string{`findings=3001 new="error NV601 could not reach vault; warning NV626 job j0000 `, "j0018 renews past its max_ttl\" new_more=2981"} {
			if !strings.Contains(line, want) {
				t.Errorf("text line lacks %q:\n%s", want, line)
			}
		}
	}
}
