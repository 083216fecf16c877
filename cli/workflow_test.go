package cli_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/nvlint/nvlint/cli"
)

// nvlintIn runs nvlint with the search for .nvlint.hcl starting in dir.
func nvlintIn(t *testing.T, dir string, args ...string) run {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Main(args, cli.Env{
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		Getenv: func(string) string { return "" }, Dir: dir,
	})
	return run{code, out.String(), errb.String()}
}

// copyCases copies fixture cases into dir/<name>, without their goldens.
func copyCases(t *testing.T, dir string, cases map[string]string) {
	t.Helper()
	for name, c := range cases {
		src := filepath.Join("../fixtures/cases", c)
		entries, err := os.ReadDir(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Name() == "findings.golden" {
				continue
			}
			data, err := os.ReadFile(filepath.Join(src, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name, e.Name()), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestDiffThenFixThenFixAgain(t *testing.T) {
	dir := t.TempDir()
	copyCases(t, dir, map[string]string{
		"role":  "NV111-token-role-not-renewable/bad-renewable-false",
		"agent": "NV302-unknown-vault-key/bad-typo",
	})
	role, agent := filepath.Join(dir, "role"), filepath.Join(dir, "agent")
	origRole, origAgent := read(t, filepath.Join(role, "nomad-cluster-role.json")), read(t, filepath.Join(agent, "server.hcl"))

	// --diff: the unified diff of what --fix would write; nothing written.
	r := nvlintIn(t, dir, "lint", "--diff", role, agent)
	wantDiff := "--- " + filepath.Join(agent, "server.hcl") + "\n" +
		"+++ " + filepath.Join(agent, "server.hcl") + "\n" +
		"@@ -4,5 +4,5 @@\n" +
		"   cert_file        = \"/var/certs/vault.crt\"\n" +
		"   key_file         = \"/var/certs/vault.key\"\n" +
		"   address          = \"https://vault.service.consul:8200\"\n" +
		"-  create_from_rol = \"nomad-cluster\"\n" +
		"+  create_from_role = \"nomad-cluster\"\n" +
		" }\n" +
		"--- " + filepath.Join(role, "nomad-cluster-role.json") + "\n" +
		"+++ " + filepath.Join(role, "nomad-cluster-role.json") + "\n" +
		"@@ -4,5 +4,5 @@\n" +
		"   \"name\": \"nomad-cluster\",\n" +
		"   \"orphan\": true,\n" +
		"   \"period\": 259200,\n" +
		"-  \"renewable\": false\n" +
		"+  \"renewable\": true\n" +
		" }\n"
	if r.code != cli.ExitFindings || r.stdout != wantDiff {
		t.Fatalf("--diff: code %d\n%s\nwant\n%s\n%s", r.code, r.stdout, wantDiff, r.stderr)
	}
	if read(t, filepath.Join(role, "nomad-cluster-role.json")) != origRole || read(t, filepath.Join(agent, "server.hcl")) != origAgent {
		t.Fatal("--diff wrote files")
	}

	// --fix: both fixed, in place, the rest of the files untouched.
	r = nvlintIn(t, dir, "lint", "--fix", "--color", "never", role, agent)
	if !strings.Contains(r.stdout, "[fixed]") || !strings.Contains(r.stdout, "fixed by --fix") || !strings.Contains(r.stdout, "(2 fixed)") {
		t.Errorf("--fix report lacks the fixed findings:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "#!/bin/sh") || !strings.Contains(r.stdout, "vault write auth/token/roles/nomad-cluster @"+filepath.Join(role, "nomad-cluster-role.json")) {
		t.Errorf("--fix does not print the command that pushes the fixed role:\n%s", r.stdout)
	}
	gotRole := read(t, filepath.Join(role, "nomad-cluster-role.json"))
	if gotRole != strings.Replace(origRole, `"renewable": false`, `"renewable": true`, 1) || !json.Valid([]byte(gotRole)) {
		t.Errorf("role fixed to:\n%s", gotRole)
	}
	gotAgent := read(t, filepath.Join(agent, "server.hcl"))
	if gotAgent != strings.Replace(origAgent, "create_from_rol ", "create_from_role ", 1) {
		t.Errorf("agent config fixed to:\n%s", gotAgent)
	}
	if _, diags := hclsyntax.ParseConfig([]byte(gotAgent), "server.hcl", hcl.InitialPos); diags.HasErrors() {
		t.Errorf("fixed agent config does not parse: %s", diags)
	}

	// A second --fix changes nothing, and --diff shows nothing.
	r = nvlintIn(t, dir, "lint", "--fix", role, agent)
	if strings.Contains(r.stderr, "nvlint: fixed") || read(t, filepath.Join(role, "nomad-cluster-role.json")) != gotRole || read(t, filepath.Join(agent, "server.hcl")) != gotAgent {
		t.Errorf("second --fix changed something: %s", r.stderr)
	}
	r = nvlintIn(t, dir, "lint", "--diff", role, agent)
	if r.code != cli.ExitOK || r.stdout != "" {
		t.Errorf("--diff after --fix: code %d %q", r.code, r.stdout)
	}
}

func TestFixKeepsCommentsAndWritesTheScriptToAFile(t *testing.T) {
	dir := t.TempDir()
	copyCases(t, dir, map[string]string{"p": "NV101-server-policy-missing-capability/bad-no-revoke-accessor"})
	p := filepath.Join(dir, "p")
	before := read(t, filepath.Join(p, "nomad-server-policy.hcl"))
	script := filepath.Join(dir, "push.sh")
	r := nvlintIn(t, dir, "lint", "--fix", "--fix-script", script, "--format", "json", p)
	var rep struct {
		Findings []struct{ Rule string }
		Fixed    []struct{ Rule string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("--fix with --format json: stdout is not JSON (%v):\n%s", err, r.stdout)
	}
	if len(rep.Fixed) == 0 || rep.Fixed[0].Rule != "NV101" {
		t.Errorf("fixed: %+v", rep.Fixed)
	}
	after := read(t, filepath.Join(p, "nomad-server-policy.hcl"))
	if !strings.HasPrefix(after, before) || !strings.Contains(after[len(before):], `path "auth/token/revoke-accessor"`) {
		t.Errorf("the policy was not fixed by appending, keeping its comments:\n%s", after)
	}
	sh := read(t, script)
	if !strings.Contains(sh, "vault policy write nomad-server "+filepath.Join(p, "nomad-server-policy.hcl")) {
		t.Errorf("script:\n%s", sh)
	}
}

func TestWorkflowUsageErrors(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"lint", "--fix", "--diff", dir},
		{"lint", "--fix-script", "x.sh", dir},
		{"lint", "--baseline-strict", dir},
		{"lint", "--diff", "--format", "json", dir},
		{"lint", "--baseline", filepath.Join(dir, "missing.json"), dir},
		{"lint", "--config", filepath.Join(dir, "missing.hcl"), dir},
	} {
		if r := nvlintIn(t, dir, args...); r.code != cli.ExitUsage {
			t.Errorf("%v: code %d, want usage error\n%s", args, r.code, r.stderr)
		}
	}
}

func TestConfig(t *testing.T) {
	dir := t.TempDir()
	copyCases(t, dir, map[string]string{
		"agent":  "NV303-deprecated-vault-key/bad-allow-unauthenticated",
		"legacy": "NV302-unknown-vault-key/bad-typo",
	})
	sub := filepath.Join(dir, "agent")
	// Found from a subdirectory of the config's; nomad_version makes NV303
	// an error, ignore_paths drops legacy/.
	write(t, filepath.Join(dir, ".nvlint.hcl"), "nomad_version = \"1.10\"\nignore_paths = [\"legacy\"]\n")
	r := nvlintIn(t, sub, "lint", "--format", "json", dir)
	var rep struct {
		Findings []struct{ Rule, Severity string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("%v\n%s%s", err, r.stdout, r.stderr)
	}
	if len(rep.Findings) != 1 || rep.Findings[0].Rule != "NV303" || rep.Findings[0].Severity != "error" {
		t.Errorf("findings: %+v", rep.Findings)
	}

	// Severity override and disabling, by name, from --config.
	other := filepath.Join(t.TempDir(), "other.hcl")
	write(t, other, "rule \"deprecated-vault-key\" {\n  severity = \"info\"\n}\nrule \"NV302\" {\n  enabled = false\n}\n")
	r = nvlintIn(t, sub, "lint", "--config", other, "--format", "json", sub)
	rep.Findings = nil
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if r.code != cli.ExitOK || len(rep.Findings) != 1 || rep.Findings[0].Severity != "info" {
		t.Errorf("code %d, findings %+v", r.code, rep.Findings)
	}

	// An unknown key is a usage error at its place.
	write(t, other, "nomad_version = \"1.10\"\n\nrule \"NV302\" {\n  enable = false\n}\n")
	r = nvlintIn(t, sub, "lint", "--config", other, dir)
	if r.code != cli.ExitUsage || !strings.Contains(r.stderr, other+":4:3: Unsupported argument") || !strings.Contains(r.stderr, `Did you mean "enabled"?`) {
		t.Errorf("code %d: %s", r.code, r.stderr)
	}
}

func TestInlineSuppression(t *testing.T) {
	dir := t.TempDir()
	copyCases(t, dir, map[string]string{"a": "NV302-unknown-vault-key/bad-typo"})
	server := filepath.Join(dir, "a", "server.hcl")
	src := read(t, server)
	write(t, server, strings.Replace(src, "  create_from_rol", "  # nvlint:ignore NV302 old agents read this spelling\n  create_from_rol", 1))
	r := nvlintIn(t, dir, "lint", "--color", "never", filepath.Join(dir, "a"))
	if r.code != cli.ExitOK || !strings.Contains(r.stdout, "no problems in 3 files (1 suppressed)") {
		t.Errorf("code %d\n%s", r.code, r.stdout)
	}
	// Without a reason it suppresses nothing and says so.
	write(t, server, strings.Replace(src, "  create_from_rol", "  # nvlint:ignore NV302\n  create_from_rol", 1))
	r = nvlintIn(t, dir, "lint", "--color", "never", filepath.Join(dir, "a"))
	if r.code != cli.ExitFindings || !strings.Contains(r.stdout, "error[NV005] malformed suppression") || !strings.Contains(r.stdout, "error[NV302]") {
		t.Errorf("code %d\n%s", r.code, r.stdout)
	}
}

func TestBaseline(t *testing.T) {
	dir := t.TempDir()
	copyCases(t, dir, map[string]string{
		"legacy": "NV115-token-role-allows-server-policy/bad-allowed-includes-server",
		"agent":  "NV302-unknown-vault-key/bad-typo",
	})
	base := filepath.Join(dir, "nvlint-baseline.json")
	legacy, agent := filepath.Join(dir, "legacy"), filepath.Join(dir, "agent")

	// A messy tree: record it, and the run passes.
	r := nvlintIn(t, dir, "lint", "--color", "never", "--write-baseline", base, legacy, agent)
	if r.code != cli.ExitOK || !strings.Contains(r.stdout, "in the baseline)") || !strings.Contains(r.stderr, "wrote "+base) {
		t.Fatalf("--write-baseline: code %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var recorded struct {
		Findings []struct{ Fingerprint, Rule, File string }
	}
	if err := json.Unmarshal([]byte(read(t, base)), &recorded); err != nil || len(recorded.Findings) < 3 {
		t.Fatalf("baseline %v: %s", err, read(t, base))
	}
	if f := recorded.Findings[0].File; strings.HasPrefix(f, "/") || strings.Contains(f, dir) {
		t.Errorf("baseline paths are not relative to it: %s", f)
	}

	// Lines move: still nothing new, from another working directory too.
	server := filepath.Join(agent, "server.hcl")
	write(t, server, "# Agent config of the old fleet.\n\n"+read(t, server))
	r = nvlintIn(t, legacy, "lint", "--baseline", base, legacy, agent)
	if r.code != cli.ExitOK {
		t.Fatalf("shifted lines: code %d\n%s", r.code, r.stdout)
	}

	// A new problem: only it is reported.
	write(t, server, strings.Replace(read(t, server), "  address ", "  addr    ", 1))
	r = nvlintIn(t, dir, "lint", "--color", "never", "--baseline", base, legacy, agent)
	if r.code != cli.ExitFindings || strings.Count(r.stdout, "error[") != 1 || !strings.Contains(r.stdout, `unknown key "addr"`) {
		t.Fatalf("new problem: code %d\n%s", r.code, r.stdout)
	}

	// A recorded problem fixed: fine, unless --baseline-strict.
	write(t, server, strings.Replace(strings.Replace(read(t, server), "addr    ", "address ", 1), "create_from_rol ", "create_from_role ", 1))
	r = nvlintIn(t, dir, "lint", "--baseline", base, legacy, agent)
	if r.code != cli.ExitOK {
		t.Fatalf("fixed problem: code %d\n%s", r.code, r.stdout)
	}
	r = nvlintIn(t, dir, "lint", "--baseline", base, "--baseline-strict", legacy, agent)
	if r.code != cli.ExitFindings || !strings.Contains(r.stderr, "NV302 agent/server.hcl: fixed since it was recorded") {
		t.Fatalf("--baseline-strict: code %d\n%s", r.code, r.stderr)
	}
	// Linting only part of the tree: entries of other files are not gone.
	r = nvlintIn(t, dir, "lint", "--baseline", base, "--baseline-strict", legacy)
	if r.code != cli.ExitOK {
		t.Fatalf("--baseline-strict on part of the tree: code %d\n%s", r.code, r.stderr)
	}
}

func TestDoctorConfigAndBaseline(t *testing.T) {
	dir := t.TempDir()
	snap := "../fixtures/cases/NV651-vault-version-quirk/bad-1.16.1-jwks/snapshot.json"
	cfg := filepath.Join(dir, "nvlint.hcl")
	write(t, cfg, "rule \"vault-version-quirk\" {\n  severity = \"warning\"\n}\n")
	r := nvlintIn(t, dir, "doctor", "--from", snap, "--config", cfg, "--format", "json", "--fail-on", "error")
	var rep struct {
		Findings []struct{ Rule, Severity string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("%v\n%s%s", err, r.stdout, r.stderr)
	}
	found := false
	for _, f := range rep.Findings {
		if f.Rule == "NV651" {
			found = true
			if f.Severity != "warning" {
				t.Errorf("NV651 severity %s, want the configured warning", f.Severity)
			}
		}
	}
	if !found || r.code != cli.ExitOK {
		t.Fatalf("code %d, findings %+v", r.code, rep.Findings)
	}
	base := filepath.Join(dir, "doctor-baseline.json")
	if r = nvlintIn(t, dir, "doctor", "--from", snap, "--write-baseline", base); r.code != cli.ExitOK {
		t.Fatalf("doctor --write-baseline: code %d\n%s", r.code, r.stderr)
	}
	if r = nvlintIn(t, dir, "doctor", "--from", snap, "--baseline", base, "--baseline-strict"); r.code != cli.ExitOK {
		t.Fatalf("doctor --baseline: code %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestConfigFoundFromTheLintedPaths(t *testing.T) {
	dir := t.TempDir()
	copyCases(t, dir, map[string]string{"a": "NV302-unknown-vault-key/bad-typo"})
	a := filepath.Join(dir, "a")
	write(t, filepath.Join(a, ".nvlint.hcl"), "rule \"NV302\" {\n  enabled = false\n}\n")
	elsewhere := t.TempDir()
	// Started in the directory or anywhere else, the directory's config
	// applies.
	for _, wd := range []string{a, elsewhere, dir} {
		r := nvlintIn(t, wd, "lint", "--verbose", "--color", "never", a)
		if r.code != cli.ExitOK || strings.Contains(r.stdout, "NV302") {
			t.Errorf("started in %s: code %d\n%s%s", wd, r.code, r.stdout, r.stderr)
		}
		if want := "nvlint: config " + filepath.Join(a, ".nvlint.hcl") + " (found from "; !strings.Contains(r.stderr, want) {
			t.Errorf("started in %s: --verbose does not say which config applied: %q", wd, r.stderr)
		}
	}
	// A file takes the config of its directory.
	if r := nvlintIn(t, elsewhere, "lint", filepath.Join(a, "server.hcl")); r.code != cli.ExitOK {
		t.Errorf("file: code %d\n%s", r.code, r.stdout)
	}

	// Paths with different configs are refused, naming both.
	copyCases(t, dir, map[string]string{"b": "NV302-unknown-vault-key/bad-typo"})
	b := filepath.Join(dir, "b")
	write(t, filepath.Join(b, ".nvlint.hcl"), "nomad_version = \"1.10\"\n")
	r := nvlintIn(t, elsewhere, "lint", a, b)
	if r.code != cli.ExitUsage || !strings.Contains(r.stderr, filepath.Join(a, ".nvlint.hcl")) || !strings.Contains(r.stderr, filepath.Join(b, ".nvlint.hcl")) {
		t.Errorf("two configs: code %d %q", r.code, r.stderr)
	}
	// --config settles it.
	if r := nvlintIn(t, elsewhere, "lint", "--config", filepath.Join(a, ".nvlint.hcl"), a, b); r.code == cli.ExitUsage {
		t.Errorf("two configs with --config: code %d %q", r.code, r.stderr)
	}

	// The search stops at the repository's root.
	root := t.TempDir()
	write(t, filepath.Join(root, ".nvlint.hcl"), "rule \"NV302\" {\n  enabled = false\n}\n")
	repo := filepath.Join(root, "repo")
	copyCases(t, repo, map[string]string{"c": "NV302-unknown-vault-key/bad-typo"})
	if err := os.Mkdir(filepath.Join(repo, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	r = nvlintIn(t, elsewhere, "lint", "--verbose", "--color", "never", filepath.Join(repo, "c"))
	if !strings.Contains(r.stdout, "NV302") || !strings.Contains(r.stderr, "no .nvlint.hcl found") {
		t.Errorf("config above the repository applied: code %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
