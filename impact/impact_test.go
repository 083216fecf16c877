package impact

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/acl"
	"github.com/nvlint/nvlint/rules"
)

func TestProbePath(t *testing.T) {
	ent := &acl.Entity{ID: "\x00unknown", Aliases: map[string]acl.Alias{"auth_jwt_1": {Metadata: map[string]string{"nomad_job_id": "web"}}}}
	for _, c := range []struct{ pattern, probe, shown string }{
		{"kv/*", "kv/", "kv/*"},
		{"/kv/data/app", "kv/data/app", "kv/data/app"},
		{"kv/+/app/*", "kv/_/app/", "kv/+/app/*"},
		{"*", "_", "*"},
		{"kv/data/{{identity.entity.aliases.auth_jwt_1.metadata.nomad_job_id}}/*", "kv/data/web/", "kv/data/web/*"},
		{"kv/data/{{identity.entity.id}}/*", "", ""},
	} {
		probe, shown := probePath(c.pattern, ent)
		if probe != c.probe || shown != c.shown {
			t.Errorf("probePath(%q) = %q, %q; want %q, %q", c.pattern, probe, shown, c.probe, c.shown)
		}
	}
}

// Findings are matched by file relative to each side's root, never by
// line: the same finding moved is neither introduced nor fixed.
func TestFindingsMatchAcrossRoots(t *testing.T) {
	meta := &rules.Meta{ID: "NV411"}
	at := func(root, file string, line int, msg string) rules.Finding {
		return rules.Finding{Rule: meta, Severity: rules.Error, Message: msg, Range: hcl.Range{Filename: filepath.Join(root, file), Start: hcl.Pos{Line: line}, End: hcl.Pos{Line: line}}}
	}
	base, head := "/tmp/base/repo", "/home/u/repo"
	introduced, fixed := Findings(base,
		[]rules.Finding{at(base, "jobs/a.hcl", 3, "kept"), at(base, "jobs/a.hcl", 9, "gone")},
		head,
		[]rules.Finding{at(head, "jobs/a.hcl", 30, "kept"), at(head, "jobs/b.hcl", 1, "new")})
	if len(introduced) != 1 || introduced[0].Message != "new" {
		t.Errorf("introduced %v", introduced)
	}
	if len(fixed) != 1 || fixed[0].Message != "gone" {
		t.Errorf("fixed %v", fixed)
	}
}

func TestSummaryLine(t *testing.T) {
	if got, want := SummaryLine(Summary{Lost: 1, Capabilities: 2, TasksAdded: 1}), "1 read lost, 2 privileged capabilities gained, 1 task added."; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// With several setups, every format names the setup of each change,
// and the text and Markdown reports list each setup, unchanged ones too.
func TestRenderSetups(t *testing.T) {
	lost := Change{Kind: Lost, Severity: rules.Error, Task: Task{Setup: "staging", Job: "web", Group: "web", Task: "web"},
		Path: "kv/data/web", Op: "read", Before: Allow, After: Deny, Cause: Cause{Policy: "web", Why: "no rule matches any more"}}
	r := Report{Base: "HEAD", Head: "the working tree", Result: Result{
		Changes: []Change{lost}, Compared: 2, Reads: 3,
		Setups: []SetupCount{{Name: "prod", Compared: 1, Reads: 1}, {Name: "staging", Compared: 1, Reads: 2}},
	}}
	var text, md, js strings.Builder
	if err := WriteText(&text, r, false); err != nil {
		t.Fatal(err)
	}
	want := "Vault access from HEAD to the working tree: 2 tasks and 3 reads compared in 2 setups\n\n" +
		"━━ setup prod: 1 task and 1 read compared; no change.\n\n" +
		"━━ setup staging: 1 task and 2 reads compared; 1 read lost.\n\n" +
		"Access lost (1)\n  policy web: no rule matches any more\n    error   job web group web task web: read kv/data/web  allow -> deny\n\n" +
		"1 read lost.\n"
	if text.String() != want {
		t.Errorf("text:\n%s\nwant:\n%s", text.String(), want)
	}
	if err := WriteMarkdown(&md, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "#### Setup `prod`\n\n1 task and 1 read compared; no change.\n\n#### Setup `staging`\n\n1 task and 2 reads compared; 1 read lost.\n\n##### Access lost\n") {
		t.Errorf("markdown:\n%s", md.String())
	}
	if err := WriteJSON(&js, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(js.String(), `"setup": "staging",`) || !strings.Contains(js.String(), `"setups": [`) {
		t.Errorf("json:\n%s", js.String())
	}
	// Without setups, nothing names one.
	r.Changes[0].Setup, r.Setups = "", nil
	js.Reset()
	if err := WriteJSON(&js, r); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(js.String(), "setup") {
		t.Errorf("json without setups:\n%s", js.String())
	}
}
