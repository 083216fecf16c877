package live

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"
	vaultapi "github.com/hashicorp/vault/api"

	"github.com/nvlint/nvlint/checks"
	"github.com/nvlint/nvlint/forecast"
	"github.com/nvlint/nvlint/internal/realserver"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// leaseNomad is a Nomad that runs job app, whose task logs in to Vault
// cluster cluster and renders database credentials (change_mode noop)
// and a certificate (restart), started at started.
func leaseNomad(started time.Time, cluster string) *fake {
	n := fakeNomad()
	job := map[string]any{"ID": "app", "Name": "app", "Namespace": "default", "Type": "service",
		"TaskGroups": []any{map[string]any{"Name": "g", "Tasks": []any{map[string]any{
			"Name": "app", "Driver": "raw_exec", "Vault": map[string]any{"Cluster": cluster},
			"Templates": []any{
				map[string]any{"EmbeddedTmpl": `{{ with secret "database/creds/app" }}{{ .Data.password }}{{ end }}`, "DestPath": "secrets/db.txt", "ChangeMode": "noop"},
				map[string]any{"EmbeddedTmpl": `{{ with secret "pki/issue/web" "common_name=web.example.com" }}{{ .Data.certificate }}{{ end }}`, "DestPath": "secrets/cert.pem"},
			},
		}}}}}
	n.routes["GET /v1/agent/members"] = jsonBody(map[string]any{"Members": []any{}})
	n.routes["GET /v1/nodes"] = jsonBody([]any{})
	n.routes["GET /v1/jobs"] = jsonBody([]any{map[string]any{"ID": "app", "Namespace": "default"}})
	n.routes["GET /v1/job/app"] = jsonBody(job)
	n.routes["GET /v1/allocations"] = jsonBody([]any{map[string]any{
		"ID": "a1c1e2f0-0000-4000-8000-000000000001", "JobID": "app", "Namespace": "default", "TaskGroup": "g",
		"TaskStates": map[string]any{"app": map[string]any{"State": "running", "StartedAt": started.Format(time.RFC3339Nano)}},
	}})
	return n
}

// leaseVault is a real Vault with a database role app (default_ttl 10m,
// max_ttl 3h, on a mount whose max_lease_ttl is 2h) and a PKI role web
// (max_ttl 1h, generate_lease, on a mount whose default_lease_ttl is
// 30m).
func leaseVault(t *testing.T) (*realserver.Vault, *vaultapi.Client) {
	t.Helper()
	v := realserver.StartVault(t)
	vc := v.Client(t)
	for path, in := range map[string]*vaultapi.MountInput{
		"database": {Type: "database", Config: vaultapi.MountConfigInput{MaxLeaseTTL: "2h"}},
		"pki":      {Type: "pki", Config: vaultapi.MountConfigInput{DefaultLeaseTTL: "30m"}},
	} {
		if err := vc.Sys().Mount(path, in); err != nil {
			t.Fatal(err)
		}
	}
	// No database (the test Vault is built without database plugins):
	// the role is only read, never used, and Vault stores it without
	// its connection.
	write(t, vc, "database/roles/app", map[string]any{
		"db_name": "db", "creation_statements": "CREATE ROLE \"{{name}}\";", "default_ttl": "10m", "max_ttl": "3h",
	})
	write(t, vc, "pki/root/generate/internal", map[string]any{"common_name": "example.com", "ttl": "24h"})
	write(t, vc, "pki/roles/web", map[string]any{"allowed_domains": "example.com", "allow_subdomains": true, "max_ttl": "1h", "generate_lease": true})
	return v, vc
}

