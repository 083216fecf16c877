package rules

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/world"
)

// lineRule reports one finding on each of its lines of file "f.hcl".
type lineRule struct {
	meta  *Meta
	lines []int
}

func (r lineRule) Meta() *Meta { return r.meta }
func (r lineRule) Check(p *Pass) {
	for _, l := range r.lines {
		p.Report(Finding{Message: fmt.Sprintf("problem on line %d", l), Range: hcl.Range{Filename: "f.hcl", Start: hcl.Pos{Line: l, Column: 1}, End: hcl.Pos{Line: l, Column: 2}}})
	}
}

type noopRule struct{ meta *Meta }

func (r noopRule) Meta() *Meta { return r.meta }
func (r noopRule) Check(*Pass) {}

func testCatalog(lines map[string][]int) []Rule {
	doc := Doc{Why: "w", Example: "e", Fix: "f"}
	all := []Rule{
		noopRule{&Meta{ID: UnusedSuppressionID, Name: "unused-suppression", Title: "t", Severity: Warning, Doc: doc}},
		noopRule{&Meta{ID: MalformedSuppressionID, Name: "malformed-suppression", Title: "t", Severity: Error, Doc: doc}},
	}
	for _, id := range []string{"NV101", "NV102"} {
		all = append(all, lineRule{&Meta{ID: id, Name: "rule-" + strings.ToLower(id), Title: "t", Severity: Error, Doc: doc}, lines[id]})
	}
	return all
}

// summarize renders a run as "ID@line" for each finding, and "-ID@line"
// for each suppressed one.
func summarize(res Result) string {
	var parts []string
	for _, f := range res.Findings {
		parts = append(parts, fmt.Sprintf("%s@%d", f.Rule.ID, f.Range.Start.Line))
	}
	for _, s := range res.Suppressed {
		parts = append(parts, fmt.Sprintf("-%s@%d", s.Finding.Rule.ID, s.Finding.Range.Start.Line))
	}
	return strings.Join(parts, " ")
}

