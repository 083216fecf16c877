package cli_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const monorepoCase = "../fixtures/cases/NV224-jwt-config-default-role-missing/bad-monorepo-setups"

// monorepo copies the monorepo case (prod/, staging/ and shared/, with
// its .nvlint.hcl declaring the setups) into a new directory.
func monorepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(monorepoCase)); err != nil {
		t.Fatal(err)
	}
	_ = os.Remove(filepath.Join(dir, "findings.golden"))
	return dir
}

// lintIn runs nvlint in dir, as a user in that directory would.
func lintIn(t *testing.T, dir string, args ...string) run {
	t.Helper()
	t.Chdir(dir)
	return nvlintIn(t, dir, args...)
}

type setupsReport struct {
	Setups   []string `json:"setups"`
	Findings []struct {
		Rule     string `json:"rule"`
		Setup    string `json:"setup"`
		Message  string `json:"message"`
		Location *struct {
			File string `json:"file"`
		} `json:"location"`
	} `json:"findings"`
	Summary struct {
		Suppressed int `json:"suppressed"`
		Baselined  int `json:"baselined"`
	} `json:"summary"`
}

func parseSetups(t *testing.T, r run) setupsReport {
	t.Helper()
	var rep setupsReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("%v\n%s\nstderr: %s", err, r.stdout, r.stderr)
	}
	return rep
}

// found lists the findings as "setup rule file".
func (r setupsReport) found() []string {
	var out []string
	for _, f := range r.Findings {
		file := ""
		if f.Location != nil {
			file = filepath.ToSlash(f.Location.File)
		}
		out = append(out, f.Setup+" "+f.Rule+" "+file)
	}
	return out
}