// TestLeaseRolesOtherCluster reads the roles of a task that logs in to
// Vault cluster payments (doctor --vault payments=ADDR, a real Vault)
// there, and forecasts from them in that cluster's name; the default
// cluster, which has no such roles, is not asked.
func TestLeaseRolesOtherCluster(t *testing.T) {
	pay, _ := leaseVault(t)
	def := realserver.StartVault(t)
	started := time.Now().Add(-10 * time.Minute).UTC().Truncate(time.Second)
	ns := httptest.NewServer(leaseNomad(started, "payments"))
	defer ns.Close()
	w, _ := Collect(context.Background(), Options{
		Vault: vaultConfig(def.Addr), VaultToken: def.RootToken, Nomad: &nomadapi.Config{Address: ns.URL}, RequestTimeout: 5 * time.Second,
		VaultClusters: []VaultCluster{{Name: "payments", Config: vaultConfig(pay.Addr), Token: pay.RootToken}},
	})
	for _, p := range w.Live.Problems {
		if p.Area == "vault" {
			t.Errorf("problem: %+v", p)
		}
	}
	if n := len(w.Live.Vault.LeaseRoles) + len(w.Live.Vault.LeaseMounts); n > 0 {
		t.Errorf("the default cluster was asked for payments' roles: %+v %+v", w.Live.Vault.LeaseRoles, w.Live.Vault.LeaseMounts)
	}
	pv := w.Live.VaultOf("payments")
	if pv == nil || pv.LeaseRole("database", "app") == nil || pv.LeaseRole("pki", "web") == nil || pv.LeaseMount("pki") == nil {
		t.Fatalf("payments' roles and tuning not read: %+v", pv)
	}
	var names []string
	for _, l := range forecast.Leases(w) {
		names = append(names, l.Name)
	}
	if strings.Join(names, " ") != "payments:database/app payments:pki/web" {
		t.Errorf("forecasts named %q, want each named for its cluster (a metric series each)", names)
	}
	var nv626 []string
	for _, f := range rules.Run(w, checks.All()).Findings {
		if f.Rule.ID == "NV626" {
			nv626 = append(nv626, f.Message)
		}
	}
	if len(nv626) != 2 || !strings.HasPrefix(nv626[0], "database role app (mount database) renews credentials up to 2h") || !strings.HasSuffix(nv626[0], "(vault cluster payments)") ||
		!strings.HasPrefix(nv626[1], "PKI role web (mount pki) issues certificates for 30m") || !strings.HasSuffix(nv626[1], "(vault cluster payments)") {
		t.Errorf("NV626 findings: %q", nv626)
	}
}

