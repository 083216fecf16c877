package cli_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// A Vault Enterprise's namespaces, which Vault CE lacks: each
// X-Vault-Namespace sees its own JWT auth method, role and policy, all
// of the same names.
func namespacedVault(t *testing.T, rootWithoutJWT bool) (addr string, seen func() []string) {
	var mu sync.Mutex
	var got []string
	data := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"data": v})
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ns := strings.Trim(r.Header.Get("X-Vault-Namespace"), "/")
		path := r.URL.Path
		if r.URL.Query().Get("list") == "true" {
			path = "LIST " + path
		}
		mu.Lock()
		got = append(got, ns+" "+path)
		mu.Unlock()
		if ns != "" && ns != "team-a" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"errors":["no handler for route"]}`))
			return
		}
		switch path {
		case "/v1/sys/health":
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"initialized": true, "version": "1.21.4+ent"})
		case "/v1/sys/auth":
			if ns == "" && rootWithoutJWT {
				data(w, map[string]any{"token/": map[string]any{"type": "token", "accessor": "auth_token_root"}})
				return
			}
			data(w, map[string]any{"jwt-nomad/": map[string]any{"type": "jwt", "accessor": "auth_jwt_" + ns}})
		case "/v1/sys/mounts":
			data(w, map[string]any{"kv/": map[string]any{"type": "kv", "options": map[string]string{"version": "2"}}})
		case "LIST /v1/sys/policies/acl":
			data(w, map[string]any{"keys": []string{"app"}})
		case "/v1/sys/policies/acl/app":
			data(w, map[string]any{"name": "app", "policy": `path "kv/data/app/*" { capabilities = ["read"] }`})
		case "/v1/auth/jwt-nomad/config":
			data(w, map[string]any{"jwks_url": "http://" + r.Host + "/jwks"})
		case "/jwks":
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"keys":[]}`))
		case "LIST /v1/auth/jwt-nomad/role":
			data(w, map[string]any{"keys": []string{"nomad-workloads"}})
		case "/v1/auth/jwt-nomad/role/nomad-workloads":
			data(w, map[string]any{"role_type": "jwt", "bound_audiences": []string{"vault.io"}, "user_claim": "nomad_job_id", "token_policies": []string{"app"}})
		default:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"errors":[]}`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
}

// TestDoctorVaultNamespace: the namespace of an agent config's vault
// block is read with its header; its objects, named as the root
// namespace's, are not taken for duplicates, and a snapshot keeps them
// apart.
func TestDoctorVaultNamespace(t *testing.T) {
	addr, seen := namespacedVault(t, false)
	dir := t.TempDir()
	agent := filepath.Join(dir, "client.hcl")
	must(t, os.WriteFile(agent, []byte(`client { enabled = true }
