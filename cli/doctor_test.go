package cli_test

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"
	vaultapi "github.com/hashicorp/vault/api"

	"github.com/nvlint/nvlint/cli"
	"github.com/nvlint/nvlint/internal/realserver"
	"github.com/nvlint/nvlint/live"
)

// These scenarios run nvlint doctor against a real Vault and a real Nomad
// set up as in the seeds' guides, break one link at a time through the
// API, and check that doctor names it.

type doctorReport struct {
	Verdicts []struct{ Area, Status, Detail string } `json:"verdicts"`
	Findings []struct {
		Rule, Severity, Message string
		Object                  struct{ Kind, Name, Origin string }
		Location                struct{ File string }
		Evidence                []string
		Fixes                   []struct {
			Description string
			Commands    []string
		}
	} `json:"findings"`
}

func (r doctorReport) has(rule string) bool {
	for _, f := range r.Findings {
		if f.Rule == rule {
			return true
		}
	}
	return false
}

func (r doctorReport) errors() []string {
	var out []string
	for _, f := range r.Findings {
		if f.Severity == "error" {
			out = append(out, f.Rule+" "+f.Message)
		}
	}
	return out
}

func doctor(t *testing.T, env map[string]string, args ...string) (doctorReport, run) {
	t.Helper()
	r := nvlint(t, "", env, append([]string{"doctor", "--format", "json", "--timeout", "5s"}, args...)...)
	var rep doctorReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("doctor output is not JSON (exit %d): %v\n%s\n%s", r.code, err, r.stdout, r.stderr)
	}
	return rep, r
}

// applyFix runs the first fix command of the finding of a rule with the
// real vault CLI, as an operator would paste it.
func applyFix(t *testing.T, rep doctorReport, rule string, env map[string]string) {
	t.Helper()
	vault, err := realserver.VaultBin()
	must(t, err)
	for _, f := range rep.Findings {
		if f.Rule != rule || len(f.Fixes) == 0 || len(f.Fixes[0].Commands) == 0 {
			continue
		}
		for _, c := range f.Fixes[0].Commands {
			cmd := exec.Command("bash", "-o", "pipefail", "-c", c)
			cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(vault)+":"+os.Getenv("PATH"),
				"VAULT_ADDR="+env["VAULT_ADDR"], "VAULT_TOKEN="+env["VAULT_TOKEN"])
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("fix command of %s failed: %s\n%v\n%s", rule, c, err, out)
			}
		}
		return
	}
	t.Fatalf("no %s finding with a fix command", rule)
}