func TestSuppressions(t *testing.T) {
	for _, c := range []struct {
		name  string
		src   string
		lines map[string][]int
		want  string
	}{
		{
			name:  "own line covers the next line",
			src:   "a {\n  # nvlint:ignore NV101 known\n  b = 1\n}\n",
			lines: map[string][]int{"NV101": {3}},
			want:  "-NV101@3",
		},
		{
			name:  "trailing comment covers its line",
			src:   "a {\n  b = 1 # nvlint:ignore NV101 known\n}\n",
			lines: map[string][]int{"NV101": {2}},
			want:  "-NV101@2",
		},
		{
			name:  "trailing comment does not cover the next line",
			src:   "a {\n  b = 1 # nvlint:ignore NV101 known\n  c = 2\n}\n",
			lines: map[string][]int{"NV101": {2, 3}},
			want:  "NV101@3 -NV101@2",
		},
		{
			name:  "by name, with // and a separator",
			src:   "a {\n  // nvlint:ignore rule-nv101 -- known\n  b = 1\n}\n",
			lines: map[string][]int{"NV101": {3}},
			want:  "-NV101@3",
		},
		{
			name:  "block comment",
			src:   "a {\n  /* nvlint:ignore NV101 known */\n  b = 1\n}\n",
			lines: map[string][]int{"NV101": {3}},
			want:  "-NV101@3",
		},
		{
			name:  "stacked comments each reach the line below them",
			src:   "a {\n  # nvlint:ignore NV101 one\n  # nvlint:ignore NV102 two\n  b = 1\n}\n",
			lines: map[string][]int{"NV101": {4}, "NV102": {4}},
			want:  "-NV101@4 -NV102@4",
		},
		{
			name:  "two rules in one comment",
			src:   "a {\n  # nvlint:ignore NV101,NV102 both known\n  b = 1\n}\n",
			lines: map[string][]int{"NV101": {3}, "NV102": {3}},
			want:  "-NV101@3 -NV102@3",
		},
		{
			name:  "only the named rule",
			src:   "a {\n  # nvlint:ignore NV101 known\n  b = 1\n}\n",
			lines: map[string][]int{"NV101": {3}, "NV102": {3}},
			want:  "NV102@3 -NV101@3",
		},
		{
			name:  "not two lines down",
			src:   "a {\n  # nvlint:ignore NV101 known\n\n  b = 1\n}\n",
			lines: map[string][]int{"NV101": {4}},
			want:  "NV004@2 NV101@4",
		},
		{
			name:  "ignore-file at the top",
			src:   "# header\n# nvlint:ignore-file NV101 generated file\na {\n  b = 1\n}\n",
			lines: map[string][]int{"NV101": {4, 5}},
			want:  "-NV101@4 -NV101@5",
		},
		{
			name:  "ignore-file below configuration",
			src:   "a {\n  # nvlint:ignore-file NV101 generated file\n  b = 1\n}\n",
			lines: map[string][]int{"NV101": {3}},
			want:  "NV005@2 NV101@3",
		},
		{
			name:  "no reason suppresses nothing",
			src:   "a {\n  b = 1 # nvlint:ignore NV101\n}\n",
			lines: map[string][]int{"NV101": {2}},
			want:  "NV101@2 NV005@2",
		},
		{
			name:  "unknown rule",
			src:   "a {\n  # nvlint:ignore NV999 why\n  b = 1\n}\n",
			lines: map[string][]int{"NV101": {3}},
			want:  "NV005@2 NV101@3",
		},
		{
			name:  "unknown directive",
			src:   "# nvlint:disable NV101 why\na = 1\n",
			lines: map[string][]int{"NV101": {2}},
			want:  "NV005@1 NV101@2",
		},
		{
			name:  "unused",
			src:   "a {\n  # nvlint:ignore NV101 known\n  b = 1\n}\n",
			lines: map[string][]int{},
			want:  "NV004@2",
		},
		{
			name:  "partly unused",
			src:   "a {\n  # nvlint:ignore NV101,NV102 known\n  b = 1\n}\n",
			lines: map[string][]int{"NV101": {3}},
			want:  "NV004@2 -NV101@3",
		},
		{
			name:  "text in a heredoc is not a comment",
			src:   "a {\n  t = <<EOT\n# nvlint:ignore NV101 not a comment\nEOT\n}\n",
			lines: map[string][]int{"NV101": {4}},
			want:  "NV101@4",
		},
		{
			name:  "prose mentioning nvlint is not a directive",
			src:   "# run nvlint:ignore comments sparingly\na = 1\n",
			lines: map[string][]int{"NV101": {2}},
			want:  "NV101@2",
		},
		{
			name:  "JSON holds no comments",
			src:   "{\"a\": \"# nvlint:ignore NV101 x\"}\n",
			lines: map[string][]int{"NV101": {1}},
			want:  "NV101@1",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := &world.World{Files: []*world.File{{Path: "f.hcl", Kind: world.KindAgentConfig, Src: []byte(c.src)}}}
			res := Run(w, testCatalog(c.lines))
			if got := summarize(res); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
				for _, f := range res.Findings {
					t.Logf("%s %s", f.Rule.ID, f.Message)
				}
			}
		})
	}
}

func TestUnusedSuppressionFixRemovesTheComment(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"a {\n  # nvlint:ignore NV101 known\n  b = 1\n}\n", "a {\n  b = 1\n}\n"},
		{"a {\n  b = 1 # nvlint:ignore NV101 known\n}\n", "a {\n  b = 1\n}\n"},
	} {
		w := &world.World{Files: []*world.File{{Path: "f.hcl", Kind: world.KindAgentConfig, Src: []byte(c.src)}}}
		res := Run(w, testCatalog(nil))
		if len(res.Findings) != 1 || len(res.Findings[0].Fixes) != 1 {
			t.Fatalf("%q: want one NV004 with a fix, got %s", c.src, summarize(res))
		}
		e := res.Findings[0].Fixes[0].Edits[0]
		got := c.src[:e.Range.Start.Byte] + e.NewText + c.src[e.Range.End.Byte:]
		if got != c.want {
			t.Errorf("%q: fixed to %q, want %q", c.src, got, c.want)
		}
	}
}

