package cli_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// impactRepo is a git repository built for a test: the workload-identity
// example committed under nomad/, with the test's working directory in
// nomad/ (impact must find the same paths at base from a subdirectory).
type impactRepo struct {
	t    *testing.T
	top  string
	work string // top/nomad
}

func newImpactRepo(t *testing.T) *impactRepo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	top := t.TempDir()
	r := &impactRepo{t: t, top: top, work: filepath.Join(top, "nomad")}
	src := "../fixtures/examples/workload-identity"
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(r.work, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() || e.Name() == "findings.golden" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		r.write(e.Name(), string(data))
	}
	r.git("init", "-q", "-b", "main")
	r.commit("base")
	t.Chdir(r.work)
	return r
}

func (r *impactRepo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=nvlint test", "-c", "user.email=test@nvlint.invalid", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = r.top
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func (r *impactRepo) commit(msg string) {
	r.t.Helper()
	r.git("add", "-A")
	r.git("commit", "-q", "--allow-empty", "-m", msg)
}

// write writes a file under nomad/.
func (r *impactRepo) write(name, text string) {
	r.t.Helper()
	p := filepath.Join(r.work, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

func (r *impactRepo) read(name string) string {
	r.t.Helper()
	data, err := os.ReadFile(filepath.Join(r.work, name))
	if err != nil {
		r.t.Fatal(err)
	}
	return string(data)
}

// edit replaces old with new in a file under nomad/; old must be there.
func (r *impactRepo) edit(name, old, new string) {
	r.t.Helper()
	text := r.read(name)
	if !strings.Contains(text, old) {
		r.t.Fatalf("%s does not contain %q", name, old)
	}
	r.write(name, strings.Replace(text, old, new, 1))
}

type impactJSON struct {
	Version       int `json:"version"`
	AccessChanges []struct {
		Kind      string `json:"kind"`
		Severity  string `json:"severity"`
		Job       string `json:"job"`
		Group     string `json:"group"`
		Task      string `json:"task"`
		Path      string `json:"path"`
		Operation string `json:"operation"`
		Before    string `json:"before"`
		After     string `json:"after"`
		Cause     struct {
			Policy string `json:"policy"`
			File   string `json:"file"`
			Line   int    `json:"line"`
			Side   string `json:"side"`
			Why    string `json:"why"`
		} `json:"cause"`
	} `json:"access_changes"`
	Tasks struct {
		Added, Removed []struct {
			Job, Group, Task string
			Reads, Denied    int
		}
	} `json:"tasks"`
	Findings struct {
		Introduced, Fixed []struct{ Rule, Message, File string }
	} `json:"findings"`
}

func runImpactJSON(t *testing.T, args ...string) (impactJSON, run) {
	t.Helper()
	res := nvlint(t, "", nil, append([]string{"impact", "--format", "json"}, args...)...)
	var out impactJSON
	if err := json.Unmarshal([]byte(res.stdout), &out); err != nil {
		t.Fatalf("impact %v: exit %d, not JSON: %v\nstdout: %s\nstderr: %s", args, res.code, err, res.stdout, res.stderr)
	}
	return out, res
}

// change is a change in a comparable form.
func changes(out impactJSON) []string {
	var cs []string
	for _, c := range out.AccessChanges {
		cs = append(cs, strings.Join([]string{c.Kind, c.Severity, c.Job + "/" + c.Group + "/" + c.Task, c.Operation, c.Path, c.Before + "->" + c.After}, " "))
	}
	return cs
}

const workloadsRule = `path "kv/data/{{identity.entity.aliases.auth_jwt_d34481ad.metadata.nomad_namespace}}/{{identity.entity.aliases.auth_jwt_d34481ad.metadata.nomad_job_id}}/*" {
  capabilities = ["read"]
}
`

// A policy narrowed: the read it no longer grants is lost, an error,
// caused by the rule removed (at base); lint's NV411 is introduced and
// access says denied. Reads the change does not touch stay silent.
func TestImpactPolicyNarrowed(t *testing.T) {
	r := newImpactRepo(t)
	r.edit("vault-policy-nomad-workloads.hcl", workloadsRule, "")
	out, res := runImpactJSON(t, "--base", "HEAD", ".")
	if res.code != 1 {
		t.Errorf("exit %d, want 1; stderr %s", res.code, res.stderr)
	}
	want := []string{"lost error mongo/db/mongo read kv/data/default/mongo/config allow->deny"}
	if got := changes(out); !slices.Equal(got, want) {
		t.Fatalf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	c := out.AccessChanges[0].Cause
	if c.Policy != "nomad-workloads" || c.File != "vault-policy-nomad-workloads.hcl" || c.Line != 1 || c.Side != "base" || !strings.Contains(c.Why, "no rule matches any more") {
		t.Errorf("cause %+v", c)
	}
	if len(out.Findings.Introduced) != 1 || out.Findings.Introduced[0].Rule != "NV411" || out.Findings.Introduced[0].File != "mongo.nomad.hcl" {
		t.Errorf("introduced %+v, want NV411 in mongo.nomad.hcl", out.Findings.Introduced)
	}
	if len(out.Findings.Fixed) != 0 {
		t.Errorf("fixed %+v", out.Findings.Fixed)
	}
	// access decides the same read the same way.
	acc := nvlint(t, "", nil, "access", "--job", "mongo", "--format", "json", ".")
	if !strings.Contains(acc.stdout, `"path": "kv/data/default/mongo/config"`) || !strings.Contains(acc.stdout, `"verdict": "denied"`) {
		t.Errorf("access does not deny the read impact says is lost:\n%s", acc.stdout)
	}
	// --fail-on never: the report stands, the exit is 0.
	if res := nvlint(t, "", nil, "impact", "--base", "HEAD", "--fail-on", "never", "."); res.code != 0 || !strings.Contains(res.stdout, "Access lost (1)") {
		t.Errorf("--fail-on never: exit %d\n%s", res.code, res.stdout)
	}
}

// A policy widened to kv/* with update: every task of the policy gains
// the write, a warning, anywhere, whether its templates write or not.
func TestImpactPolicyWidened(t *testing.T) {
	r := newImpactRepo(t)
	r.write("vault-policy-mongo-dynamic-secret.hcl", r.read("vault-policy-mongo-dynamic-secret.hcl")+"\npath \"kv/*\" {\n  capabilities = [\"read\", \"update\"]\n}\n")
	out, res := runImpactJSON(t, "--base", "HEAD", ".")
	want := []string{"capability warning mongo-query/mongo-query/mongo-query update kv/* deny->allow"}
	if got := changes(out); !slices.Equal(got, want) {
		t.Fatalf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if res.code != 1 {
		t.Errorf("a warning with --fail-on warning: exit %d, want 1", res.code)
	}
	if c := out.AccessChanges[0].Cause; c.Policy != "mongo-dynamic-secret" || c.Line != 5 || c.Side != "head" {
		t.Errorf("cause %+v", c)
	}
	if res := nvlint(t, "", nil, "impact", "--base", "HEAD", "--fail-on", "error", "."); res.code != 0 {
		t.Errorf("--fail-on error: exit %d, want 0", res.code)
	}
}

// A read denied at base and allowed at head is gained (info), and the
// NV411 finding it had is fixed.
func TestImpactAccessGained(t *testing.T) {
	r := newImpactRepo(t)
	r.write("vault-policy-mongo-dynamic-secret.hcl", "path \"database/creds/other\" {\n  capabilities = [\"read\"]\n}\n")
	r.commit("narrow")
	r.git("checkout", "-q", "HEAD~1", "--", ".")
	out, res := runImpactJSON(t, ".") // default base: HEAD, no upstream
	want := []string{"gained info mongo-query/mongo-query/mongo-query read database/creds/mongo deny->allow"}
	if got := changes(out); !slices.Equal(got, want) {
		t.Fatalf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if res.code != 0 {
		t.Errorf("exit %d, want 0 (an info)", res.code)
	}
	if len(out.Findings.Fixed) != 1 || out.Findings.Fixed[0].Rule != "NV411" || out.Findings.Fixed[0].File != "mongo-query.nomad.hcl" {
		t.Errorf("fixed %+v, want NV411 in mongo-query.nomad.hcl", out.Findings.Fixed)
	}
	if c := out.AccessChanges[0].Cause; c.Policy != "mongo-dynamic-secret" || c.Side != "head" || c.Line != 1 {
		t.Errorf("cause %+v", c)
	}
}

// A role's token_policies changed: the policy it no longer attaches is
// the cause.
func TestImpactRolePolicies(t *testing.T) {
	r := newImpactRepo(t)
	r.edit("vault-role-mongo-dynamic-secret.json", `"token_policies": ["mongo-dynamic-secret"]`, `"token_policies": ["nomad-workloads"]`)
	out, _ := runImpactJSON(t, "--base", "HEAD", ".")
	want := []string{"lost error mongo-query/mongo-query/mongo-query read database/creds/mongo allow->deny"}
	if got := changes(out); !slices.Equal(got, want) {
		t.Fatalf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if c := out.AccessChanges[0].Cause; c.Policy != "mongo-dynamic-secret" || !strings.Contains(c.Why, "no longer one of the token's policies") {
		t.Errorf("cause %+v", c)
	}
}

// bound_audiences changed: every task of the role loses its login, and
// with it every read; the cause is the refused login, at the role.
func TestImpactAudienceChanged(t *testing.T) {
	r := newImpactRepo(t)
	r.edit("vault-role-nomad-workloads.json", `"bound_audiences": ["vault.io"]`, `"bound_audiences": ["vault.example"]`)
	out, res := runImpactJSON(t, "--base", "HEAD", ".")
	want := []string{"lost error mongo/db/mongo read kv/data/default/mongo/config allow->deny"}
	if got := changes(out); !slices.Equal(got, want) {
		t.Fatalf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if c := out.AccessChanges[0].Cause; c.File != "vault-role-nomad-workloads.json" || c.Line != 3 || !strings.Contains(c.Why, "login refused") {
		t.Errorf("cause %+v", c)
	}
	if res.code != 1 {
		t.Errorf("exit %d, want 1", res.code)
	}
}

// Jobs added and removed are reported as tasks added and removed, with
// their reads; a job moved to another directory changes nothing.
func TestImpactJobsAddedRemovedMoved(t *testing.T) {
	r := newImpactRepo(t)
	job := r.read("mongo-query.nomad.hcl")
	if err := os.Remove("mongo-query.nomad.hcl"); err != nil {
		t.Fatal(err)
	}
	r.write("jobs/reporting.nomad.hcl", strings.Replace(job, `job "mongo-query"`, `job "reporting"`, 1))
	if err := os.Rename("mongo.nomad.hcl", "jobs/mongo.nomad.hcl"); err != nil {
		t.Fatal(err)
	}
	out, _ := runImpactJSON(t, "--base", "HEAD", ".")
	if cs := changes(out); len(cs) != 0 {
		t.Errorf("changes: %v", cs)
	}
	if len(out.Tasks.Added) != 1 || out.Tasks.Added[0].Job != "reporting" || out.Tasks.Added[0].Reads != 1 {
		t.Errorf("added %+v", out.Tasks.Added)
	}
	if len(out.Tasks.Removed) != 1 || out.Tasks.Removed[0].Job != "mongo-query" {
		t.Errorf("removed %+v", out.Tasks.Removed)
	}
}

// Nothing changed: nothing reported, exit 0, in every format.
func TestImpactNothingChanged(t *testing.T) {
	newImpactRepo(t)
	res := nvlint(t, "", nil, "impact", "--base", "HEAD", ".")
	if res.code != 0 || !strings.Contains(res.stdout, "No task's Vault access changes") || !strings.Contains(res.stdout, "2 tasks and 2 reads compared") {
		t.Errorf("exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	md := nvlint(t, "", nil, "impact", "--base", "HEAD", "--format", "markdown", ".")
	if md.code != 0 || !strings.HasPrefix(md.stdout, "### nvlint impact") {
		t.Errorf("markdown: exit %d\n%s", md.code, md.stdout)
	}
}

// The working tree and the index are left as they were.
func TestImpactLeavesTheTreeAlone(t *testing.T) {
	r := newImpactRepo(t)
	r.edit("vault-policy-nomad-workloads.hcl", workloadsRule, "")
	before := r.git("status", "--porcelain")
	nvlint(t, "", nil, "impact", "--base", "HEAD", ".")
	if after := r.git("status", "--porcelain"); after != before {
		t.Errorf("git status changed:\n%s\nthen:\n%s", before, after)
	}
}

// --base-dir reads the base from a directory, and text and markdown
// name the task, the change and the cause.
func TestImpactBaseDir(t *testing.T) {
	r := newImpactRepo(t)
	base := t.TempDir()
	for _, name := range []string{"mongo.nomad.hcl", "mongo-query.nomad.hcl", "nomad.hcl", "vault-auth-method-jwt-nomad.json", "vault-policy-mongo-dynamic-secret.hcl", "vault-policy-nomad-workloads.hcl", "vault-role-mongo-dynamic-secret.json", "vault-role-nomad-workloads.json"} {
		if err := os.WriteFile(filepath.Join(base, name), []byte(r.read(name)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r.edit("vault-policy-nomad-workloads.hcl", workloadsRule, "")
	res := nvlint(t, "", nil, "impact", "--base-dir", base, ".")
	for _, want := range []string{
		"Access lost (1)",
		"policy nomad-workloads vault-policy-nomad-workloads.hcl:1 (at base): no rule matches any more",
		"job mongo group db task mongo: read kv/data/default/mongo/config  allow -> deny",
		"Findings introduced (1)",
		"1 read lost, 1 finding introduced.",
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("text lacks %q:\n%s", want, res.stdout)
		}
	}
	md := nvlint(t, "", nil, "impact", "--base-dir", base, "--format", "markdown", ".")
	if !strings.Contains(md.stdout, "#### Access lost") || !strings.Contains(md.stdout, "| `mongo` | `db` | `mongo` | read | `kv/data/default/mongo/config` | allow | deny | policy `nomad-workloads`") {
		t.Errorf("markdown:\n%s", md.stdout)
	}
}

func TestImpactUsage(t *testing.T) {
	newImpactRepo(t)
	for _, args := range [][]string{
		{"impact"},
		{"impact", "--base", "HEAD", "--base-dir", ".", "."},
		{"impact", "--base", "no-such-ref", "."},
		{"impact", "--format", "junit", "."},
		{"impact", "--fail-on", "sometimes", "."},
	} {
		if res := nvlint(t, "", nil, args...); res.code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s", args, res.code, res.stderr)
		}
	}
}

// A policy file left out: the reads it decided become unknown, said as
// such, a warning.
func TestImpactBecomesUnknown(t *testing.T) {
	newImpactRepo(t)
	if err := os.Remove("vault-policy-mongo-dynamic-secret.hcl"); err != nil {
		t.Fatal(err)
	}
	out, res := runImpactJSON(t, "--base", "HEAD", ".")
	want := []string{"unknown warning mongo-query/mongo-query/mongo-query read database/creds/mongo allow->unknown"}
	if got := changes(out); !slices.Equal(got, want) {
		t.Fatalf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if c := out.AccessChanges[0].Cause; !strings.Contains(c.Why, "policies not given: mongo-dynamic-secret") {
		t.Errorf("cause %+v", c)
	}
	if res.code != 1 {
		t.Errorf("exit %d, want 1", res.code)
	}
}

// Without --base, the base is the merge base with the upstream branch:
// a change committed on a feature branch is still compared.
func TestImpactDefaultBaseIsMergeBase(t *testing.T) {
	r := newImpactRepo(t)
	r.git("checkout", "-q", "-b", "feature", "--track", "main")
	r.edit("vault-policy-nomad-workloads.hcl", workloadsRule, "")
	r.commit("narrow the workloads policy")
	out, res := runImpactJSON(t, ".")
	if got := nvlint(t, "", nil, "impact", ".").stdout; !strings.HasPrefix(got, "Vault access from the merge base with main (") {
		t.Errorf("the base is not named: %s", got)
	}
	if got := changes(out); len(got) != 1 || !strings.HasPrefix(got[0], "lost error mongo/db/mongo") {
		t.Errorf("changes %v (exit %d, %s)", got, res.code, res.stderr)
	}
	// Against HEAD, the committed change is no change.
	if out, _ := runImpactJSON(t, "--base", "HEAD", "."); len(out.AccessChanges) != 0 {
		t.Errorf("--base HEAD: %v", changes(out))
	}
}

// With --snapshot, the base is the live state as saved and the head is
// that state with the files given in place of the objects they define.
func TestImpactSnapshot(t *testing.T) {
	snap, err := filepath.Abs("../fixtures/cases/NV631-node-without-vault/ok-all-fingerprinted/snapshot.json")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Chdir(dir)
	policy := "path \"kv/metadata/*\" {\n  capabilities = [\"list\"]\n}\n"
	if err := os.WriteFile("nomad-workloads.hcl", []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	out, res := runImpactJSON(t, "--snapshot", snap, "nomad-workloads.hcl")
	want := []string{"lost error mongo/db/mongo read kv/data/default/mongo/config allow->deny"}
	if got := changes(out); !slices.Equal(got, want) {
		t.Fatalf("changes:\n%s\nwant:\n%s\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), res.stderr)
	}
	if c := out.AccessChanges[0].Cause; c.Policy != "nomad-workloads" || c.File != "" {
		t.Errorf("cause %+v: a live policy has no file", c)
	}
}

// A finding that only moves (lines added above it) is neither
// introduced nor fixed: findings are matched as the baseline matches
// them.
func TestImpactMovedFindingIsNotNew(t *testing.T) {
	r := newImpactRepo(t)
	r.write("vault-policy-mongo-dynamic-secret.hcl", "path \"database/creds/other\" {\n  capabilities = [\"read\"]\n}\n")
	r.commit("a read denied at base")
	r.write("mongo-query.nomad.hcl", "# reporting job\n\n\n"+r.read("mongo-query.nomad.hcl"))
	out, res := runImpactJSON(t, "--base", "HEAD", ".")
	if len(out.Findings.Introduced)+len(out.Findings.Fixed)+len(out.AccessChanges) != 0 {
		t.Errorf("a moved finding: %+v, changes %v", out.Findings, changes(out))
	}
	if res.code != 0 {
		t.Errorf("exit %d", res.code)
	}
	// The working directory compared with itself, named relatively.
	if out, _ := runImpactJSON(t, "--base-dir", ".", "."); len(out.Findings.Introduced)+len(out.Findings.Fixed)+len(out.AccessChanges) != 0 {
		t.Errorf("--base-dir .: %+v, changes %v", out.Findings, changes(out))
	}
}

// The same comparison from the repository's top, with a relative and
// an absolute path, and with the reports written to files: a summary on
// standard error.
func TestImpactPathsFromTop(t *testing.T) {
	r := newImpactRepo(t)
	r.edit("vault-policy-nomad-workloads.hcl", workloadsRule, "")
	t.Chdir(r.top)
	for _, p := range []string{"nomad", filepath.Join(r.top, "nomad")} {
		out, _ := runImpactJSON(t, "--base", "HEAD", p)
		if got := changes(out); len(got) != 1 || !strings.HasPrefix(got[0], "lost error mongo/db/mongo") {
			t.Errorf("%s: changes %v", p, got)
		}
	}
	res := nvlint(t, "", nil, "impact", "--base", "HEAD", "--format", "markdown=impact.md", "--format", "sarif=impact.sarif", "nomad")
	if res.code != 1 || res.stdout != "" || !strings.Contains(res.stderr, "1 read lost, 1 finding introduced") {
		t.Errorf("exit %d\nstdout %q\nstderr %s", res.code, res.stdout, res.stderr)
	}
	sarif, err := os.ReadFile("impact.sarif")
	if err != nil || !strings.Contains(string(sarif), `"ruleId": "NV411"`) {
		t.Errorf("impact.sarif: %v\n%s", err, sarif)
	}
}

// A role that attaches another policy: the write it brings is a
// warning, caused by the role's token_policies.
func TestImpactRoleAttachesWriter(t *testing.T) {
	r := newImpactRepo(t)
	r.write("vault-policy-writer.hcl", "path \"kv/data/shared/*\" {\n  capabilities = [\"update\"]\n}\n")
	r.edit("vault-role-mongo-dynamic-secret.json", `"token_policies": ["mongo-dynamic-secret"]`, `"token_policies": ["mongo-dynamic-secret", "writer"]`)
	out, _ := runImpactJSON(t, "--base", "HEAD", ".")
	want := []string{"capability warning mongo-query/mongo-query/mongo-query update kv/data/shared/* deny->allow"}
	if got := changes(out); !slices.Equal(got, want) {
		t.Fatalf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if c := out.AccessChanges[0].Cause; c.Policy != "writer" || c.File != "vault-role-mongo-dynamic-secret.json" || !strings.Contains(c.Why, "now attached by role mongo-dynamic-secret's token_policies") {
		t.Errorf("cause %+v", c)
	}
}

// A write granted through a templated rule is seen, on the path the
// task's entity fills; base files above the working directory are
// named relative to it.
func TestImpactTemplatedWrite(t *testing.T) {
	r := newImpactRepo(t)
	r.edit("vault-policy-nomad-workloads.hcl", workloadsRule, strings.Replace(workloadsRule, `["read"]`, `["read", "update"]`, 1))
	out, _ := runImpactJSON(t, "--base", "HEAD", ".")
	want := []string{"capability warning mongo/db/mongo update kv/data/default/mongo/* deny->allow"}
	if got := changes(out); !slices.Equal(got, want) {
		t.Fatalf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	r.edit("vault-policy-nomad-workloads.hcl", strings.Replace(workloadsRule, `["read"]`, `["read", "update"]`, 1), "")
	if err := os.Mkdir("ci", 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir("ci")
	out, _ = runImpactJSON(t, "--base", "HEAD", "..")
	if len(out.AccessChanges) != 1 || out.AccessChanges[0].Cause.Side != "base" || out.AccessChanges[0].Cause.File != filepath.Join("..", "vault-policy-nomad-workloads.hcl") {
		t.Errorf("from a subdirectory: %+v", out.AccessChanges)
	}
}

// newSetupsRepo builds a monorepo of two setups, prod/ and staging/, each
// the workload-identity example, declared by setup blocks of the
// .nvlint.hcl at the top, where the test works. Files given in leave
// are left out of prod at base.
func newSetupsRepo(t *testing.T, leave ...string) *impactRepo {
	t.Helper()
	r := newImpactRepo(t)
	for _, env := range []string{"prod", "staging"} {
		entries, err := os.ReadDir(r.work)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.IsDir() || (env == "prod" && slices.Contains(leave, e.Name())) {
				continue
			}
			data := r.read(e.Name())
			if err := os.MkdirAll(filepath.Join(r.top, env), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(r.top, env, e.Name()), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.RemoveAll(r.work); err != nil {
		t.Fatal(err)
	}
	r.work = r.top
	r.write(".nvlint.hcl", "setup \"prod\" {\n  paths = [\"prod\"]\n}\n\nsetup \"staging\" {\n  paths = [\"staging\"]\n}\n")
	r.commit("two setups")
	t.Chdir(r.top)
	return r
}

// setupChanges are the changes as "setup kind severity task op path
// before->after".
func setupChanges(t *testing.T, out []byte) []string {
	t.Helper()
	var j struct {
		Setups []struct {
			Name     string `json:"name"`
			Compared int    `json:"tasks_compared"`
		} `json:"setups"`
		AccessChanges []struct {
			Setup, Kind, Severity, Job, Group, Task, Operation, Path, Before, After string
		} `json:"access_changes"`
	}
	if err := json.Unmarshal(out, &j); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var cs []string
	for _, c := range j.AccessChanges {
		cs = append(cs, strings.Join([]string{c.Setup, c.Kind, c.Severity, c.Job + "/" + c.Group + "/" + c.Task, c.Operation, c.Path, c.Before + "->" + c.After}, " "))
	}
	return cs
}

// A policy narrowed in staging/: only staging's task loses its read,
// named by its setup in every format; prod's same-named policy, in
// another setup, grants staging nothing.
func TestImpactSetupPolicyNarrowed(t *testing.T) {
	r := newSetupsRepo(t)
	r.edit("staging/vault-policy-nomad-workloads.hcl", workloadsRule, "")
	res := nvlint(t, "", nil, "impact", "--base", "HEAD", "--format", "json", ".")
	want := []string{"staging lost error mongo/db/mongo read kv/data/default/mongo/config allow->deny"}
	if got := setupChanges(t, []byte(res.stdout)); !slices.Equal(got, want) {
		t.Fatalf("changes:\n%s\nwant:\n%s\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), res.stderr)
	}
	if res.code != 1 {
		t.Errorf("exit %d, want 1", res.code)
	}
	var j struct {
		Setups   []map[string]any `json:"setups"`
		Findings struct {
			Introduced, Fixed []struct{ Setup, Rule, File string }
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &j); err != nil {
		t.Fatal(err)
	}
	if len(j.Setups) != 2 || j.Setups[0]["name"] != "prod" || j.Setups[1]["name"] != "staging" || j.Setups[0]["tasks_compared"] != 2.0 {
		t.Errorf("setups %v", j.Setups)
	}
	if in := j.Findings.Introduced; len(in) != 1 || in[0].Setup != "staging" || in[0].Rule != "NV411" || in[0].File != filepath.Join("staging", "mongo.nomad.hcl") || len(j.Findings.Fixed) != 0 {
		t.Errorf("findings %+v", j.Findings)
	}

	text := nvlint(t, "", nil, "impact", "--base", "HEAD", ".")
	for _, want := range []string{
		"4 tasks and 4 reads compared in 2 setups",
		"━━ setup prod: 2 tasks and 2 reads compared; no change.\n",
		"━━ setup staging: 2 tasks and 2 reads compared; 1 read lost, 1 finding introduced.\n\nAccess lost (1)\n  policy nomad-workloads " + filepath.Join("staging", "vault-policy-nomad-workloads.hcl") + ":1 (at base)",
		"\n1 read lost, 1 finding introduced.\n",
	} {
		if !strings.Contains(text.stdout, want) {
			t.Errorf("text lacks %q:\n%s", want, text.stdout)
		}
	}
	md := nvlint(t, "", nil, "impact", "--base", "HEAD", "--format", "markdown", ".")
	for _, want := range []string{
		"compared in 2 setups.",
		"\n#### Setup `prod`\n\n2 tasks and 2 reads compared; no change.\n\n#### Setup `staging`\n\n2 tasks and 2 reads compared; 1 read lost, 1 finding introduced.\n\n##### Access lost\n\n| Job |",
		"\n##### Findings introduced\n",
	} {
		if !strings.Contains(md.stdout, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.stdout)
		}
	}
	sarif := nvlint(t, "", nil, "impact", "--base", "HEAD", "--format", "sarif", ".")
	if !strings.Contains(sarif.stdout, `"setup": "staging"`) || !strings.Contains(sarif.stdout, `"setups": [`) {
		t.Errorf("sarif names no setup:\n%s", sarif.stdout)
	}

	// staging's paths alone are one setup, printed as without setups.
	one := nvlint(t, "", nil, "impact", "--base", "HEAD", "--format", "json", "staging")
	if got, want := setupChanges(t, []byte(one.stdout)), []string{" lost error mongo/db/mongo read kv/data/default/mongo/config allow->deny"}; !slices.Equal(got, want) || strings.Contains(one.stdout, "setup") {
		t.Errorf("staging alone: %v\n%s", got, one.stdout)
	}
	// --setup picks one setup of the paths.
	if p := nvlint(t, "", nil, "impact", "--base", "HEAD", "--setup", "prod", "."); p.code != 0 || !strings.Contains(p.stdout, "2 tasks and 2 reads compared\n") {
		t.Errorf("--setup prod: exit %d\n%s%s", p.code, p.stdout, p.stderr)
	}
}

// A job moved from staging/ to prod/, whose policy of the same name does
// not grant its read: staging's task is removed and prod's added, judged
// by prod's objects alone (staging's policy grants it nothing there), and
// prod's NV411 is introduced.
func TestImpactSetupJobMoved(t *testing.T) {
	r := newSetupsRepo(t, "mongo-query.nomad.hcl")
	r.write("prod/vault-policy-mongo-dynamic-secret.hcl", "path \"database/creds/other\" {\n  capabilities = [\"read\"]\n}\n")
	r.commit("prod reads other creds")
	r.git("mv", "staging/mongo-query.nomad.hcl", "prod/mongo-query.nomad.hcl")
	res := nvlint(t, "", nil, "impact", "--base", "HEAD", "--format", "json", ".")
	if got := setupChanges(t, []byte(res.stdout)); len(got) != 0 {
		t.Errorf("changes %v", got)
	}
	var j struct {
		Tasks struct {
			Added, Removed []struct {
				Setup, Job    string
				Reads, Denied int
			}
		} `json:"tasks"`
		Findings struct {
			Introduced []struct{ Setup, Rule string }
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &j); err != nil {
		t.Fatal(err)
	}
	if a := j.Tasks.Added; len(a) != 1 || a[0].Setup != "prod" || a[0].Job != "mongo-query" || a[0].Reads != 1 || a[0].Denied != 1 {
		t.Errorf("added %+v", a)
	}
	if rm := j.Tasks.Removed; len(rm) != 1 || rm[0].Setup != "staging" || rm[0].Job != "mongo-query" || rm[0].Reads != 1 {
		t.Errorf("removed %+v", rm)
	}
	if in := j.Findings.Introduced; len(in) != 1 || in[0].Setup != "prod" || in[0].Rule != "NV411" {
		t.Errorf("introduced %+v", in)
	}
	if res.code != 1 {
		t.Errorf("exit %d, want 1", res.code)
	}
}

// --setup-per-dir: a directory only the head has is a setup whose tasks
// are all added, one only the base has a setup whose tasks are all
// removed.
func TestImpactSetupPerDir(t *testing.T) {
	newSetupsRepo(t)
	if err := os.Rename("prod", "qa"); err != nil {
		t.Fatal(err)
	}
	res := nvlint(t, "", nil, "impact", "--base", "HEAD", "--setup-per-dir", ".", "--fail-on", "error", "--format", "json")
	var j struct {
		Setups []struct{ Name string } `json:"setups"`
		Tasks  struct {
			Added, Removed []struct{ Setup, Job string }
		} `json:"tasks"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &j); err != nil {
		t.Fatalf("%v\n%s%s", err, res.stdout, res.stderr)
	}
	var setups, added, removed []string
	for _, s := range j.Setups {
		setups = append(setups, s.Name)
	}
	for _, tc := range j.Tasks.Added {
		added = append(added, tc.Setup+" "+tc.Job)
	}
	for _, tc := range j.Tasks.Removed {
		removed = append(removed, tc.Setup+" "+tc.Job)
	}
	if strings.Join(setups, ",") != "qa,staging,prod" || strings.Join(added, ",") != "qa mongo,qa mongo-query" || strings.Join(removed, ",") != "prod mongo,prod mongo-query" {
		t.Errorf("setups %v, added %v, removed %v", setups, added, removed)
	}
	if res.code != 0 || len(setupChanges(t, []byte(res.stdout))) != 0 {
		t.Errorf("exit %d\n%s", res.code, res.stdout)
	}
}

// A snapshot is one cluster's state: over files of several setups it
// needs --setup, and then only that setup's files are overlaid.
func TestImpactSnapshotSetups(t *testing.T) {
	snap, err := filepath.Abs("../fixtures/cases/NV631-node-without-vault/ok-all-fingerprinted/snapshot.json")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	narrow := "path \"kv/metadata/*\" {\n  capabilities = [\"list\"]\n}\n"
	wide := "path \"kv/data/*\" {\n  capabilities = [\"read\"]\n}\n"
	for file, text := range map[string]string{"prod/nomad-workloads.hcl": narrow, "staging/nomad-workloads.hcl": wide} {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res := nvlint(t, "", nil, "impact", "--snapshot", snap, "--setup-per-dir", ".")
	if res.code != 2 || !strings.Contains(res.stderr, "is the state of one cluster, and the files are in 2 setups (prod, staging): say which setup it is with --setup NAME") {
		t.Errorf("exit %d, stderr %q", res.code, res.stderr)
	}
	out, res := runImpactJSON(t, "--snapshot", snap, "--setup-per-dir", ".", "--setup", "prod")
	if got, want := changes(out), []string{"lost error mongo/db/mongo read kv/data/default/mongo/config allow->deny"}; !slices.Equal(got, want) {
		t.Errorf("prod: %v (exit %d, %s)", got, res.code, res.stderr)
	}
	if out, res := runImpactJSON(t, "--snapshot", snap, "--setup-per-dir", ".", "--setup", "staging"); slices.ContainsFunc(changes(out), func(c string) bool { return strings.HasPrefix(c, "lost") }) {
		t.Errorf("staging: %v (exit %d)", changes(out), res.code)
	}
	if res := nvlint(t, "", nil, "impact", "--snapshot", snap, "--setup-per-dir", ".", "--setup", "qa"); res.code != 2 || !strings.Contains(res.stderr, "--setup qa: no such setup among the files given (prod, staging)") {
		t.Errorf("qa: exit %d, stderr %q", res.code, res.stderr)
	}
	// One setup's files need no --setup.
	if out, _ := runImpactJSON(t, "--snapshot", snap, "--setup-per-dir", ".", "prod"); len(changes(out)) != 1 {
		t.Errorf("prod's files: %v", changes(out))
	}
}

// --name names objects on both sides: a path is matched on the head's
// name for the base's file, which git extracts elsewhere.
func TestImpactName(t *testing.T) {
	r := newImpactRepo(t)
	r.write("vault/acl.hcl", r.read("vault-policy-nomad-workloads.hcl"))
	if err := os.Remove("vault-policy-nomad-workloads.hcl"); err != nil {
		t.Fatal(err)
	}
	r.commit("policy in vault/acl.hcl")
	r.edit("vault/acl.hcl", workloadsRule, "")
	// Without the name the policy is "acl" on both sides: nothing the
	// job's role names changes.
	if out, _ := runImpactJSON(t, "--base", "HEAD", "."); len(out.AccessChanges) != 0 {
		t.Errorf("without --name: %v", changes(out))
	}
	out, _ := runImpactJSON(t, "--base", "HEAD", "--name", "vault/acl.hcl=nomad-workloads", ".")
	if got := changes(out); !slices.Contains(got, "lost error mongo/db/mongo read kv/data/default/mongo/config allow->deny") {
		t.Errorf("with --name: %v", got)
	}
	if res := nvlint(t, "", nil, "impact", "--base", "HEAD", "--name", "acl.hcl", "."); res.code != 2 || !strings.Contains(res.stderr, "--name wants FILE=NAME") {
		t.Errorf("bad --name: exit %d\n%s", res.code, res.stderr)
	}
}

// A Nomad 1.11 secret block added: the read it makes is compared as a
// template's is. One the task's policies allow changes nothing; one
// they deny is a new read the task fails on, an error.
func TestImpactSecretBlockAdded(t *testing.T) {
	r := newImpactRepo(t)
	r.edit("mongo.nomad.hcl", "      vault {}\n", `      vault {}

      secret "config" {
        provider = "vault"
        path     = "kv/default/mongo/extra"
        config {
          engine = "kv_v2"
        }
      }

      secret "other" {
        provider = "vault"
        path     = "kv/default/billing/config"
        config {
          engine = "kv_v2"
        }
      }
`)
	out, res := runImpactJSON(t, "--base", "HEAD", ".")
	want := []string{"new error mongo/db/mongo read kv/data/default/billing/config absent->deny"}
	if got := changes(out); !slices.Equal(got, want) {
		t.Fatalf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if res.code != 1 {
		t.Errorf("exit %d, want 1; stderr %s", res.code, res.stderr)
	}
	// access decides the same two reads the same way.
	acc := nvlint(t, "", nil, "access", "--job", "mongo", "--format", "json", ".")
	if !strings.Contains(acc.stdout, `"path": "kv/data/default/billing/config"`) || !strings.Contains(acc.stdout, `"path": "kv/data/default/mongo/extra"`) {
		t.Errorf("access does not show the secret blocks' reads:\n%s", acc.stdout)
	}
}
