package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nvlint/nvlint/cli"
)

func TestLintTerraform(t *testing.T) {
	// The Terraform form of the workload-identity guide lints as its
	// native files do: only NV235's warning about the role's user_claim.
	r := nvlint(t, "", nil, "lint", examples+"/terraform-workload-identity")
	if r.code != cli.ExitFindings || !strings.Contains(r.stdout, "1 warning in 5 files") || !strings.Contains(r.stdout, "NV235") {
		t.Fatalf("terraform-workload-identity: code %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// A finding about a token role declared in Terraform points into the
	// .tf file, and its fix is applied with terraform.
	dir := "../fixtures/cases/NV111-token-role-not-renewable/bad-terraform-renewable-false"
	r = nvlint(t, "", nil, "lint", "--format", "json", dir)
	var rep struct {
		Findings []struct {
			Rule     string
			Location *struct {
				File         string
				Line, Column int
			}
			Object struct{ Kind, Name string }
			Fixes  []struct {
				Edits []struct {
					File    string `json:"file"`
					NewText string `json:"new_text"`
				} `json:"edits"`
				Commands []string
			}
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if len(rep.Findings) != 1 {
		t.Fatalf("findings: %+v", rep.Findings)
	}
	f := rep.Findings[0]
	tf := filepath.Join(dir, "vault.tf")
	if f.Rule != "NV111" || f.Location == nil || f.Location.File != tf || f.Location.Line != 53 || f.Location.Column != 28 ||
		f.Object.Name != "nomad-cluster" {
		t.Errorf("finding: %+v", f)
	}
	if fx := f.Fixes[0]; len(fx.Edits) != 1 || fx.Edits[0].File != tf || fx.Edits[0].NewText != "true" ||
		len(fx.Commands) != 1 || fx.Commands[0] != "terraform -chdir="+dir+" apply" {
		t.Errorf("fix: %+v", fx)
	}
}

func TestLintSkipUnknown(t *testing.T) {
	dir := t.TempDir()
	pkg := filepath.Join(dir, "package.json")
	if err := os.WriteFile(pkg, []byte(`{"name": "web", "version": "1.0.0"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	vars := filepath.Join(dir, "variables.tf")
	if err := os.WriteFile(vars, []byte("variable \"region\" {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Named, a file nvlint does not know is an error; a Terraform file
	// without Vault or Nomad resources is not.
	r := nvlint(t, "", nil, "lint", "--format", "json", pkg, vars)
	if r.code != cli.ExitFindings || strings.Count(r.stdout, `"NV002"`) != 1 {
		t.Fatalf("without --skip-unknown: code %d\n%s", r.code, r.stdout)
	}
	// --skip-unknown (what the pre-commit hook passes) skips it, as a
	// directory walk would; that leaves nothing linted, which is said,
	// and no "no problems".
	r = nvlint(t, "", nil, "lint", "--skip-unknown", "--verbose", pkg, vars)
	if r.code != cli.ExitOK || !strings.Contains(r.stderr, "package.json: skipped") ||
		!strings.Contains(r.stderr, "nothing to lint") || strings.Contains(r.stdout, "no problems") {
		t.Fatalf("with --skip-unknown: code %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
