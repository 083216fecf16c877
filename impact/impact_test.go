package impact

import (
	"path/filepath"
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
