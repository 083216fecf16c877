package live

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/nvlint/nvlint/inputs"
	"github.com/nvlint/nvlint/world"
)

// TestNoteUnreadClusters: each cluster a job picks besides the default
// is one problem naming it and its jobs; the default cluster is none.
func TestNoteUnreadClusters(t *testing.T) {
	w := &world.World{Live: &world.Live{Vault: &world.VaultLive{Addr: "http://127.0.0.1:8200"}}}
	for _, job := range []string{
		`{"ID":"pay","TaskGroups":[{"Name":"g","Tasks":[{"Name":"t","Vault":{"Cluster":"payments","Role":"r"}}]}]}`,
		`{"ID":"web","TaskGroups":[{"Name":"g","Tasks":[{"Name":"t","Vault":{"Cluster":"default","Role":"r"}}]}]}`,
		`{"ID":"api","TaskGroups":[{"Name":"g","Tasks":[{"Name":"t","Vault":{"Role":"r"}}]}]}`,
	} {
		if err := inputs.LiveObject(w, world.KindJobspec, "", "nomad:/v1/job", []byte(job)); err != nil {
			t.Fatal(err)
		}
	}
	NoteUnreadClusters(w)
	if len(w.Live.Problems) != 1 {
		t.Fatalf("problems %+v, want one for cluster payments", w.Live.Problems)
	}
	p := w.Live.Problems[0]
	if p.What != "cluster payments" || !strings.Contains(p.Reason, "job pay") || strings.Contains(p.Reason, "web") ||
		!strings.Contains(p.Reason, "not read: pass --vault payments=URL --vault-token-file payments=FILE; used by job pay") || len(p.Areas) == 0 {
		t.Errorf("problem %+v", p)
	}

	// A cluster that was read is no problem; the default one, when only
	// another was read, is.
	w.Live = &world.Live{VaultClusters: []*world.VaultLive{{Cluster: "payments", Addr: "http://127.0.0.1:8300"}}}
	NoteUnreadClusters(w)
	if len(w.Live.Problems) != 1 || w.Live.Problems[0].What != "cluster default" || !strings.Contains(w.Live.Problems[0].Reason, "VAULT_ADDR") {
		t.Errorf("payments read, default not: problems %+v", w.Live.Problems)
	}
	// Given no Vault at all, the default cluster was not asked for.
	w.Live = &world.Live{}
	NoteUnreadClusters(w)
	if len(w.Live.Problems) != 1 || w.Live.Problems[0].What != "cluster payments" {
		t.Errorf("no Vault: problems %+v", w.Live.Problems)
	}
}

// TestVaultClusters: a cluster given besides the default one is read as
// it is, with its own token; what each holds is tagged with its cluster,
// and a failed read names the cluster and leaves the legacy flow, which
// is the default cluster's alone, checked.
func TestVaultClusters(t *testing.T) {
	health := jsonBody(map[string]any{"initialized": true, "sealed": false, "standby": false, "version": "1.21.4"})
	def := &fake{routes: jwtMountIn("default", "vault.io")}
	def.routes["GET /v1/sys/health"] = health
	pay := &fake{routes: jwtMountIn("payments", "payments.vault.io")}
	pay.routes["GET /v1/sys/health"] = health
	pay.routes["LIST /v1/sys/policies/acl"] = vaultData(map[string]any{"keys": []string{"app", "forbidden-x"}})
	var mu sync.Mutex
	tokens := map[string]bool{}
	payments := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		tokens[r.Header.Get("X-Vault-Token")] = true
		mu.Unlock()
		pay.ServeHTTP(w, r)
	}))
	defer payments.Close()
	vs := httptest.NewServer(def)
	defer vs.Close()

	o := options(vs.URL, "")
	o.Nomad, o.ServerToken = nil, ""
	pcfg := vaultapi.DefaultConfig()
	pcfg.Address = payments.URL
	o.VaultClusters = []VaultCluster{{Name: "payments", Config: pcfg, Token: "hvs.payments-token-for-tests"}}
	w, secrets := Collect(context.Background(), o)

	var roles []string
	for _, r := range w.JWTRoles {
		roles = append(roles, r.Cluster.V+" "+r.Ref.Origin+" "+strings.Join(r.BoundAudiences.Strings(), ","))
	}
	want := []string{
		"default vault:auth/jwt-nomad/role/nomad-workloads vault.io",
		"payments vault[payments]:auth/jwt-nomad/role/nomad-workloads payments.vault.io",
	}
	if !slices.Equal(roles, want) {
		t.Errorf("JWT roles %q, want %q", roles, want)
	}
	at := world.InCluster("payments")
	if r := w.JWTRoleIn(at, "nomad-workloads"); r == nil || !r.BoundAudiences.Contains("payments.vault.io") {
		t.Errorf("JWTRoleIn(payments) = %+v", r)
	}
	if c := w.NomadAuthConfigIn(at); c == nil || c.Cluster.V != "payments" {
		t.Errorf("NomadAuthConfigIn(payments) = %+v", c)
	}
	if p := w.PolicyIn(world.InCluster("default"), "app"); p == nil || p.Cluster.V != "default" {
		t.Errorf("PolicyIn(default) = %+v", p)
	}
	pl := w.Live.VaultOf("payments")
	if pl == nil || pl.Health == nil || len(pl.AuthMounts) != 1 || pl.AuthMounts[0].Accessor != "auth_jwt_payments" {
		t.Fatalf("payments' live state %+v", pl)
	}
	if w.Live.Vault.AuthMounts[0].Accessor != "auth_jwt_default" {
		t.Errorf("default's auth mounts %+v", w.Live.Vault.AuthMounts)
	}
	// sys/health goes without a token; everything else with payments'.
	delete(tokens, "")
	if len(tokens) != 1 || !tokens["hvs.payments-token-for-tests"] {
		t.Errorf("payments was sent tokens %v, want its own alone", tokens)
	}
	var denied *world.Problem
	for i, p := range w.Live.Problems {
		if strings.HasPrefix(p.What, "sys/policies/acl/forbidden-x") {
			denied = &w.Live.Problems[i]
		}
	}
	if denied == nil || denied.What != "sys/policies/acl/forbidden-x (vault cluster payments)" || denied.Cluster != "payments" ||
		slices.Contains(denied.Areas, world.AreaLegacy) || !slices.Contains(denied.Areas, world.AreaPolicies) {
		t.Errorf("payments' denied read: %+v (all: %+v)", denied, w.Live.Problems)
	}
	if got := secrets.String("x hvs.payments-token-for-tests x"); strings.Contains(got, "payments-token") {
		t.Errorf("payments' token is not a secret: %s", got)
	}
}
