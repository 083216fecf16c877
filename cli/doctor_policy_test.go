package cli_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	nomadapi "github.com/hashicorp/nomad/api"
	vaultapi "github.com/hashicorp/vault/api"

	"github.com/nvlint/nvlint/cli"
	"github.com/nvlint/nvlint/internal/realserver"
	"github.com/nvlint/nvlint/live"
)

// policySetup is a real Vault and a real Nomad with ACLs, holding one of
// everything doctor reads: a JWT auth method with a config and a role,
// policies, a token role, a job with a vault block.
type policySetup struct {
	vault *realserver.Vault
	vc    *vaultapi.Client
	nomad *realserver.Nomad
	nc    *nomadapi.Client
}

func startPolicySetup(t *testing.T) *policySetup {
	t.Helper()
	s := &policySetup{vault: realserver.StartVault(t)}
	s.vc = s.vault.Client(t)
	s.nomad = realserver.StartNomad(t, realserver.NomadOptions{
		ACL: true, VaultAddr: s.vault.Addr, VaultBlock: `default_identity { aud = ["vault.io"] ttl = "1h" }`,
	})
	s.nc = s.nomad.Client(t)
	must(t, s.vc.Sys().EnableAuthWithOptions("jwt-nomad", &vaultapi.EnableAuthOptions{Type: "jwt"}))
	cfg := readJSON(t, filepath.Join(wiSeed, "vault-auth-method-jwt-nomad.json"))
	cfg["jwks_url"] = s.nomad.Addr + "/.well-known/jwks.json"
	_, err := s.vc.Logical().Write("auth/jwt-nomad/config", cfg)
	must(t, err)
	_, err = s.vc.Logical().Write("auth/jwt-nomad/role/nomad-workloads", readJSON(t, filepath.Join(wiSeed, "vault-role-nomad-workloads.json")))
	must(t, err)
	auths, err := s.vc.Sys().ListAuth()
	must(t, err)
	pol, err := os.ReadFile(filepath.Join(wiSeed, "vault-policy-nomad-workloads.hcl"))
	must(t, err)
	must(t, s.vc.Sys().PutPolicy("nomad-workloads", strings.ReplaceAll(string(pol), "auth_jwt_d34481ad", auths["jwt-nomad/"].Accessor)))
	_, err = s.vc.Logical().Write("auth/token/roles/nomad-cluster", readJSON(t, filepath.Join(legacySeed, "nomad-cluster-role.json")))
	must(t, err)
	job := nomadapi.NewServiceJob("web", "web", "global", 50)
	job.Datacenters = []string{"*"}
	task := nomadapi.NewTask("web", "raw_exec")
	task.Config = map[string]any{"command": "/bin/sleep", "args": []string{"3600"}}
	task.Vault = &nomadapi.Vault{}
	task.Resources = &nomadapi.Resources{CPU: ptr(50), MemoryMB: ptr(32)}
	job.AddTaskGroup(nomadapi.NewTaskGroup("web", 1).AddTask(task))
	_, _, err = s.nc.Jobs().Register(job, nil)
	must(t, err)
	return s
}

// tokens creates a Vault token with exactly the Vault policy text and a
// Nomad token with exactly the Nomad policy text ("" for none).
func (s *policySetup) tokens(t *testing.T, vaultPolicy, nomadPolicy string) (vaultToken, nomadToken string) {
	t.Helper()
	req := &vaultapi.TokenCreateRequest{NoDefaultPolicy: true, Policies: []string{"default"}}
	if vaultPolicy != "" {
		must(t, s.vc.Sys().PutPolicy("nvlint-doctor", vaultPolicy))
		req = &vaultapi.TokenCreateRequest{Policies: []string{"nvlint-doctor"}}
	}
	secret, err := s.vc.Auth().Token().Create(req)
	must(t, err)
	vaultToken = secret.Auth.ClientToken

	_, err = s.nc.ACLPolicies().Upsert(&nomadapi.ACLPolicy{Name: "nvlint-doctor", Rules: nomadPolicy}, nil)
	must(t, err)
	tok, _, err := s.nc.ACLTokens().Create(&nomadapi.ACLToken{Type: "client", Policies: []string{"nvlint-doctor"}}, nil)
	must(t, err)
	return vaultToken, tok.SecretID
}

func (s *policySetup) doctor(t *testing.T, vaultToken, nomadToken string) (doctorReport, run) {
	t.Helper()
	env := map[string]string{"VAULT_ADDR": s.vault.Addr, "NOMAD_ADDR": s.nomad.Addr}
	if vaultToken != "" {
		env["VAULT_TOKEN"] = vaultToken
	}
	if nomadToken != "" {
		env["NOMAD_TOKEN"] = nomadToken
	}
	return doctor(t, env)
}

var (
	vaultBlock = regexp.MustCompile(`(?s)path "([^"]+)" \{.*?\n\}\n`)
	nomadBlock = regexp.MustCompile(`(?s)(\w+)(?: "\*")? \{.*?\n\}\n`)
)

