package cli_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"
	vaultapi "github.com/hashicorp/vault/api"

	"github.com/nvlint/nvlint/internal/realserver"
)

// federation is two Nomad regions, east and west, each one dev agent
// (server and client), federated through server_join, and one Vault with
// a JWT auth mount per region.
type federation struct {
	vault      *realserver.Vault
	east, west *realserver.Nomad
	vc         *vaultapi.Client
	nc         *nomadapi.Client // east's agent; it forwards to west
	env        map[string]string
}

// startFederation starts the two regions and Vault, with a JWT mount per
// region that trusts that region's keys.
func startFederation(t *testing.T) *federation {
	t.Helper()
	f := &federation{vault: realserver.StartVault(t)}
	f.vc = f.vault.Client(t)
	// Each region's clients log in at a mount of their own.
	agents := realserver.StartFederation(t, []string{"east", "west"}, realserver.NomadOptions{
		VaultAddr: f.vault.Addr, VaultBlock: `default_identity { aud = ["vault.io"] ttl = "1h" }`,
	}, func(region string) string {
		return fmt.Sprintf("vault {\n  jwt_auth_backend_path = %q\n}\n", "jwt-"+region)
	})
	f.east, f.west = agents[0], agents[1]
	f.nc = f.east.Client(t)

	// One JWT mount per region, each trusting its own region's keys,
	// with the same role name on both.
	must(t, f.vc.Sys().Mount("kv", &vaultapi.MountInput{Type: "kv", Options: map[string]string{"version": "2"}}))
	_, err := f.vc.Logical().Write("kv/data/app", map[string]any{"data": map[string]any{"greeting": "hello"}})
	must(t, err)
	must(t, f.vc.Sys().PutPolicy("app", `path "kv/data/app" { capabilities = ["read"] }`))
	for region, n := range map[string]*realserver.Nomad{"east": f.east, "west": f.west} {
		mount := "jwt-" + region
		must(t, f.vc.Sys().EnableAuthWithOptions(mount, &vaultapi.EnableAuthOptions{Type: "jwt"}))
		f.trust(t, mount, n)
		_, err := f.vc.Logical().Write("auth/"+mount+"/role/nomad-workloads", map[string]any{
			"role_type": "jwt", "bound_audiences": []string{"vault.io"}, "user_claim": "/nomad_job_id", "user_claim_json_pointer": true,
			"claim_mappings": map[string]any{"nomad_namespace": "nomad_namespace", "nomad_job_id": "nomad_job_id", "nomad_task": "nomad_task"},
			"token_type":     "service", "token_policies": []string{"app"}, "token_period": "30m",
		})
		must(t, err)
	}
	f.env = map[string]string{"VAULT_ADDR": f.vault.Addr, "VAULT_TOKEN": f.vault.RootToken, "NOMAD_ADDR": f.east.Addr}
	return f
}

// trust points a mount's jwks_url at agent n's keys.
func (f *federation) trust(t *testing.T, mount string, n *realserver.Nomad) {
	t.Helper()
	_, err := f.vc.Logical().Write("auth/"+mount+"/config", map[string]any{
		"jwks_url": n.Addr + "/.well-known/jwks.json", "jwt_supported_algs": []string{"RS256", "EdDSA"}, "default_role": "nomad-workloads",
	})
	must(t, err)
}

// run registers job id in region, whose task renders the secret.
func (f *federation) run(t *testing.T, region, id string) {
	t.Helper()
	f.runIn(t, region, "default", id)
}

// runIn is run in a Nomad namespace.
func (f *federation) runIn(t *testing.T, region, namespace, id string) {
	t.Helper()
	f.runAs(t, region, namespace, id, "")
}

// runRole is run with vault.role set to role.
func (f *federation) runRole(t *testing.T, region, id, role string) {
	t.Helper()
	f.runAs(t, region, "default", id, role)
}

// runAs registers job id in region and namespace, whose task renders the
// secret, logging in with role ("": the mount's default_role).
func (f *federation) runAs(t *testing.T, region, namespace, id, role string) {
	t.Helper()
	tmpl := `GREETING={{with secret "kv/data/app"}}{{.Data.data.greeting}}{{end}}` + "\n"
	job := nomadapi.NewServiceJob(id, id, region, 50)
	job.Datacenters = []string{"*"}
	task := nomadapi.NewTask("app", "raw_exec")
	task.Config = map[string]any{"command": "/bin/sleep", "args": []string{"3600"}}
	task.Vault = &nomadapi.Vault{Role: role}
	dest, env := "secrets/env", true
	task.Templates = []*nomadapi.Template{{EmbeddedTmpl: &tmpl, DestPath: &dest, Envvars: &env}}
	task.Resources = &nomadapi.Resources{CPU: ptr(50), MemoryMB: ptr(32)}
	job.AddTaskGroup(nomadapi.NewTaskGroup("app", 1).AddTask(task))
	job.Namespace = &namespace
	_, _, err := f.nc.Jobs().Register(job, &nomadapi.WriteOptions{Region: region, Namespace: namespace})
	must(t, err)
}

