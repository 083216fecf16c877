package cli_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/nvlint/nvlint/cli"
	"github.com/nvlint/nvlint/internal/realserver"
)

// clusterVault is one real Vault dev server set up as the workload
// identity guide sets Vault up: a JWT auth method at jwt-nomad whose
// default_role is nomad-workloads, that role and its templated policy.
type clusterVault struct {
	vault    *realserver.Vault
	vc       *vaultapi.Client
	accessor string
}

func startClusterVault(t *testing.T, pubkey string) *clusterVault {
	t.Helper()
	c := &clusterVault{vault: realserver.StartVault(t)}
	c.vc = c.vault.Client(t)
	must(t, c.vc.Sys().EnableAuthWithOptions("jwt-nomad", &vaultapi.EnableAuthOptions{Type: "jwt"}))
	auths, err := c.vc.Sys().ListAuth()
	must(t, err)
	c.accessor = auths["jwt-nomad/"].Accessor
	cfg := readJSON(t, filepath.Join(wiSeed, "vault-auth-method-jwt-nomad.json"))
	// No Nomad signs here: the keys are given, not fetched.
	delete(cfg, "jwks_url")
	cfg["jwt_validation_pubkeys"] = []string{pubkey}
	_, err = c.vc.Logical().Write("auth/jwt-nomad/config", cfg)
	must(t, err)
	c.writeRole(t, nil)
	pol, err := os.ReadFile(filepath.Join(wiSeed, "vault-policy-nomad-workloads.hcl"))
	must(t, err)
	must(t, c.vc.Sys().PutPolicy("nomad-workloads", strings.ReplaceAll(string(pol), "auth_jwt_d34481ad", c.accessor)))
	return c
}

// writeRole writes the seed's nomad-workloads role, changed by edit.
func (c *clusterVault) writeRole(t *testing.T, edit func(map[string]any)) {
	t.Helper()
	role := readJSON(t, filepath.Join(wiSeed, "vault-role-nomad-workloads.json"))
	if edit != nil {
		edit(role)
	}
	_, err := c.vc.Logical().Delete("auth/jwt-nomad/role/nomad-workloads")
	must(t, err)
	_, err = c.vc.Logical().Write("auth/jwt-nomad/role/nomad-workloads", role)
	must(t, err)
}

// twoClusterAgent is a Nomad Enterprise agent config (server and client)
// with the default Vault cluster and cluster payments, each with its own
// default_identity and auth path.
func twoClusterAgent(t *testing.T, path, defaultAddr, paymentsAddr, paymentsAuthPath string) {
	t.Helper()
	must(t, os.WriteFile(path, []byte(`server {
  enabled = true
}

client {
  enabled = true
}

vault {
  enabled               = true
  address               = "`+defaultAddr+`"
  jwt_auth_backend_path = "jwt-nomad"

  default_identity {
    aud = ["vault.io"]
    ttl = "1h"
  }
}

vault {
  name                  = "payments"
  enabled               = true
  address               = "`+paymentsAddr+`"
  jwt_auth_backend_path = "`+paymentsAuthPath+`"

  default_identity {
    aud = ["vault.io"]
    ttl = "1h"
  }
}
`), 0o600))
}

// findingsNaming are the findings of rule (any rule for "") whose
// message names cluster.
func (r doctorReport) findingsNaming(rule, cluster string) []string {
	var out []string
	for _, f := range r.Findings {
		if (rule == "" || f.Rule == rule) && strings.Contains(f.Message, "vault cluster "+cluster) {
			out = append(out, f.Rule+" "+f.Message)
		}
	}
	return out
}

