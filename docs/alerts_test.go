package docs_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v2"

	"github.com/nvlint/nvlint/forecast"
	"github.com/nvlint/nvlint/watch"
)

// ruleFile is a Prometheus rule file, field for field as Prometheus's
// rulefmt reads it; decoding strictly refuses any other key.
type ruleFile struct {
	Groups []struct {
		Name     string `yaml:"name"`
		Interval string `yaml:"interval"`
		Rules    []struct {
			Alert         string            `yaml:"alert"`
			Record        string            `yaml:"record"`
			Expr          string            `yaml:"expr"`
			For           string            `yaml:"for"`
			KeepFiringFor string            `yaml:"keep_firing_for"`
			Labels        map[string]string `yaml:"labels"`
			Annotations   map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// metricName finds the metric names in an expression.
var metricName = regexp.MustCompile(`\bnvlint_[a-z_]+\b`)

// TestAlertRules checks docs/prometheus/nvlint-alerts.yml against what
// doctor --watch exports: the rule file's shape (strictly, as Prometheus
// reads it), every metric an expression names, durations, labels, and
// the annotation templates. Prometheus's own rule parser (rulefmt, with
// PromQL) checks the file too, in the module docs/prometheus: its
// module's requirements would move this one's Nomad API client, so it
// stays out of this go.mod.
func TestAlertRules(t *testing.T) {
	src, err := os.ReadFile("prometheus/nvlint-alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rf ruleFile
	if err := yaml.UnmarshalStrict(src, &rf); err != nil {
		t.Fatalf("not a rule file: %v", err)
	}
	exported := exportedMetrics(t)
	var alerts []string
	for _, g := range rf.Groups {
		if g.Name == "" || len(g.Rules) == 0 {
			t.Errorf("group %q: a group needs a name and rules", g.Name)
		}
		for _, r := range g.Rules {
			if r.Alert == "" || r.Record != "" || !model.LegacyValidation.IsValidLabelName(r.Alert) {
				t.Errorf("rule %q: want an alerting rule with a valid name", r.Alert)
			}
			alerts = append(alerts, r.Alert)
			names := metricName.FindAllString(r.Expr, -1)
			if len(names) == 0 {
				t.Errorf("%s: the expression names no nvlint metric", r.Alert)
			}
			for _, n := range names {
				if !exported[n] {
					t.Errorf("%s: %s is not a metric doctor --watch exports", r.Alert, n)
				}
			}
			if r.For != "" {
				if _, err := model.ParseDuration(r.For); err != nil {
					t.Errorf("%s: for %q: %v", r.Alert, r.For, err)
				}
			}
			if s := r.Labels["severity"]; s != "page" && s != "ticket" {
				t.Errorf("%s: severity %q, want page or ticket", r.Alert, s)
			}
			if r.Annotations["summary"] == "" {
				t.Errorf("%s: no summary", r.Alert)
			}
			for k, text := range r.Annotations {
				checkTemplate(t, r.Alert+" "+k, text)
			}
		}
	}
	for _, want := range []string{"NomadVaultExpiresWithinADay", "NomadVaultAreaNotChecked"} {
		if !strings.Contains(strings.Join(alerts, " "), want) {
			t.Errorf("no alert %s", want)
		}
	}
}

// exportedMetrics are the names of what a watcher serves after a run.
func exportedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	now := time.Now()
	w := watch.New(watch.Options{Interval: time.Minute, Run: func(context.Context) (watch.Outcome, error) {
		return watch.Outcome{
			At:       now,
			Findings: []watch.Finding{{Rule: "NV613", Severity: "error"}},
			Areas:    []watch.Area{{Name: "Vault", Status: "ok", Asked: true}},
			Expiries: []forecast.Expiry{{Kind: forecast.KindServerToken, Name: forecast.ServerTokenName, At: now.Add(time.Hour)}},
		}, nil
	}})
	w.RunOnce(context.Background())
	rec := httptest.NewRecorder()
	w.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(io.Reader(rec.Body))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for name := range fams {
		out[name] = true
	}
	if !out["nvlint_expiry_seconds"] || !out["nvlint_area_checked"] {
		t.Fatalf("the watcher exports %v", out)
	}
	return out
}

// checkTemplate parses and runs an annotation as Prometheus expands it:
// Go's text/template with $labels and $value defined, and the functions
// used here.
func checkTemplate(t *testing.T, what, text string) {
	t.Helper()
	funcs := template.FuncMap{
		"humanizeDuration": func(v float64) string { return time.Duration(v * float64(time.Second)).String() },
	}
	tmpl, err := template.New(what).Funcs(funcs).Option("missingkey=zero").
		Parse("{{$labels := .Labels}}{{$value := .Value}}" + text)
	if err != nil {
		t.Errorf("%s: %v", what, err)
		return
	}
	data := struct {
		Labels map[string]string
		Value  float64
	}{map[string]string{"kind": "server_token", "name": "nomad-server", "area": "Vault", "region": "global"}, 3600}
	if err := tmpl.Execute(io.Discard, data); err != nil {
		t.Errorf("%s: %v", what, err)
	}
}
