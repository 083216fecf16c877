package cli_test

import (
	"strings"
	"testing"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/nvlint/nvlint/internal/realserver"
)

// A JWT auth method mounted with `vault auth enable` and never configured:
// the Workload identity verdict names it, instead of "no JWT auth method".
func TestDoctorUnconfiguredJWTMount(t *testing.T) {
	v := realserver.StartVault(t)
	must(t, v.Client(t).Sys().EnableAuthWithOptions("jwt-nomad", &vaultapi.EnableAuthOptions{Type: "jwt"}))
	env := map[string]string{"VAULT_ADDR": v.Addr, "VAULT_TOKEN": v.RootToken}
	rep, r := doctor(t, env)
	for _, vd := range rep.Verdicts {
		if vd.Area != "Workload identity" {
			continue
		}
		if vd.Status != "ok" || strings.Contains(vd.Detail, "no JWT auth method") || !strings.Contains(vd.Detail, "JWT auth method jwt-nomad mounted but not configured (no auth/jwt-nomad/config)") {
			t.Errorf("Workload identity verdict: %+v\n%s", vd, r.stderr)
		}
		return
	}
	t.Fatalf("no Workload identity verdict:\n%s", r.stdout)
}