// noCrash fails the test on a finding of a rule that crashed.
func noCrash(t *testing.T, rep doctorReport) {
	t.Helper()
	for _, f := range rep.Findings {
		if strings.Contains(f.Message, "crashed") {
			t.Errorf("%s: %s\n%s", f.Rule, f.Message, strings.Join(f.Evidence, "\n"))
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func readJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	must(t, err)
	var m map[string]any
	must(t, json.Unmarshal(b, &m))
	return m
}

const wiSeed = "../fixtures/examples/workload-identity"

// wiSetup is the "Use Nomad Workload Identities with Vault" guide on real
// servers, with raw_exec instead of docker.
type wiSetup struct {
	vault    *realserver.Vault
	nomad    *realserver.Nomad
	vc       *vaultapi.Client
	nc       *nomadapi.Client
	accessor string
	env      map[string]string
}

func startWorkloadIdentity(t *testing.T, nomadVersion string) *wiSetup {
	t.Helper()
	s := &wiSetup{vault: realserver.StartVault(t)}
	s.vc = s.vault.Client(t)
	s.nomad = realserver.StartNomad(t, realserver.NomadOptions{
		Version:   nomadVersion,
		VaultAddr: s.vault.Addr,
		// The extra claim is there for a role to use; the seed's ignore it.
		VaultBlock: `default_identity {
    aud = ["vault.io"]
    ttl = "1h"
    extra_claims = { unique_id = "${job.namespace}/${job.id}" }
  }`,
	})
	s.nc = s.nomad.Client(t)
	must(t, s.vc.Sys().EnableAuthWithOptions("jwt-nomad", &vaultapi.EnableAuthOptions{Type: "jwt"}))
	auths, err := s.vc.Sys().ListAuth()
	must(t, err)
	s.accessor = auths["jwt-nomad/"].Accessor
	cfg := readJSON(t, filepath.Join(wiSeed, "vault-auth-method-jwt-nomad.json"))
	cfg["jwks_url"] = s.nomad.Addr + "/.well-known/jwks.json"
	_, err = s.vc.Logical().Write("auth/jwt-nomad/config", cfg)
	must(t, err)
	for _, role := range []string{"nomad-workloads", "mongo-dynamic-secret"} {
		s.writeRole(t, role, nil)
	}
	s.writePolicy(t, "nomad-workloads", s.accessor)
	pol, err := os.ReadFile(filepath.Join(wiSeed, "vault-policy-mongo-dynamic-secret.hcl"))
	must(t, err)
	must(t, s.vc.Sys().PutPolicy("mongo-dynamic-secret", string(pol)))
	must(t, s.vc.Sys().Mount("kv", &vaultapi.MountInput{Type: "kv", Options: map[string]string{"version": "2"}}))
	_, err = s.vc.Logical().Write("kv/data/default/mongo/config", map[string]any{"data": map[string]any{"root_password": "secret-password"}})
	must(t, err)
	s.register(t, "mongo", "kv/data/default/mongo/config")
	s.env = map[string]string{"VAULT_ADDR": s.vault.Addr, "VAULT_TOKEN": s.vault.RootToken, "NOMAD_ADDR": s.nomad.Addr}
	return s
}

// writeRole writes a seed role, changed by edit.
func (s *wiSetup) writeRole(t *testing.T, name string, edit func(map[string]any)) {
	t.Helper()
	role := readJSON(t, filepath.Join(wiSeed, "vault-role-"+name+".json"))
	if edit != nil {
		edit(role)
	}
	// Replace the role whole: delete, then write.
	_, err := s.vc.Logical().Delete("auth/jwt-nomad/role/" + name)
	must(t, err)
	_, err = s.vc.Logical().Write("auth/jwt-nomad/role/"+name, role)
	must(t, err)
}

func (s *wiSetup) writePolicy(t *testing.T, name, accessor string) {
	t.Helper()
	pol, err := os.ReadFile(filepath.Join(wiSeed, "vault-policy-"+name+".hcl"))
	must(t, err)
	text := strings.ReplaceAll(string(pol), "auth_jwt_d34481ad", accessor)
	must(t, s.vc.Sys().PutPolicy(name, text))
}

// register submits a job whose task renders secretPath with a template.
func (s *wiSetup) register(t *testing.T, id, secretPath string) {
	t.Helper()
	tmpl := `PASSWORD={{with secret "` + secretPath + `"}}{{.Data.data.root_password}}{{end}}` + "\n"
	job := nomadapi.NewServiceJob(id, id, "global", 50)
	job.Datacenters = []string{"*"}
	task := nomadapi.NewTask(id, "raw_exec")
	task.Config = map[string]any{"command": "/bin/sleep", "args": []string{"3600"}}
	task.Vault = &nomadapi.Vault{}
	dest, env := "secrets/env", true
	task.Templates = []*nomadapi.Template{{EmbeddedTmpl: &tmpl, DestPath: &dest, Envvars: &env}}
	task.Resources = &nomadapi.Resources{CPU: ptr(50), MemoryMB: ptr(32)}
	group := nomadapi.NewTaskGroup("db", 1).AddTask(task)
	job.AddTaskGroup(group)
	_, _, err := s.nc.Jobs().Register(job, nil)
	must(t, err)
}

func ptr[T any](v T) *T { return &v }

// TestDoctorWorkloadIdentity runs on each workload-identity Nomad, one
// after the other: doctor runs in-process and reads the servers' addresses
// from the process environment.
func TestDoctorWorkloadIdentity(t *testing.T) {
	for _, version := range realserver.NomadWorkloadIdentityVersions {
		t.Run("nomad-"+version, func(t *testing.T) { testDoctorWorkloadIdentity(t, version) })
	}
}

func testDoctorWorkloadIdentity(t *testing.T, nomadVersion string) {
	s := startWorkloadIdentity(t, nomadVersion)

	t.Run("seed setup is healthy and doctor writes nothing", func(t *testing.T) {
		audit := filepath.Join(t.TempDir(), "audit.log")
		// Nomad's tasks log in and renew meanwhile: the audited User-Agent
		// tells doctor's requests apart.
		_, err := s.vc.Logical().Write("sys/config/auditing/request-headers/user-agent", map[string]any{"hmac": false})
		must(t, err)
		must(t, s.vc.Sys().EnableAuditWithOptions("file", &vaultapi.EnableAuditOptions{Type: "file", Options: map[string]string{"file_path": audit}}))
		rep, r := doctor(t, s.env)
		must(t, s.vc.Sys().DisableAudit("file"))
		if errs := rep.errors(); len(errs) > 0 {
			t.Errorf("the seed setup must be healthy, got errors:\n%s\n%s", strings.Join(errs, "\n"), r.stderr)
		}
		for _, v := range rep.Verdicts {
			if v.Status == "broken" {
				t.Errorf("verdict %s broken: %s", v.Area, v.Detail)
			}
		}
		assertReadOnly(t, audit)
		if strings.Contains(r.stdout, s.vault.RootToken) {
			t.Error("the report contains the Vault token")
		}
	})

	t.Run("audience mismatch", func(t *testing.T) {
		s.writeRole(t, "nomad-workloads", func(r map[string]any) { r["bound_audiences"] = []string{"nomad.io"} })
		defer s.writeRole(t, "nomad-workloads", nil)
		rep, _ := doctor(t, s.env)
		if !rep.has("NV201") {
			t.Fatalf("want NV201, got %v", rep.errors())
		}
		applyFix(t, rep, "NV201", s.env)
		if rep, _ = doctor(t, s.env); rep.has("NV201") {
			t.Errorf("the NV201 fix did not resolve it: %v", rep.errors())
		}
	})

	t.Run("missing claim mapping", func(t *testing.T) {
		s.writeRole(t, "nomad-workloads", func(r map[string]any) {
			delete(r["claim_mappings"].(map[string]any), "nomad_job_id")
		})
		defer s.writeRole(t, "nomad-workloads", nil)
		rep, _ := doctor(t, s.env)
		if !rep.has("NV233") || !rep.has("NV411") {
			t.Fatalf("want NV233 and NV411, got %v", rep.errors())
		}
		// The live role's fix sends claim_mappings as JSON on standard
		// input: the real vault CLI must take it.
		applyFix(t, rep, "NV233", s.env)
		if rep, _ = doctor(t, s.env); rep.has("NV233") {
			t.Errorf("the NV233 fix did not resolve it: %v", rep.errors())
		}
	})

	t.Run("wrong accessor", func(t *testing.T) {
		s.writePolicy(t, "nomad-workloads", "auth_jwt_0ld0ld00")
		defer s.writePolicy(t, "nomad-workloads", s.accessor)
		rep, _ := doctor(t, s.env)
		if !rep.has("NV234") {
			t.Fatalf("want NV234, got %v", rep.errors())
		}
		applyFix(t, rep, "NV234", s.env)
		if rep, _ = doctor(t, s.env); rep.has("NV234") || rep.has("NV411") {
			t.Errorf("the NV234 fix did not resolve it: %v", rep.errors())
		}
	})

	t.Run("default policy without sys/leases/renew", func(t *testing.T) {
		old, err := s.vc.Sys().GetPolicy("default")
		must(t, err)
		stripped := strings.Replace(old, `path "sys/leases/renew"`, `path "sys/leases/renew-disabled"`, 1)
		must(t, s.vc.Sys().PutPolicy("default", stripped))
		defer func() { must(t, s.vc.Sys().PutPolicy("default", old)) }()
		rep, _ := doctor(t, s.env)
		if !rep.has("NV501") {
			t.Errorf("want NV501, got %v", rep.errors())
		}
	})

	t.Run("template read denied, with its failing allocation", func(t *testing.T) {
		s.register(t, "billing", "kv/data/default/mongo/config")
		defer func() { _, _, _ = s.nc.Jobs().Deregister("billing", true, nil) }()
		waitForEvent(t, s.nc, "billing", "Missing: vault.read(kv/data/default/mongo/config)")
		rep, _ := doctor(t, s.env)
		if !rep.has("NV411") || !rep.has("NV661") {
			t.Fatalf("want NV411 and NV661, got %v", rep.errors())
		}
		for _, f := range rep.Findings {
			if f.Rule == "NV661" && strings.Contains(f.Message, "job billing") && !strings.Contains(f.Message, "is denied read on kv/data/default/mongo/config") {
				t.Errorf("NV661 does not explain the denial: %s", f.Message)
			}
		}
	})

	t.Run("a client's agent config, given as a file", func(t *testing.T) {
		// doctor reads only the agent it talks to; other agents' configs
		// come with --agent-config, repeatable.
		dir := t.TempDir()
		client := filepath.Join(dir, "client.hcl")
		must(t, os.WriteFile(client, []byte("client {\n  enabled = true\n}\n\nvault {\n  enabled               = true\n  jwt_auth_backend_path = \"jwt-nomad/\"\n}\n"), 0o600))
		other := filepath.Join(dir, "client-ok.hcl")
		must(t, os.WriteFile(other, []byte("client {\n  enabled = true\n}\n\nvault {\n  enabled = true\n}\n"), 0o600))
		rep, r := doctor(t, s.env, "--agent-config", client, "--agent-config", other)
		var got []string
		for _, f := range rep.Findings {
			if f.Rule == "NV632" {
				got = append(got, f.Location.File+": "+f.Message)
			}
		}
		if len(got) != 1 || !strings.HasPrefix(got[0], client+": ") || !strings.Contains(got[0], `"jwt-nomad/" has a slash Nomad does not trim`) {
			t.Errorf("want one NV632 on %s, got %q\n%s", client, got, r.stderr)
		}
	})

	if nomadVersion == realserver.Nomad111Version { // secret blocks are new in 1.11
		testSecretBlocks(t, s)
	}
	t.Run("extra claim as user_claim and in a templated policy", func(t *testing.T) {
		// The task reads its secret through the servers' extra claim:
		// doctor must not call the read denied.
		s.writeRole(t, "nomad-workloads", func(r map[string]any) {
			r["user_claim"] = "/extra_claims/unique_id"
			r["claim_mappings"].(map[string]any)["/extra_claims/unique_id"] = "unique_id"
		})
		defer s.writeRole(t, "nomad-workloads", nil)
		pol := `path "kv/data/{{identity.entity.aliases.` + s.accessor + `.metadata.unique_id}}/*" {
  capabilities = ["read"]
}`
		old, err := s.vc.Sys().GetPolicy("nomad-workloads")
		must(t, err)
		must(t, s.vc.Sys().PutPolicy("nomad-workloads", pol))
		defer func() { must(t, s.vc.Sys().PutPolicy("nomad-workloads", old)) }()
		_, err = s.vc.Logical().Write("kv/data/default/extra/config", map[string]any{"data": map[string]any{"root_password": "x"}})
		must(t, err)
		s.register(t, "extra", "kv/data/default/extra/config")
		defer func() { _, _, _ = s.nc.Jobs().Deregister("extra", true, nil) }()
		waitForEvent(t, s.nc, "extra", "Task started by client")
		rep, r := doctor(t, s.env)
		for _, f := range rep.Findings {
			// Earlier subtests leave failed allocations of job mongo.
			if f.Rule == "NV411" || f.Rule == "NV661" && strings.Contains(f.Message, "job extra") || f.Rule == "NV202" || f.Rule == "NV235" {
				t.Errorf("%s: %s\n%s", f.Rule, f.Message, r.stderr)
			}
		}
	})

	t.Run("sealed vault", func(t *testing.T) {
		must(t, s.vc.Sys().Seal())
		rep, r := doctor(t, s.env)
		if !rep.has("NV611") {
			t.Errorf("want NV611, got %v\n%s", rep.errors(), r.stderr)
		}
	})
}

// waitForEvent waits until an allocation of the job shows a task event
// containing msg.
func waitForEvent(t *testing.T, nc *nomadapi.Client, job, msg string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		allocs, _, err := nc.Jobs().Allocations(job, false, nil)
		if err == nil {
			for _, stub := range allocs {
				for _, ts := range stub.TaskStates {
					for _, ev := range ts.Events {
						if strings.Contains(ev.DisplayMessage+ev.Message, msg) {
							return
						}
					}
				}
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("no allocation of %s showed %q within 60s", job, msg)
}

// assertReadOnly reads a Vault file audit log and fails on any request
// doctor made that could change state. Doctor's requests are those with
// its User-Agent, which the audit device must be told to record.
func assertReadOnly(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	must(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	n := 0
	for sc.Scan() {
		var entry struct {
			Type    string `json:"type"`
			Request struct {
				Operation string              `json:"operation"`
				Path      string              `json:"path"`
				Headers   map[string][]string `json:"headers"`
			} `json:"request"`
		}
		if json.Unmarshal(sc.Bytes(), &entry) != nil || entry.Type != "request" {
			continue
		}
		if ua := entry.Request.Headers["user-agent"]; len(ua) == 0 || ua[0] != live.UserAgent {
			continue // not doctor's: Nomad's, or the test's own
		}
		op, p := entry.Request.Operation, entry.Request.Path
		if strings.HasPrefix(p, "sys/audit/") {
			continue // the test enabling and disabling the device
		}
		n++
		switch {
		case op == "read" || op == "list":
		case op == "update" && (p == "sys/capabilities-self" || p == "auth/token/lookup-self"):
		default:
			t.Errorf("doctor made a %s request on %s", op, p)
		}
	}
	if n == 0 {
		t.Error("the audit log recorded no request from doctor")
	}
}

// The legacy token-role flow of the seeds' Vault Integration guide on a
// real Nomad 1.9.
type legacySetup struct {
	vault     *realserver.Vault
	vc        *vaultapi.Client
	nomad     *realserver.Nomad
	tokenFile string
	env       map[string]string
}

const legacySeed = "../fixtures/examples/vault-integration-docs"

func startLegacy(t *testing.T) *legacySetup {
	t.Helper()
	s := &legacySetup{vault: realserver.StartVault(t)}
	s.vc = s.vault.Client(t)
	pol, err := os.ReadFile(filepath.Join(legacySeed, "nomad-server-policy.hcl"))
	must(t, err)
	must(t, s.vc.Sys().PutPolicy("nomad-server", string(pol)))
	s.writeRole(t, nil)
	secret, err := s.vc.Auth().Token().CreateOrphan(&vaultapi.TokenCreateRequest{Policies: []string{"nomad-server"}, Period: "72h"})
	must(t, err)
	token := secret.Auth.ClientToken
	s.tokenFile = filepath.Join(t.TempDir(), "server-token")
	must(t, os.WriteFile(s.tokenFile, []byte(token+"\n"), 0o600))
	s.nomad = realserver.StartNomad(t, realserver.NomadOptions{
		Legacy: true, VaultAddr: s.vault.Addr, VaultToken: token,
		VaultBlock: `create_from_role = "nomad-cluster"`,
	})
	s.env = map[string]string{"VAULT_ADDR": s.vault.Addr, "VAULT_TOKEN": s.vault.RootToken, "NOMAD_ADDR": s.nomad.Addr}
	return s
}

func (s *legacySetup) writeRole(t *testing.T, edit func(map[string]any)) {
	t.Helper()
	role := readJSON(t, filepath.Join(legacySeed, "nomad-cluster-role.json"))
	if edit != nil {
		edit(role)
	}
	_, err := s.vc.Logical().Delete("auth/token/roles/nomad-cluster")
	must(t, err)
	_, err = s.vc.Logical().Write("auth/token/roles/nomad-cluster", role)
	must(t, err)
}

func TestDoctorLegacyTokenRole(t *testing.T) {
	s := startLegacy(t)
	token, err := os.ReadFile(s.tokenFile)
	must(t, err)
	serverToken := strings.TrimSpace(string(token))

	t.Run("seed setup is healthy", func(t *testing.T) {
		rep, r := doctor(t, s.env, "--nomad-vault-token-file", s.tokenFile)
		if errs := rep.errors(); len(errs) > 0 {
			t.Errorf("the seed setup must be healthy, got errors:\n%s\n%s", strings.Join(errs, "\n"), r.stderr)
		}
		if strings.Contains(r.stdout, serverToken) || strings.Contains(r.stderr, serverToken) {
			t.Error("the report contains the server token")
		}
	})

	t.Run("server policy missing a path", func(t *testing.T) {
		pol, err := os.ReadFile(filepath.Join(legacySeed, "nomad-server-policy.hcl"))
		must(t, err)
		must(t, s.vc.Sys().PutPolicy("nomad-server", strings.Replace(string(pol), "auth/token/revoke-accessor", "auth/token/revoke-orphan", 1)))
		defer func() { must(t, s.vc.Sys().PutPolicy("nomad-server", string(pol))) }()
		rep, _ := doctor(t, s.env, "--nomad-vault-token-file", s.tokenFile)
		if !rep.has("NV612") || !rep.has("NV101") {
			t.Fatalf("want NV612 (live capabilities) and NV101 (policy), got %v", rep.errors())
		}
		applyFix(t, rep, "NV612", s.env)
		if rep, _ = doctor(t, s.env, "--nomad-vault-token-file", s.tokenFile); rep.has("NV612") || rep.has("NV101") {
			t.Errorf("the NV612 fix did not resolve it: %v", rep.errors())
		}
	})

	t.Run("role with explicit max TTL", func(t *testing.T) {
		s.writeRole(t, func(r map[string]any) { r["explicit_max_ttl"] = 3600 })
		defer s.writeRole(t, nil)
		rep, _ := doctor(t, s.env, "--nomad-vault-token-file", s.tokenFile)
		if !rep.has("NV112") {
			t.Errorf("want NV112, got %v", rep.errors())
		}
	})

	t.Run("role not disallowing the server policy", func(t *testing.T) {
		s.writeRole(t, func(r map[string]any) { delete(r, "disallowed_policies") })
		defer s.writeRole(t, nil)
		rep, _ := doctor(t, s.env, "--nomad-vault-token-file", s.tokenFile)
		noCrash(t, rep)
		if !rep.has("NV115") {
			t.Fatalf("want NV115, got %v", rep.errors())
		}
		applyFix(t, rep, "NV115", s.env)
		if rep, _ = doctor(t, s.env, "--nomad-vault-token-file", s.tokenFile); rep.has("NV115") {
			t.Errorf("the NV115 fix did not resolve it: %v", rep.errors())
		}
	})

	t.Run("job policy the server token does not hold", func(t *testing.T) {
		// A role with neither list: Vault lets the server give only its
		// own policies, and the task's token is refused.
		s.writeRole(t, func(r map[string]any) { delete(r, "disallowed_policies") })
		defer s.writeRole(t, nil)
		must(t, s.vc.Sys().PutPolicy("access-tables", `path "database/creds/accessdb" { capabilities = ["read"] }`))
		nc := s.nomad.Client(t)
		job := nomadapi.NewServiceJob("web", "web", "global", 50)
		job.Datacenters = []string{"*"}
		task := nomadapi.NewTask("web", "raw_exec")
		task.Config = map[string]any{"command": "/bin/sleep", "args": []string{"3600"}}
		task.Vault = &nomadapi.Vault{Policies: []string{"access-tables"}}
		task.Resources = &nomadapi.Resources{CPU: ptr(50), MemoryMB: ptr(32)}
		job.AddTaskGroup(nomadapi.NewTaskGroup("app", 1).AddTask(task))
		_, _, err := nc.Jobs().Register(job, nil)
		must(t, err)
		defer func() { _, _, _ = nc.Jobs().Deregister("web", true, nil) }()

		var rep doctorReport
		var explained string
		for deadline := time.Now().Add(90 * time.Second); explained == "" && time.Now().Before(deadline); time.Sleep(2 * time.Second) {
			rep, _ = doctor(t, s.env, "--nomad-vault-token-file", s.tokenFile)
			for _, f := range rep.Findings {
				if f.Rule == "NV661" && strings.Contains(strings.Join(f.Evidence, "\n"), "child policies must be subset of parent") {
					explained = f.Message
				}
			}
		}
		noCrash(t, rep)
		if !strings.Contains(explained, "token role nomad-cluster has neither allowed_policies nor disallowed_policies") ||
			!strings.Contains(explained, "[access-tables]") {
			t.Fatalf("NV661 does not explain the refusal: %q\n%v\n%s", explained, rep.errors(), s.nomad.Log())
		}
		applyFix(t, rep, "NV661", s.env)
		role, err := s.vc.Logical().Read("auth/token/roles/nomad-cluster")
		must(t, err)
		if got := role.Data["disallowed_policies"]; len(got.([]any)) != 1 || got.([]any)[0] != "nomad-server" {
			t.Errorf("after the fix, disallowed_policies = %v", got)
		}
	})

	t.Run("snapshot replays offline", func(t *testing.T) {
		snap := filepath.Join(t.TempDir(), "snap.json")
		_, r := doctor(t, s.env, "--nomad-vault-token-file", s.tokenFile, "--save", snap)
		data, err := os.ReadFile(snap)
		must(t, err)
		for _, secret := range []string{serverToken, s.vault.RootToken} {
			if strings.Contains(string(data), secret) {
				t.Fatal("the snapshot contains a token")
			}
		}
		replay := nvlint(t, "", nil, "doctor", "--format", "json", "--from", snap)
		if replay.code != r.code || replay.stdout != r.stdout {
			t.Errorf("replay differs from the live run (exit %d vs %d)", replay.code, r.code)
		}
	})
}

func TestDoctorUsage(t *testing.T) {
	r := nvlint(t, "", map[string]string{}, "doctor")
	if r.code != cli.ExitUsage || !strings.Contains(r.stderr, "VAULT_ADDR") {
		t.Errorf("doctor with nothing to check: code %d %q", r.code, r.stderr)
	}
}
