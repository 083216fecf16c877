package identity_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/nvlint/nvlint/checks/identity"
	"github.com/nvlint/nvlint/inputs"
	"github.com/nvlint/nvlint/internal/realserver"
	"github.com/nvlint/nvlint/live"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// TestSharedEntityAliasAgainstRealVault reproduces on a real Vault what
// NV235 reports, with identities shaped as Nomad signs them: two jobs
// "app" in namespaces default and staging log in with the role nomad
// setup vault writes (user_claim /nomad_job_id). After the staging login
// the default task's token loses its own secret and reads staging's.
// With an extra claim of the namespace and job as user_claim, each keeps
// its own. The rule, run on the role and policy as Vault returns them,
// reports the first setup (an error naming both jobs) and not the
// second.
func TestSharedEntityAliasAgainstRealVault(t *testing.T) {
	v := realserver.StartVault(t)
	vc := v.Client(t)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pub := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	if err := vc.Sys().EnableAuthWithOptions("jwt-nomad", &vaultapi.EnableAuthOptions{Type: "jwt"}); err != nil {
		t.Fatal(err)
	}
	write(t, vc, "auth/jwt-nomad/config", map[string]any{"jwt_validation_pubkeys": []string{pub}, "jwt_supported_algs": []string{"RS256"}})
	auths, err := vc.Sys().ListAuth()
	if err != nil {
		t.Fatal(err)
	}
	accessor := auths["jwt-nomad/"].Accessor
	meta := func(k string) string { return "{{identity.entity.aliases." + accessor + ".metadata." + k + "}}" }
	policy := fmt.Sprintf("path \"secret/data/%s/%s/*\" {\n  capabilities = [\"read\"]\n}\n", meta("nomad_namespace"), meta("nomad_job_id"))
	if err := vc.Sys().PutPolicy("nomad-workloads", policy); err != nil {
		t.Fatal(err)
	}
	for _, ns := range []string{"default", "staging"} {
		write(t, vc, "secret/data/"+ns+"/app/config", map[string]any{"data": map[string]any{"owner": ns}})
	}
	role := map[string]any{
		"role_type":               "jwt",
		"bound_audiences":         []string{"vault.io"},
		"user_claim":              "/nomad_job_id",
		"user_claim_json_pointer": true,
		"claim_mappings":          map[string]string{"nomad_namespace": "nomad_namespace", "nomad_job_id": "nomad_job_id", "nomad_task": "nomad_task"},
		"token_policies":          []string{"nomad-workloads"},
		"token_type":              "service",
		"token_period":            "30m",
	}
	write(t, vc, "auth/jwt-nomad/role/nomad-workloads", role)

	login := func(ns string, extra map[string]string) *vaultapi.Client {
		t.Helper()
		claims := map[string]any{
			"aud": "vault.io", "iat": time.Now().Unix(), "nbf": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(),
			"sub":             "global:" + ns + ":app:app:app:vault_default",
			"nomad_namespace": ns, "nomad_job_id": "app", "nomad_task": "app", "nomad_allocation_id": ns + "-alloc",
		}
		if extra != nil {
			claims["extra_claims"] = extra
		}
		s, err := vc.Logical().Write("auth/jwt-nomad/login", map[string]any{"role": "nomad-workloads", "jwt": sign(t, key, claims)})
		if err != nil {
			t.Fatalf("login as %s/app: %v", ns, err)
		}
		return v.ClientWithToken(t, s.Auth.ClientToken)
	}
	reads := func(c *vaultapi.Client, ns string) bool {
		t.Helper()
		s, err := c.Logical().Read("secret/data/" + ns + "/app/config")
		if err != nil {
			if strings.Contains(err.Error(), "permission denied") {
				return false
			}
			t.Fatal(err)
		}
		return s != nil
	}

	// nomad setup vault's role: one alias "app" for both jobs.
	def := login("default", nil)
	if !reads(def, "default") || reads(def, "staging") {
		t.Fatal("before the staging login, the default task should read only its own secret")
	}
	login("staging", nil)
	if reads(def, "default") || !reads(def, "staging") {
		t.Fatalf("after the staging login the default task's token should lose its secret and read staging's: own %v, staging's %v",
			reads(def, "default"), reads(def, "staging"))
	}
	w := liveWorld(t, v, serverConfig(nil))
	res := rules.Run(w, []rules.Rule{identity.SharedEntityAlias})
	if len(res.Findings) != 1 || res.Findings[0].Severity != rules.Error ||
		!strings.Contains(res.Findings[0].Message, "namespace default") || !strings.Contains(res.Findings[0].Message, "namespace staging") {
		t.Fatalf("want one NV235 error naming both jobs, got %v", res.Findings)
	}
	// Doctor shows the one alias and whose login its metadata is.
	if ev := strings.Join(res.Findings[0].Evidence, "\n"); !strings.Contains(ev, `entity alias "app"`) || !strings.Contains(ev, "nomad_namespace=staging") {
		t.Errorf("want the live alias with the staging login's metadata in the evidence, got:\n%s", ev)
	}

	// The fix: an extra claim of the namespace and the job names aliases.
	role["user_claim"] = "/extra_claims/nomad_workload_id"
	role["claim_mappings"] = map[string]string{"/extra_claims/nomad_workload_id": "nomad_workload_id", "nomad_namespace": "nomad_namespace", "nomad_job_id": "nomad_job_id", "nomad_task": "nomad_task"}
	write(t, vc, "auth/jwt-nomad/role/nomad-workloads", role)
	def = login("default", map[string]string{"nomad_workload_id": "default:app"})
	stg := login("staging", map[string]string{"nomad_workload_id": "staging:app"})
	if !reads(def, "default") || reads(def, "staging") || !reads(stg, "staging") || reads(stg, "default") {
		t.Fatal("with a unique user_claim each task should read its own secret and not the other's")
	}
	w = liveWorld(t, v, serverConfig(map[string]string{"nomad_workload_id": "${job.namespace}:${job.id}"}))
	if res := rules.Run(w, []rules.Rule{identity.SharedEntityAlias}); len(res.Findings) != 0 {
		t.Fatalf("want no NV235 with a unique user_claim, got %v", res.Findings)
	}
}

