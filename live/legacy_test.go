package live

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/nvlint/nvlint/internal/realserver"
)

// TestLegacy collects the legacy token flow on Nomad 1.9.7: a server
// policy, the nomad-cluster token role and a periodic orphan server token
// created with the root client. Like every real-server test it fails (it
// does not skip) when the 1.9.7 binary is missing: build it with
// `bash scripts/build-servers.sh nomad-legacy`.
func TestLegacy(t *testing.T) {
	if _, err := realserver.NomadLegacyBin(); err != nil {
		t.Fatalf("%v", err)
	}
	start := time.Now()
	v := realserver.StartVault(t)
	vc := v.Client(t)
	if err := vc.Sys().PutPolicy("nomad-server", serverPolicy); err != nil {
		t.Fatal(err)
	}
	write(t, vc, "auth/token/roles/nomad-cluster", map[string]any{
		"disallowed_policies": "nomad-server", "orphan": true, "renewable": true,
		"token_period": "72h", "token_explicit_max_ttl": 0,
	})
	created := write(t, vc, "auth/token/create-orphan", map[string]any{"policies": []string{"nomad-server"}, "period": "72h"})
	serverToken := created.Auth.ClientToken

	n := realserver.StartNomad(t, realserver.NomadOptions{
		Legacy:     true,
		VaultAddr:  v.Addr,
		VaultToken: serverToken,
		VaultBlock: `create_from_role = "nomad-cluster"`,
	})
	t.Logf("servers up after %v", time.Since(start))

	// A legacy job: vault { policies = [...] }, no identity.
	job, err := n.Client(t).Jobs().ParseHCL(`
job "legacy" {
  group "g" {
    task "t" {
      driver = "raw_exec"
      config {
        command = "/bin/sh"
        args    = ["-c", "sleep 600"]
      }
      vault {
        policies = ["default"]
      }
    }
  }
}`, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := n.Client(t).Jobs().Register(job, nil); err != nil {
		t.Fatal(err)
	}
	// Started: the server derived a legacy token for the task, which the
	// upgrade check then lists.
	waitForEvent(t, n.Client(t), "legacy", "Started", 60*time.Second)

	o := Options{
		Vault: vaultConfig(v.Addr), VaultToken: v.RootToken, ServerToken: serverToken,
		Nomad:          &nomadapi.Config{Address: n.Addr},
		RequestTimeout: 5 * time.Second,
	}
	cstart := time.Now()
	w, secrets := Collect(context.Background(), o)
	t.Logf("Collect took %v", time.Since(cstart))
	b, err := json.Marshal(w.Live)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("live: %s", b)

	for _, p := range w.Live.Problems {
		t.Errorf("problem: %+v", p)
	}
	if strings.Contains(string(b), serverToken) || strings.Contains(string(b), v.RootToken) {
		t.Errorf("json.Marshal(world.Live) contains a token")
	}
	if secrets.String(serverToken) != "<redacted>" {
		t.Errorf("server token not registered as a secret")
	}

	tok := w.Live.Vault.ServerToken
	if tok == nil {
		t.Fatal("no server token lookup")
	}
	if !slices.Equal(tok.Policies, []string{"default", "nomad-server"}) || tok.Period != 259200 || tok.CreationTTL != 259200 ||
		tok.TTL <= 0 || tok.TTL > 259200 || !tok.Renewable || !tok.Orphan || tok.Type != "service" ||
		tok.Accessor != created.Auth.Accessor || tok.ExpireTime.IsZero() || tok.IsRoot() {
		t.Errorf("server token: %+v", tok)
	}
	want := map[string][]string{
		"auth/token/create/nomad-cluster": {"update"},
		"auth/token/roles/nomad-cluster":  {"read"},
		"auth/token/lookup-self":          {"read"},
		"auth/token/lookup":               {"update"},
		"auth/token/revoke-accessor":      {"update"},
		"auth/token/renew-self":           {"update"},
		"sys/capabilities-self":           {"update"},
	}
	for path, caps := range want {
		if got := w.Live.Vault.ServerCapabilities[path]; !slices.Equal(got, caps) {
			t.Errorf("capabilities of %s: %v, want %v", path, got, caps)
		}
	}
	if len(w.Live.Vault.ServerCapabilities) != len(want) {
		t.Errorf("capabilities: %v", w.Live.Vault.ServerCapabilities)
	}

	r := w.TokenRole("nomad-cluster")
	if r == nil || r.Ref.Origin != "vault:auth/token/roles/nomad-cluster" || r.TokenPeriod.V != 259200 || r.Period.V != 0 ||
		!slices.Equal(r.DisallowedPolicies.Strings(), []string{"nomad-server"}) || !r.Orphan.V || !r.IsRenewable() {
		t.Errorf("token role: %+v", r)
	}

	if len(w.Agents) != 1 || w.Agents[0].DefaultVault() == nil {
		t.Fatalf("agents: %+v", w.Agents)
	}
	dv := w.Agents[0].DefaultVault()
	if dv.CreateFromRole.V != "nomad-cluster" || !dv.Token.Set || dv.Token.V != "" || dv.Token.Known || dv.Address.V != v.Addr ||
		!dv.AllowUnauthenticated.IsKnown() || !dv.AllowsUnauthenticated() || dv.DefaultIdentity != nil {
		t.Errorf("agent vault: %+v", dv)
	}

	l := w.Live.Nomad
	if l.Version != realserver.NomadLegacyVersion || l.LegacyTokens != 1 {
		t.Errorf("nomad: version %q legacy tokens %d", l.Version, l.LegacyTokens)
	}
	if len(l.Nodes) != 1 || l.Nodes[0].VaultAttrs["vault.accessible"] != "true" || l.Nodes[0].Version != realserver.NomadLegacyVersion {
		t.Errorf("nodes: %+v", l.Nodes)
	}
	if len(w.Jobs) != 1 {
		t.Fatalf("jobs: %+v", w.Jobs)
	}
	// The running task and when it started: a task logs in at its start.
	if rt := l.RunningTasks; len(rt) != 1 || rt[0].JobID != "legacy" || rt[0].Task != "t" || rt[0].TaskGroup != "g" ||
		rt[0].StartedAt.Before(start) || rt[0].StartedAt.After(time.Now()) {
		t.Errorf("running tasks: %+v", rt)
	}
	task := w.Jobs[0].Groups[0].Tasks[0]
	if task.Vault == nil || !slices.Equal(task.Vault.Policies.Strings(), []string{"default"}) || task.VaultIdentity("default") != nil {
		t.Errorf("legacy job task: vault %+v identities %+v", task.Vault, task.Identities)
	}
}
