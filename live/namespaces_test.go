package live

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/nvlint/nvlint/internal/realserver"
	"github.com/nvlint/nvlint/world"
)

// nsVault answers as a Vault Enterprise with namespaces does: each
// X-Vault-Namespace sees its own auth mounts, roles and policies. Vault
// CE has no namespaces, so this cannot be a real server.
type nsVault struct {
	byNS map[string]*fake
	mu   sync.Mutex
	seen []string // "namespace METHOD /path"
}

func (v *nsVault) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ns := strings.Trim(r.Header.Get("X-Vault-Namespace"), "/")
	method := r.Method
	if r.URL.Query().Get("list") == "true" {
		method = "LIST"
	}
	v.mu.Lock()
	v.seen = append(v.seen, ns+" "+method+" "+r.URL.Path)
	v.mu.Unlock()
	f := v.byNS[ns]
	if f == nil {
		status(http.StatusNotFound, `{"errors":["no handler for route"]}`)(w, r)
		return
	}
	f.ServeHTTP(w, r)
}

func jwtMountIn(ns, aud string) map[string]http.HandlerFunc {
	const policy = "app"
	const role = "nomad-workloads"
	return map[string]http.HandlerFunc{
		"GET /v1/sys/auth": vaultData(map[string]any{
			"jwt-nomad/": map[string]any{"type": "jwt", "accessor": "auth_jwt_" + ns},
		}),
		"GET /v1/auth/jwt-nomad/config": vaultData(map[string]any{"jwt_validation_pubkeys": []string{}, "bound_issuer": ""}),
		"LIST /v1/auth/jwt-nomad/role":  vaultData(map[string]any{"keys": []string{role}}),
		"GET /v1/auth/jwt-nomad/role/" + role: vaultData(map[string]any{
			"role_type": "jwt", "bound_audiences": []string{aud}, "user_claim": "/nomad_job_id", "token_policies": []string{policy},
		}),
		"LIST /v1/sys/policies/acl":            vaultData(map[string]any{"keys": []string{policy}}),
		"GET /v1/sys/policies/acl/" + policy:   vaultData(map[string]any{"name": policy, "policy": `path "kv/data/` + ns + `/*" { capabilities = ["read"] }`}),
		"GET /v1/sys/policies/acl/forbidden-x": status(403, `{"errors":["permission denied"]}`),
	}
}

func newNSVault() *nsVault {
	root := &fake{routes: jwtMountIn("root", "vault.io")}
	root.routes["GET /v1/sys/health"] = jsonBody(map[string]any{"initialized": true, "sealed": false, "standby": false, "version": "1.21.4+ent"})
	root.routes["GET /v1/sys/mounts"] = vaultData(map[string]any{})
	teamA := &fake{routes: jwtMountIn("team-a", "team-a.vault.io")}
	// team-a's token may list its policies but not read one of them.
	teamA.routes["LIST /v1/sys/policies/acl"] = vaultData(map[string]any{"keys": []string{"app", "forbidden-x"}})
	return &nsVault{byNS: map[string]*fake{"": root, "team-a": teamA}}
}

// TestVaultNamespaces: the namespaces named are read with their header,
// what each holds is tagged with it, and a failed read there names it.
func TestVaultNamespaces(t *testing.T) {
	v := newNSVault()
	vs := httptest.NewServer(v)
	defer vs.Close()
	o := options(vs.URL, "")
	o.Nomad, o.ServerToken = nil, ""
	o.VaultNamespaces = []string{"team-a/", "missing"}
	w, _ := Collect(context.Background(), o)

	var roles []string
	for _, r := range w.JWTRoles {
		if !r.Namespace.IsKnown() {
			t.Errorf("JWT role %s on %s has no namespace", r.Ref.Name, r.Mount)
		}
		roles = append(roles, r.Namespace.V+":"+r.Mount+"/"+r.Ref.Name+" "+strings.Join(r.BoundAudiences.Strings(), ","))
	}
	slices.Sort(roles)
	want := []string{":jwt-nomad/nomad-workloads vault.io", "team-a:jwt-nomad/nomad-workloads team-a.vault.io"}
	if !slices.Equal(roles, want) {
		t.Errorf("JWT roles %q, want %q", roles, want)
	}
	var policies []string
	for _, p := range w.Policies {
		policies = append(policies, p.Namespace.V+":"+p.Name())
	}
	slices.Sort(policies)
	if want := []string{":app", "team-a:app"}; !slices.Equal(policies, want) {
		t.Errorf("policies %q, want %q", policies, want)
	}
	if len(w.JWTConfigs) != 2 {
		t.Errorf("%d JWT configs, want one per namespace", len(w.JWTConfigs))
	}
	// The second namespace's objects are found where a job of it looks.
	teamA := world.Str{V: "team-a", Set: true, Known: true}
	if r := w.JWTRoleIn(world.Place{Namespace: teamA}, "nomad-workloads"); r == nil || !r.BoundAudiences.Contains("team-a.vault.io") {
		t.Errorf("JWTRoleIn(team-a) = %+v", r)
	}
	if c := w.NomadAuthConfigIn(world.Place{Namespace: teamA}); c == nil || c.Namespace.V != "team-a" {
		t.Errorf("NomadAuthConfigIn(team-a) = %+v", c)
	}

	got := map[string]world.Problem{}
	for _, p := range w.Live.Problems {
		got[p.What] = p
	}
	p, ok := got["sys/policies/acl/forbidden-x (Vault namespace team-a)"]
	if !ok || !strings.Contains(p.Reason, "403") || !slices.Contains(p.Areas, world.AreaPolicies) {
		t.Errorf("problem of the forbidden read in team-a: %+v (all: %+v)", p, w.Live.Problems)
	}
	if p, ok := got["sys/auth (Vault namespace missing)"]; !ok || !slices.Contains(p.Areas, world.AreaWorkloadIdentity) {
		t.Errorf("problem of the namespace that does not exist: %+v (all: %+v)", p, w.Live.Problems)
	}
	for _, s := range v.seen {
		if strings.HasPrefix(s, "team-a ") && strings.Contains(s, "/sys/health") {
			t.Errorf("sys/health sent with a namespace: %s", s)
		}
	}
	if !slices.Contains(v.seen, "team-a GET /v1/sys/auth") || !slices.Contains(v.seen, "team-a LIST /v1/auth/jwt-nomad/role") {
		t.Errorf("requests %q: team-a's auth methods were not read in team-a", v.seen)
	}
}