func TestSettings(t *testing.T) {
	src := "a {\n  b = 1\n}\n"
	w := &world.World{Files: []*world.File{{Path: "dir/f.hcl", Kind: world.KindAgentConfig, Src: []byte(src)}}}
	cat := testCatalog(map[string][]int{"NV101": {2}, "NV102": {2}})
	// The findings are in f.hcl; the world's file is dir/f.hcl, so an
	// ignore on dir/* is idle (its scope holds no finding), on f.hcl
	// it applies.
	res := RunWith(w, cat, Settings{
		Disabled: map[string]bool{"NV102": true},
		Severity: map[string]Severity{"NV101": Info},
	})
	if got := summarize(res); got != "NV101@2" || res.Findings[0].Severity != Info {
		t.Fatalf("disable and severity: got %s (%v)", got, res.Findings[0].Severity)
	}
	if res.Ran["NV102"] {
		t.Error("a disabled rule ran")
	}
	res = RunWith(w, cat, Settings{Ignores: []Ignore{
		{Rule: "NV101", Path: func(f string) bool { return f == "f.hcl" }, Reason: "known"},
		{Rule: "NV102", Path: func(f string) bool { return f == "dir/f.hcl" }, Reason: "known", Range: hcl.Range{Filename: ".nvlint.hcl", Start: hcl.Pos{Line: 3}}},
	}})
	if got := summarize(res); got != "NV004@3 NV102@2 -NV101@2" {
		t.Fatalf("ignores: got %s", got)
	}
}

// An unknown rule in a suppression gets the rules it may mean, as
// explain and .nvlint.hcl give them.
func TestSuppressionSuggestsRules(t *testing.T) {
	all := testCatalog(nil)
	for _, c := range []struct{ body, want string }{
		{"nvlint:ignore NV1O1 why", `names unknown rule "NV1O1"; did you mean NV101?`},
		{"nvlint:ignore NV1 why", `names unknown rule "NV1"; did you mean NV101, NV102?`},
		{"nvlint:ignore NV101,rule-nv1o2 why", `names unknown rule "rule-nv1o2"; did you mean rule-nv102?`},
		{"nvlint:ignore NV999x why", `names unknown rule "NV999x" (nvlint rules lists them)`},
	} {
		if d := parseDirective(c.body, all); !strings.Contains(d.problem, c.want) {
			t.Errorf("%s: problem %q, want %q", c.body, d.problem, c.want)
		}
	}
}

// A file of no recognised kind holds no suppressions: prose that quotes
// the syntax (a README's list item) is not reported as malformed.
func TestNoSuppressionsInUnrecognisedFiles(t *testing.T) {
	src := "# Suppressions\n\n- `# nvlint:ignore RULE reason` on the line of the finding\n# nvlint:ignore NV101\n# nvlint:ignore NV101 known\nb = 1\n"
	lines := map[string][]int{"NV101": {6}}
	w := &world.World{Files: []*world.File{{Path: "README.md", Src: []byte(src)}}}
	if got := summarize(Run(w, testCatalog(lines))); got != "NV101@6" {
		t.Errorf("unrecognised file: got %q, want NV101@6 alone", got)
	}
	w = &world.World{Files: []*world.File{{Path: "f.hcl", Kind: world.KindAgentConfig, Src: []byte(src)}}}
	if got := summarize(Run(w, testCatalog(lines))); got != "NV005@3 NV005@4 -NV101@6" {
		t.Errorf("recognised file: got %q", got)
	}
}
