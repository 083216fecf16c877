package live

import (
	"context"
	"testing"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/nvlint/nvlint/internal/realserver"
)

// TestClientVaultRetry reads a client's template vault_retry from a real
// agent/self: the values written, and Nomad's defaults for the rest.
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
}
