package reports_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nvlint/nvlint/checks"
	"github.com/nvlint/nvlint/reports"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/snapshot"
	"github.com/nvlint/nvlint/world"
)

func verdictOf(t *testing.T, vs []reports.Verdict, area string) reports.Verdict {
	t.Helper()
	for _, v := range vs {
		if v.Area == area {
			return v
		}
	}
	t.Fatalf("no verdict for %s", area)
	return reports.Verdict{}
}

// A token with only the default policy: sys/auth and the policy list are
// denied. Nothing resting on them is ok, and the path is named.
func TestVerdictsWeakToken(t *testing.T) {
	w := &world.World{Live: &world.Live{
		Vault: &world.VaultLive{Addr: "http://v", Health: &world.VaultHealth{Initialized: true, Version: "1.21.4"}},
		Problems: []world.Problem{
			{Area: "vault", What: "sys/auth", Reason: "403 permission denied", Areas: []string{world.AreaWorkloadIdentity}},
			{Area: "vault", What: "sys/policies/acl", Reason: "403 permission denied", Areas: []string{world.AreaPolicies, world.AreaJobs}},
		},
	}}
	// The failed reads are NV602 findings too; they make no area at risk.
	nv602 := rules.Finding{Rule: &rules.Meta{ID: "NV602"}, Severity: rules.Warning, Message: "could not check vault sys/auth", Object: world.ObjectRef{Kind: "vault"}}
	vs := reports.Verdicts(w, []rules.Finding{nv602})
	if v := verdictOf(t, vs, world.AreaVault); v.Status != reports.StatusOK {
		t.Errorf("Vault: %+v", v)
	}
	if v := verdictOf(t, vs, world.AreaWorkloadIdentity); v.Status != reports.StatusNotChecked || v.Detail != "permission denied on sys/auth" {
		t.Errorf("Workload identity: %+v", v)
	}
	if v := verdictOf(t, vs, world.AreaPolicies); v.Status != reports.StatusNotChecked || v.Detail != "permission denied on sys/policies/acl" {
		t.Errorf("Policies: %+v", v)
	}
	// Nomad was not asked for: not checked, and it does not fail the run.
	if v := verdictOf(t, vs, world.AreaNomad); v.Status != reports.StatusNotChecked || v.Asked || !strings.Contains(v.Detail, "NOMAD_ADDR") {
		t.Errorf("Nomad: %+v", v)
	}
	got := strings.Join(reports.Unchecked(vs), ", ")
	if got != "Workload identity, Policies" {
		t.Errorf("Unchecked = %q", got)
	}
}

// A world read from live clusters with nothing failing, and a replay of
// one without Nomad.
func TestVerdictsAllRead(t *testing.T) {
	w := &world.World{Live: &world.Live{
		Vault: &world.VaultLive{Addr: "http://v", Health: &world.VaultHealth{Initialized: true, Version: "1.21.4"}},
		Nomad: &world.NomadLive{Addr: "http://n", Version: "1.10.5"},
	}}
	vs := reports.Verdicts(w, nil)
	for _, v := range vs {
		if v.Status != reports.StatusOK || !v.Asked {
			t.Errorf("%s: %+v", v.Area, v)
		}
	}
	if u := reports.Unchecked(vs); len(u) != 0 {
		t.Errorf("Unchecked = %v", u)
	}
	w.Live.Nomad = nil
	for _, v := range reports.Verdicts(w, nil) {
		if (v.Area == world.AreaNomad || v.Area == world.AreaJobs) && v.Status != reports.StatusNotChecked {
			t.Errorf("without Nomad, %s is %s", v.Area, v.Status)
		}
	}
}

// An error finding stands even where reads failed; an unreachable side
// leaves every other area of it not checked.
func TestVerdictsUnreachable(t *testing.T) {
	w := &world.World{Live: &world.Live{
		Vault: &world.VaultLive{Addr: "http://v"},
		Problems: []world.Problem{{Area: "vault", What: "http://v/v1/sys/health", Reason: "connection refused", Fatal: true,
			Areas: []string{world.AreaVault, world.AreaPolicies, world.AreaWorkloadIdentity, world.AreaLegacy, world.AreaJobs}}},
	}}
	nv601 := rules.Finding{Rule: &rules.Meta{ID: "NV601"}, Severity: rules.Error, Message: "could not reach vault", Object: world.ObjectRef{Kind: "vault"}}
	vs := reports.Verdicts(w, []rules.Finding{nv601})
	if v := verdictOf(t, vs, world.AreaVault); v.Status != reports.StatusBroken {
		t.Errorf("Vault: %+v", v)
	}
	if v := verdictOf(t, vs, world.AreaPolicies); v.Status != reports.StatusNotChecked || v.Detail != "Vault not reached: connection refused" {
		t.Errorf("Policies: %+v", v)
	}
}