func TestSetupsKeepEachSetupsObjects(t *testing.T) {
	dir := monorepo(t)
	r := lintIn(t, dir, "lint", "--format", "json", ".")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	rep := parseSetups(t, r)
	if strings.Join(rep.Setups, ",") != "prod,staging" {
		t.Errorf("setups %q, want prod and staging", rep.Setups)
	}
	// staging's role web does not satisfy prod's default_role; the
	// policy both share is reported once for each.
	want := []string{
		"prod NV224 prod/vault-auth-method-jwt-nomad.json",
		"prod NV503 shared/vault-policy-web.hcl",
		"staging NV503 shared/vault-policy-web.hcl",
	}
	if got := rep.found(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// The same files as one setup: staging's role hides prod's problem,
	// and the two environments' objects are duplicates.
	if err := os.WriteFile(filepath.Join(dir, ".nvlint.hcl"), []byte(`names = {
  "prod/vault-jwt-role-batch.json"   = "batch"
  "prod/vault-jwt-role-reports.json" = "reports"
  "staging/vault-jwt-role-web.json"  = "web"
}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	one := parseSetups(t, lintIn(t, dir, "lint", "--format", "json", "."))
	if one.Setups != nil {
		t.Errorf("setups %q without setup blocks", one.Setups)
	}
	for _, f := range one.Findings {
		if f.Rule == "NV224" || f.Setup != "" {
			t.Errorf("as one setup: %s %s %q", f.Setup, f.Rule, f.Message)
		}
	}
}

func TestSetupsText(t *testing.T) {
	dir := monorepo(t)
	r := lintIn(t, dir, "lint", ".")
	for _, want := range []string{
		"━━ setup prod: 1 error, 1 warning\n\nprod/vault-auth-method-jwt-nomad.json\nerror[NV224]",
		"━━ setup staging: 1 warning\n\nshared/vault-policy-web.hcl\nwarning[NV503]",
		"✖ 1 error, 2 warnings in 10 files of 2 setups (2 fixable with --fix)\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("text report lacks %q:\n%s", want, r.stdout)
		}
	}
	// Linting prod alone leaves staging out, but shared/ is staging's
	// too: a setup with no problems is still listed.
	if err := os.WriteFile(filepath.Join(dir, "shared", "vault-policy-web.hcl"), []byte("path \"kv/data/default/web/*\" {\n  capabilities = [\"read\"]\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = lintIn(t, dir, "lint", "staging", "shared")
	if r.code != 0 || !strings.Contains(r.stdout, "━━ setup prod: no problems\n\n━━ setup staging: no problems\n\n✔ no problems in 5 files of 2 setups\n") {
		t.Errorf("exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestSetupPerDir(t *testing.T) {
	src := monorepo(t)
	dir := t.TempDir()
	for _, d := range []string{"prod", "staging"} {
		if err := os.CopyFS(filepath.Join(dir, "envs", d), os.DirFS(filepath.Join(src, d))); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.CopyFS(filepath.Join(dir, "shared"), os.DirFS(filepath.Join(src, "shared"))); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, ".nvlint.hcl"), `names = {
  "vault-jwt-role-batch.json"   = "batch"
  "vault-jwt-role-reports.json" = "reports"
  "vault-jwt-role-web.json"     = "web"
}
`)
	r := lintIn(t, dir, "lint", "--format", "json", "--setup-per-dir", "envs", "envs", "shared")
	rep := parseSetups(t, r)
	// shared/ is outside every setup: it is a setup of its own.
	if strings.Join(rep.Setups, ",") != "prod,staging,(other files)" {
		t.Errorf("setups %q", rep.Setups)
	}
	want := []string{
		"(other files) NV503 shared/vault-policy-web.hcl",
		"prod NV224 envs/prod/vault-auth-method-jwt-nomad.json",
	}
	if got := rep.found(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Without a PATH, DIR is what is linted.
	rep = parseSetups(t, lintIn(t, dir, "lint", "--format", "json", "--setup-per-dir", "envs"))
	if strings.Join(rep.Setups, ",") != "prod,staging" || len(rep.Findings) != 1 {
		t.Errorf("setups %q, findings %q", rep.Setups, rep.found())
	}

	for _, bad := range [][]string{
		{"lint", "--setup-per-dir", "nowhere"},
		{"lint", "--setup-per-dir", "shared"}, // no subdirectory
	} {
		if r := lintIn(t, dir, bad...); r.code != 2 || !strings.Contains(r.stderr, "--setup-per-dir") {
			t.Errorf("%q: exit %d, stderr %q", bad, r.code, r.stderr)
		}
	}
}

func TestSetupsFixSharedFileOnce(t *testing.T) {
	dir := monorepo(t)
	r := lintIn(t, dir, "lint", "--fix", ".")
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (NV224 has no edit)\n%s%s", r.code, r.stdout, r.stderr)
	}
	got := read(t, filepath.Join(dir, "shared", "vault-policy-web.hcl"))
	if !strings.Contains(got, `path "kv/metadata/default/web/*" {`) || strings.Contains(got, "//") {
		t.Errorf("fixed policy:\n%s", got)
	}
	for _, want := range []string{
		"warning[NV503] [prod] policy web path",
		"warning[NV503] [staging] policy web path",
		"(2 fixed)",
		"# setup prod: NV503", "# setup staging: NV503",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("--fix report lacks %q:\n%s", want, r.stdout)
		}
	}
	if r := lintIn(t, dir, "lint", "--diff", "."); r.code != 0 || r.stdout != "" {
		t.Errorf("after --fix, --diff: exit %d\n%s", r.code, r.stdout)
	}
}

func TestSetupsBaseline(t *testing.T) {
	dir := monorepo(t)
	base := filepath.Join(dir, "baseline.json")
	if r := lintIn(t, dir, "lint", "--write-baseline", base, "."); !strings.Contains(r.stderr, "3 finding(s) recorded") {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if b := read(t, base); !strings.Contains(b, `"setup": "staging"`) {
		t.Errorf("baseline has no setups:\n%s", b)
	}
	r := lintIn(t, dir, "lint", "--format", "json", "--baseline", base, ".")
	if rep := parseSetups(t, r); r.code != 0 || len(rep.Findings) != 0 || rep.Summary.Baselined != 3 {
		t.Errorf("exit %d, findings %q, baselined %d", r.code, rep.found(), rep.Summary.Baselined)
	}
	// A problem staging did not have before is new, though prod's copy
	// of it is in the baseline.
	policy := filepath.Join(dir, "shared", "vault-policy-web.hcl")
	write(t, policy, read(t, policy))
	role := filepath.Join(dir, "staging", "vault-jwt-role-web.json")
	write(t, role, strings.Replace(read(t, role), `"token_explicit_max_ttl": 0`, `"token_explicit_max_ttl": "1h"`, 1))
	r = lintIn(t, dir, "lint", "--format", "json", "--baseline", base, ".")
	if got := parseSetups(t, r).found(); strings.Join(got, ",") != "staging NV215 staging/vault-jwt-role-web.json" {
		t.Errorf("new findings %q", got)
	}
}

func TestSetupsSARIF(t *testing.T) {
	dir := monorepo(t)
	r := lintIn(t, dir, "lint", "--format", "sarif", ".")
	var log struct {
		Runs []struct {
			Properties struct {
				Setups []string `json:"setups"`
			} `json:"properties"`
			Results []struct {
				Message struct {
					Text string `json:"text"`
				} `json:"message"`
				Properties struct {
					Setup string `json:"setup"`
				} `json:"properties"`
				PartialFingerprints map[string]string `json:"partialFingerprints"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &log); err != nil {
		t.Fatal(err)
	}
	run := log.Runs[0]
	if strings.Join(run.Properties.Setups, ",") != "prod,staging" {
		t.Errorf("run setups %q", run.Properties.Setups)
	}
	fps := map[string]bool{}
	for _, res := range run.Results {
		if res.Properties.Setup == "" || !strings.HasPrefix(res.Message.Text, "["+res.Properties.Setup+"] ") {
			t.Errorf("result without its setup: %q %q", res.Properties.Setup, res.Message.Text)
		}
		fps[res.PartialFingerprints["nvlintFingerprint/v1"]] = true
	}
	if len(run.Results) != 3 || len(fps) != 3 {
		t.Errorf("%d results, %d fingerprints; want 3 of each (one problem, two setups: two alerts)", len(run.Results), len(fps))
	}
	if r := lintIn(t, dir, "lint", "--format", "sarif="+filepath.Join(t.TempDir(), "out.sarif"), "."); !strings.Contains(r.stderr, "nvlint: 1 error, 2 warnings in 10 files of 2 setups; report written to") {
		t.Errorf("summary on stderr: %q", r.stderr)
	}
	gh := lintIn(t, dir, "lint", "--format", "github", ".")
	if !strings.Contains(gh.stdout, "::[staging] policy web path") || !strings.Contains(gh.stdout, "in 10 files of 2 setups") {
		t.Errorf("github annotations:\n%s", gh.stdout)
	}
	for format, want := range map[string][]string{
		"junit":      {`name="[staging] shared/vault-policy-web.hcl: policy web`, `skipped message="[prod] needs a Vault token role&#xA;[staging] needs`},
		"checkstyle": {`message="[staging] policy web path`},
		"markdown":   {"in 10 files of 2 setups", "<summary>setup staging · <code>shared/vault-policy-web.hcl</code> — 1 warning</summary>"},
	} {
		out := lintIn(t, dir, "lint", "--format", format, ".").stdout
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("--format %s lacks %q:\n%s", format, w, out)
			}
		}
	}
}

// A suppression in a file two setups share is used when one setup's
// finding needs it: the other setup does not call it unused.
func TestSetupsSharedSuppression(t *testing.T) {
	dir := monorepo(t)
	policy := filepath.Join(dir, "shared", "vault-policy-web.hcl")
	// staging's role web maps nomad_job_id; prod's own role web does not.
	write(t, policy, `path "kv/data/{{identity.entity.aliases.auth_jwt_1a2b3c4d.metadata.nomad_job_id}}/*" { # nvlint:ignore NV233 prod maps job IDs in its next release
  capabilities = ["read"]
}
`)
	role := read(t, filepath.Join(dir, "staging", "vault-jwt-role-web.json"))
	write(t, filepath.Join(dir, "prod", "vault-jwt-role-web.json"), strings.Replace(role, `    "nomad_job_id": "nomad_job_id",
`, "", 1))
	write(t, filepath.Join(dir, ".nvlint.hcl"), read(t, filepath.Join(dir, ".nvlint.hcl"))+"\njwt_accessor = \"auth_jwt_1a2b3c4d\"\n")
	r := lintIn(t, dir, "lint", "--format", "json", ".")
	rep := parseSetups(t, r)
	for _, f := range rep.Findings {
		if f.Rule == "NV004" || f.Rule == "NV233" {
			t.Errorf("%s %s %s", f.Setup, f.Rule, f.Message)
		}
	}
	if rep.Summary.Suppressed != 1 {
		t.Errorf("suppressed %d, want 1 (prod's NV233)\n%s", rep.Summary.Suppressed, r.stdout)
	}

	// Used by no setup, it is unused in each.
	write(t, filepath.Join(dir, "prod", "vault-jwt-role-web.json"), role)
	rep = parseSetups(t, lintIn(t, dir, "lint", "--format", "json", "."))
	var unused []string
	for _, f := range rep.Findings {
		if f.Rule == "NV004" {
			unused = append(unused, f.Setup)
		}
	}
	if strings.Join(unused, ",") != "prod,staging" {
		t.Errorf("NV004 in %q, want prod and staging", unused)
	}
}

func TestSetupsWithSnapshot(t *testing.T) {
	dir := monorepo(t)
	snap := "../fixtures/cases/NV621-jwks-unreachable/ok-fetched/snapshot.json"
	abs, err := filepath.Abs(snap)
	if err != nil {
		t.Fatal(err)
	}
	r := lintIn(t, dir, "lint", "--snapshot", abs, ".")
	if r.code != 2 || !strings.Contains(r.stderr, "lint each setup with its own snapshot") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	// One setup of the config's: its snapshot applies.
	if r := lintIn(t, dir, "lint", "--snapshot", abs, "prod"); r.code == 2 {
		t.Errorf("one setup with a snapshot: exit 2: %s", r.stderr)
	}
}

func TestAccessInASetup(t *testing.T) {
	dir := monorepo(t)
	r := lintIn(t, dir, "access", "--job", "web", ".")
	if r.code != 2 || !strings.Contains(r.stderr, `job "web" is in setups prod, staging; pick one with --setup`) {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	// staging has the role its default_role names; prod does not.
	if r := lintIn(t, dir, "access", "--job", "web", "--setup", "staging", "."); r.code != 0 || !strings.Contains(r.stdout, "ALLOWED read kv/data/default/web/config") {
		t.Errorf("staging: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := lintIn(t, dir, "access", "--job", "web", "--setup", "prod", "."); !strings.Contains(r.stdout, "JWT role web is not given") {
		t.Errorf("prod: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := lintIn(t, dir, "access", "--job", "web", "--setup", "qa", "."); r.code != 2 || !strings.Contains(r.stderr, "no such setup among the files given (prod, staging)") {
		t.Errorf("qa: exit %d, stderr %q", r.code, r.stderr)
	}
	// Only prod's files: one setup has the job.
	if r := lintIn(t, dir, "access", "--job", "web", "prod"); !strings.Contains(r.stdout, "JWT role web is not given") {
		t.Errorf("prod files: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// impact compares each setup in its own world: staging's role, gone at
// head, costs staging's task its decision, and prod, which never had the
// role, is not told it lost anything. Every setup is listed.
func TestImpactComparesSetupBySetup(t *testing.T) {
	dir := monorepo(t)
	base := t.TempDir()
	if err := os.CopyFS(base, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "staging", "vault-jwt-role-web.json")); err != nil {
		t.Fatal(err)
	}
	r := lintIn(t, dir, "impact", "--base-dir", base, ".")
	for _, want := range []string{
		"2 tasks and 2 reads compared in 2 setups",
		"━━ setup prod: 1 task and 1 read compared; no change.",
		"━━ setup staging: 1 task and 1 read compared; 1 decision now or formerly unknown.",
		"warning job web group web task web: read kv/data/default/web/config  allow -> unknown",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("text lacks %q:\n%s%s", want, r.stdout, r.stderr)
		}
	}
	if r.code != 1 {
		t.Errorf("exit %d, want 1", r.code)
	}
	// prod's paths alone are one setup: printed as without setups.
	if r := lintIn(t, dir, "impact", "--base-dir", base, "prod"); r.code != 0 || strings.Contains(r.stdout, "setup") {
		t.Errorf("prod alone: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// A setup block's own releases and names win over the config's.
func TestSetupHints(t *testing.T) {
	dir := monorepo(t)
	for _, env := range []string{"prod", "staging"} {
		agent := filepath.Join(dir, env, "nomad.hcl")
		write(t, agent, strings.Replace(read(t, agent), "  enabled = true\n  address", "  enabled = true\n  task_token_ttl = \"1h\"\n  address", 1))
	}
	cfg := filepath.Join(dir, ".nvlint.hcl")
	write(t, cfg, "nomad_version = \"1.9.7\"\n"+strings.Replace(read(t, cfg), `paths = ["prod", "shared"]`, `paths = ["prod", "shared"]
  nomad_version = "1.10.2"`, 1))
	sev := map[string]string{}
	var raw struct {
		Findings []struct {
			Rule, Setup, Severity string
		}
	}
	r := lintIn(t, dir, "lint", "--format", "json", ".")
	if err := json.Unmarshal([]byte(r.stdout), &raw); err != nil {
		t.Fatal(err)
	}
	for _, f := range raw.Findings {
		if f.Rule == "NV303" {
			sev[f.Setup] = f.Severity
		}
	}
	// Removed in 1.10: an error in prod, which runs it; a warning in
	// staging, still on 1.9.
	if sev["prod"] != "error" || sev["staging"] != "warning" {
		t.Errorf("NV303 severities %v\n%s", sev, r.stdout)
	}
}

// Linting the example setups with --setup-per-dir reports, setup by
// setup, exactly what linting each directory on its own does.
func TestSetupPerDirIsEachDirectoryAlone(t *testing.T) {
	examples, err := filepath.Abs(examples)
	if err != nil {
		t.Fatal(err)
	}
	key := func(setup string, f map[string]any) string {
		loc, _ := f["location"].(map[string]any)
		file, _ := loc["file"].(string)
		rel, err := filepath.Rel(filepath.Join(examples, setup), file)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%s %s %s:%v:%v %s", setup, f["rule"], rel, loc["line"], loc["column"], f["message"])
	}
	var all struct {
		Setups   []string         `json:"setups"`
		Findings []map[string]any `json:"findings"`
	}
	r := lintIn(t, examples, "lint", "--format", "json", "--setup-per-dir", examples)
	if err := json.Unmarshal([]byte(r.stdout), &all); err != nil {
		t.Fatalf("%v\n%s", err, r.stderr)
	}
	var together []string
	for _, f := range all.Findings {
		together = append(together, key(f["setup"].(string), f))
	}
	var alone []string
	for _, s := range all.Setups {
		var one struct {
			Findings []map[string]any `json:"findings"`
		}
		r := lintIn(t, examples, "lint", "--format", "json", filepath.Join(examples, s))
		if err := json.Unmarshal([]byte(r.stdout), &one); err != nil {
			t.Fatal(err)
		}
		for _, f := range one.Findings {
			alone = append(alone, key(s, f))
		}
	}
	if len(all.Setups) < 5 || len(together) == 0 {
		t.Fatalf("%d setups, %d findings", len(all.Setups), len(together))
	}
	if strings.Join(together, "\n") != strings.Join(alone, "\n") {
		t.Errorf("--setup-per-dir:\n%s\n\neach alone:\n%s", strings.Join(together, "\n"), strings.Join(alone, "\n"))
	}
}
