package cli_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	homedir "github.com/mitchellh/go-homedir"

	"github.com/nvlint/nvlint/cli"
)

type run struct {
	code           int
	stdout, stderr string
}

func nvlint(t *testing.T, stdin string, env map[string]string, args ...string) run {
	t.Helper()
	defer processEnv(t, env)()
	var out, errb bytes.Buffer
	code := cli.Main(args, cli.Env{
		Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string { return env[k] },
	})
	return run{code, out.String(), errb.String()}
}

// processEnv puts the VAULT_*, NOMAD_* and HOME variables of env into
// the process environment, where the official Vault and Nomad clients
// read them, and takes the test machine's own out; HOME is an empty
// directory unless env says otherwise, so no ~/.vault-token leaks in. It
// returns the function that restores the environment. Tests calling it
// must not run in parallel.
func processEnv(t *testing.T, env map[string]string) (restore func()) {
	t.Helper()
	homedir.DisableCache = true // HOME changes from run to run
	saved := map[string]*string{}
	set := func(k string, v *string) {
		if _, ok := saved[k]; !ok {
			if old, ok := os.LookupEnv(k); ok {
				saved[k] = &old
			} else {
				saved[k] = nil
			}
		}
		if v == nil {
			_ = os.Unsetenv(k)
		} else {
			_ = os.Setenv(k, *v)
		}
	}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "VAULT_") || strings.HasPrefix(k, "NOMAD_") {
			set(k, nil)
		}
	}
	home := t.TempDir()
	set("HOME", &home)
	for k, v := range env {
		if strings.HasPrefix(k, "VAULT_") || strings.HasPrefix(k, "NOMAD_") || k == "HOME" {
			set(k, &v)
		}
	}
	return func() {
		for k, v := range saved {
			if v == nil {
				_ = os.Unsetenv(k)
			} else {
				_ = os.Setenv(k, *v)
			}
		}
	}
}

const examples = "../fixtures/examples"

