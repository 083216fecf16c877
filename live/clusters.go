package live

import (
	"cmp"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/nvlint/nvlint/world"
)

// NoteUnreadClusters records, for each Vault cluster that jobs or agent
// configs of w use (vault { name = ... } in an agent config, vault {
// cluster = ... } in a job) and that doctor did not read, that it was
// not read: the jobs that log in there are checked against nothing, so
// their areas are not called ok. Doctor reads the default cluster from
// VAULT_ADDR and each other one it is given an address for (--vault
// NAME=ADDR); given no Vault at all, the default cluster was not asked
// for.
func NoteUnreadClusters(w *world.World) {
	l := w.Live
	if l == nil {
		return
	}
	// With no Vault at all, the default cluster was not asked for (the
	// verdicts say so); another is noted still.
	none := len(l.Vaults()) == 0
	read := func(n string) bool { return l.VaultOf(n) != nil || none && n == world.DefaultCluster }
	users := map[string][]string{} // cluster -> what uses it
	addrs := map[string]string{}   // cluster -> the address an agent config gives it
	for _, a := range w.Agents {
		for _, v := range a.Vaults {
			n := v.ClusterName()
			if read(n) || v.Enabled.IsKnown() && !v.Enabled.V {
				continue
			}
			name := a.Ref.Name
			if a.File != nil {
				name = filepath.Base(a.File.Path)
			}
			users[n] = append(users[n], "agent config "+name)
			if v.Address.IsKnown() && addrs[n] == "" {
				addrs[n] = v.Address.V
			}
		}
	}
	for _, j := range w.Jobs {
		seen := map[string]bool{}
		for _, g := range j.Groups {
			for _, t := range g.Tasks {
				v := j.EffectiveVault(g, t)
				if v == nil || v.Cluster.Set && !v.Cluster.Known {
					continue
				}
				if n := v.ClusterName(); !read(n) && !seen[n] {
					seen[n] = true
					users[n] = append(users[n], "job "+j.ID.V)
				}
			}
		}
	}
	names := make([]string, 0, len(users))
	for n := range users {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		u := users[n]
		slices.Sort(u)
		u = slices.Compact(u)
		shown := u
		if len(shown) > 3 {
			shown = shown[:3]
		}
		more := ""
		if len(u) > len(shown) {
			more = fmt.Sprintf(" and %d more", len(u)-len(shown))
		}
		l.Problems = append(l.Problems, world.Problem{
			Area: "vault", What: "cluster " + n,
			Reason: fmt.Sprintf("not read: %s; used by %s%s", howToRead(n, addrs[n]), strings.Join(shown, ", "), more),
			Areas:  []string{world.AreaJobs, world.AreaWorkloadIdentity},
		})
	}
	slices.SortFunc(l.Problems, func(a, b world.Problem) int {
		return cmp.Or(cmp.Compare(a.Area, b.Area), cmp.Compare(a.What, b.What), cmp.Compare(a.Reason, b.Reason))
	})
}

// howToRead tells the user how to have doctor read a cluster: the flags
// to pass, with the address an agent config gives it when one does.
func howToRead(cluster, addr string) string {
	if cluster == world.DefaultCluster {
		return "set VAULT_ADDR (or --vault-addr) and VAULT_TOKEN"
	}
	if addr == "" {
		addr = "URL"
	}
	return fmt.Sprintf("pass --vault %s=%s --vault-token-file %s=FILE", cluster, addr, cluster)
}
