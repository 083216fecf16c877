package live

import (
	"cmp"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/nvlint/nvlint/world"
)

// NoteUnreadClusters records, for each Vault cluster other than the
// default one that jobs or agent configs of w use (vault { name = ... }
// in an agent config, vault { cluster = ... } in a job), that doctor did
// not read it: the jobs that log in there are checked against nothing,
// so their areas are not called ok. Doctor reads one Vault cluster, the
// one VAULT_ADDR names, and takes it to be the default.
func NoteUnreadClusters(w *world.World) {
	if w.Live == nil {
		return
	}
	users := map[string][]string{} // cluster -> what uses it
	for _, a := range w.Agents {
		for _, v := range a.Vaults {
			if n := v.ClusterName(); n != "default" {
				name := a.Ref.Name
				if a.File != nil {
					name = filepath.Base(a.File.Path)
				}
				users[n] = append(users[n], "agent config "+name)
			}
		}
	}
	for _, j := range w.Jobs {
		seen := map[string]bool{}
		for _, g := range j.Groups {
			for _, t := range g.Tasks {
				v := j.EffectiveVault(g, t)
				if v == nil || !v.Cluster.IsKnown() {
					continue
				}
				if n := v.ClusterName(); n != "default" && !seen[n] {
					seen[n] = true
					users[n] = append(users[n], "job "+j.ID.V)
				}
			}
		}
	}
	read := "doctor read no Vault cluster"
	if v := w.Live.Vault; v != nil {
		read = "doctor reads only the default cluster (" + v.Addr + ")"
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
		w.Live.Problems = append(w.Live.Problems, world.Problem{
			Area: "vault", What: "cluster " + n,
			Reason: fmt.Sprintf("not read: %s; used by %s%s", read, strings.Join(shown, ", "), more),
			Areas:  []string{world.AreaJobs, world.AreaWorkloadIdentity},
		})
	}
	slices.SortFunc(w.Live.Problems, func(a, b world.Problem) int {
		return cmp.Or(cmp.Compare(a.Area, b.Area), cmp.Compare(a.What, b.What), cmp.Compare(a.Reason, b.Reason))
	})
}
