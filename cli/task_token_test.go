package cli_test

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"
)

// TestTaskTokenForecast: a JWT role with token_max_ttl=40s and a running
// task. Doctor names the allocation and when its token reaches the cap,
// and the real Nomad restarts the task for a new token within that
// window.
func TestTaskTokenForecast(t *testing.T) {
	s := startPolicySetup(t)
	role := readJSON(t, filepath.Join(wiSeed, "vault-role-nomad-workloads.json"))
	role["token_period"] = 0
	role["token_max_ttl"] = "40s"
	_, err := s.vc.Logical().Write("auth/jwt-nomad/role/nomad-workloads", role)
	must(t, err)

	// The task logs in again under the capped role when it (re)starts.
	alloc := runningAlloc(t, s.nc, "web", time.Time{})
	a, _, err := s.nc.Allocations().Info(alloc, nil)
	must(t, err)
	must(t, s.nc.Allocations().Restart(a, "web", nil))
	restarted := time.Now()
	alloc = runningAlloc(t, s.nc, "web", restarted)
	started := taskState(t, s.nc, alloc).StartedAt

	rep, _ := s.doctor(t, s.vault.RootToken, s.nomad.Token)
	var msg string
	for _, f := range rep.Findings {
		if f.Rule == "NV624" {
			msg = f.Message
		}
	}
	t.Logf("NV624: %s", msg)
	at := regexp.MustCompile(`\((\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)\)`).FindStringSubmatch(msg)
	if at == nil || !strings.Contains(msg, "allocation "+alloc[:8]) || !strings.Contains(msg, "caps task tokens at 40s (token_max_ttl)") {
		t.Fatalf("NV624 does not name allocation %s and the cap: %q", alloc[:8], msg)
	}
	forecast, err := time.Parse(time.RFC3339, at[1])
	must(t, err)
	if d := forecast.Sub(started.Add(40 * time.Second)); d < -time.Second || d > time.Second {
		t.Errorf("forecast %s, want the task's start %s + 40s", forecast, started)
	}

	// Nomad restarts the task for a new token once renewal hits the cap.
	deadline := time.Now().Add(90 * time.Second)
	for {
		st := taskState(t, s.nc, alloc)
		if st.Restarts > 1 || !st.LastRestart.Before(forecast.Add(-10*time.Second)) && st.LastRestart.After(restarted.Add(time.Second)) {
			if d := st.LastRestart.Sub(forecast); d < -10*time.Second || d > 30*time.Second {
				t.Errorf("Nomad restarted the task at %s, %v from the forecast %s", st.LastRestart.Format(time.RFC3339), d, forecast.Format(time.RFC3339))
			}
			t.Logf("restarted at %s, forecast %s", st.LastRestart.Format(time.RFC3339), forecast.Format(time.RFC3339))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the task was not restarted by %s (forecast %s): %+v", time.Now().Format(time.RFC3339), forecast.Format(time.RFC3339), st.Events)
		}
		time.Sleep(time.Second)
	}
}

// runningAlloc waits for the job's allocation to run a task started
// after since.
func runningAlloc(t *testing.T, nc *nomadapi.Client, job string, since time.Time) string {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		allocs, _, err := nc.Jobs().Allocations(job, false, nil)
		must(t, err)
		for _, a := range allocs {
			if st := a.TaskStates[job]; st != nil && st.State == "running" && st.StartedAt.After(since) {
				return a.ID
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("job %s has no running task", job)
	return ""
}

func taskState(t *testing.T, nc *nomadapi.Client, alloc string) *nomadapi.TaskState {
	t.Helper()
	a, _, err := nc.Allocations().Info(alloc, nil)
	must(t, err)
	st := a.TaskStates["web"]
	if st == nil {
		t.Fatalf("allocation %s has no task web", alloc)
	}
	return st
}
