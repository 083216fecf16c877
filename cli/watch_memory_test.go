package cli

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// snapshotServer answers as a Vault and a Nomad holding one small setup
// (the answers a real pair gave, trimmed), the same every time: what a
// long watch keeps reading.
func snapshotServer(t testing.TB) *httptest.Server {
	data := func(v any) any { return map[string]any{"data": v} }
	answers := map[string]any{
		"GET /v1/sys/health": map[string]any{"initialized": true, "sealed": false, "standby": false, "version": "1.21.4"},
		"GET /v1/sys/auth": data(map[string]any{
			"token/":     map[string]any{"type": "token", "accessor": "auth_token_1"},
			"jwt-nomad/": map[string]any{"type": "jwt", "accessor": "auth_jwt_2"},
		}),
		"GET /v1/sys/mounts":                       data(map[string]any{"secret/": map[string]any{"type": "kv", "options": map[string]string{"version": "2"}}}),
		"LIST /v1/sys/policies/acl":                data(map[string]any{"keys": []string{"default", "nomad-workloads", "nomad-server"}}),
		"GET /v1/sys/policies/acl/default":         data(map[string]any{"policy": `path "auth/token/lookup-self" { capabilities = ["read"] }`}),
		"GET /v1/sys/policies/acl/nomad-workloads": data(map[string]any{"policy": `path "secret/data/{{identity.entity.aliases.auth_jwt_2.metadata.nomad_namespace}}/*" { capabilities = ["read"] }`}),
		"GET /v1/sys/policies/acl/nomad-server":    data(map[string]any{"policy": `path "auth/token/create/nomad-cluster" { capabilities = ["update"] }`}),
		"LIST /v1/auth/token/roles":                data(map[string]any{"keys": []string{"nomad-cluster"}}),
		"GET /v1/auth/token/roles/nomad-cluster":   data(map[string]any{"name": "nomad-cluster", "orphan": true, "renewable": true, "token_period": 259200, "disallowed_policies": []string{"nomad-server"}}),
		"GET /v1/auth/jwt-nomad/config":            data(map[string]any{"jwks_url": "http://127.0.0.1:1/.well-known/jwks.json", "jwt_supported_algs": []string{"RS256", "EdDSA"}, "default_role": "nomad-workloads"}),
		"LIST /v1/auth/jwt-nomad/role":             data(map[string]any{"keys": []string{"nomad-workloads"}}),
		"GET /v1/auth/jwt-nomad/role/nomad-workloads": data(map[string]any{
			"role_type": "jwt", "bound_audiences": []string{"vault.io"}, "user_claim": "/nomad_job_id", "user_claim_json_pointer": true,
			"claim_mappings": map[string]string{"nomad_namespace": "nomad_namespace", "nomad_job_id": "nomad_job_id"},
			"token_type":     "service", "token_policies": []string{"nomad-workloads"}, "token_period": 1800,
		}),
		"GET /v1/auth/token/lookup-self": data(map[string]any{
			"id": "hvs.server-token-for-memory", "policies": []string{"default", "nomad-server"}, "ttl": 3600, "creation_ttl": 7200,
			"renewable": true, "orphan": true, "type": "service", "creation_time": time.Now().Add(-time.Hour).Unix(),
		}),
		"GET /v1/sys/auth/token/tune":    data(map[string]any{"max_lease_ttl": 2764800}),
		"POST /v1/sys/capabilities-self": map[string]any{"capabilities": []string{"update"}},
		"GET /v1/agent/self": map[string]any{
			"config": map[string]any{"Server": map[string]any{"Enabled": true}, "Client": map[string]any{"Enabled": true},
				"Vaults": []any{map[string]any{"Name": "default", "Enabled": true, "Addr": "http://vault:8200"}}},
			"member": map[string]any{"Name": "s1.global", "Tags": map[string]string{"build": "1.10.5", "region": "global"}},
		},
		"GET /v1/agent/members": map[string]any{"Members": []any{map[string]any{"Name": "s1.global", "Tags": map[string]string{"build": "1.10.5", "region": "global"}, "Status": "alive"}}},
		"GET /v1/nodes":         []any{map[string]any{"ID": "n1", "Name": "c1", "Status": "ready", "Version": "1.10.5"}},
		"GET /v1/node/n1":       map[string]any{"ID": "n1", "Name": "c1", "Status": "ready", "Attributes": map[string]string{"nomad.version": "1.10.5"}},
		"GET /v1/jobs":          []any{map[string]any{"ID": "web", "Namespace": "default"}},
		"GET /v1/job/web": map[string]any{"ID": "web", "Name": "web", "Namespace": "default", "Type": "service",
			"TaskGroups": []any{map[string]any{"Name": "g", "Tasks": []any{map[string]any{"Name": "t", "Driver": "docker", "Vault": map[string]any{"Role": "nomad-workloads"}}}}}},
		"GET /v1/job/web/allocations": []any{},
		"GET /.well-known/jwks.json":  map[string]any{"keys": []any{}},
	}
	bodies := map[string][]byte{}
	for k, v := range answers {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		bodies[k] = b
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method := r.Method
		if r.URL.Query().Get("list") == "true" {
			method = "LIST"
		}
		b, ok := bodies[method+" "+r.URL.Path]
		if !ok {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"errors":[]}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestWatchMemoryIsFlat makes 1,000 watch runs against the same answers
// and checks that the live heap after the last is what it was after the
// first hundred: nothing a run makes outlives it (findings, label sets,
// secrets, connections).
func TestWatchMemoryIsFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 doctor runs")
	}
	srv := snapshotServer(t)
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	t.Setenv("VAULT_TOKEN", "hvs.doctor-token-for-memory")
	for _, k := range []string{"VAULT_ADDR", "VAULT_AGENT_ADDR", "VAULT_NAMESPACE", "NOMAD_ADDR", "NOMAD_TOKEN", "NOMAD_REGION", "NOMAD_NAMESPACE"} {
		t.Setenv(k, "")
	}
	tokenFile := dir + "/server-token"
	if err := os.WriteFile(tokenFile, []byte("hvs.server-token-for-memory"), 0o600); err != nil {
		t.Fatal(err)
	}
	f := &doctorFlags{
		vaultAddr: srv.URL, nomadAddr: srv.URL, serverTokenF: tokenFile,
		timeout: 5 * time.Second, deadline: 30 * time.Second, interval: time.Millisecond, logFormat: "text",
	}
	w, code := newWatcher(f, Env{Stderr: io.Discard, Dir: dir, Getenv: func(string) string { return "" }}, io.Discard)
	if w == nil {
		t.Fatalf("newWatcher: exit %d", code)
	}
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	ctx := context.Background()
	w.RunOnce(ctx)
	// The runs do the whole work: every area checked.
	rec := httptest.NewRecorder()
	w.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, area := range []string{"Vault", "Nomad", "Legacy token flow", "Workload identity", "Jobs", "Policies"} {
		if want := `nvlint_area_checked{area="` + area + `",region="global"} 1`; !strings.Contains(rec.Body.String(), want) {
			t.Fatalf("no %s in:\n%s", want, rec.Body.String())
		}
	}
	for range 99 {
		w.RunOnce(ctx)
	}
	before := heap()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	mallocs := ms.Mallocs
	for range 900 {
		w.RunOnce(ctx)
	}
	after := heap()
	runtime.ReadMemStats(&ms)
	perRun := (ms.Mallocs - mallocs) / 900
	t.Logf("live heap after 100 runs %d KiB, after 1,000 %d KiB; %d allocations per run", before/1024, after/1024, perRun)
	// A run's garbage is collected; what stays is the last run's outcome
	// and the metrics. 1 MiB is far below what 900 runs would keep if
	// each kept even one world (tens of KiB here).
	if after > before+1<<20 {
		t.Errorf("live heap grew from %d KiB to %d KiB over 900 runs", before/1024, after/1024)
	}
}