// TestLeaseRolesFromVault reads a real Vault's database and PKI roles
// and their mounts' tuning for a task (of a fake Nomad) whose templates
// use them, with a token holding exactly the policy --print-policy
// prints, and checks the forecasts made from them; then with a token
// that may not read a role (a problem, no forecast) or the tuning (the
// forecast says what it assumed).
func TestLeaseRolesFromVault(t *testing.T) {
	v, vc := leaseVault(t)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	started := time.Now().Add(-10 * time.Minute).UTC().Truncate(time.Second)
	ns := httptest.NewServer(leaseNomad(started, "default"))
	defer ns.Close()
	token := func(policy string) string {
		t.Helper()
		must(vc.Sys().PutPolicy("doctor", policy))
		s := write(t, vc, "auth/token/create", map[string]any{"policies": []string{"doctor"}, "ttl": "10m"})
		return s.Auth.ClientToken
	}
	collect := func(tok string) *world.World {
		t.Helper()
		w, _ := Collect(context.Background(), Options{
			Vault: vaultConfig(v.Addr), VaultToken: tok, Nomad: &nomadapi.Config{Address: ns.URL}, RequestTimeout: 5 * time.Second,
		})
		return w
	}

	w := collect(token(VaultPolicy()))
	for _, p := range w.Live.Problems {
		if p.Area == "vault" {
			t.Errorf("problem: %+v", p)
		}
	}
	lv := w.Live.Vault
	// The database mount's max (2h) lowers the role's max_ttl (3h); the
	// PKI mount's default (30m) is the certificate's TTL, under the
	// role's max_ttl (1h).
	if r := lv.LeaseRole("database", "app"); r == nil || r.Type != "database" || r.TTL != 600 || r.MaxTTL != 3*3600 {
		t.Errorf("database role: %+v", r)
	}
	if r := lv.LeaseRole("pki", "web"); r == nil || r.Type != "pki" || r.TTL != 0 || r.MaxTTL != 3600 || !r.GenerateLease {
		t.Errorf("pki role: %+v", r)
	}
	if m := lv.LeaseMount("database"); m == nil || m.MaxLeaseTTL != 2*3600 || m.DefaultLeaseTTL != 768*3600 || m.TuneError != "" {
		t.Errorf("database tuning: %+v", m)
	}
	if m := lv.LeaseMount("pki"); m == nil || m.MaxLeaseTTL != 768*3600 || m.DefaultLeaseTTL != 1800 {
		t.Errorf("pki tuning: %+v", m)
	}
	got := map[string]forecast.Lease{}
	for _, l := range forecast.Leases(w) {
		got[l.Name] = l
	}
	if l := got["database/app"]; !l.Stale || l.Kind != forecast.KindLeaseRevoked || l.Life != 2*time.Hour || !l.At.Equal(started.Add(2*time.Hour)) || l.Assumed != "" {
		t.Errorf("database forecast: %+v", l)
	}
	if l := got["pki/web"]; l.Stale || l.Kind != forecast.KindLease || l.Life != 30*time.Minute || !l.At.Equal(started.Add(27*time.Minute)) || l.Assumed != "" {
		t.Errorf("pki forecast: %+v", l)
	}
	var nv626 []string
	for _, f := range rules.Run(w, checks.All()).Findings {
		if f.Rule.ID == "NV626" {
			nv626 = append(nv626, f.Severity.String()+" "+f.Message)
		}
	}
	t.Logf("NV626: %q", nv626)
	if len(nv626) != 2 || !strings.HasPrefix(nv626[0], "error database role app (mount database) renews credentials up to 2h (the mount's max_lease_ttl)") ||
		!strings.HasPrefix(nv626[1], "error PKI role web (mount pki) issues certificates for 30m (the mount's default_lease_ttl)") {
		t.Errorf("NV626 findings: %q", nv626)
	}

	// Without the roles: a problem each, and no forecast.
	weak := strings.Replace(VaultPolicy(), "path \"database/roles/+\" {\n  capabilities = [\"read\"]\n}\n", "", 1)
	w = collect(token(weak))
	var problems []string
	for _, p := range w.Live.Problems {
		if p.Area == "vault" {
			problems = append(problems, p.What+": "+p.Reason)
			if len(p.Areas) != 0 {
				t.Errorf("a role unread leaves %v unchecked", p.Areas)
			}
		}
	}
	if len(problems) != 1 || problems[0] != "database/roles/app: 403 permission denied" {
		t.Errorf("problems: %q", problems)
	}
	for _, l := range forecast.Leases(w) {
		if l.Use.Engine == "database" {
			t.Errorf("database forecast without its role: %+v", l)
		}
	}

	// Without the tuning: the mount table's own settings, and Vault's
	// default for the rest, said so.
	weak = strings.Replace(VaultPolicy(), "path \"sys/mounts/pki/tune\" {\n  capabilities = [\"read\"]\n}\n", "", 1)
	w = collect(token(weak))
	for _, p := range w.Live.Problems {
		if p.Area == "vault" {
			t.Errorf("problem: %+v", p)
		}
	}
	for _, l := range forecast.Leases(w) {
		if l.Name == "pki/web" && (l.Life != 30*time.Minute || l.Assumed != "") {
			t.Errorf("pki forecast on the mount table: %+v", l)
		}
	}
	if m := w.Live.Vault.LeaseMount("pki"); m == nil || !strings.Contains(m.TuneError, "sys/mounts/pki/tune: 403 permission denied") {
		t.Errorf("pki tuning: %+v", m)
	}
	system := "system"
	must(vc.Sys().TuneMountAllowNil("pki", vaultapi.TuneMountConfigInput{DefaultLeaseTTL: &system}))
	w = collect(token(weak))
	for _, l := range forecast.Leases(w) {
		if l.Name == "pki/web" && (l.Life != time.Hour || l.From != "max_ttl" || !strings.Contains(l.Assumed, "default_lease_ttl of 768h for mount pki")) {
			t.Errorf("pki forecast on Vault's default: %+v", l)
		}
	}
}
