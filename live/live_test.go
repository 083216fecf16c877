package live

import (
	"bufio"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"
	vaultapi "github.com/hashicorp/vault/api"

	"github.com/nvlint/nvlint/internal/realserver"
	"github.com/nvlint/nvlint/world"
)

const wiFixtures = "../fixtures/examples/workload-identity"

// fixtureAccessor is the placeholder accessor in the fixture policy.
const fixtureAccessor = "auth_jwt_d34481ad"

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(wiFixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func write(t *testing.T, vc *vaultapi.Client, path string, data map[string]any) *vaultapi.Secret {
	t.Helper()
	s, err := vc.Logical().Write(path, data)
	if err != nil {
		t.Fatalf("vault write %s: %v", path, err)
	}
	return s
}

func writeJSON(t *testing.T, vc *vaultapi.Client, path string, raw []byte) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	write(t, vc, path, m)
}

// registerRawExec parses a fixture jobspec with the Nomad API and
// registers it with raw_exec in place of docker (no Docker here) and
// without networks and services (static ports would collide).
func registerRawExec(t *testing.T, nc *nomadapi.Client, name string) {
	t.Helper()
	if _, _, err := nc.Jobs().Register(rawExecJob(t, nc, name), nil); err != nil {
		t.Fatalf("register %s: %v", name, err)
	}
}

func rawExecJob(t *testing.T, nc *nomadapi.Client, name string) *nomadapi.Job {
	t.Helper()
	job, err := nc.Jobs().ParseHCL(string(readFixture(t, name)), true)
	if err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	for _, g := range job.TaskGroups {
		g.Networks, g.Services = nil, nil
		for _, task := range g.Tasks {
			task.Driver = "raw_exec"
			task.Config = map[string]any{"command": "/bin/sh", "args": []string{"-c", "sleep 600"}}
			task.Services = nil
		}
	}
	return job
}

// launchPeriodicCopy registers the fixture job as periodic batch job id
// (with raw_exec, as registerRawExec does), forces one launch and returns
// the child's ID.
func launchPeriodicCopy(t *testing.T, nc *nomadapi.Client, name, id string) string {
	t.Helper()
	job := rawExecJob(t, nc, name)
	batch, spec, prohibit := "batch", "0 0 1 1 *", true
	job.ID, job.Name, job.Type = &id, &id, &batch
	job.Periodic = &nomadapi.PeriodicConfig{Spec: &spec, ProhibitOverlap: &prohibit}
	if _, _, err := nc.Jobs().Register(job, nil); err != nil {
		t.Fatalf("register %s: %v", id, err)
	}
	if _, _, err := nc.Jobs().PeriodicForce(id, nil); err != nil {
		t.Fatalf("force %s: %v", id, err)
	}
	stubs, _, err := nc.Jobs().PrefixList(id + "/periodic-")
	if err != nil || len(stubs) != 1 {
		t.Fatalf("children of %s: %v %v", id, stubs, err)
	}
	return stubs[0].ID
}

// auditLines reads a file audit log, one JSON entry per line.
func auditLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("audit line: %v: %s", err, sc.Text())
		}
		out = append(out, m)
	}
	return out
}

func vaultConfig(addr string) *vaultapi.Config {
	cfg := vaultapi.DefaultConfig()
	cfg.Address = addr
	return cfg
}

// TestWorkloadIdentity sets up the workload-identity example on a real
// Vault and each workload-identity Nomad (as `nomad setup vault` would),
// with a file audit device, collects it, and checks the world and that
// Collect only read.
func TestWorkloadIdentity(t *testing.T) {
	for _, version := range realserver.NomadWorkloadIdentityVersions {
		t.Run("nomad-"+version, func(t *testing.T) {
			t.Parallel()
			testWorkloadIdentity(t, version)
		})
	}
}

