package baseline_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/baseline"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

var (
	nv111 = &rules.Meta{ID: "NV111", Name: "token-role-not-renewable"}
	nv302 = &rules.Meta{ID: "NV302", Name: "unknown-vault-key"}
)

func finding(m *rules.Meta, file string, line int, obj, msg string) rules.Finding {
	return rules.Finding{
		Rule: m, Severity: rules.Error, Message: msg,
		Range:  hcl.Range{Filename: file, Start: hcl.Pos{Line: line, Column: 3}, End: hcl.Pos{Line: line, Column: 9}},
		Object: world.ObjectRef{Kind: world.KindAgentConfig, Name: obj},
	}
}

func TestRoundTripSurvivesShiftedLines(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nvlint-baseline.json")
	role := filepath.Join(dir, "role.json")
	server := filepath.Join(dir, "server.hcl")
	before := []rules.Finding{
		finding(nv111, role, 7, "nomad-cluster", "token role nomad-cluster sets renewable = false"),
		finding(nv302, server, 7, "server", `vault block has unknown key "create_from_rol"`),
		finding(nv302, server, 9, "server", `vault block has unknown key "addr"`),
		finding(nv302, server, 12, "server", `vault block has unknown key "addr"`), // twice the same
	}
	if _, err := baseline.Write(path, before); err != nil {
		t.Fatal(err)
	}
	b, err := baseline.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Findings) != 3 {
		t.Fatalf("want 3 entries (one counted twice), got %+v", b.Findings)
	}
	k := baseline.NewKeyer(path)

	// Lines shift (a comment added at the top of each file): nothing new.
	var shifted []rules.Finding
	for _, f := range before {
		f.Range.Start.Line += 4
		f.Range.End.Line += 4
		shifted = append(shifted, f)
	}
	res := b.Filter(k, shifted, nil)
	if len(res.New) != 0 || len(res.Known) != 4 || len(res.Gone) != 0 {
		t.Fatalf("shifted lines: new %d, known %d, gone %d", len(res.New), len(res.Known), len(res.Gone))
	}

	// A new problem, and a third copy of a recorded one: both new.
	added := append(append([]rules.Finding(nil), shifted...),
		finding(nv302, server, 3, "server", `vault block has unknown key "tokne"`),
		finding(nv302, server, 20, "server", `vault block has unknown key "addr"`),
	)
	res = b.Filter(k, added, nil)
	if len(res.New) != 2 || len(res.Known) != 4 {
		t.Fatalf("added: new %d (%v), known %d", len(res.New), res.New, len(res.Known))
	}

	// A recorded problem fixed: gone, unless its file was not checked.
	fixed := shifted[1:]
	res = b.Filter(k, fixed, nil)
	if len(res.New) != 0 || len(res.Gone) != 1 || res.Gone[0].Rule != "NV111" || res.Gone[0].File != "role.json" {
		t.Fatalf("fixed: new %d, gone %+v", len(res.New), res.Gone)
	}
	res = b.Filter(k, fixed, func(e baseline.Entry) bool { return e.File != "role.json" })
	if len(res.Gone) != 0 {
		t.Fatalf("an entry of a file not checked is gone: %+v", res.Gone)
	}
	// One of two copies fixed: one gone.
	res = b.Filter(k, shifted[:3], nil)
	if len(res.Gone) != 1 || res.Gone[0].Count != 1 || res.Gone[0].Message != `vault block has unknown key "addr"` {
		t.Fatalf("one copy fixed: gone %+v", res.Gone)
	}
}

func TestPathsAreRelativeToTheBaseline(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "baseline.json")
	abs := filepath.Join(dir, "jobs", "web.nomad")
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(wd, abs)
	if err != nil {
		t.Fatal(err)
	}
	k := baseline.NewKeyer(path)
	a := k.Entry(finding(nv302, abs, 1, abs, "m"))
	b := k.Entry(finding(nv302, rel, 1, rel, "m"))
	if a.Fingerprint != b.Fingerprint || a.File != "jobs/web.nomad" || a.Object != "agent-config jobs/web.nomad" {
		t.Fatalf("absolute %+v and relative %+v paths disagree", a, b)
	}
}

func TestParseRefusesOtherFiles(t *testing.T) {
	for _, s := range []string{`{"version": 2, "findings": []}`, `{"findings": [{"rule": "NV1"}], "version": 1}`, `{"foo": 1}`, `[]`} {
		if _, err := baseline.Parse([]byte(s)); err == nil {
			t.Errorf("%s: parsed", s)
		}
	}
}
