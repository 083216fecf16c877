package jobspec

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/agext/levenshtein"

	"github.com/nvlint/nvlint/access"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/rules/edits"
	"github.com/nvlint/nvlint/world"
)

// VaultClusterNotConfigured reports vault blocks and Vault identities for
// a Vault cluster the agent configs do not define.
var VaultClusterNotConfigured rules.Rule = vaultClusterNotConfigured{}

type vaultClusterNotConfigured struct{}

func (vaultClusterNotConfigured) Meta() *rules.Meta { return &vaultClusterNotConfiguredMeta }

var vaultClusterNotConfiguredMeta = rules.Meta{
	ID: "NV404", Name: "vault-cluster-not-configured", Severity: rules.Error,
	Title: "a job uses a Vault cluster the agent configs do not define",
	Needs: []world.Kind{world.KindJobspec, world.KindAgentConfig},
	Doc: rules.Doc{
		Why: "Each agent vault block defines one Vault cluster, named by its name key (\"default\" when unset). A job's vault block picks one with " +
			"cluster (default \"default\"), and its identity for Vault must be named vault_<cluster>. Nomad refuses a job whose vault block names a " +
			"cluster the servers do not define: `Vault \"<cluster>\" not enabled but used in the job`; Nomad CE supports only \"default\" and refuses any " +
			"other with `non-default Vault cluster requires Nomad Enterprise`. An identity vault_<name> for a cluster no vault block uses is never used " +
			"to log in: the task logs in with vault_<its cluster>, or the servers' default_identity, instead.",
		Example: "# agent: vault { enabled = true }\nvault {\n  cluster = \"prod\"\n}",
		Fix: "Use a cluster the agents define (Nomad CE: \"default\", i.e. drop cluster and name the identity vault_default), or define the " +
			"cluster in the agents' config (Nomad Enterprise).",
	},
}

func (vaultClusterNotConfigured) Check(p *rules.Pass) {
	defined := map[string]bool{}
	for _, a := range p.World.Agents {
		for _, v := range a.Vaults {
			if v.Name.Set && !v.Name.Known {
				p.CannotDecide("an agent vault block's name is not a literal")
				return
			}
			defined[v.ClusterName()] = true
		}
	}
	if len(defined) == 0 {
		p.CannotDecide("no agent config has a vault block, so the Vault clusters the agents define are unknown")
		return
	}
	names := make([]string, 0, len(defined))
	for n := range defined {
		names = append(names, n)
	}
	sort.Strings(names)
	undefined := vaultUses(p.World, func(wl access.Workload) bool {
		v := wl.Vault
		return (!v.Cluster.Set || v.Cluster.Known) && !defined[v.ClusterName()]
	})
	for _, u := range undefined {
		reportUndefinedCluster(p, u.job, u.vault, u.tasks, u.vault.ClusterName(), names)
	}
	// Nomad warns about a Vault identity without a vault block itself, and
	// nothing uses it: only Vault-using tasks are looked at.
	for _, wl := range access.Workloads(p.World) {
		for _, id := range wl.Task.Identities {
			c, isVault := strings.CutPrefix(id.Name.V, "vault_")
			if !id.Name.IsKnown() || !isVault || defined[c] || c == wl.Vault.ClusterName() {
				continue
			}
			reportUnusedIdentity(p, wl.Job, wl.Task, wl.Vault, id, c, names)
		}
	}
}

func reportUndefinedCluster(p *rules.Pass, job *world.Job, v *world.VaultBlock, ts []*world.Task, cluster string, defined []string) {
	f := rules.Finding{
		Message: fmt.Sprintf("%s uses Vault cluster %q, which no agent config defines: Nomad refuses the job (Vault %q not enabled but used in the job)",
			tasksOf(job, ts), cluster, cluster),
		Range:    v.Range,
		Object:   job.Ref,
		Evidence: []string{"Vault clusters the agent configs define: " + bracketQuoted(defined)},
	}
	if v.Cluster.Set {
		f.Range = v.Cluster.Range
	}
	if cluster != "default" {
		f.Message = strings.TrimSuffix(f.Message, ")") + "; on Nomad CE: non-default Vault cluster requires Nomad Enterprise)"
	}
	if alt := closestCluster(cluster, defined); alt != "" && v.Cluster.IsKnown() && job.File != nil &&
		string(v.Cluster.Range.SliceBytes(job.File.Src)) == strconv.Quote(v.Cluster.V) {
		f.Fixes = append(f.Fixes, rules.Fix{
			Description: fmt.Sprintf("Use Vault cluster %q, which the agents define", alt),
			Edits:       []rules.TextEdit{edits.Replace(v.Cluster.Range, edits.LiteralIn(v.Cluster.Range.Filename, alt))},
		})
	}
	f.Fixes = append(f.Fixes, rules.Fix{Description: fmt.Sprintf("Define Vault cluster %q with a vault block named %q in the agents' config (Nomad Enterprise)", cluster, cluster)})
	p.Report(f)
}

func reportUnusedIdentity(p *rules.Pass, job *world.Job, t *world.Task, v *world.VaultBlock, id *world.Identity, cluster string, defined []string) {
	uses := v.ClusterName()
	f := rules.Finding{
		Message: fmt.Sprintf("identity %s of %s is for Vault cluster %q, which no agent config defines; the task's vault block uses cluster %q, so Nomad never logs in with this identity",
			id.Name.V, taskOf(job, t), cluster, uses),
		Range:    id.Name.Range,
		Object:   job.Ref,
		Evidence: []string{"Vault clusters the agent configs define: " + bracketQuoted(defined), "Nomad logs a task in with its identity named vault_" + uses + ", else one built from the servers' default_identity"},
		Related:  []rules.Related{{Message: "vault block", Range: v.Range}},
	}
	if f.Range.Filename == "" {
		f.Range = id.Range
	}
	if t.VaultIdentity(uses) == nil && id.Name.IsKnown() && job.File != nil && string(id.Name.Range.SliceBytes(job.File.Src)) == strconv.Quote(id.Name.V) {
		f.Fixes = []rules.Fix{{
			Description: fmt.Sprintf("Rename the identity to vault_%s, the one the task's vault block uses", uses),
			Edits:       []rules.TextEdit{edits.Replace(id.Name.Range, edits.LiteralIn(id.Name.Range.Filename, "vault_"+uses))},
		}}
	}
	p.Report(f)
}

// closestCluster is the defined cluster the job most likely meant: the
// only one, or one a typo away.
func closestCluster(name string, defined []string) string {
	if len(defined) == 1 {
		return defined[0]
	}
	best, bestD := "", 3
	for _, d := range defined {
		if dist := levenshtein.Distance(name, d, nil); dist < bestD {
			best, bestD = d, dist
		}
	}
	return best
}