// waitTask waits until a task of job id in region shows an event whose
// type and message contain msg.
func (f *federation) waitTask(t *testing.T, region, id, msg string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var seen []string
	for time.Now().Before(deadline) {
		allocs, _, err := f.nc.Jobs().Allocations(id, false, &nomadapi.QueryOptions{Region: region})
		if err == nil {
			seen = seen[:0]
			for _, a := range allocs {
				for _, ts := range a.TaskStates {
					for _, ev := range ts.Events {
						text := ev.Type + ": " + ev.DisplayMessage
						if strings.Contains(text, msg) {
							t.Logf("region %s, job %s: %s", region, id, text)
							return
						}
						seen = append(seen, text)
					}
				}
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("job %s in region %s: no event with %q within 60s; events: %q", id, region, msg, seen)
}

// TestDoctorFederation runs doctor against two federated regions through
// one address: a healthy setup gives no error, and a break real in one
// region only gives a finding naming that region and no other.
func TestDoctorFederation(t *testing.T) {
	f := startFederation(t)
	f.run(t, "east", "app-east")
	f.run(t, "west", "app-west")
	_, err := f.nc.Namespaces().Register(&nomadapi.Namespace{Name: "batch"}, &nomadapi.WriteOptions{Region: "east"})
	must(t, err)
	f.runIn(t, "east", "batch", "report")
	f.waitTask(t, "east", "app-east", "Started: Task started by client")
	f.waitTask(t, "west", "app-west", "Started: Task started by client")

	t.Run("healthy in both regions", func(t *testing.T) {
		rep, r := doctor(t, f.env)
		noCrash(t, rep)
		if errs := rep.errors(); len(errs) > 0 {
			t.Errorf("want no error, got:\n%s\n%s", strings.Join(errs, "\n"), r.stderr)
		}
		if rep.has("NV003") {
			t.Errorf("a role on two mounts is not defined twice: %v", rep.Findings)
		}
		for _, v := range rep.Verdicts {
			if v.Status != "ok" {
				t.Errorf("verdict %s %s: %s", v.Area, v.Status, v.Detail)
			}
		}
		// Both regions were read through east's address: west's job and
		// west's client config are there.
		snap := t.TempDir() + "/snap.json"
		if _, r := doctor(t, f.env, "--save", snap); r.code != 0 {
			t.Fatalf("doctor --save: exit %d\n%s", r.code, r.stderr)
		}
		s := readJSON(t, snap)
		b, _ := json.Marshal(s)
		for _, want := range []string{`"regions":["east","west"]`, `"origin":"nomad:/v1/job/app-west?namespace=default\u0026region=west"`, `"region":"west"`} {
			if !strings.Contains(string(b), want) {
				t.Errorf("snapshot lacks %s", want)
			}
		}
		if !strings.Contains(string(b), `"origin":"nomad:/v1/job/report?namespace=batch\u0026region=east"`) {
			t.Errorf("the job of namespace batch was not read by default")
		}
		// --namespace narrows the jobs read.
		if _, r := doctor(t, f.env, "--namespace", "default", "--save", snap); r.code != 0 {
			t.Fatalf("doctor --namespace default: exit %d\n%s", r.code, r.stderr)
		}
		if b, _ := json.Marshal(readJSON(t, snap)); strings.Contains(string(b), "namespace=batch") || !strings.Contains(string(b), "app-west") {
			t.Errorf("--namespace default read another namespace's jobs, or not its own")
		}
		// --region narrows the run to one region.
		if _, r := doctor(t, f.env, "--region", "east", "--save", snap); r.code != 0 {
			t.Fatalf("doctor --region east: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		// (Vault's entity aliases may still name west's job: Vault is one.)
		if b, _ := json.Marshal(readJSON(t, snap)); strings.Contains(string(b), "nomad:/v1/job/app-west") {
			t.Errorf("--region east read west's jobs")
		}
	})

	t.Run("a job names a role no mount has", func(t *testing.T) {
		// Doctor lists every mount's roles: a role none has is certain
		// to fail the login, before any task has tried.
		rep, r := doctor(t, f.env)
		if rep.has("NV202") {
			t.Fatalf("NV202 before the job: %v", rep.errors())
		}
		f.runRole(t, "east", "app-norole", "no-such-role")
		f.waitTask(t, "east", "app-norole", `role "no-such-role" could not be found`)
		rep, r = doctor(t, f.env)
		var nv202 []string
		for _, fd := range rep.Findings {
			if fd.Rule == "NV202" {
				nv202 = append(nv202, fd.Message)
			}
		}
		if len(nv202) != 1 || !strings.Contains(nv202[0], "job app-norole") || !strings.Contains(nv202[0], `role "no-such-role" could not be found`) {
			t.Errorf("want one NV202 for job app-norole, got %q\n%s", nv202, r.stderr)
		}
		if _, _, err := f.nc.Jobs().Deregister("app-norole", true, &nomadapi.WriteOptions{Region: "east"}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("west's mount trusts east's keys", func(t *testing.T) {
		// The break: west's clients log in at jwt-west, which now trusts
		// only east's signing keys. East is untouched.
		f.trust(t, "jwt-west", f.east)
		defer f.trust(t, "jwt-west", f.west)
		f.run(t, "west", "app-west-2")
		f.run(t, "east", "app-east-2")
		// What the tasks do proves the break, and that it is west's only.
		f.waitTask(t, "west", "app-west-2", "error verifying token signature: failed to verify id token signature")
		f.waitTask(t, "east", "app-east-2", "Started: Task started by client")

		rep, r := doctor(t, f.env)
		noCrash(t, rep)
		var nv622 []string
		for _, x := range rep.Findings {
			if x.Rule == "NV622" {
				nv622 = append(nv622, x.Message)
			}
			if x.Severity == "error" && strings.Contains(x.Message, "region east") {
				t.Errorf("a finding names east, which works: %s %s", x.Rule, x.Message)
			}
		}
		if len(nv622) != 1 || !strings.Contains(nv622[0], "region west's clients log tasks in at auth method jwt-west") ||
			!strings.Contains(nv622[0], "error verifying token signature") {
			t.Errorf("want one NV622 naming west, got %q\n%s", nv622, r.stderr)
		}
		// A snapshot replays the federation offline with the same finding.
		snap := t.TempDir() + "/snap.json"
		if _, r := doctor(t, f.env, "--save", snap); r.code != 1 {
			t.Fatalf("doctor --save: exit %d\n%s", r.code, r.stderr)
		}
		replay, r := doctor(t, nil, "--from", snap)
		var again []string
		for _, x := range replay.Findings {
			if x.Rule == "NV622" {
				again = append(again, x.Message)
			}
		}
		if !slices.Equal(again, nv622) {
			t.Errorf("replayed NV622 %q, live %q\n%s", again, nv622, r.stderr)
		}
	})

	t.Run("west's mount trusts east's key as a PEM", func(t *testing.T) {
		// jwt_validation_pubkeys instead of a jwks_url: the same break,
		// compared by the keys themselves.
		_, err := f.vc.Logical().Write("auth/jwt-west/config", map[string]any{
			"jwt_validation_pubkeys": []string{f.east.SigningKeyPEM(t)}, "jwt_supported_algs": []string{"RS256", "EdDSA"}, "default_role": "nomad-workloads",
		})
		must(t, err)
		f.run(t, "west", "app-west-4")
		f.waitTask(t, "west", "app-west-4", "error verifying token signature")
		rep, r := doctor(t, f.env)
		var nv622 []string
		for _, x := range rep.Findings {
			if x.Rule == "NV622" {
				nv622 = append(nv622, x.Message)
			}
		}
		if len(nv622) != 1 || !strings.Contains(nv622[0], "auth method jwt-west, whose jwt_validation_pubkeys do not hold region west's signing key(s)") {
			t.Errorf("want one NV622 naming west's pubkeys, got %q\n%s", nv622, r.stderr)
		}
		// West's own key as a PEM works, and doctor agrees.
		_, err = f.vc.Logical().Write("auth/jwt-west/config", map[string]any{
			"jwt_validation_pubkeys": []string{f.west.SigningKeyPEM(t)}, "jwt_supported_algs": []string{"RS256", "EdDSA"}, "default_role": "nomad-workloads",
		})
		must(t, err)
		f.run(t, "west", "app-west-5")
		f.waitTask(t, "west", "app-west-5", "Started: Task started by client")
		if rep, _ := doctor(t, f.env); rep.has("NV622") {
			t.Errorf("west's own key as a PEM: %v", rep.errors())
		}
		f.trust(t, "jwt-west", f.west)
	})

	t.Run("west's clients log in where no method is mounted", func(t *testing.T) {
		// Disabling west's mount breaks west alone: its clients' path is
		// no longer a JWT auth method.
		must(t, f.vc.Sys().DisableAuth("jwt-west"))
		f.run(t, "west", "app-west-3")
		f.waitTask(t, "west", "app-west-3", "failed to login with JWT")
		rep, r := doctor(t, f.env)
		noCrash(t, rep)
		var nv632 []string
		for _, x := range rep.Findings {
			if x.Rule == "NV632" {
				nv632 = append(nv632, x.Message)
			}
		}
		if len(nv632) != 1 || !strings.HasPrefix(nv632[0], "clients of region west log tasks in at auth/jwt-west/login") {
			t.Errorf("want one NV632 naming west, got %q\n%s", nv632, r.stderr)
		}
	})
}
