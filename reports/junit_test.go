package reports_test

import (
	"encoding/xml"
	"testing"

	"github.com/nvlint/nvlint/checks"
	"github.com/nvlint/nvlint/reports"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// junitCases returns each rule's testcase outcome: "pass", "fail" or
// "skip: REASON".
func junitCases(t *testing.T, r *reports.Report) map[string]string {
	t.Helper()
	var j junitXML
	if err := xml.Unmarshal([]byte(render(t, reports.FormatJUnit, r)), &j); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, s := range j.Suites {
		for _, c := range s.Cases {
			id := c.Classname[len("nvlint."):][:5]
			switch {
			case c.Failure != nil:
				out[id] = "fail"
			case c.Skipped != nil:
				out[id] = "skip: " + c.Skipped.Message
			default:
				out[id] = "pass"
			}
		}
	}
	return out
}

// An offline lint cannot run the rules that read running clusters, and
// a rule that could not decide did not check: neither is a pass.
func TestJUnitSkipsWhatCouldNotRun(t *testing.T) {
	w := &world.World{}
	catalog := checks.All()
	res := rules.Run(w, catalog)
	got := junitCases(t, &reports.Report{Catalog: catalog, Ran: res.Ran, Skipped: res.Skipped, Findings: res.Findings})
	for _, id := range []string{"NV601", "NV611", "NV612", "NV631", "NV661"} {
		if got[id] != "skip: "+rules.LiveSkipReason {
			t.Errorf("%s offline: %q, want skipped as %q", id, got[id], rules.LiveSkipReason)
		}
	}
	if got["NV651"] == "pass" {
		t.Errorf("NV651 passes without knowing the Vault version")
	}
	if got["NV001"] != "pass" {
		t.Errorf("NV001 (runs on any input): %q", got["NV001"])
	}

	// With live state the live rules run, and pass when clean.
	w = &world.World{Live: &world.Live{}}
	res = rules.Run(w, catalog)
	got = junitCases(t, &reports.Report{Catalog: catalog, Ran: res.Ran, Skipped: res.Skipped, Findings: res.Findings})
	if got["NV601"] != "pass" {
		t.Errorf("NV601 with live state: %q", got["NV601"])
	}

	// A rule that ran but could not decide is skipped with its reason.
	r := hostileReport()
	r.Skipped = append(r.Skipped, rules.Skip{Rule: metaClean, Reason: "the live auth mounts are not known"})
	if got := junitCases(t, r); got["NV501"] != "skip: the live auth mounts are not known" {
		t.Errorf("undecided rule: %q", got["NV501"])
	}
}