// TestVaultNamespacesFromJobs: a job's vault.namespace is read without
// being named.
func TestVaultNamespacesFromJobs(t *testing.T) {
	v := newNSVault()
	vs := httptest.NewServer(v)
	defer vs.Close()
	n := fakeNomad()
	n.routes["GET /v1/agent/members"] = jsonBody(map[string]any{"Members": []any{}})
	n.routes["GET /v1/nodes"] = jsonBody([]any{})
	n.routes["GET /v1/jobs"] = jsonBody([]any{map[string]any{"ID": "web", "Namespace": "default"}})
	n.routes["GET /v1/job/web"] = jsonBody(map[string]any{
		"ID": "web", "Name": "web", "Namespace": "default",
		"TaskGroups": []any{map[string]any{"Name": "g", "Tasks": []any{map[string]any{
			"Name": "t", "Vault": map[string]any{"Role": "nomad-workloads", "Namespace": "team-a", "Cluster": "default"},
		}}}},
	})
	ns := httptest.NewServer(n)
	defer ns.Close()
	o := options(vs.URL, ns.URL)
	o.ServerToken = ""
	w, _ := Collect(context.Background(), o)
	if len(w.Jobs) != 1 {
		t.Fatalf("%d jobs read, want 1 (problems: %+v)", len(w.Jobs), w.Live.Problems)
	}
	if !slices.Contains(v.seen, "team-a LIST /v1/sys/policies/acl") {
		t.Errorf("requests %q: the job's namespace team-a was not read", v.seen)
	}
	if w.JWTRoleIn(world.Place{Namespace: world.Str{V: "team-a", Set: true, Known: true}}, "nomad-workloads").Namespace.V != "team-a" {
		t.Errorf("the job's role is not team-a's")
	}
}

// TestVaultNamespacesCE: Vault CE has no namespaces; it ignores
// X-Vault-Namespace and answers from the root namespace, as it answers
// Nomad's logins. Reading "team-a" there would read the root namespace's
// objects again as team-a's, so doctor reads nothing more and tags
// nothing.
func TestVaultNamespacesCE(t *testing.T) {
	v := realserver.StartVault(t)
	vc := v.Client(t)
	if err := vc.Sys().PutPolicy("app", `path "kv/data/app/*" { capabilities = ["read"] }`); err != nil {
		t.Fatal(err)
	}
	o := options(v.Addr, "")
	o.Nomad, o.ServerToken, o.VaultToken = nil, "", v.RootToken
	o.VaultNamespaces = []string{"team-a"}
	w, _ := Collect(context.Background(), o)
	if len(w.Live.Problems) > 0 {
		t.Errorf("problems: %+v", w.Live.Problems)
	}
	var names []string
	for _, p := range w.Policies {
		names = append(names, p.Name())
		if p.Namespace.Set {
			t.Errorf("policy %s tagged with namespace %q on Vault CE", p.Name(), p.Namespace.V)
		}
	}
	slices.Sort(names)
	if want := []string{"app", "default"}; !slices.Equal(names, want) {
		t.Errorf("policies %q, want %q, each once", names, want)
	}
}

// TestVaultNamespacesOrder: a lookup that names no namespace finds the
// objects of the namespace doctor's token reads in, whatever order the
// reads ended in.
func TestVaultNamespacesOrder(t *testing.T) {
	v := newNSVault()
	vs := httptest.NewServer(v)
	defer vs.Close()
	o := options(vs.URL, "")
	o.Nomad, o.ServerToken = nil, ""
	o.VaultNamespaces = []string{"team-a"}
	for range 5 {
		w, _ := Collect(context.Background(), o)
		if r := w.JWTRoleIn(world.Place{}, "nomad-workloads"); r == nil || r.Namespace.V != "" {
			t.Fatalf("JWTRoleIn(unknown namespace) = %+v, want the root namespace's", r)
		}
		if p := w.PolicyIn(world.Place{}, "app"); p == nil || p.Namespace.V != "" {
			t.Fatalf("PolicyIn(unknown namespace) = %+v, want the root namespace's", p)
		}
	}
}
