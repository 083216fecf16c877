package cli_test

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"
)

// secretJob is a jobspec whose task reads secretPath with a Nomad 1.11
// vault secret block named db, and prints the length of the value it got
// (never the value) before it sleeps. The command has no braces: the
// client parses task config again and refuses a shell's ${#VAR}.
func secretJob(id, secretPath string) string {
	return fmt.Sprintf(`job %q {
  datacenters = ["*"]

  group "app" {
    task "app" {
      driver = "raw_exec"

      config {
        command = "/bin/sh"
        args    = ["-c", "printf 'password length %%s\\n' \"$(printf %%s \"$DB_PASSWORD\" | wc -c)\"; exec sleep 3600"]
      }

      vault {}

      secret "db" {
        provider = "vault"
        path     = %q

        config {
          engine = "kv_v2"
        }
      }

      env {
        DB_PASSWORD = "${secret.db.root_password}"
      }

      resources {
        cpu    = 50
        memory = 32
      }
    }
  }
}
`, id, secretPath)
}

// registerHCL parses a jobspec with Nomad and registers it as Nomad
// parsed it. The api module nvlint builds against predates the secret
// block, so the job travels as raw JSON to keep it.
func registerHCL(t *testing.T, nc *nomadapi.Client, hcl string) {
	t.Helper()
	var job json.RawMessage
	_, err := nc.Raw().Write("/v1/jobs/parse", map[string]any{"JobHCL": hcl, "Canonicalize": true}, &job, nil)
	must(t, err)
	_, err = nc.Raw().Write("/v1/jobs", map[string]any{"Job": job}, nil, nil)
	must(t, err)
}

// waitRunning waits until an allocation of the job has its task running
// and returns the allocation's ID.
func waitRunning(t *testing.T, nc *nomadapi.Client, job string) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var last []*nomadapi.AllocationListStub
	for time.Now().Before(deadline) {
		allocs, _, err := nc.Jobs().Allocations(job, false, nil)
		if err == nil {
			last = allocs
			for _, a := range allocs {
				if ts := a.TaskStates["app"]; ts != nil && ts.State == "running" {
					return a.ID
				}
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	var states []string
	for _, a := range last {
		for task, ts := range a.TaskStates {
			for _, ev := range ts.Events {
				states = append(states, fmt.Sprintf("%s %s: %s %s", a.ID[:8], task, ev.Type, ev.DisplayMessage))
			}
		}
	}
	t.Fatalf("no allocation of %s got its task running within 60s; events:\n%s", job, strings.Join(states, "\n"))
	return ""
}

// testSecretBlocks checks Nomad 1.11 vault secret blocks on the seed
// setup: the nomad-workloads policy grants each job kv/data/<namespace>/<job>
// and below.
func testSecretBlocks(t *testing.T, s *wiSetup) {
	_, err := s.vc.Logical().Write("kv/data/default/ledger/config", map[string]any{"data": map[string]any{"root_password": "ledger-password"}})
	must(t, err)

	t.Run("secret block read granted", func(t *testing.T) {
		spec := secretJob("ledger", "kv/data/default/ledger/config")
		registerHCL(t, s.nc, spec)
		defer func() { _, _, _ = s.nc.Jobs().Deregister("ledger", true, nil) }()
		alloc := waitRunning(t, s.nc, "ledger")
		// The task got the secret through the block and env interpolation.
		want := fmt.Sprintf("password length %d", len("ledger-password"))
		var out string
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && !strings.Contains(out, want); time.Sleep(250 * time.Millisecond) {
			out = allocStdout(t, s.nc, alloc)
		}
		if !strings.Contains(out, want) {
			t.Errorf("task stdout %q, want %q", out, want)
		}

		rep, r := doctor(t, s.env)
		noCrash(t, rep)
		for _, f := range rep.Findings {
			if strings.Contains(f.Message, "ledger") {
				t.Errorf("doctor reports the healthy job: %s %s: %s", f.Rule, f.Severity, f.Message)
			}
		}
		if strings.Contains(r.stdout, "ledger-password") {
			t.Error("the report contains the secret")
		}

		// lint of the seed's files with the job is silent too.
		dir := t.TempDir()
		entries, err := os.ReadDir(wiSeed)
		must(t, err)
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(wiSeed, e.Name()))
			must(t, err)
			must(t, os.WriteFile(filepath.Join(dir, e.Name()), b, 0o600))
		}
		must(t, os.WriteFile(filepath.Join(dir, "ledger.nomad.hcl"), []byte(spec), 0o600))
		lr := nvlint(t, "", nil, "lint", "--format", "json", dir)
		var lint doctorReport
		must(t, json.Unmarshal([]byte(lr.stdout), &lint))
		for _, f := range lint.Findings {
			if f.Rule == "NV235" { // the seed's role, whatever the job
				continue
			}
			t.Errorf("lint: %s %s: %s", f.Rule, f.Severity, f.Message)
		}
	})

	t.Run("secret block read denied", func(t *testing.T) {
		// Job audit reads ledger's secret, which the policy grants ledger only.
		registerHCL(t, s.nc, secretJob("audit", "kv/data/default/ledger/config"))
		defer func() { _, _, _ = s.nc.Jobs().Deregister("audit", true, nil) }()
		// The event Nomad 1.11.3 shows, although the job has no template.
		waitForEvent(t, s.nc, "audit", "Missing: vault.read(kv/data/default/ledger/config)")
		rep, r := doctor(t, s.env)
		noCrash(t, rep)
		var triage, denied bool
		for _, f := range rep.Findings {
			if !strings.Contains(f.Message, "audit") {
				continue
			}
			switch f.Rule {
			case "NV661":
				triage = true
				for _, want := range []string{"job audit", "secret block db", "kv/data/default/ledger/config", "policies nomad-workloads", "is denied read"} {
					if !strings.Contains(f.Message, want) {
						t.Errorf("NV661 does not say %q: %s", want, f.Message)
					}
				}
				if strings.Contains(f.Message, "template") && !strings.Contains(f.Message, "renders as a template") {
					t.Errorf("NV661 blames a template the job does not have: %s", f.Message)
				}
			case "NV411":
				denied = true
				if !strings.Contains(f.Message, "secret block db") || !strings.Contains(f.Message, "kv/data/default/ledger/config") {
					t.Errorf("NV411 does not name the block and its path: %s", f.Message)
				}
				if len(f.Fixes) == 0 || !strings.Contains(f.Fixes[0].Description, "nomad-workloads") || len(f.Fixes[0].Commands) == 0 {
					t.Errorf("NV411 has no fix that grants the path in policy nomad-workloads: %+v", f.Fixes)
				}
			}
		}
		if !triage || !denied {
			t.Fatalf("want NV661 and NV411 on job audit, got %v\n%s", rep.errors(), r.stderr)
		}
	})
}

// allocStdout is the task app's stdout so far.
func allocStdout(t *testing.T, nc *nomadapi.Client, alloc string) string {
	t.Helper()
	rc, err := nc.Raw().Response("/v1/client/fs/logs/"+alloc+"?task=app&type=stdout&plain=true", nil)
	if err != nil {
		return ""
	}
	defer rc.Close()
	b, _ := io.ReadAll(io.LimitReader(rc, 1<<16))
	return string(b)
}