// TestDoctorVaultClusters runs doctor against two real Vault dev servers,
// the default cluster and cluster payments, set up alike (objects of the
// same names in both), with an agent config that defines both: healthy,
// a break in payments alone is reported naming payments and nothing of
// the default cluster, the fix it gives goes to payments, a snapshot
// replays it, and payments' token is never printed or saved.
func TestDoctorVaultClusters(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	must(t, err)
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	must(t, err)
	pubkey := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	def := startClusterVault(t, pubkey)
	pay := startClusterVault(t, pubkey)

	dir := t.TempDir()
	agent := filepath.Join(dir, "nomad.hcl")
	twoClusterAgent(t, agent, def.vault.Addr, pay.vault.Addr, "jwt-nomad")
	tokenFile := filepath.Join(dir, "payments.token")
	must(t, os.WriteFile(tokenFile, []byte(pay.vault.RootToken+"\n"), 0o600))
	env := map[string]string{"VAULT_ADDR": def.vault.Addr, "VAULT_TOKEN": def.vault.RootToken}
	both := []string{"--agent-config", agent, "--vault", "payments=" + pay.vault.Addr, "--vault-token-file", "payments=" + tokenFile}

	t.Run("healthy", func(t *testing.T) {
		rep, r := doctor(t, env, both...)
		noCrash(t, rep)
		if errs := rep.errors(); len(errs) > 0 {
			t.Errorf("two healthy clusters, got errors:\n%s", strings.Join(errs, "\n"))
		}
		if rep.has("NV003") {
			t.Errorf("objects of one name in two clusters taken for duplicates:\n%s", r.stdout)
		}
		// Each policy names its own cluster's accessor.
		if rep.has("NV234") {
			t.Errorf("a policy checked against the other cluster's auth mounts:\n%s", r.stdout)
		}
		for _, v := range rep.Verdicts {
			// The seed's role warns about shared entity aliases.
			if v.Status != "ok" && v.Status != "at risk" && v.Area != "Nomad" && v.Area != "Jobs" {
				t.Errorf("verdict %s %s: %s", v.Area, v.Status, v.Detail)
			}
			if v.Area == "Vault" && (!strings.Contains(v.Detail, def.vault.Addr) || !strings.Contains(v.Detail, "cluster payments: Vault "+realserver.VaultVersion+" at "+pay.vault.Addr)) {
				t.Errorf("Vault verdict does not name both clusters: %s", v.Detail)
			}
		}
		if strings.Contains(r.stderr, "not checked") {
			t.Errorf("a partial run: %s", r.stderr)
		}
		// The seed's warning is made once per cluster.
		if len(rep.findingsNaming("NV235", "payments")) != 1 {
			t.Errorf("want the seed's NV235 warning for cluster payments too:\n%s", r.stdout)
		}
	})

	t.Run("not read without --vault", func(t *testing.T) {
		rep, r := doctor(t, env, "--agent-config", agent)
		if r.code != 1 {
			t.Errorf("exit %d, want 1: cluster payments was not read", r.code)
		}
		var said bool
		for _, v := range rep.Verdicts {
			said = said || v.Status == "not checked" && strings.Contains(v.Detail, "cluster payments: not read: pass --vault payments="+pay.vault.Addr+" --vault-token-file payments=FILE")
		}
		if !said {
			t.Errorf("no verdict says how to read cluster payments: %+v", rep.Verdicts)
		}
	})

	t.Run("payments role refuses the audience", func(t *testing.T) {
		pay.writeRole(t, func(r map[string]any) { r["bound_audiences"] = []string{"nomad.io"} })
		defer pay.writeRole(t, nil)
		snap := filepath.Join(t.TempDir(), "snap.json")
		rep, r := doctor(t, env, append(both, "--save", snap)...)
		noCrash(t, rep)
		got := rep.findingsNaming("NV201", "payments")
		if len(got) != 1 || len(rep.findingsNaming("NV201", "")) != 1 {
			t.Fatalf("want one NV201, naming cluster payments, got %q", rep.errors())
		}
		for _, f := range rep.Findings {
			if f.Rule == "NV201" && len(f.Fixes) > 0 {
				for _, c := range f.Fixes[0].Commands {
					if !strings.Contains(c, "VAULT_ADDR="+pay.vault.Addr) {
						t.Errorf("the fix is not sent to cluster payments: %s", c)
					}
				}
			}
		}
		for _, v := range rep.Verdicts {
			if v.Area == "Workload identity" && (v.Status != "broken" || !strings.Contains(v.Detail, "vault cluster payments")) {
				t.Errorf("verdict %+v does not name cluster payments", v)
			}
		}
		for _, out := range []string{r.stdout, r.stderr, readFile(t, snap)} {
			if strings.Contains(out, pay.vault.RootToken) || strings.Contains(out, def.vault.RootToken) {
				t.Error("a Vault token was printed or saved")
			}
		}

		// The snapshot keeps each object's cluster.
		replay, _ := doctor(t, nil, "--from", snap, "--agent-config", agent)
		if got := replay.findingsNaming("NV201", "payments"); len(got) != 1 || replay.has("NV003") {
			t.Errorf("replayed: want the one NV201 naming payments and no NV003, got %q", replay.errors())
		}

		// The fix, pasted as given by an operator whose token is
		// payments' (VAULT_ADDR still the default cluster's), repairs
		// payments' role.
		applyFix(t, rep, "NV201", map[string]string{"VAULT_ADDR": def.vault.Addr, "VAULT_TOKEN": pay.vault.RootToken})
		if rep, _ = doctor(t, env, both...); rep.has("NV201") {
			t.Errorf("the NV201 fix did not reach cluster payments: %v", rep.errors())
		}
	})

	t.Run("payments clients log in where no JWT method is mounted", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "nomad.hcl")
		twoClusterAgent(t, bad, def.vault.Addr, pay.vault.Addr, "jwt-payments")
		args := append([]string(nil), both...)
		args[1] = bad
		rep, _ := doctor(t, env, args...)
		var nv632 []string
		for _, f := range rep.Findings {
			if f.Rule == "NV632" {
				nv632 = append(nv632, f.Message)
			}
		}
		if len(nv632) != 1 || !strings.Contains(nv632[0], "jwt-payments/ (vault cluster payments)") {
			t.Errorf("want one NV632 naming cluster payments, got %q", nv632)
		}
	})

	t.Run("payments without its token", func(t *testing.T) {
		rep, r := doctor(t, env, "--agent-config", agent, "--vault", "payments="+pay.vault.Addr)
		if r.code != 1 {
			t.Errorf("exit %d, want 1: payments was not read", r.code)
		}
		var said bool
		for _, f := range rep.Findings {
			said = said || f.Rule == "NV602" && strings.Contains(f.Message, "token (vault cluster payments): no token: no --vault-token-file payments=FILE given")
		}
		if !said {
			t.Errorf("no finding says payments had no token: %+v", rep.Findings)
		}
	})

	t.Run("payments down", func(t *testing.T) {
		pay.vault.Stop()
		rep, r := doctor(t, env, both...)
		noCrash(t, rep)
		if r.code != 1 {
			t.Errorf("exit %d, want 1", r.code)
		}
		var unreachable bool
		for _, f := range rep.Findings {
			unreachable = unreachable || f.Rule == "NV601" && strings.Contains(f.Message, "vault cluster payments")
		}
		if !unreachable {
			t.Errorf("no NV601 naming cluster payments: %q", rep.errors())
		}
		for _, v := range rep.Verdicts {
			if v.Area == "Vault" && (v.Status != "broken" || !strings.Contains(v.Detail, "payments")) {
				t.Errorf("Vault verdict %+v does not say payments is down", v)
			}
			if v.Area == "Policies" && v.Status == "ok" {
				t.Errorf("Policies ok while payments' were not read")
			}
		}
	})
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	must(t, err)
	var v any
	must(t, json.Unmarshal(b, &v))
	return string(b)
}

