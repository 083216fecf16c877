package live

import (
	"context"
	"strings"
	"testing"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/nvlint/nvlint/checks"
	"github.com/nvlint/nvlint/internal/realserver"
	"github.com/nvlint/nvlint/rules"
)

// TestClientVaultRetry reads a client's template vault_retry from a real
// agent/self: the values written, and Nomad's defaults for the rest.
// doctor's rules then report it (NV305), and judge the client node's
// release without finding a quirk in it (NV652).
func TestClientVaultRetry(t *testing.T) {
	n := realserver.StartNomad(t, realserver.NomadOptions{
		Extra: "client {\n  template {\n    vault_retry {\n      attempts    = 3\n      max_backoff = \"10s\"\n    }\n  }\n}",
	})
	w, _ := Collect(context.Background(), Options{
		Nomad:          &nomadapi.Config{Address: n.Addr},
		RequestTimeout: 5 * time.Second,
	})
	if len(w.Agents) != 1 {
		t.Fatalf("agents: %d", len(w.Agents))
	}
	a := w.Agents[0]
	if !a.Client.V {
		t.Errorf("client not enabled: %+v", a.Client)
	}
	r := a.VaultRetry
	if r == nil {
		t.Fatal("no vault_retry read from agent/self")
	}
	if !r.Attempts.IsKnown() || r.Attempts.V != 3 || r.Backoff.V != "250ms" || r.MaxBackoff.V != "10s" {
		t.Errorf("vault_retry: attempts %+v backoff %q max_backoff %q", r.Attempts, r.Backoff.V, r.MaxBackoff.V)
	}

	res := rules.RunWith(w, checks.All(), rules.Settings{})
	var nv305 int
	for _, f := range res.Findings {
		switch f.Rule.ID {
		case "NV305":
			nv305++
			if !strings.Contains(f.Message, "after 3 attempts, about 1.8s") {
				t.Errorf("NV305: %s", f.Message)
			}
		case "NV652":
			t.Errorf("NV652 on Nomad %s: %s", realserver.NomadVersion, f.Message)
		}
	}
	if nv305 != 1 {
		t.Errorf("NV305 findings: %d, want 1", nv305)
	}
	if len(w.Live.Nomad.Nodes) != 1 || w.Live.Nomad.Nodes[0].Version != realserver.NomadVersion {
		t.Errorf("nodes: %+v", w.Live.Nomad.Nodes)
	}
}