vault {
  enabled   = true
  address   = "`+addr+`"
  namespace = "team-a"
}
`), 0o600))
	snap := filepath.Join(dir, "snap.json")
	env := map[string]string{"VAULT_ADDR": addr, "VAULT_TOKEN": "hvs.namespacetoken12345"}
	rep, r := doctor(t, env, "--agent-config", agent, "--save", snap, "--allow-partial")
	noCrash(t, rep)
	var teamA bool
	for _, s := range seen() {
		if s == "team-a LIST /v1/auth/jwt-nomad/role" {
			teamA = true
		}
		if strings.HasPrefix(s, "team-a /v1/sys/health") {
			t.Errorf("sys/health sent with a namespace")
		}
	}
	if !teamA {
		t.Errorf("team-a's JWT roles were not read: %q", seen())
	}
	if rep.has("NV003") || strings.Contains(r.stdout, "defined again") {
		t.Errorf("objects of two namespaces taken for duplicates:\n%s", r.stdout)
	}
	var s struct {
		Objects []struct {
			Kind, Name     string
			VaultNamespace *string `json:"vault_namespace"`
		} `json:"objects"`
	}
	raw, err := os.ReadFile(snap)
	must(t, err)
	must(t, json.Unmarshal(raw, &s))
	byNS := map[string]int{}
	for _, o := range s.Objects {
		if o.VaultNamespace == nil {
			t.Errorf("snapshot object %s %s has no namespace", o.Kind, o.Name)
			continue
		}
		byNS[*o.VaultNamespace]++
	}
	if byNS[""] != 3 || byNS["team-a"] != 3 {
		t.Errorf("snapshot objects by namespace %v, want a policy, config and role in each", byNS)
	}
	replay, rr := doctor(t, nil, "--from", snap, "--agent-config", agent, "--allow-partial")
	noCrash(t, replay)
	if strings.Contains(rr.stdout, "defined again") {
		t.Errorf("replayed objects of two namespaces taken for duplicates:\n%s", rr.stdout)
	}
}

// TestDoctorUnreadCluster: a Vault cluster an agent config names besides
// the default one is not read, and the verdicts say so, naming it.
func TestDoctorUnreadCluster(t *testing.T) {
	addr, _ := namespacedVault(t, false)
	dir := t.TempDir()
	agent := filepath.Join(dir, "client.hcl")
	must(t, os.WriteFile(agent, []byte(`client { enabled = true }
vault {
  enabled = true
  address = "`+addr+`"
}
vault {
  name    = "payments"
  enabled = true
  address = "https://payments-vault.internal:8200"
}
`), 0o600))
	env := map[string]string{"VAULT_ADDR": addr, "VAULT_TOKEN": "hvs.namespacetoken12345"}
	rep, r := doctor(t, env, "--agent-config", agent)
	noCrash(t, rep)
	if r.code != 1 {
		t.Errorf("exit %d, want 1: a cluster was not checked", r.code)
	}
	var named bool
	for _, v := range rep.Verdicts {
		if v.Area == "Workload identity" {
			named = v.Status == "not checked" && strings.Contains(v.Detail, "cluster payments: not read: pass --vault payments=https://payments-vault.internal:8200 --vault-token-file payments=FILE")
			if !named {
				t.Errorf("verdict %+v does not say cluster payments was not read", v)
			}
		}
	}
	if !strings.Contains(r.stderr, "not checked") {
		t.Errorf("stderr does not say what was not checked: %s", r.stderr)
	}
}

// TestDoctorVaultNamespaceMount: clients whose vault block names a
// namespace log in at that namespace's JWT mount; the root namespace
// having none is no error, and the namespace's mount is checked.
func TestDoctorVaultNamespaceMount(t *testing.T) {
	addr, _ := namespacedVault(t, true)
	dir := t.TempDir()
	write := func(name, ns, path string) string {
		f := filepath.Join(dir, name)
		must(t, os.WriteFile(f, []byte(`client { enabled = true }
vault {
  enabled               = true
  address               = "`+addr+`"
  namespace             = "`+ns+`"
  jwt_auth_backend_path = "`+path+`"
}
`), 0o600))
		return f
	}
	env := map[string]string{"VAULT_ADDR": addr, "VAULT_TOKEN": "hvs.namespacetoken12345"}
	rep, r := doctor(t, env, "--agent-config", write("good.hcl", "team-a", "jwt-nomad"), "--allow-partial")
	noCrash(t, rep)
	if rep.has("NV632") {
		t.Errorf("NV632 for a mount that exists in the clients' namespace:\n%s", r.stdout)
	}
	rep, r = doctor(t, env, "--agent-config", write("bad.hcl", "team-a", "jwt"), "--allow-partial")
	var msg string
	for _, f := range rep.Findings {
		if f.Rule == "NV632" {
			msg = f.Message
		}
	}
	if !strings.Contains(msg, "auth/jwt/login") || !strings.Contains(msg, "in Vault namespace team-a") || !strings.Contains(msg, "JWT mounts: jwt-nomad") {
		t.Errorf("NV632 %q does not name the namespace and its mounts:\n%s", msg, r.stdout)
	}
}