// TestDoctorVaultFlagsUsage: --vault and --vault-token-file take NAME=...
// pairs that fit together; anything else is a usage error naming the
// flag, and a token file's content is never in the message.
func TestDoctorVaultFlagsUsage(t *testing.T) {
	dir := t.TempDir()
	token := filepath.Join(dir, "token")
	must(t, os.WriteFile(token, []byte("hvs.PAYMENTSTOKEN00000000\n"), 0o600))
	empty := filepath.Join(dir, "empty")
	must(t, os.WriteFile(empty, nil, 0o600))
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--vault", "payments"}, "--vault payments: want NAME=URL"},
		{[]string{"--vault", "default=http://127.0.0.1:8200"}, "the default cluster is read from VAULT_ADDR"},
		{[]string{"--vault", "payments=127.0.0.1:8200"}, "is not an http(s) URL"},
		{[]string{"--vault", "payments=http://a:1", "--vault", "payments=http://b:1"}, "cluster payments is given twice"},
		{[]string{"--vault-token-file", "payments=" + token}, "no --vault payments=URL gives the cluster's address"},
		{[]string{"--vault", "payments=http://a:1", "--vault-token-file", "payments=" + filepath.Join(dir, "none")}, "--vault-token-file payments="},
		{[]string{"--vault", "payments=http://a:1", "--vault-token-file", "payments=" + empty}, "holds no token"},
	} {
		r := nvlint(t, "", map[string]string{}, append([]string{"doctor"}, c.args...)...)
		if r.code != cli.ExitUsage || !strings.Contains(r.stderr, c.want) || strings.Contains(r.stderr, "PAYMENTSTOKEN") {
			t.Errorf("%q: exit %d, stderr %q; want usage error with %q", c.args, r.code, r.stderr, c.want)
		}
	}
	// --vault alone is something to check.
	r := nvlint(t, "", map[string]string{}, "doctor", "--vault", "payments=http://127.0.0.1:1", "--vault-token-file", "payments="+token, "--timeout", "1s", "--format", "json")
	if r.code == cli.ExitUsage || strings.Contains(r.stdout, "PAYMENTSTOKEN") {
		t.Errorf("--vault alone: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// testPublicKey is a PEM public key for a JWT mount to trust.
func testPublicKey(t *testing.T) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	must(t, err)
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	must(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// TestDoctorVaultClusterCACert reads cluster payments, a real Vault dev
// server behind TLS whose certificate a CA of its own signs: without
// --vault-cluster-cacert doctor says why it could not read it, with it
// the cluster is read.
func TestDoctorVaultClusterCACert(t *testing.T) {
	pay := startClusterVault(t, testPublicKey(t))
	backend, err := url.Parse(pay.vault.Addr)
	must(t, err)
	front := httptest.NewTLSServer(httputil.NewSingleHostReverseProxy(backend))
	defer front.Close()

	dir := t.TempDir()
	ca := filepath.Join(dir, "payments-ca.pem")
	must(t, os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: front.Certificate().Raw}), 0o600))
	tokenFile := filepath.Join(dir, "payments.token")
	must(t, os.WriteFile(tokenFile, []byte(pay.vault.RootToken+"\n"), 0o600))
	args := []string{"--vault", "payments=" + front.URL, "--vault-token-file", "payments=" + tokenFile}
	readAt := "cluster payments: Vault " + realserver.VaultVersion + " at " + front.URL

	rep, r := doctor(t, map[string]string{}, args...)
	if out := r.stdout + r.stderr; !strings.Contains(out, "certificate signed by unknown authority") || strings.Contains(out, readAt) {
		t.Errorf("without the cluster's CA, want it not read, saying why:\n%s\n%s", r.stdout, r.stderr)
	}
	noCrash(t, rep)
	var hinted bool
	for _, f := range rep.Findings {
		for _, fx := range f.Fixes {
			hinted = hinted || f.Rule == "NV601" && strings.Contains(fx.Description, "--vault-cluster-cacert payments=CA.pem")
		}
	}
	if !hinted {
		t.Errorf("NV601 does not say how to give the cluster's CA:\n%s", r.stdout)
	}

	rep, r = doctor(t, map[string]string{}, append(args, "--vault-cluster-cacert", "payments="+ca)...)
	noCrash(t, rep)
	var read bool
	for _, v := range rep.Verdicts {
		read = read || v.Area == "Vault" && strings.Contains(v.Detail, readAt)
	}
	if !read || strings.Contains(r.stdout+r.stderr, "unknown authority") {
		t.Errorf("with --vault-cluster-cacert, cluster payments was not read: %+v\n%s", rep.Verdicts, r.stderr)
	}
}
