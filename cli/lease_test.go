package cli_test

import (
	"crypto/x509"
	"encoding/pem"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"
	vaultapi "github.com/hashicorp/vault/api"

	"github.com/nvlint/nvlint/live"
)

// TestLeaseForecast: a PKI role with generate_lease and max_ttl=40s, and
// a job whose two tasks render a certificate from it, one with
// change_mode "noop" and one with "restart". Doctor, with a token holding
// exactly the printed policies, forecasts when the noop task's
// certificate expires (and Vault revokes its lease) and when the restart
// task gets a new one; the real Vault and Nomad then do so within that
// window.
func TestLeaseForecast(t *testing.T) {
	s := startPolicySetup(t)
	must(t, s.vc.Sys().Mount("pki", &vaultapi.MountInput{Type: "pki"}))
	_, err := s.vc.Logical().Write("pki/root/generate/internal", map[string]any{"common_name": "example.com", "ttl": "24h"})
	must(t, err)
	// No ttl: the mount's default (768h) is capped at max_ttl.
	_, err = s.vc.Logical().Write("pki/roles/web", map[string]any{
		"allowed_domains": "example.com", "allow_subdomains": true, "max_ttl": "40s", "generate_lease": true,
	})
	must(t, err)
	pol, err := s.vc.Sys().GetPolicy("nomad-workloads")
	must(t, err)
	must(t, s.vc.Sys().PutPolicy("nomad-workloads", pol+"\npath \"pki/issue/web\" {\n  capabilities = [\"update\"]\n}\n"))

	const text = `{{ with secret "pki/issue/web" "common_name=certs.example.com" }}{{ .Data.certificate }}{{ end }}`
	job := nomadapi.NewServiceJob("certs", "certs", "global", 50)
	job.Datacenters = []string{"*"}
	group := nomadapi.NewTaskGroup("certs", 1)
	for name, mode := range map[string]string{"keep": "noop", "swap": "restart"} {
		task := nomadapi.NewTask(name, "raw_exec")
		task.Config = map[string]any{"command": "/bin/sleep", "args": []string{"3600"}}
		task.Vault = &nomadapi.Vault{}
		task.Resources = &nomadapi.Resources{CPU: ptr(50), MemoryMB: ptr(32)}
		task.Templates = []*nomadapi.Template{{EmbeddedTmpl: ptr(text), DestPath: ptr("local/cert.pem"), ChangeMode: ptr(mode)}}
		group.AddTask(task)
	}
	job.AddTaskGroup(group)
	_, _, err = s.nc.Jobs().Register(job, nil)
	must(t, err)

	alloc := certsAlloc(t, s.nc)
	keepStart, swapStart := alloc.TaskStates["keep"].StartedAt, alloc.TaskStates["swap"].StartedAt
	first := certOf(t, s.nc, alloc, "keep")

	vt, nt := s.tokens(t, live.VaultPolicy(), live.NomadPolicy())
	saved := filepath.Join(t.TempDir(), "snap.json")
	rep, _ := doctor(t, map[string]string{"VAULT_ADDR": s.vault.Addr, "NOMAD_ADDR": s.nomad.Addr, "VAULT_TOKEN": vt, "NOMAD_TOKEN": nt}, "--save", saved)
	var nv626 string
	var evidence []string
	for _, f := range rep.Findings {
		switch f.Rule {
		case "NV626":
			nv626, evidence = f.Severity+" "+f.Message, f.Evidence
		case "NV602":
			t.Errorf("a read failed with the printed policy: %s", f.Message)
		}
	}
	t.Logf("NV626: %s\n%s", nv626, strings.Join(evidence, "\n"))
	if !strings.HasPrefix(nv626, "error PKI role web (mount pki) issues certificates for 40s (max_ttl): 2 running task(s)") ||
		!strings.Contains(nv626, "task keep of allocation "+alloc.ID[:8]+" (job certs), keeps its certificate when it expires in") {
		t.Fatalf("NV626 does not name the noop task first: %q", nv626)
	}
	at := func(task, end string) time.Time {
		t.Helper()
		re := regexp.MustCompile(`task ` + task + `: a template \(change_mode "\w+"\): started \S+ \+ .*, ` + end + ` in \S+ \((\S+Z)\)$`)
		for _, e := range evidence {
			if m := re.FindStringSubmatch(e); m != nil {
				when, err := time.Parse(time.RFC3339, m[1])
				must(t, err)
				return when
			}
		}
		t.Fatalf("no forecast for task %s in %q", task, evidence)
		return time.Time{}
	}
	keepAt, swapAt := at("keep", "ends"), at("swap", "replaced")
	// Replayed, the snapshot forecasts the same, counted from when it
	// was read.
	replay, _ := doctor(t, nil, "--from", saved)
	for _, f := range replay.Findings {
		if f.Rule == "NV626" && f.Severity+" "+f.Message != nv626 {
			t.Errorf("replayed NV626: %s %s\nwant %s", f.Severity, f.Message, nv626)
		}
	}
	if !replay.has("NV626") {
		t.Error("no NV626 in the replay")
	}
	// The message's times have whole seconds.
	if d := keepAt.Sub(keepStart.Add(40 * time.Second)); d < -time.Second || d > time.Second {
		t.Errorf("noop task's forecast %s, want its start %s + 40s", keepAt, keepStart)
	}
	if d := swapAt.Sub(swapStart.Add(36 * time.Second)); d < -time.Second || d > time.Second {
		t.Errorf("restart task's forecast %s, want its start %s + 90%% of 40s", swapAt, swapStart)
	}
	// The certificate the noop task got just before it started ends then.
	if d := first.NotAfter.Sub(keepAt); d < -3*time.Second || d > time.Second {
		t.Errorf("the noop task's certificate ends %s, %v from the forecast %s", first.NotAfter.Format(time.RFC3339), d, keepAt.Format(time.RFC3339))
	}

	// Vault revokes the leases of the certificates the tasks started
	// with at their end (the certificates, then expired, stay off the
	// CRL: Vault refuses to list an expired one); consul-template renders
	// a new certificate for both tasks, and Nomad restarts the restart
	// task only.
	leases := map[string]time.Time{} // lease ID -> expire_time
	list, err := s.vc.Logical().List("sys/leases/lookup/pki/issue/web/")
	must(t, err)
	if list == nil {
		t.Fatal("no leases under pki/issue/web")
	}
	for _, k := range list.Data["keys"].([]any) {
		id := "pki/issue/web/" + k.(string)
		l, err := s.vc.Logical().Write("sys/leases/lookup", map[string]any{"lease_id": id})
		must(t, err)
		exp, err := time.Parse(time.RFC3339Nano, l.Data["expire_time"].(string))
		must(t, err)
		leases[id] = exp
		if d := exp.Sub(keepAt); d < -3*time.Second || d > time.Second {
			t.Errorf("lease %s expires %s, %v from the forecast %s", id, exp.Format(time.RFC3339), d, keepAt.Format(time.RFC3339))
		}
	}
	if len(leases) != 2 {
		t.Fatalf("leases under pki/issue/web: %v, want the two tasks'", leases)
	}
	var revoked, restarted time.Time
	deadline := time.Now().Add(90 * time.Second)
	for revoked.IsZero() || restarted.IsZero() {
		if time.Now().After(deadline) {
			t.Fatalf("by %s: revoked %v, restarted %v (forecasts %s, %s)", time.Now().Format(time.RFC3339), revoked, restarted, keepAt.Format(time.RFC3339), swapAt.Format(time.RFC3339))
		}
		if revoked.IsZero() {
			live := 0
			for id := range leases {
				if _, err := s.vc.Logical().Write("sys/leases/lookup", map[string]any{"lease_id": id}); err == nil {
					live++
				}
			}
			if live == 0 {
				revoked = time.Now()
			}
		}
		if restarted.IsZero() {
			a, _, err := s.nc.Allocations().Info(alloc.ID, nil)
			must(t, err)
			if st := a.TaskStates["swap"]; st.Restarts > 0 {
				restarted = st.LastRestart
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("leases revoked by %s (forecast %s), restarted %s (forecast %s)", revoked.Format(time.RFC3339Nano), keepAt.Format(time.RFC3339),
		restarted.Format(time.RFC3339Nano), swapAt.Format(time.RFC3339))
	// Polled every half second; the forecast has whole seconds.
	if d := revoked.Sub(keepAt); d < -time.Second || d > 3*time.Second {
		t.Errorf("Vault revoked the first certificates' leases by %s, %v from the forecast %s", revoked.Format(time.RFC3339), d, keepAt.Format(time.RFC3339))
	}
	// consul-template issues at 85 to 95% of the lease; Nomad renders
	// after its quiescence wait (client template wait min 5s) and
	// restarts within the template's splay (5s).
	if d := restarted.Sub(swapAt); d < -3*time.Second || d > 15*time.Second {
		t.Errorf("Nomad restarted the restart task at %s, %v from the forecast %s", restarted.Format(time.RFC3339), d, swapAt.Format(time.RFC3339))
	}

	// The noop task's file has a new certificate, but the task was not
	// restarted: it still holds the revoked one.
	deadline = time.Now().Add(30 * time.Second)
	for certOf(t, s.nc, alloc, "keep").SerialNumber.Cmp(first.SerialNumber) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the noop task's template was not rendered again")
		}
		time.Sleep(500 * time.Millisecond)
	}
	a, _, err := s.nc.Allocations().Info(alloc.ID, nil)
	must(t, err)
	if st := a.TaskStates["keep"]; st.Restarts != 0 || !st.StartedAt.Equal(keepStart) {
		t.Errorf("the noop task restarted: %+v", st)
	}
	// The restarted task's start moves with it, once it runs again (Nomad
	// waits out the restart delay first): its next certificate is counted
	// from there.
	deadline = time.Now().Add(30 * time.Second)
	for st := a.TaskStates["swap"]; !st.StartedAt.After(restarted.Add(-time.Second)); st = a.TaskStates["swap"] {
		if time.Now().After(deadline) {
			t.Fatalf("the restart task's start %s, want at its restart %s", st.StartedAt.Format(time.RFC3339Nano), restarted.Format(time.RFC3339Nano))
		}
		time.Sleep(500 * time.Millisecond)
		a, _, err = s.nc.Allocations().Info(alloc.ID, nil)
		must(t, err)
	}
}

// certsAlloc waits for job certs' allocation to run both its tasks.
func certsAlloc(t *testing.T, nc *nomadapi.Client) *nomadapi.Allocation {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		stubs, _, err := nc.Jobs().Allocations("certs", false, nil)
		must(t, err)
		for _, stub := range stubs {
			keep, swap := stub.TaskStates["keep"], stub.TaskStates["swap"]
			if keep != nil && swap != nil && keep.State == "running" && swap.State == "running" {
				a, _, err := nc.Allocations().Info(stub.ID, nil)
				must(t, err)
				return a
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatal("job certs has no running allocation")
	return nil
}

// certOf is the certificate a task's template rendered.
func certOf(t *testing.T, nc *nomadapi.Client, a *nomadapi.Allocation, task string) *x509.Certificate {
	t.Helper()
	r, err := nc.AllocFS().Cat(a, task+"/local/cert.pem", nil)
	must(t, err)
	defer r.Close()
	b, err := io.ReadAll(r)
	must(t, err)
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("task %s rendered no certificate: %q", task, b)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	must(t, err)
	return c
}