func testWorkloadIdentity(t *testing.T, version string) {
	start := time.Now()
	v := realserver.StartVault(t)
	n := realserver.StartNomad(t, realserver.NomadOptions{
		Version:   version,
		ACL:       true,
		VaultAddr: v.Addr,
		VaultBlock: `default_identity {
    aud = ["vault.io"]
    ttl = "1h"
    extra_claims = { unique_id = "${job.namespace}/${job.id}" }
  }`,
	})
	t.Logf("servers up after %v", time.Since(start))
	vc, nc := v.Client(t), n.Client(t)

	// Vault: the JWT auth method, its config and roles, the policies with
	// the real accessor, kv v2 at kv/ and the mongo secret.
	if err := vc.Sys().EnableAuthWithOptions("jwt-nomad", &vaultapi.EnableAuthOptions{Type: "jwt"}); err != nil {
		t.Fatal(err)
	}
	auths, err := vc.Sys().ListAuth()
	if err != nil {
		t.Fatal(err)
	}
	accessor := auths["jwt-nomad/"].Accessor
	jwksURL := n.Addr + "/.well-known/jwks.json"
	write(t, vc, "auth/jwt-nomad/config", map[string]any{
		"jwks_url": jwksURL, "jwt_supported_algs": []string{"RS256", "EdDSA"}, "default_role": "nomad-workloads",
	})
	writeJSON(t, vc, "auth/jwt-nomad/role/nomad-workloads", readFixture(t, "vault-role-nomad-workloads.json"))
	writeJSON(t, vc, "auth/jwt-nomad/role/mongo-dynamic-secret", readFixture(t, "vault-role-mongo-dynamic-secret.json"))
	for name, file := range map[string]string{"nomad-workloads": "vault-policy-nomad-workloads.hcl", "mongo-dynamic-secret": "vault-policy-mongo-dynamic-secret.hcl"} {
		text := strings.ReplaceAll(string(readFixture(t, file)), fixtureAccessor, accessor)
		if err := vc.Sys().PutPolicy(name, text); err != nil {
			t.Fatal(err)
		}
	}
	if err := vc.Sys().Mount("kv", &vaultapi.MountInput{Type: "kv", Options: map[string]string{"version": "2"}}); err != nil {
		t.Fatal(err)
	}
	write(t, vc, "kv/data/default/mongo/config", map[string]any{"data": map[string]any{"root_password": "s3cr3t-mongo-root"}})

	// A legacy-style server token, to exercise lookup-self and
	// capabilities-self (and see them in the audit log).
	if err := vc.Sys().PutPolicy("nomad-server", serverPolicy); err != nil {
		t.Fatal(err)
	}
	created := write(t, vc, "auth/token/create-orphan", map[string]any{"policies": []string{"nomad-server"}, "period": "72h"})
	serverToken, serverAccessor := created.Auth.ClientToken, created.Auth.Accessor

	// Nomad: the two jobs. mongo-query's template reads database/creds/mongo,
	// which does not exist: its task reports "Missing: vault.read(...)".
	registerRawExec(t, nc, "mongo.nomad.hcl")
	registerRawExec(t, nc, "mongo-query.nomad.hcl")
	// A periodic copy of mongo-query, launched once: its child cannot log
	// in (the role's bound_claims name mongo-query), and doctor must read
	// the child's allocations but not its spec.
	child := launchPeriodicCopy(t, nc, "mongo-query.nomad.hcl", "mongo-report")
	// Another, whose parent is then purged: its child is read as a job of
	// its own.
	orphan := launchPeriodicCopy(t, nc, "mongo-query.nomad.hcl", "mongo-gone")
	if _, _, err := nc.Jobs().Deregister("mongo-gone", true, nil); err != nil {
		t.Fatal(err)
	}
	waitForEvent(t, nc, "mongo-query", "Template", 60*time.Second)
	waitForEvent(t, nc, child, "Killing", 60*time.Second)

	// The audit device, last: everything from here on is Collect's.
	auditPath := filepath.Join(t.TempDir(), "audit.log")
	if err := vc.Sys().EnableAuditWithOptions("file", &vaultapi.EnableAuditOptions{Type: "file", Options: map[string]string{"file_path": auditPath}}); err != nil {
		t.Fatal(err)
	}
	// Collect's requests are those made with its two tokens; the audit log
	// shows each token's accessor as an HMAC.
	rootSelf, err := vc.Auth().Token().LookupSelf()
	if err != nil {
		t.Fatal(err)
	}
	rootAccessor, _ := rootSelf.Data["accessor"].(string)
	hmac := map[string]string{}
	for name, acc := range map[string]string{"root": rootAccessor, "server": serverAccessor} {
		h, err := vc.Sys().AuditHash("file", acc)
		if err != nil {
			t.Fatal(err)
		}
		hmac[h] = name
	}
	mark := len(auditLines(t, auditPath))

	o := Options{
		Vault: vaultConfig(v.Addr), VaultToken: v.RootToken, ServerToken: serverToken,
		Nomad:          &nomadapi.Config{Address: n.Addr, SecretID: n.Token},
		RequestTimeout: 5 * time.Second,
	}
	cstart := time.Now()
	w, secrets := Collect(context.Background(), o)
	t.Logf("Collect took %v", time.Since(cstart))
	audit := auditLines(t, auditPath)[mark:]

	dump, _ := json.MarshalIndent(w.Live, "", "  ")
	t.Logf("live: %s", dump)

	t.Run("problems", func(t *testing.T) {
		for _, p := range w.Live.Problems {
			t.Errorf("problem: %+v", p)
		}
	})

	t.Run("vault", func(t *testing.T) {
		l := w.Live.Vault
		if l.Health == nil || !l.Health.Initialized || l.Health.Sealed || l.Health.Version != realserver.VaultVersion {
			t.Errorf("health: %+v", l.Health)
		}
		if !slices.Contains(l.AuthMounts, world.AuthMount{Path: "jwt-nomad", Type: "jwt", Accessor: accessor}) {
			t.Errorf("auth mounts: %+v", l.AuthMounts)
		}
		// A dev server mounts secret/ as KV version 2.
		if !slices.Contains(l.EngineMounts, world.EngineMount{Path: "secret", Type: "kv", Version: "2"}) {
			t.Errorf("engine mounts: %+v", l.EngineMounts)
		}
		for _, name := range []string{"nomad-workloads", "mongo-dynamic-secret", "nomad-server", "default"} {
			p := w.Policy(name)
			if p == nil {
				t.Errorf("policy %s missing; have %v", name, names(w))
				continue
			}
			if p.Ref.Origin != "vault:sys/policies/acl/"+name || p.ACL == nil || len(p.ACL.Rules) == 0 {
				t.Errorf("policy %s: origin %q, acl %+v", name, p.Ref.Origin, p.ACL)
			}
		}
		if w.Policy("root") != nil {
			t.Errorf("the built-in root policy was collected")
		}
		if p := w.Policy("nomad-workloads"); p != nil && !strings.Contains(string(p.Raw), accessor) {
			t.Errorf("nomad-workloads policy text lacks the real accessor: %s", p.Raw)
		}
		if len(w.JWTConfigs) != 1 {
			t.Fatalf("jwt configs: %+v", w.JWTConfigs)
		}
		cfg := w.JWTConfigs[0]
		if cfg.Mount != "jwt-nomad" || cfg.Accessor != accessor || cfg.JWKSURL.V != jwksURL || cfg.DefaultRole.V != "nomad-workloads" ||
			cfg.Ref.Origin != "vault:auth/jwt-nomad/config" || !slices.Equal(cfg.JWTSupportedAlgs.Strings(), []string{"RS256", "EdDSA"}) {
			t.Errorf("jwt config: %+v", cfg)
		}
		for _, name := range []string{"nomad-workloads", "mongo-dynamic-secret"} {
			r := w.JWTRole(name)
			if r == nil {
				t.Errorf("jwt role %s missing", name)
				continue
			}
			if r.Mount != "jwt-nomad" || r.Ref.Origin != "vault:auth/jwt-nomad/role/"+name || !r.BoundAudiences.Contains("vault.io") ||
				r.RoleType.V != "jwt" || r.UserClaim.V != "/nomad_job_id" || r.TokenPeriod.V != 1800 || !r.TokenPolicies.Contains(name) {
				t.Errorf("jwt role %s: %+v", name, r)
			}
		}
		if r := w.JWTRole("mongo-dynamic-secret"); r != nil {
			if got := r.BoundClaims.Claims["nomad_job_id"]; !got.Contains("mongo-query") {
				t.Errorf("bound_claims: %+v", r.BoundClaims)
			}
		}
		jw := l.JWKS["jwt-nomad"]
		if jw == nil || jw.Error != "" || jw.URL != jwksURL || len(jw.Keys) == 0 {
			t.Errorf("vault jwks: %+v", jw)
		}
		tok := l.ServerToken
		if tok == nil || !slices.Contains(tok.Policies, "nomad-server") || tok.Period != 259200 || !tok.Orphan || !tok.Renewable || tok.Accessor == "" {
			t.Errorf("server token: %+v", tok)
		}
		if caps := l.ServerCapabilities["auth/token/revoke-accessor"]; !slices.Equal(caps, []string{"update"}) {
			t.Errorf("capabilities: %v", l.ServerCapabilities)
		}
	})

	t.Run("nomad", func(t *testing.T) {
		l := w.Live.Nomad
		if l.Version != version {
			t.Errorf("version %q", l.Version)
		}
		if len(l.Members) != 1 || l.Members[0].Version != version || l.Members[0].Status != "alive" {
			t.Errorf("members: %+v", l.Members)
		}
		if len(l.Nodes) != 1 || l.Nodes[0].ID != n.NodeID || l.Nodes[0].VaultAttrs["vault.accessible"] != "true" ||
			l.Nodes[0].VaultAttrs["vault.version"] != realserver.VaultVersion || l.Nodes[0].Version != version {
			t.Errorf("nodes: %+v", l.Nodes)
		}
		if l.JWKS == nil || l.JWKS.Error != "" || len(l.JWKS.Keys) == 0 || l.JWKS.Keys[0].Kid == "" || l.JWKS.Keys[0].Alg != "RS256" {
			t.Errorf("nomad jwks: %+v", l.JWKS)
		} else if vj := w.Live.Vault.JWKS["jwt-nomad"]; vj != nil && !slices.Equal(vj.Keys, l.JWKS.Keys) {
			t.Errorf("jwks_url serves %+v, Nomad %+v", vj.Keys, l.JWKS.Keys)
		}
		if l.LegacyTokens != 0 {
			t.Errorf("legacy tokens %d", l.LegacyTokens)
		}
		var failing, failingChild *world.NomadAlloc
		for i := range l.FailingAllocs {
			switch l.FailingAllocs[i].JobID {
			case "mongo-query":
				failing = &l.FailingAllocs[i]
			case child:
				failingChild = &l.FailingAllocs[i]
			}
		}
		if failingChild == nil || failingChild.ParentJobID != "mongo-report" || failingChild.SpecJobID() != "mongo-report" || failingChild.Task != "mongo-query" {
			t.Errorf("the periodic child's failing allocation: %+v", failingChild)
		}
		if failing == nil || failing.Task != "mongo-query" || failing.Namespace != "default" ||
			!slices.ContainsFunc(failing.Events, func(e world.NomadEvent) bool {
				return e.Type == "Template" && strings.Contains(e.Message, "vault.read(database/creds/mongo)") && !e.Time.IsZero()
			}) {
			t.Errorf("failing allocs: %+v", l.FailingAllocs)
		}

		if len(w.Agents) != 1 {
			t.Fatalf("agents: %+v", w.Agents)
		}
		a := w.Agents[0]
		dv := a.DefaultVault()
		if a.Ref.Origin != "nomad:/v1/agent/self" || a.File != nil || !a.Server.V || !a.Client.V || dv == nil {
			t.Fatalf("agent: %+v", a)
		}
		if dv.Address.V != v.Addr || !dv.Enabled.V || dv.JWTAuthBackendPath.V != "jwt-nomad" || dv.Token.Set ||
			dv.DefaultIdentity == nil || !slices.Equal(dv.DefaultIdentity.Aud.Strings(), []string{"vault.io"}) || dv.DefaultIdentity.TTL.V != "1h" {
			t.Errorf("agent vault: %+v, default identity %+v", dv, dv.DefaultIdentity)
		}
		// agent/self shows extra_claims as written, before interpolation.
		if di := dv.DefaultIdentity; di == nil || !di.ExtraClaims.Known || di.ExtraClaims.Entries["unique_id"].V != "${job.namespace}/${job.id}" {
			t.Errorf("default identity extra claims: %+v", dv.DefaultIdentity)
		}

		// The periodic parent is a job of the world; its child is not,
		// unless its parent is gone.
		var ids []string
		for _, j := range w.Jobs {
			ids = append(ids, j.ID.V)
		}
		slices.Sort(ids)
		want := []string{"mongo", "mongo-query", "mongo-report", orphan}
		slices.Sort(want)
		if !slices.Equal(ids, want) {
			t.Fatalf("jobs: %v", ids)
		}
		for _, j := range w.Jobs {
			if j.File != nil || j.Ref.Origin != "nomad:/v1/job/"+url.PathEscape(j.ID.V)+"?namespace=default" || j.NamespaceName() != "default" {
				t.Errorf("job %s: origin %q", j.ID.V, j.Ref.Origin)
			}
			task := j.Groups[0].Tasks[0]
			id := task.VaultIdentity("default")
			if task.Vault == nil || id == nil || !slices.Equal(id.Aud.Strings(), []string{"vault.io"}) || len(task.Templates) != 1 {
				t.Errorf("job %s task %s: vault %+v identity %+v", j.ID.V, task.Name.V, task.Vault, id)
			}
		}
		for _, j := range w.Jobs {
			if j.ID.V == "mongo-query" && j.Groups[0].Tasks[0].Vault.Role.V != "mongo-dynamic-secret" {
				t.Errorf("mongo-query: %+v", j.Groups[0].Tasks[0].Vault)
			}
		}
	})

	t.Run("secrets", func(t *testing.T) {
		b, err := json.Marshal(w.Live)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{v.RootToken, serverToken, n.Token} {
			if strings.Contains(string(b), s) {
				t.Errorf("live state contains a token")
			}
			if secrets.String(s) != "<redacted>" {
				t.Errorf("token not registered as a secret")
			}
		}
		if strings.Contains(string(b), "s3cr3t-mongo-root") {
			t.Errorf("live state contains a KV secret")
		}
	})

	t.Run("audit-read-only", func(t *testing.T) {
		ops := map[string]int{}
		for _, e := range audit {
			if e["type"] != "request" {
				continue
			}
			req, _ := e["request"].(map[string]any)
			auth, _ := e["auth"].(map[string]any)
			accessor, _ := auth["accessor"].(string)
			op, _ := req["operation"].(string)
			path, _ := req["path"].(string)
			who := hmac[accessor]
			if who == "" {
				// Not Collect's: the Nomad client's own logins and renewals.
				t.Logf("audit (not Collect's): %s %s", op, path)
				continue
			}
			ops[op+" "+who]++
			switch {
			case op == "read" || op == "list":
			case op == "update" && path == "sys/capabilities-self":
			default:
				t.Errorf("Collect made a %s request to %s (%s token)", op, path, who)
			}
		}
		t.Logf("audited requests by Collect: %v", ops)
		if ops["read root"] == 0 || ops["list root"] == 0 || ops["read server"] == 0 || ops["update server"] == 0 {
			t.Errorf("audit log does not show Collect's reads: %v", ops)
		}
	})
}

// serverPolicy is the docs' nomad-server policy (legacy flow).
const serverPolicy = `
path "auth/token/create/nomad-cluster" { capabilities = ["update"] }
path "auth/token/roles/nomad-cluster" { capabilities = ["read"] }
path "auth/token/lookup-self" { capabilities = ["read"] }
path "auth/token/lookup" { capabilities = ["update"] }
path "auth/token/revoke-accessor" { capabilities = ["update"] }
path "sys/capabilities-self" { capabilities = ["update"] }
path "auth/token/renew-self" { capabilities = ["update"] }
`

// waitForEvent waits until an allocation of job has a task event of type.
func waitForEvent(t *testing.T, nc *nomadapi.Client, job, typ string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		allocs, _, err := nc.Jobs().Allocations(job, true, nil)
		if err != nil {
			t.Fatal(err)
		}
		var seen []string
		for _, a := range allocs {
			for _, st := range a.TaskStates {
				for _, e := range st.Events {
					if e.Type == typ {
						return
					}
					seen = append(seen, e.Type+": "+e.DisplayMessage)
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q event for job %s after %v; events: %v", typ, job, timeout, seen)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