// TestDoctorPolicy: a token with exactly the policies --print-policy
// prints gets every area checked; one lacking any grant gets "not
// checked" naming the path it lacks.
func TestDoctorPolicy(t *testing.T) {
	s := startPolicySetup(t)
	vaultPolicy, nomadPolicy := live.VaultPolicy(), live.NomadPolicy()

	// The printed text is what --print-policy prints.
	r := nvlint(t, "", nil, "doctor", "--print-policy", "vault")
	if r.code != cli.ExitOK || r.stdout != vaultPolicy {
		t.Fatalf("--print-policy vault: exit %d\n%s", r.code, r.stdout)
	}

	t.Run("exactly the printed policies", func(t *testing.T) {
		vt, nt := s.tokens(t, vaultPolicy, nomadPolicy)
		rep, r := s.doctor(t, vt, nt)
		for _, v := range rep.Verdicts {
			if v.Status == "not checked" {
				t.Errorf("%s not checked: %s", v.Area, v.Detail)
			}
		}
		if rep.has("NV602") || rep.has("NV601") {
			t.Errorf("reads failed:\n%s", r.stdout)
		}
		// The setup keeps nomad setup vault's role, which NV235 warns
		// about: that finding, too, says the role was read.
		if st, d := verdict(rep, "Workload identity"); !strings.Contains(d, "1 JWT auth method(s), 1 role(s)") && (st != "at risk" || !rep.has("NV235")) {
			t.Errorf("Workload identity: %s %q, want its role read", st, d)
		}
	})

	for _, m := range vaultBlock.FindAllStringSubmatch(vaultPolicy, -1) {
		block, path := m[0], m[1]
		if r, ok := live.ReadOf("vault", path); ok && len(r.Areas) == 0 {
			// Its failure leaves nothing unchecked: the forecast resting
			// on it says what it assumed (live.TestServerTokenForecastMatchesVault).
			continue
		}
		t.Run("vault without "+path, func(t *testing.T) {
			vt, nt := s.tokens(t, strings.Replace(vaultPolicy, block, "", 1), nomadPolicy)
			rep, r := s.doctor(t, vt, nt)
			if r.code != cli.ExitFindings {
				t.Errorf("exit %d, want 1", r.code)
			}
			// The path as doctor reads it: the mount, a policy or role name.
			assertNamed(t, rep, deniedOn("vault", func(r live.Read) bool { return r.Path == path })...)
		})
	}
	for _, m := range nomadBlock.FindAllStringSubmatch(nomadPolicy, -1) {
		block, scope := m[0], m[1]
		t.Run("nomad without "+scope, func(t *testing.T) {
			vt, nt := s.tokens(t, vaultPolicy, strings.Replace(nomadPolicy, block, "", 1))
			rep, r := s.doctor(t, vt, nt)
			if r.code != cli.ExitFindings {
				t.Errorf("exit %d, want 1", r.code)
			}
			assertNamed(t, rep, deniedOn("nomad", func(r live.Read) bool { return strings.HasPrefix(r.Grant, scope+":") })...)
		})
	}

	// The reproduction: a token with only Vault's default policy.
	t.Run("only the default policy", func(t *testing.T) {
		vt, nt := s.tokens(t, "", nomadPolicy)
		rep, r := s.doctor(t, vt, nt)
		if r.code != cli.ExitFindings {
			t.Errorf("exit %d, want 1", r.code)
		}
		for area, want := range map[string]string{
			"Workload identity": "permission denied on sys/auth",
			"Policies":          "permission denied on sys/policies/acl",
			"Legacy token flow": "permission denied on ",
		} {
			if s, d := verdict(rep, area); s != "not checked" || !strings.HasPrefix(d, want) {
				t.Errorf("%s: %s %q, want not checked %q", area, s, d, want)
			}
		}
		if strings.Contains(r.stdout, "not in use") || strings.Contains(r.stdout, "0 policies checked") {
			t.Errorf("claims about what was not read:\n%s", r.stdout)
		}
	})

	t.Run("no tokens at all", func(t *testing.T) {
		rep, r := s.doctor(t, "", "")
		if r.code != cli.ExitFindings {
			t.Errorf("exit %d, want 1", r.code)
		}
		if st, d := verdict(rep, "Policies"); st != "not checked" || !strings.Contains(d, "no token: VAULT_TOKEN is unset and there is no token helper file") {
			t.Errorf("Policies: %s %q", st, d)
		}
		if st, d := verdict(rep, "Jobs"); st != "not checked" || !strings.Contains(d, "NOMAD_TOKEN is unset") {
			t.Errorf("Jobs: %s %q", st, d)
		}
		if st, d := verdict(rep, "Vault"); st != "ok" {
			t.Errorf("Vault's health needs no token: %s %q", st, d)
		}
	})
}

// deniedOn is what a verdict says of the reads of live.Reads that match:
// "permission denied on " and the path as doctor reads it ("+" is the
// JWT mount, or any name at the end).
func deniedOn(side string, match func(live.Read) bool) []string {
	var out []string
	for _, r := range live.Reads {
		if r.Side == side && r.Token == live.DoctorToken && match(r) {
			p, _, _ := strings.Cut(strings.TrimSuffix(r.Path, "+"), "/+/")
			if strings.HasPrefix(r.Path, "auth/+/") {
				p = strings.Replace(strings.TrimSuffix(r.Path, "+"), "+", "jwt-nomad", 1)
			}
			out = append(out, "permission denied on "+p)
		}
	}
	return out
}

// assertNamed fails unless some area is not checked with a detail
// starting with one of wants.
func assertNamed(t *testing.T, rep doctorReport, wants ...string) {
	t.Helper()
	if len(wants) == 0 {
		t.Fatal("no read matches")
	}
	var got []string
	for _, v := range rep.Verdicts {
		if v.Status == "not checked" {
			for _, want := range wants {
				if strings.HasPrefix(v.Detail, want) {
					return
				}
			}
			got = append(got, v.Area+": "+v.Detail)
		}
	}
	t.Errorf("no area not checked with one of %q; not checked: %q", wants, got)
}
