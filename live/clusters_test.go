package live

import (
	"strings"
	"testing"

	"github.com/nvlint/nvlint/inputs"
	"github.com/nvlint/nvlint/world"
)

// TestNoteUnreadClusters: each cluster a job picks besides the default
// is one problem naming it and its jobs; the default cluster is none.
func TestNoteUnreadClusters(t *testing.T) {
	w := &world.World{Live: &world.Live{Vault: &world.VaultLive{Addr: "http://127.0.0.1:8200"}}}
	for _, job := range []string{
		`{"ID":"pay","TaskGroups":[{"Name":"g","Tasks":[{"Name":"t","Vault":{"Cluster":"payments","Role":"r"}}]}]}`,
		`{"ID":"web","TaskGroups":[{"Name":"g","Tasks":[{"Name":"t","Vault":{"Cluster":"default","Role":"r"}}]}]}`,
		`{"ID":"api","TaskGroups":[{"Name":"g","Tasks":[{"Name":"t","Vault":{"Role":"r"}}]}]}`,
	} {
		if err := inputs.LiveObject(w, world.KindJobspec, "", "nomad:/v1/job", []byte(job)); err != nil {
			t.Fatal(err)
		}
	}
	NoteUnreadClusters(w)
	if len(w.Live.Problems) != 1 {
		t.Fatalf("problems %+v, want one for cluster payments", w.Live.Problems)
	}
	p := w.Live.Problems[0]
	if p.What != "cluster payments" || !strings.Contains(p.Reason, "job pay") || strings.Contains(p.Reason, "web") ||
		!strings.Contains(p.Reason, "not read: pass --vault payments=URL --vault-token-file payments=FILE; used by job pay") || len(p.Areas) == 0 {
		t.Errorf("problem %+v", p)
	}

	// A cluster that was read is no problem; the default one, when only
	// another was read, is.
	w.Live = &world.Live{VaultClusters: []*world.VaultLive{{Cluster: "payments", Addr: "http://127.0.0.1:8300"}}}
	NoteUnreadClusters(w)
	if len(w.Live.Problems) != 1 || w.Live.Problems[0].What != "cluster default" || !strings.Contains(w.Live.Problems[0].Reason, "VAULT_ADDR") {
		t.Errorf("payments read, default not: problems %+v", w.Live.Problems)
	}
	// Given no Vault at all, the default cluster was not asked for.
	w.Live = &world.Live{}
	NoteUnreadClusters(w)
	if len(w.Live.Problems) != 1 || w.Live.Problems[0].What != "cluster payments" {
		t.Errorf("no Vault: problems %+v", w.Live.Problems)
	}
}
