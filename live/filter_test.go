package live

import (
	"testing"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/nvlint/nvlint/internal/realserver"
)

// TestJobsFilter: Nomad evaluates vaultJobsFilter on the whole job and
// returns only the jobs with a vault block, page by page.
func TestJobsFilter(t *testing.T) {
	n := realserver.StartNomad(t, realserver.NomadOptions{
		VaultAddr:  closedAddr(t), // jobs with a vault block need a cluster; nothing logs in
		VaultBlock: `default_identity { aud = ["vault.io"] ttl = "1h" }`,
	})
	nc := n.Client(t)
	for _, id := range []string{"plain", "secret-a", "secret-b", "secret-c"} {
		job := nomadapi.NewBatchJob(id, id, "global", 50)
		job.Datacenters = []string{"*"}
		task := nomadapi.NewTask("t", "raw_exec")
		task.Config = map[string]any{"command": "/bin/true"}
		if id != "plain" {
			task.Vault = &nomadapi.Vault{}
		}
		job.AddTaskGroup(nomadapi.NewTaskGroup("g", 0).AddTask(task))
		if _, _, err := nc.Jobs().Register(job, nil); err != nil {
			t.Fatalf("register %s: %v", id, err)
		}
	}
	var ids []string
	next := ""
	pages := 0
	for {
		stubs, meta, err := nc.Jobs().List(&nomadapi.QueryOptions{Namespace: "*", Filter: vaultJobsFilter, PerPage: 2, NextToken: next})
		if err != nil {
			t.Fatalf("list with the filter: %v", err)
		}
		pages++
		for _, s := range stubs {
			ids = append(ids, s.ID)
		}
		if next = meta.NextToken; next == "" {
			break
		}
	}
	if len(ids) != 3 || ids[0] != "secret-a" || ids[2] != "secret-c" || pages != 2 {
		t.Errorf("filtered list: %v in %d pages, want the three jobs with a vault block in two pages", ids, pages)
	}
}