func TestLintExamplesExitCodes(t *testing.T) {
	// Clean setups exit 0; setups with warnings exit 1 under the default
	// --fail-on warning and 0 under --fail-on error.
	r := nvlint(t, "", nil, "lint", examples+"/vault-integration-docs")
	if r.code != cli.ExitOK || !strings.Contains(r.stdout, "no problems in 3 files") {
		t.Fatalf("vault-integration-docs: code %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// The guide's setup keeps nomad setup vault's role, whose entity
	// aliases jobs of different namespaces would share (NV235).
	r = nvlint(t, "", nil, "lint", examples+"/workload-identity")
	if r.code != cli.ExitFindings || !strings.Contains(r.stdout, "1 warning in 8 files") || !strings.Contains(r.stdout, "NV235") {
		t.Fatalf("workload-identity: code %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = nvlint(t, "", nil, "lint", examples+"/dynamic-secrets")
	if r.code != cli.ExitFindings {
		t.Fatalf("dynamic-secrets: want exit 1 for warnings, got %d", r.code)
	}
	r = nvlint(t, "", nil, "lint", "--fail-on", "error", examples)
	if r.code != cli.ExitOK {
		t.Fatalf("all examples with --fail-on error: code %d\n%s", r.code, r.stdout)
	}
}

func TestJSONShape(t *testing.T) {
	r := nvlint(t, "", nil, "lint", "--format", "json", "../fixtures/cases/NV111-token-role-not-renewable/bad-renewable-false")
	if r.code != cli.ExitFindings {
		t.Fatalf("code %d: %s", r.code, r.stderr)
	}
	var rep struct {
		Version  int `json:"version"`
		Findings []struct {
			Rule, Name, Severity, Message string
			Location                      *struct {
				File                             string
				Line, Column, EndLine, EndColumn int
			} `json:"location"`
			Object struct{ Kind, Name string }
			Fixes  []struct {
				Description string
				Edits       []map[string]any
				Commands    []string
			}
		} `json:"findings"`
		Summary map[string]int `json:"summary"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, r.stdout)
	}
	if rep.Version != 1 || len(rep.Findings) != 1 || rep.Summary["errors"] != 1 {
		t.Fatalf("unexpected report: %+v", rep)
	}
	f := rep.Findings[0]
	if f.Rule != "NV111" || f.Name != "token-role-not-renewable" || f.Severity != "error" || f.Location == nil ||
		f.Location.Line != 7 || f.Object.Kind != "token-role" || f.Object.Name != "nomad-cluster" || len(f.Fixes) != 1 {
		t.Fatalf("unexpected finding: %+v", f)
	}
}

func TestSARIF(t *testing.T) {
	r := nvlint(t, "", nil, "lint", "--format", "sarif", "../fixtures/cases/NV201-audience-mismatch/bad-role-bound-audiences")
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Rules []struct {
						ID   string                `json:"id"`
						Help struct{ Text string } `json:"help"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				Level     string `json:"level"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }    `json:"artifactLocation"`
						Region           struct{ StartLine int } `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 || len(log.Runs[0].Results) == 0 {
		t.Fatalf("unexpected SARIF: %s", r.stdout)
	}
	// The case's role also draws NV235's warning; the error comes first.
	res := log.Runs[0].Results[0]
	if res.RuleID != "NV201" || res.Level != "error" || res.Locations[0].PhysicalLocation.Region.StartLine != 10 ||
		!strings.HasSuffix(res.Locations[0].PhysicalLocation.ArtifactLocation.URI, "bad-role-bound-audiences/nomad.hcl") {
		t.Fatalf("unexpected result: %+v", res)
	}
	for _, rl := range log.Runs[0].Tool.Driver.Rules {
		if rl.Help.Text == "" {
			t.Errorf("rule %s has no help text", rl.ID)
		}
	}
}

func TestTextReport(t *testing.T) {
	r := nvlint(t, "", nil, "lint", "--color", "never", "../fixtures/cases/NV302-unknown-vault-key/bad-typo")
	for _, want := range []string{
		"error[NV302] vault block has unknown key \"create_from_rol\"",
		"server.hcl:7:3 (unknown-vault-key)",
		"7 |   create_from_rol = \"nomad-cluster\"",
		"  |   ^^^^^^^^^^^^^^^",
		"= fix: Rename create_from_rol to create_from_role",
		"✖ 1 error in 3 files",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("text report lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "\x1b[") {
		t.Error("--color never printed escape codes")
	}
	r = nvlint(t, "", nil, "lint", "--color", "always", "../fixtures/cases/NV302-unknown-vault-key/bad-typo")
	if !strings.Contains(r.stdout, "\x1b[") {
		t.Error("--color always printed no escape codes")
	}
	r = nvlint(t, "", map[string]string{"NO_COLOR": "1"}, "lint", "../fixtures/cases/NV302-unknown-vault-key/bad-typo")
	if strings.Contains(r.stdout, "\x1b[") {
		t.Error("NO_COLOR was not honoured")
	}
}

func TestStdin(t *testing.T) {
	role := `{"name": "nomad-cluster", "renewable": false, "period": 259200, "orphan": true}`
	r := nvlint(t, role, nil, "lint", "--kind", "token-role", "-")
	if r.code != cli.ExitFindings || !strings.Contains(r.stdout, "NV111") || !strings.Contains(r.stdout, "-:1:") {
		t.Fatalf("code %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = nvlint(t, role, nil, "lint", "-")
	if r.code != cli.ExitUsage || !strings.Contains(r.stderr, "--kind") {
		t.Fatalf("stdin without --kind: code %d, stderr %q", r.code, r.stderr)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"lint"},
		{"lint", "--format", "xml", examples},
		{"lint", "--fail-on", "fatal", examples},
		{"lint", "does-not-exist.hcl"},
		{"lint", "--bogus", examples},
		{"frobnicate"},
		{"explain", "NV999"},
	} {
		if r := nvlint(t, "", nil, args...); r.code != cli.ExitUsage || r.stderr == "" {
			t.Errorf("%v: want exit 2 with a message, got %d %q", args, r.code, r.stderr)
		}
	}
	r := nvlint(t, "", nil, "lint", "does-not-exist.hcl")
	if !strings.Contains(r.stderr, "does-not-exist.hcl: no such file or directory") {
		t.Errorf("missing path message: %q", r.stderr)
	}
}

func TestBadInputIsAFindingNotACrash(t *testing.T) {
	dir := t.TempDir()
	files := map[string][]byte{
		"empty.hcl":     {},
		"blank.json":    []byte("  \n\t\n"),
		"junk.hcl":      {0x00, 0xff, 0xfe, 0x01, 'j', 'o', 'b'},
		"latin1.hcl":    []byte("path \"caf\xe9\" {}\n"),
		"truncated.hcl": []byte("job \"x\" {\n  group \"g\" {\n"),
		"readme.md":     []byte("# hello\n"),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
		r := nvlint(t, "", nil, "lint", "--format", "json", filepath.Join(dir, name))
		if r.code != cli.ExitFindings {
			t.Errorf("%s: want exit 1, got %d (%s)", name, r.code, r.stderr)
		}
		var rep struct {
			Findings []struct {
				Location struct{ File string }
			}
		}
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || len(rep.Findings) == 0 || rep.Findings[0].Location.File == "" {
			t.Errorf("%s: want a finding with a location, got %s", name, r.stdout)
		}
	}
	// Walking a directory skips what it does not understand but reports
	// what it recognises as broken.
	r := nvlint(t, "", nil, "lint", "--verbose", "--color", "never", dir)
	if !strings.Contains(r.stdout, "truncated.hcl") || strings.Contains(r.stdout, "readme.md:") {
		t.Errorf("directory walk:\n%s", r.stdout)
	}
}

func TestTokensNeverPrinted(t *testing.T) {
	const fileToken = "hvs.CAESIJlWh4yfw2kKQ8mN0xzmpT1r"
	const envToken = "hvs.ENVTOKENs3cr3tvalue0123456789"
	dir := t.TempDir()
	conf := "vault {\n  enabled = true\n  token = \"" + fileToken + "\"\n  create_from_role = \"" + envToken + "\"\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "server.hcl"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"VAULT_TOKEN": envToken}
	for _, format := range []string{"text", "json", "sarif"} {
		r := nvlint(t, "", env, "lint", "--verbose", "--format", format, dir)
		if !strings.Contains(r.stdout, "NV301") {
			t.Errorf("%s: token in config not reported:\n%s", format, r.stdout)
		}
		for _, tok := range []string{fileToken, envToken} {
			if strings.Contains(r.stdout, tok) || strings.Contains(r.stderr, tok) {
				t.Errorf("%s output leaks a token:\n%s%s", format, r.stdout, r.stderr)
			}
		}
	}
}

func TestRulesAndExplain(t *testing.T) {
	r := nvlint(t, "", nil, "rules")
	if r.code != 0 || !strings.Contains(r.stdout, "NV101") || !strings.Contains(r.stdout, "server-policy-missing-capability") {
		t.Fatalf("rules:\n%s", r.stdout)
	}
	for _, key := range []string{"NV115", "nv115", "token-role-allows-server-policy"} {
		r = nvlint(t, "", nil, "explain", key)
		if r.code != 0 || !strings.Contains(r.stdout, "## Why it matters") || !strings.Contains(r.stdout, "## How to fix") {
			t.Fatalf("explain %s:\n%s%s", key, r.stdout, r.stderr)
		}
	}
}

func TestNameOverride(t *testing.T) {
	dir := t.TempDir()
	pol, _ := os.ReadFile(examples + "/vault-integration-docs/nomad-server-policy.hcl")
	role := `{"name": "nomad-cluster", "disallowed_policies": "nomad-server", "period": 259200, "orphan": true}`
	if err := os.WriteFile(filepath.Join(dir, "server.hcl"), pol, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "role.json"), []byte(role), 0o644); err != nil {
		t.Fatal(err)
	}
	// The policy in server.hcl is named "server" by its file name, so the
	// role does not disallow it...
	r := nvlint(t, "", nil, "lint", "--format", "json", filepath.Join(dir, "server.hcl"), filepath.Join(dir, "role.json"))
	if !strings.Contains(r.stdout, "NV115") {
		t.Fatalf("want NV115 without the override:\n%s", r.stdout)
	}
	// ...until --name says it is nomad-server.
	r = nvlint(t, "", nil, "lint", "--name", "server.hcl=nomad-server", filepath.Join(dir, "server.hcl"), filepath.Join(dir, "role.json"))
	if r.code != 0 {
		t.Fatalf("with --name: code %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestAccess(t *testing.T) {
	wi := examples + "/workload-identity"
	r := nvlint(t, "", nil, "access", "--job", "mongo", wi)
	if r.code != cli.ExitOK || !strings.Contains(r.stdout, "ALLOWED read kv/data/default/mongo/config") ||
		!strings.Contains(r.stdout, "role: nomad-workloads (the auth method's default_role)") {
		t.Fatalf("code %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = nvlint(t, "", nil, "access", "--job", "mongo-query", "--path", "kv/data/default/mongo/config", wi)
	if r.code != cli.ExitFindings || !strings.Contains(r.stdout, "DENIED read kv/data/default/mongo/config") ||
		!strings.Contains(r.stdout, "role: mongo-dynamic-secret (vault.role)") {
		t.Fatalf("code %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// A vault secret block's read is one of the task's reads, named by
	// its block.
	cases := "../fixtures/cases/NV411-template-read-denied/"
	r = nvlint(t, "", nil, "access", "--job", "mongo", cases+"ok-secret-block")
	if r.code != cli.ExitOK || !strings.Contains(r.stdout, "ALLOWED read kv/data/default/mongo/config\n  read by secret block mongo") ||
		strings.Contains(r.stdout, "nomad/jobs/mongo") {
		t.Fatalf("code %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = nvlint(t, "", nil, "access", "--job", "mongo", cases+"bad-secret-block-denied")
	if r.code != cli.ExitFindings || !strings.Contains(r.stdout, "DENIED read kv/data/default/postgres/config\n  read by secret block mongo") {
		t.Fatalf("code %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// A --path on a KV version 2 mount without data/ is not what Vault
	// receives for a read: access says which is, and decides it too.
	r = nvlint(t, "", nil, "access", "--job", "mongo", "--path", "kv/default/mongo/config", wi)
	if r.code != cli.ExitFindings || !strings.Contains(r.stdout, "DENIED read kv/default/mongo/config\n") ||
		!strings.Contains(r.stdout, "hint: job mongo reads kv/data/default/mongo/config as Data.data, the shape of a KV version 2 secret: Vault receives kv/data/default/mongo/config for a read through consul-template or the KV v2 API\n") ||
		!strings.Contains(r.stdout, "ALLOWED read kv/data/default/mongo/config\n  the KV version 2 path of kv/default/mongo/config") {
		t.Fatalf("code %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = nvlint(t, "", nil, "access", "--job", "mongo", "--path", "kv/data/default/mongo/config", wi)
	if r.code != cli.ExitOK || strings.Contains(r.stdout, "hint:") || strings.Count(r.stdout, "ALLOWED") != 1 {
		t.Fatalf("code %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = nvlint(t, "", nil, "access", "--job", "nope", wi)
	if r.code != cli.ExitUsage || !strings.Contains(r.stderr, `no task with a vault block matches job "nope"`) {
		t.Fatalf("code %d\n%s", r.code, r.stderr)
	}
}

// access takes lint's --name: a role file whose name misleads is named
// as the job's role.
func TestAccessName(t *testing.T) {
	dir := t.TempDir()
	src := examples + "/workload-identity"
	entries, err := os.ReadDir(src)
	if err != nil {
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
		to := e.Name()
		if to == "vault-role-nomad-workloads.json" {
			to = "acl-role.json"
		}
		if err := os.WriteFile(filepath.Join(dir, to), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := nvlint(t, "", nil, "access", "--job", "mongo", dir)
	if r.code != cli.ExitFindings || !strings.Contains(r.stdout, "JWT role nomad-workloads is not given") {
		t.Fatalf("without --name: code %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = nvlint(t, "", nil, "access", "--job", "mongo", "--name", "acl-role.json=nomad-workloads", dir)
	if r.code != cli.ExitOK || !strings.Contains(r.stdout, "ALLOWED read kv/data/default/mongo/config") {
		t.Fatalf("with --name: code %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = nvlint(t, "", nil, "access", "--job", "mongo", "--name", "acl-role.json", dir)
	if r.code != cli.ExitUsage || !strings.Contains(r.stderr, "--name wants FILE=NAME") {
		t.Fatalf("bad --name: code %d\n%s", r.code, r.stderr)
	}
}

// A job's role that no file gives, where the only JWT role given is
// named by a guess from its file name: access says which file probably
// holds it and how to tell nvlint.
func TestAccessRoleUnderGuessedName(t *testing.T) {
	dir := "../fixtures/cases/NV202-jwt-role-rejects-workload/bad-job-role-guessed-name"
	r := nvlint(t, "", nil, "access", "--job", "mongo", dir)
	want := `JWT role nomad-workloads is not given; the only JWT role given is named "acl" only by a guess from its file name, so it is probably role nomad-workloads under its real name. ` +
		`If acl-role.json holds role nomad-workloads, tell nvlint its name: --name acl-role.json=nomad-workloads`
	if r.code != cli.ExitFindings || !strings.Contains(r.stdout, want) {
		t.Fatalf("code %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = nvlint(t, "", nil, "access", "--job", "mongo", "--name", "acl-role.json=nomad-workloads", dir)
	if r.code != cli.ExitOK || strings.Contains(r.stdout, "not given") {
		t.Fatalf("with --name: code %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
