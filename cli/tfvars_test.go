package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nvlint/nvlint/cli"
)

// TestTerraformVarFlags: --var-file and --var set the module's variables,
// the later flag winning, as with terraform plan.
func TestTerraformVarFlags(t *testing.T) {
	dir := filepath.Join("..", "fixtures", "cases", "NV224-jwt-config-default-role-missing", "bad-terraform-tfvars-default-role")
	tmp := t.TempDir()
	good := filepath.Join(tmp, "good.tfvars")
	if err := os.WriteFile(good, []byte(`default_role = "nomad-workloads"`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		code int
	}{
		{nil, cli.ExitFindings},
		{[]string{"--var-file", good}, cli.ExitOK},
		{[]string{"--var", "default_role=nomad-workloads"}, cli.ExitOK},
		{[]string{"--var-file", good, "--var", "default_role=nope"}, cli.ExitFindings},
		{[]string{"--var", "default_role=nope", "--var-file", good}, cli.ExitOK},
	} {
		args := append(append([]string{"lint"}, c.args...), dir)
		if r := nvlint(t, "", nil, args...); r.code != c.code {
			t.Errorf("%v: code %d, want %d\n%s%s", c.args, r.code, c.code, r.stdout, r.stderr)
		}
	}
	for _, bad := range [][]string{
		{"--var", "novalue"},
		{"--var", "=x"},
		{"--var-file", filepath.Join(tmp, "missing.tfvars")},
	} {
		args := append(append([]string{"lint"}, bad...), dir)
		if r := nvlint(t, "", nil, args...); r.code != cli.ExitUsage || !strings.Contains(r.stderr, "var") {
			t.Errorf("%v: code %d, want a usage error\n%s", bad, r.code, r.stderr)
		}
	}
}