// serverConfig is a Nomad server's agent/self with default_identity and
// these extra claims.
func serverConfig(extra map[string]string) *world.AgentConfig {
	di := &world.DefaultIdentity{Aud: world.List{Set: true, Known: true, Items: []world.Str{{V: "vault.io", Set: true, Known: true}}}}
	if extra != nil {
		di.ExtraClaims = world.Map{Set: true, Known: true, Entries: map[string]world.Str{}}
		for k, v := range extra {
			di.ExtraClaims.Entries[k] = world.Str{V: v, Set: true, Known: true}
		}
	}
	return &world.AgentConfig{
		Meta:   world.Meta{Ref: world.ObjectRef{Kind: world.KindAgentConfig, Name: "server"}},
		Server: world.Bool{V: true, Set: true, Known: true},
		Vaults: []*world.VaultConfig{{DefaultIdentity: di}},
	}
}

// liveWorld is what doctor reads of the Vault, with the two jobs as the
// Nomad API shows them and a server's agent/self.
func liveWorld(t *testing.T, v *realserver.Vault, agent *world.AgentConfig) *world.World {
	t.Helper()
	w, _ := live.Collect(context.Background(), live.Options{Vault: &vaultapi.Config{Address: v.Addr}, VaultToken: v.RootToken})
	if probs := w.Live.Problems; len(probs) > 0 {
		t.Fatalf("doctor could not read Vault: %+v", probs)
	}
	for _, ns := range []string{"default", "staging"} {
		job := fmt.Sprintf(`{"ID": "app", "Namespace": %q, "Type": "service", "TaskGroups": [{"Name": "app", "Tasks": [{"Name": "app", "Vault": {"Role": "nomad-workloads"}}]}]}`, ns)
		if err := inputs.LiveObject(w, world.KindJobspec, "app", "nomad:/v1/job/app?namespace="+ns, []byte(job)); err != nil {
			t.Fatal(err)
		}
	}
	w.Agents = append(w.Agents, agent)
	return w
}

func write(t *testing.T, vc *vaultapi.Client, path string, data map[string]any) {
	t.Helper()
	if _, err := vc.Logical().Write(path, data); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
}

// sign makes an RS256 JWT.
func sign(t *testing.T, key *rsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	unsigned := enc(map[string]string{"alg": "RS256", "typ": "JWT", "kid": "test"}) + "." + enc(claims)
	sum := sha256.Sum256([]byte(unsigned))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return unsigned + "." + base64.RawURLEncoding.EncodeToString(sig)
}
