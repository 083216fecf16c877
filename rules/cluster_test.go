package rules

import (
	"testing"

	"github.com/nvlint/nvlint/world"
)

// TestForCluster: a finding about an object of another Vault cluster
// names the cluster once, and its vault commands go to that cluster's
// address; the default cluster's findings are left as they are.
func TestForCluster(t *testing.T) {
	w := &world.World{Live: &world.Live{
		Vault:         &world.VaultLive{Addr: "http://default:8200"},
		VaultClusters: []*world.VaultLive{{Cluster: "payments", Addr: "http://payments:8200"}},
	}}
	write := Cmd("vault", "write", "auth/jwt-nomad/role/r", "bound_audiences=vault.io")
	pipe := Cmd("printf", "%s", "{}").Pipe("vault", "write", "auth/jwt-nomad/role/r", "-")
	f := Finding{
		Message: "JWT role r binds no audience",
		Object:  world.ObjectRef{Kind: world.KindJWTRole, Name: "r", Origin: "vault[payments]:auth/jwt-nomad/role/r"},
		Fixes:   []Fix{{Commands: []Command{write, pipe, Template("vault write %s <the other parameters>", "auth/jwt-nomad/config")}}},
	}
	forCluster(w, &f)
	if f.Message != "JWT role r binds no audience (vault cluster payments)" || f.Cluster != "payments" {
		t.Errorf("message %q, cluster %q", f.Message, f.Cluster)
	}
	for i, want := range []string{
		"env VAULT_ADDR=http://payments:8200 vault write auth/jwt-nomad/role/r bound_audiences=vault.io",
		"printf %s '{}' | env VAULT_ADDR=http://payments:8200 vault write auth/jwt-nomad/role/r -",
		"VAULT_ADDR=http://payments:8200 vault write auth/jwt-nomad/config <the other parameters>",
	} {
		if got := f.Fixes[0].Commands[i].String(); got != want {
			t.Errorf("command %d: %s, want %s", i, got, want)
		}
	}
	if got := write.String(); got != "vault write auth/jwt-nomad/role/r bound_audiences=vault.io" {
		t.Errorf("the original command changed: %s", got)
	}

	// A message that names the cluster already is left alone; the default
	// cluster's findings too.
	g := Finding{Message: "no JWT method at jwt/ (vault cluster payments)", Cluster: "payments"}
	forCluster(w, &g)
	if g.Message != "no JWT method at jwt/ (vault cluster payments)" {
		t.Errorf("message %q", g.Message)
	}
	d := Finding{Message: "m", Object: world.ObjectRef{Origin: "vault:sys/policies/acl/p"}, Fixes: []Fix{{Commands: []Command{write}}}}
	forCluster(w, &d)
	if d.Message != "m" || d.Fixes[0].Commands[0].String() != write.String() {
		t.Errorf("default cluster's finding changed: %+v", d)
	}
}
