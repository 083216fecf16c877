package cli_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nvlint/nvlint/cli"
)

// nvlintMixed runs nvlint with standard output and error into one
// buffer, as a terminal shows them, starting the config search in dir.
func nvlintMixed(t *testing.T, dir string, args ...string) (int, string) {
	t.Helper()
	var b bytes.Buffer
	code := cli.Main(args, cli.Env{
		Stdin: strings.NewReader(""), Stdout: &b, Stderr: &b,
		Getenv: func(string) string { return "" }, Dir: dir,
	})
	return code, b.String()
}

func TestNothingToLint(t *testing.T) {
	empty := t.TempDir()
	pkg := filepath.Join(t.TempDir(), "package.json")
	if err := os.WriteFile(pkg, []byte(`{"name": "web"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"lint", empty},
		{"lint", "--skip-unknown", pkg},
		{"lint", "--color", "always", empty},
	} {
		r := nvlint(t, "", nil, args...)
		if r.code != cli.ExitOK || !strings.Contains(r.stderr, "nothing to lint") ||
			strings.Contains(r.stdout+r.stderr, "no problems") || strings.Contains(r.stdout+r.stderr, "live clusters") {
			t.Errorf("%q: code %d\nstdout: %s\nstderr: %s", args, r.code, r.stdout, r.stderr)
		}
	}
	// Machine-readable reports are still written, empty.
	r := nvlint(t, "", nil, "lint", "--format", "json", empty)
	var rep struct{ Summary struct{ Files, Findings int } }
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != cli.ExitOK || rep.Summary.Files != 0 || !strings.Contains(r.stderr, "nothing to lint") {
		t.Errorf("json: code %d, %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
}

func TestSummaryWhenEveryReportGoesToAFile(t *testing.T) {
	dir := t.TempDir()
	sarif := filepath.Join(dir, "out.sarif")
	junit := filepath.Join(dir, "out.xml")
	r := nvlint(t, "", nil, "lint", "--format", "sarif="+sarif, "--format", "junit="+junit, "../fixtures/cases/NV111-token-role-not-renewable/bad-renewable-false")
	want := "nvlint: 1 error in 3 files; report written to " + sarif + ", " + junit + "\n"
	if r.code != cli.ExitFindings || r.stdout != "" || r.stderr != want {
		t.Errorf("code %d\nstdout %q\nstderr %q\nwant   %q", r.code, r.stdout, r.stderr, want)
	}
	r = nvlint(t, "", nil, "doctor", "--from", "../fixtures/cases/NV611-vault-sealed/bad-sealed/snapshot.json", "--format", "json="+filepath.Join(dir, "d.json"))
	if r.stdout != "" || !strings.Contains(r.stderr, "in the live clusters; report written to "+filepath.Join(dir, "d.json")) {
		t.Errorf("doctor: code %d\nstdout %q\nstderr %q", r.code, r.stdout, r.stderr)
	}
	// With a report on standard output, no extra line.
	r = nvlint(t, "", nil, "lint", "--format", "json", "--format", "sarif="+sarif, "../fixtures/cases/NV111-token-role-not-renewable/bad-renewable-false")
	if r.stderr != "" {
		t.Errorf("stdout report: stderr %q", r.stderr)
	}
}

func TestBaselineStrictSaysWhyItFailed(t *testing.T) {
	dir := t.TempDir()
	copyCases(t, dir, map[string]string{"agent": "NV302-unknown-vault-key/bad-typo"})
	agent := filepath.Join(dir, "agent")
	base := filepath.Join(dir, "baseline.json")
	if r := nvlintIn(t, dir, "lint", "--write-baseline", base, agent); r.code != cli.ExitOK {
		t.Fatalf("--write-baseline: code %d %s", r.code, r.stderr)
	}
	server := filepath.Join(agent, "server.hcl")
	write(t, server, strings.Replace(read(t, server), "create_from_rol ", "create_from_role ", 1))
	code, out := nvlintMixed(t, dir, "lint", "--color", "never", "--baseline", base, "--baseline-strict", agent)
	// The last words say why a run whose report is clean failed.
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := lines[len(lines)-1]
	if code != cli.ExitFindings || !strings.Contains(last, "failing: --baseline-strict") || !strings.Contains(last, "--write-baseline "+base) {
		t.Errorf("code %d, last line %q\n%s", code, last, out)
	}
	if i, j := strings.Index(out, "no problems"), strings.Index(out, "fixed since it was recorded"); i < 0 || j < i {
		t.Errorf("the gone entries are not listed after the report:\n%s", out)
	}
}

func TestWriteBaselineNotWrittenOnUsageError(t *testing.T) {
	dir := t.TempDir()
	copyCases(t, dir, map[string]string{"agent": "NV302-unknown-vault-key/bad-typo"})
	agent := filepath.Join(dir, "agent")
	blocker := filepath.Join(dir, "file")
	write(t, blocker, "")
	for _, args := range [][]string{
		{"--baseline", filepath.Join(dir, "missing.json")},
		{"--format", "sarif=" + filepath.Join(blocker, "x.sarif")},
	} {
		base := filepath.Join(dir, "new-baseline.json")
		args = append([]string{"lint", "--write-baseline", base}, append(args, agent)...)
		r := nvlintIn(t, dir, args...)
		if r.code != cli.ExitUsage {
			t.Errorf("%q: code %d, want a usage error\n%s", args, r.code, r.stderr)
		}
		if _, err := os.Stat(base); err == nil {
			t.Errorf("%q: the baseline was written by a run that failed", args)
			_ = os.Remove(base)
		}
		copyCases(t, dir, map[string]string{"agent": "NV302-unknown-vault-key/bad-typo"})
	}
}

func TestDoctorSaveToAnUnwritablePath(t *testing.T) {
	refused := httptest.NewServer(http.NotFoundHandler())
	addr := refused.URL
	refused.Close()
	blocker := filepath.Join(t.TempDir(), "file")
	write(t, blocker, "")
	save := filepath.Join(blocker, "snap.json")
	r := nvlint(t, "", map[string]string{"VAULT_ADDR": addr}, "doctor", "--timeout", "2s", "--color", "never", "--save", save)
	if r.code != cli.ExitUsage || !strings.Contains(r.stderr, "--save "+save) || !strings.Contains(r.stdout, "NV601") {
		t.Errorf("code %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
}

func TestReadmeIsNoAgentConfig(t *testing.T) {
	r := nvlint(t, "", nil, "lint", "--skip-unknown", "../README.md")
	if r.code != cli.ExitOK || !strings.Contains(r.stderr, "nothing to lint") || strings.Contains(r.stdout, "NV001") {
		t.Errorf("--skip-unknown README.md: code %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = nvlint(t, "", nil, "lint", "--format", "json", "../README.md")
	if strings.Contains(r.stdout, `"NV001"`) || !strings.Contains(r.stdout, `"NV002"`) {
		t.Errorf("README.md: want it unrecognised, not 'parse errors':\n%s", r.stdout)
	}
}

// Every flag that writes a file (a report, a snapshot, a baseline, a fix
// script) makes the file's directory when it is missing, for every
// command alike; a path that cannot be written (under a regular file) is
// a usage error naming the flag and the path, and the report to standard
// output still prints.
func TestFileFlagsIntoAMissingDirectory(t *testing.T) {
	refused := httptest.NewServer(http.NotFoundHandler())
	addr := refused.URL
	refused.Close()
	snap := "../fixtures/cases/NV611-vault-sealed/bad-sealed/snapshot.json"
	nv111 := "../fixtures/cases/NV111-token-role-not-renewable/bad-renewable-false"
	for _, c := range []struct {
		name string
		args func(file string) []string
		env  map[string]string
		flag string // as the error names it, before the path
		// fix: lint --fix on a copy, which --fix-script needs.
		fix bool
	}{
		{name: "lint --format", args: func(p string) []string { return []string{"lint", "--format", "text", "--format", "sarif=" + p, nv111} }, flag: "--format sarif="},
		{name: "lint --format, no stdout", args: func(p string) []string { return []string{"lint", "--format", "junit=" + p, nv111} }, flag: "--format junit="},
		{name: "lint --write-baseline", args: func(p string) []string { return []string{"lint", "--write-baseline", p, nv111} }, flag: "--write-baseline "},
		{name: "lint --fix-script", args: func(p string) []string { return []string{"lint", "--fix", "--fix-script", p} }, flag: "--fix-script ", fix: true},
		{name: "doctor --format", args: func(p string) []string {
			return []string{"doctor", "--from", snap, "--format", "text", "--format", "json=" + p}
		}, flag: "--format json="},
		{name: "doctor --write-baseline", args: func(p string) []string { return []string{"doctor", "--from", snap, "--write-baseline", p} }, flag: "--write-baseline "},
		{name: "doctor --save", args: func(p string) []string { return []string{"doctor", "--timeout", "2s", "--save", p} }, env: map[string]string{"VAULT_ADDR": addr}, flag: "--save "},
		{name: "impact --format sarif", args: func(p string) []string {
			return []string{"impact", "--snapshot", snap, "--format", "sarif=" + p, "--format", "text", nv111}
		}, flag: "--format sarif="},
		{name: "impact --format markdown", args: func(p string) []string {
			return []string{"impact", "--snapshot", snap, "--format", "text", "--format", "markdown=" + p, nv111}
		}, flag: "--format markdown="},
	} {
		t.Run(c.name, func(t *testing.T) {
			tmp := t.TempDir()
			lintTo := func(file string) run {
				args := append(c.args(file), "--color", "never")
				if c.fix {
					dir := filepath.Join(tmp, "role-"+filepath.Base(filepath.Dir(file)))
					copyCases(t, dir, map[string]string{"role": "NV111-token-role-not-renewable/bad-renewable-false"})
					args = append(args, filepath.Join(dir, "role"))
				}
				r := nvlint(t, "", c.env, args...)
				if !strings.Contains(c.name, "no stdout") && strings.TrimSpace(r.stdout) == "" {
					t.Errorf("%q: the report to standard output was not printed", args)
				}
				return r
			}

			file := filepath.Join(tmp, "no", "such", "out")
			if r := lintTo(file); r.code == cli.ExitUsage || r.code == cli.ExitInternal {
				t.Errorf("into a missing directory: code %d, stderr %q", r.code, r.stderr)
			}
			if _, err := os.Stat(file); err != nil {
				t.Errorf("into a missing directory: %v", err)
			}

			plain := filepath.Join(tmp, "plain")
			if err := os.WriteFile(plain, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			file = filepath.Join(plain, "out")
			r := lintTo(file)
			if want := c.flag + file + ": mkdir " + plain + ": not a directory"; r.code != cli.ExitUsage || !strings.Contains(r.stderr, want) {
				t.Errorf("under a regular file: code %d, stderr %q; want exit 2 and %q", r.code, r.stderr, want)
			}
		})
	}
}
