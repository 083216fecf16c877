package reports_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/checks"
	"github.com/nvlint/nvlint/reports"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

type sarifOut struct {
	Runs []struct {
		Tool struct {
			Driver struct {
				Rules []struct {
					ID         string `json:"id"`
					HelpURI    string `json:"helpUri"`
					Properties struct {
						Tags             []string `json:"tags"`
						SecuritySeverity *string  `json:"security-severity"`
					} `json:"properties"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		OriginalURIBaseIDs map[string]struct {
			URI string `json:"uri"`
		} `json:"originalUriBaseIds"`
		Results []struct {
			RuleID    string `json:"ruleId"`
			Locations []struct {
				PhysicalLocation *struct {
					ArtifactLocation struct {
						URI       string `json:"uri"`
						URIBaseID string `json:"uriBaseId"`
					} `json:"artifactLocation"`
				} `json:"physicalLocation"`
			} `json:"locations"`
			RelatedLocations []struct {
				PhysicalLocation *struct {
					ArtifactLocation struct {
						URI       string `json:"uri"`
						URIBaseID string `json:"uriBaseId"`
					} `json:"artifactLocation"`
				} `json:"physicalLocation"`
			} `json:"relatedLocations"`
			Fixes []struct {
				ArtifactChanges []struct {
					ArtifactLocation struct {
						URI       string `json:"uri"`
						URIBaseID string `json:"uriBaseId"`
					} `json:"artifactLocation"`
				} `json:"artifactChanges"`
			} `json:"fixes"`
		} `json:"results"`
	} `json:"runs"`
}

func renderSARIF(t *testing.T, r *reports.Report, opts reports.Options) (sarifOut, []byte) {
	t.Helper()
	var b bytes.Buffer
	if err := reports.Write(&b, reports.FormatSARIF, r, opts); err != nil {
		t.Fatal(err)
	}
	var out sarifOut
	if err := json.Unmarshal(b.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	return out, b.Bytes()
}

func catalogReport(version string) *reports.Report {
	return &reports.Report{Catalog: checks.All(), Version: version}
}

func TestSARIFHelpURI(t *testing.T) {
	for _, c := range []struct{ version, docs, want string }{
		{version: "dev", want: "https://github.com/nvlint/nvlint/blob/main/docs/rules/"},
		{version: "v0.0.0-20260101000000-abcdefabcdef", want: "https://github.com/nvlint/nvlint/blob/main/docs/rules/"},
		{version: "v1.4.2", want: "https://github.com/nvlint/nvlint/blob/v1.4.2/docs/rules/"},
		{version: "v1.4.2", docs: "https://git.example.internal/platform/nvlint/-/blob/main/docs/rules", want: "https://git.example.internal/platform/nvlint/-/blob/main/docs/rules/"},
	} {
		out, _ := renderSARIF(t, catalogReport(c.version), reports.Options{DocsURL: c.docs})
		rs := out.Runs[0].Tool.Driver.Rules
		if len(rs) < 50 {
			t.Fatalf("only %d rules", len(rs))
		}
		for _, r := range rs {
			if r.HelpURI != c.want+r.ID+".md" {
				t.Errorf("%s %s: helpUri %q, want %q", c.version, r.ID, r.HelpURI, c.want+r.ID+".md")
			}
		}
	}
	// Every link names a page the repository has.
	for _, rl := range checks.All() {
		if _, err := os.Stat(filepath.Join("..", "docs", "rules", rl.Meta().ID+".md")); err != nil {
			t.Errorf("helpUri of %s names no page: %v", rl.Meta().ID, err)
		}
	}
	var b bytes.Buffer
	if err := reports.Write(&b, reports.FormatSARIF, catalogReport("dev"), reports.Options{DocsURL: "docs/rules"}); err == nil {
		t.Error("a relative docs URL was accepted; helpUri must be absolute")
	}
}

func TestSARIFSecuritySeverity(t *testing.T) {
	out, data := renderSARIF(t, catalogReport("dev"), reports.Options{})
	validateSARIF(t, "catalog", data)
	want := map[string]string{"NV115": "8.8", "NV301": "8.1", "NV402": "6.5", "NV614": "8.8", "NV235": "7.1"}
	for _, r := range out.Runs[0].Tool.Driver.Rules {
		security := false
		for _, tag := range r.Properties.Tags {
			security = security || tag == "security"
		}
		sev, ok := want[r.ID]
		switch {
		case ok && (r.Properties.SecuritySeverity == nil || *r.Properties.SecuritySeverity != sev || !security):
			t.Errorf("%s: security-severity %v, tags %v; want %q and the security tag", r.ID, r.Properties.SecuritySeverity, r.Properties.Tags, sev)
		case !ok && (r.Properties.SecuritySeverity != nil || security):
			t.Errorf("%s: not a security rule, but security-severity %v, tags %v", r.ID, r.Properties.SecuritySeverity, r.Properties.Tags)
		}
	}
}

func TestSARIFSourceRoot(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	in := filepath.Join(root, "deploy", "nomad server.hcl")
	out2 := filepath.Join(outside, "other.hcl")
	r := hostileReport()
	src := r.Files[0].Src
	r.Files = []*world.File{{Path: in, Src: src}, {Path: out2, Src: src}}
	for i := range r.Findings {
		if r.Findings[i].HasFile() {
			r.Findings[i].Range.Filename = in
		}
	}
	r.Findings[0].Related = []rules.Related{{Message: "elsewhere", Range: hcl.Range{Filename: out2, Start: hcl.Pos{Line: 1, Column: 1}, End: hcl.Pos{Line: 1, Column: 2}}}}
	r.Findings[0].Fixes[0].Edits[0].Range.Filename = in

	got, data := renderSARIF(t, r, reports.Options{SourceRoot: root})
	validateSARIF(t, "source root", data)
	run := got.Runs[0]
	if base := run.OriginalURIBaseIDs["%SRCROOT%"].URI; base != "file://"+filepath.ToSlash(root)+"/" {
		t.Errorf("%%SRCROOT%% is %q, want file://%s/", base, root)
	}
	res := run.Results[0]
	loc := res.Locations[0].PhysicalLocation.ArtifactLocation
	if loc.URI != "deploy/nomad%20server.hcl" || loc.URIBaseID != "%SRCROOT%" {
		t.Errorf("location %+v, want deploy/nomad%%20server.hcl under %%SRCROOT%%", loc)
	}
	if fix := res.Fixes[0].ArtifactChanges[0].ArtifactLocation; fix != loc {
		t.Errorf("fix location %+v, want %+v", fix, loc)
	}
	// A file outside the root keeps its absolute name, as a file URI.
	rel := res.RelatedLocations[0].PhysicalLocation.ArtifactLocation
	if rel.URI != "file://"+filepath.ToSlash(out2) || rel.URIBaseID != "" {
		t.Errorf("related location outside the root: %+v", rel)
	}

	// Relative paths are relative to the working directory; by default
	// the root is the repository around it.
	wd, _ := os.Getwd()
	r = hostileReport()
	got, _ = renderSARIF(t, r, reports.Options{SourceRoot: filepath.Dir(wd)})
	if loc := got.Runs[0].Results[0].Locations[0].PhysicalLocation.ArtifactLocation; loc.URI != "reports/dir%2Cwith%3Aodd/pol%25icy.hcl" || loc.URIBaseID != "%SRCROOT%" {
		t.Errorf("relative path: %+v", loc)
	}

	// Without a root, it is the top of the git work tree around the
	// working directory, else the working directory: built here, so the
	// test does not depend on where the source it runs from came from
	// (a checkout or an extracted archive).
	top := t.TempDir()
	repo := filepath.Join(top, "repo")
	sub := filepath.Join(repo, "sub")
	plain := filepath.Join(top, "plain")
	for _, d := range []string{filepath.Join(repo, ".git"), sub, plain} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	defaultRoot := func(name, dir, wantBase, wantURI string) {
		t.Helper()
		t.Chdir(dir)
		got, _ := renderSARIF(t, hostileReport(), reports.Options{})
		run := got.Runs[0]
		if base := run.OriginalURIBaseIDs["%SRCROOT%"].URI; base != "file://"+filepath.ToSlash(wantBase)+"/" {
			t.Errorf("%s: %%SRCROOT%% is %q, want file://%s/", name, base, wantBase)
		}
		if loc := run.Results[0].Locations[0].PhysicalLocation.ArtifactLocation; loc.URI != wantURI || loc.URIBaseID != "%SRCROOT%" {
			t.Errorf("%s: %+v, want %s under %%SRCROOT%%", name, loc, wantURI)
		}
	}
	defaultRoot("default root in a work tree", sub, repo, "sub/dir%2Cwith%3Aodd/pol%25icy.hcl")
	// Outside any work tree; unless the temporary directory is itself
	// inside one, which the test cannot change.
	if !underGit(plain) {
		defaultRoot("default root outside a work tree", plain, plain, "dir%2Cwith%3Aodd/pol%25icy.hcl")
	}
}

// underGit reports whether dir or a directory above it holds .git.
func underGit(dir string) bool {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			return true
		}
		if filepath.Dir(d) == d {
			return false
		}
	}
}
