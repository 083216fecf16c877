// Package prometheus checks the example alerting rules with Prometheus's
// own rule parser, as `promtool check rules` and Prometheus itself load
// them. It is a module of its own: Prometheus's module requirements
// (its service discovery clients, a newer Nomad API client among them)
// stay out of nvlint's go.mod. scripts/test.sh runs it.
package prometheus

import (
	"log/slog"
	"os"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

func TestRulesLoad(t *testing.T) {
	src, err := os.ReadFile("nvlint-alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	groups, errs := rulefmt.Parse(src, false, model.UTF8Validation, parser.NewParser(parser.Options{}), slog.New(slog.DiscardHandler))
	for _, err := range errs {
		t.Errorf("nvlint-alerts.yml: %v", err)
	}
	if groups == nil || len(groups.Groups) == 0 {
		t.Fatal("no rule groups")
	}
	n := 0
	for _, g := range groups.Groups {
		n += len(g.Rules)
	}
	if n < 4 {
		t.Errorf("%d rules", n)
	}
}
