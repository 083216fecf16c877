package rules

import (
	"strings"

	"github.com/nvlint/nvlint/world"
)

// forCluster adapts a finding about a Vault cluster other than the
// default one (doctor --vault NAME=ADDR): its message names the cluster,
// and its vault commands are sent to that cluster's address, not to
// VAULT_ADDR's. The cluster is the finding's own, else that of the live
// object it is about (Origin "vault[NAME]:PATH").
func forCluster(w *world.World, f *Finding) {
	cluster := f.Cluster
	if cluster == "" {
		cluster = world.ClusterOfOrigin(f.Object.Origin)
	}
	if cluster == "" || cluster == world.DefaultCluster {
		return
	}
	f.Cluster = cluster
	if label := "vault cluster " + cluster; !strings.Contains(f.Message, label) {
		f.Message += " (" + label + ")"
	}
	var addr string
	if w != nil && w.Live != nil {
		if v := w.Live.VaultOf(cluster); v != nil {
			addr = v.Addr
		}
	}
	if addr == "" {
		return
	}
	for i := range f.Fixes {
		for j, c := range f.Fixes[i].Commands {
			f.Fixes[i].Commands[j] = atAddress(c, addr)
		}
	}
}

// atAddress sends the vault commands of c to addr: each runs with
// VAULT_ADDR set to it.
func atAddress(c Command, addr string) Command {
	if c.Template != "" {
		if strings.HasPrefix(c.Template, "vault ") {
			c.Template = "VAULT_ADDR=" + Quote(addr) + " " + c.Template
		}
		return c
	}
	return c.mapArgvs(func(argv Argv) Argv {
		if len(argv) > 0 && argv[0] == "vault" {
			return append(Argv{"env", "VAULT_ADDR=" + addr}, argv...)
		}
		return argv
	})
}
