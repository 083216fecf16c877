package cli_test

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nvlint/nvlint/cli"
)

const nv101 = "../fixtures/cases/NV101-server-policy-missing-capability/bad-no-revoke-accessor"

func TestSeveralOutputs(t *testing.T) {
	dir := t.TempDir()
	sarifPath, junitPath := filepath.Join(dir, "nvlint.sarif"), filepath.Join(dir, "reports", "junit.xml")
	if err := os.Mkdir(filepath.Dir(junitPath), 0o755); err != nil {
		t.Fatal(err)
	}
	r := nvlint(t, "", nil, "lint", "--format", "github", "--format", "sarif="+sarifPath, "--format", "junit="+junitPath, nv101)
	if r.code != cli.ExitFindings || r.stderr != "" {
		t.Fatalf("code %d: %s", r.code, r.stderr)
	}
	if !strings.HasPrefix(r.stdout, "::error file=../fixtures/cases/NV101-server-policy-missing-capability/bad-no-revoke-accessor/nomad-server-policy.hcl,line=1,col=1,title=NV101 server-policy-missing-capability::policy nomad-server does not grant update on auth/token/revoke-accessor") {
		t.Errorf("github annotations on stdout:\n%s", r.stdout)
	}
	var log struct {
		Runs []struct{ Results []struct{ RuleID string } }
	}
	data, err := os.ReadFile(sarifPath)
	if err != nil || json.Unmarshal(data, &log) != nil || len(log.Runs) != 1 || len(log.Runs[0].Results) != 1 || log.Runs[0].Results[0].RuleID != "NV101" {
		t.Errorf("sarif file: %v\n%s", err, data)
	}
	var junit struct {
		Failures int `xml:"failures,attr"`
	}
	data, err = os.ReadFile(junitPath)
	if err != nil || xml.Unmarshal(data, &junit) != nil || junit.Failures != 1 {
		t.Errorf("junit file: %v\n%s", err, data)
	}

	// Default: text to stdout.
	if r := nvlint(t, "", nil, "lint", "--color", "never", nv101); !strings.Contains(r.stdout, "error[NV101]") {
		t.Errorf("default output:\n%s", r.stdout)
	}
	// Text to a file is never coloured.
	textPath := filepath.Join(dir, "report.txt")
	nvlint(t, "", nil, "lint", "--color", "always", "--format", "json", "--format", "text="+textPath, nv101)
	if data, err := os.ReadFile(textPath); err != nil || strings.Contains(string(data), "\x1b[") || !strings.Contains(string(data), "error[NV101]") {
		t.Errorf("text file: %v\n%q", err, data)
	}
}

func TestOutputUsageErrors(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"lint", "--format", "text", "--format", "json", nv101}, "standard output"},
		{[]string{"lint", "--format", "junit=", nv101}, "no file"},
		{[]string{"lint", "--format", "yaml", nv101}, "unknown format"},
		{[]string{"doctor", "--format", "json", "--format", "markdown", "--from", "x.json"}, "standard output"},
		{[]string{"lint", "--format", "sarif=" + filepath.Join(blocker, "x.sarif"), nv101}, "--format sarif=" + filepath.Join(blocker, "x.sarif") + ": mkdir " + blocker + ": not a directory"},
	} {
		r := nvlint(t, "", nil, c.args...)
		if r.code != cli.ExitUsage || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%q: code %d, stderr %q; want exit 2 and %q", c.args, r.code, r.stderr, c.want)
		}
	}
}

func TestDoctorOutputs(t *testing.T) {
	dir := t.TempDir()
	md := filepath.Join(dir, "doctor.md")
	r := nvlint(t, "", nil, "doctor", "--from", "../fixtures/cases/NV611-vault-sealed/bad-sealed/snapshot.json",
		"--format", "json", "--format", "markdown="+md, "--format", "checkstyle="+filepath.Join(dir, "cs.xml"))
	if r.code != cli.ExitFindings {
		t.Fatalf("code %d: %s", r.code, r.stderr)
	}
	var rep struct {
		Verdicts []struct{ Area, Status string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || len(rep.Verdicts) == 0 {
		t.Errorf("json on stdout: %v\n%s", err, r.stdout)
	}
	data, err := os.ReadFile(md)
	if err != nil || !strings.Contains(string(data), "| Vault | ❌ broken |") || !strings.Contains(string(data), "`NV611` vault-sealed") {
		t.Errorf("markdown: %v\n%s", err, data)
	}
	if data, err := os.ReadFile(filepath.Join(dir, "cs.xml")); err != nil || !strings.Contains(string(data), `source="NV611"`) {
		t.Errorf("checkstyle: %v\n%s", err, data)
	}
}

// TestTokensNeverWritten extends TestTokensNeverPrinted to every format
// and to report files.
func TestTokensNeverWritten(t *testing.T) {
	const fileToken = "hvs.CAESIJlWh4yfw2kKQ8mN0xzmpT1r"
	const envToken = "hvs.ENVTOKENs3cr3tvalue0123456789"
	dir := t.TempDir()
	conf := "vault {\n  enabled = true\n  token = \"" + fileToken + "\"\n  create_from_role = \"" + envToken + "\"\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "server.hcl"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	args := []string{"lint", "--verbose", "--format", "github"}
	for _, f := range []string{"text", "json", "sarif", "junit", "checkstyle", "markdown"} {
		args = append(args, "--format", f+"="+filepath.Join(out, "report."+f))
	}
	r := nvlint(t, "", map[string]string{"VAULT_TOKEN": envToken}, append(args, dir)...)
	if r.code != cli.ExitFindings {
		t.Fatalf("code %d: %s", r.code, r.stderr)
	}
	files, _ := filepath.Glob(filepath.Join(out, "report.*"))
	if len(files) != 6 {
		t.Fatalf("want 6 report files, got %v", files)
	}
	outputs := map[string]string{"stdout": r.stdout, "stderr": r.stderr}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		outputs[f] = string(data)
	}
	for name, s := range outputs {
		if name != "stderr" && !strings.Contains(s, "NV301") {
			t.Errorf("%s: token in config not reported:\n%s", name, s)
		}
		for _, tok := range []string{fileToken, envToken, "CAESIJlWh4yf", "ENVTOKENs3cr3t"} {
			if strings.Contains(s, tok) {
				t.Errorf("%s leaks a token:\n%s", name, s)
			}
		}
	}
}