func TestVerdictDeniedHints(t *testing.T) {
	for reason, want := range map[string]string{
		"403 permission denied":                                  "permission denied on sys/auth",
		"403 permission denied; invalid token":                   "permission denied on sys/auth (invalid token)",
		"403 Permission denied (no token: NOMAD_TOKEN is unset)": "permission denied on sys/auth (no token: NOMAD_TOKEN is unset)",
		"500 internal error":                                     "sys/auth: 500 internal error",
	} {
		w := &world.World{Live: &world.Live{
			Vault:    &world.VaultLive{Addr: "http://v"},
			Problems: []world.Problem{{Area: "vault", What: "sys/auth", Reason: reason, Areas: []string{world.AreaWorkloadIdentity}}},
		}}
		if v := verdictOf(t, reports.Verdicts(w, nil), world.AreaWorkloadIdentity); v.Detail != want {
			t.Errorf("%q: detail %q, want %q", reason, v.Detail, want)
		}
	}
}

// A JWT auth method mounted and never configured (sys/auth lists it,
// auth/<mount>/config is empty) is not "no JWT auth method": the verdict
// names it, and when tasks log in there NV633 makes the area broken.
func TestVerdictUnconfiguredJWTMount(t *testing.T) {
	// Doctor with a root token and Vault alone: the mount is read, its
	// config is empty, nothing else is there.
	w := &world.World{Live: &world.Live{
		Vault: &world.VaultLive{
			Addr: "http://v", Health: &world.VaultHealth{Initialized: true, Version: "1.21.4"},
			AuthMounts: []world.AuthMount{{Path: "token", Type: "token", Accessor: "auth_token_1"}, {Path: "jwt-nomad", Type: "jwt", Accessor: "auth_jwt_1"}},
		},
	}}
	v := verdictOf(t, reports.Verdicts(w, rules.Run(w, checks.All()).Findings), world.AreaWorkloadIdentity)
	if want := "JWT auth method jwt-nomad mounted but not configured (no auth/jwt-nomad/config): Vault refuses every login on it"; v.Status != reports.StatusOK || v.Detail != want {
		t.Errorf("Vault alone: %+v, want ok: %s", v, want)
	}

	// With Nomad read and no job there.
	w.Live.Nomad = &world.NomadLive{Addr: "http://n", Version: "1.10.5"}
	v = verdictOf(t, reports.Verdicts(w, rules.Run(w, checks.All()).Findings), world.AreaWorkloadIdentity)
	if want := "JWT auth method jwt-nomad mounted but not configured (no auth/jwt-nomad/config): Vault refuses every login on it; no job logs in there"; v.Status != reports.StatusOK || v.Detail != want {
		t.Errorf("no job: %+v, want ok: %s", v, want)
	}

	// Replayed from what doctor saves: a job logs in there, or none does.
	for _, c := range []struct {
		dir    string
		broken bool
	}{{"bad-never-configured", true}, {"ok-unconfigured-unused", false}} {
		dir := filepath.Join("..", "fixtures", "cases", "NV633-jwt-auth-method-unconfigured", c.dir)
		data, err := os.ReadFile(filepath.Join(dir, "snapshot.json"))
		if err != nil {
			t.Fatal(err)
		}
		lw, err := snapshot.Load(data)
		if err != nil {
			t.Fatal(err)
		}
		fs := rules.Run(lw, checks.All()).Findings
		v := verdictOf(t, reports.Verdicts(lw, fs), world.AreaWorkloadIdentity)
		broken := v.Status == reports.StatusBroken && strings.HasPrefix(v.Detail, "JWT auth method jwt-nomad is mounted but has no config")
		if broken != c.broken || strings.Contains(v.Detail, "no JWT auth method") {
			t.Errorf("%s: %+v", c.dir, v)
		}
	}
}

// A lease forecast speaks about the jobs' secrets, not about workload
// identity, though its ID shares NV62 with the identity rules.
func TestLeaseForecastIsAboutJobs(t *testing.T) {
	dir := filepath.Join("..", "fixtures", "cases", "NV626-lease-ends-running-tasks", "bad-noop-keeps-revoked-credentials")
	data, err := os.ReadFile(filepath.Join(dir, "snapshot.json"))
	if err != nil {
		t.Fatal(err)
	}
	lw, err := snapshot.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	fs := rules.Run(lw, checks.All()).Findings
	if v := verdictOf(t, reports.Verdicts(lw, fs), world.AreaJobs); v.Status == reports.StatusOK || !strings.Contains(v.Detail, "database role") && !strings.Contains(v.Detail, "PKI role") {
		t.Errorf("Jobs: %+v", v)
	}
	if v := verdictOf(t, reports.Verdicts(lw, fs), world.AreaWorkloadIdentity); strings.Contains(v.Detail, "role app") || strings.Contains(v.Detail, "PKI role") {
		t.Errorf("Workload identity: %+v", v)
	}
}
