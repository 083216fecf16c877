package docs_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nvlint/nvlint/checks"
	"github.com/nvlint/nvlint/docs"
	"github.com/nvlint/nvlint/rules"
)

var update = flag.Bool("update", false, "rewrite docs/rules/ from the rule catalog")

const dir = "rules"

// TestRuleDocsInSync keeps docs/rules/ in step with the catalog: one page
// per rule, the index, and nothing else.
func TestRuleDocsInSync(t *testing.T) {
	all := checks.All()
	want := map[string]string{"README.md": docs.Index(all)}
	for _, r := range all {
		want[docs.RuleFileName(r.Meta())] = docs.RuleFile(r.Meta())
	}
	if *update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil && !*update {
		t.Fatalf("%v: run %s", err, docs.UpdateCommand)
	}
	for _, e := range entries {
		if _, ok := want[e.Name()]; ok || e.IsDir() {
			continue
		}
		if *update {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				t.Fatal(err)
			}
			continue
		}
		t.Errorf("docs/rules/%s documents no rule of the catalog: run %s", e.Name(), docs.UpdateCommand)
	}
	for name, text := range want {
		path := filepath.Join(dir, name)
		if *update {
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		switch {
		case err != nil:
			t.Errorf("docs/rules/%s is missing: run %s", name, docs.UpdateCommand)
		case string(got) != text:
			t.Errorf("docs/rules/%s is out of date with the rule catalog: run %s", name, docs.UpdateCommand)
		}
	}
}

func TestRulePage(t *testing.T) {
	for _, r := range checks.All() {
		m := r.Meta()
		page := docs.Rule(m)
		for _, want := range []string{"# " + m.ID + " " + m.Name, m.Title, "**Severity:** " + m.Severity.String(), "## Why it matters", "## Example", "## How to fix"} {
			if !strings.Contains(page, want) {
				t.Errorf("%s: page lacks %q", m.ID, want)
			}
		}
		if strings.Count(page, "```")%2 != 0 {
			t.Errorf("%s: unbalanced code fence", m.ID)
		}
	}
	index := docs.Index(checks.All())
	for _, r := range checks.All() {
		if !strings.Contains(index, "]("+docs.RuleFileName(r.Meta())+")") {
			t.Errorf("index does not link %s", r.Meta().ID)
		}
	}
}

func TestRulePageSaysLiveAndSecurity(t *testing.T) {
	m := &rules.Meta{ID: "NV614", Name: "server-token-root", Title: "t", Severity: rules.Warning, Live: true, Security: 8.8,
		Doc: rules.Doc{Why: "w", Example: "e", Fix: "f"}}
	page := docs.Rule(m)
	for _, want := range []string{
		"- **Needs:** running clusters (`nvlint doctor`, or `nvlint lint --snapshot`); without them the rule is skipped",
		"- **Security:** high, rated 8.8 on the CVSS scale (SARIF `security-severity`)",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
	m.Live, m.Security = false, 0
	if page := docs.Rule(m); strings.Contains(page, "Security") || strings.Contains(page, "Needs") {
		t.Errorf("page of a plain rule:\n%s", page)
	}
}
