package jobspec

import (
	"fmt"

	"github.com/nvlint/nvlint/access"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// VaultIdentityMissing reports tasks with a vault block but no workload
// identity for Vault, neither their own nor the servers' default.
var VaultIdentityMissing rules.Rule = vaultIdentityMissing{}

type vaultIdentityMissing struct{}

func (vaultIdentityMissing) Meta() *rules.Meta { return &vaultIdentityMissingMeta }

var vaultIdentityMissingMeta = rules.Meta{
	ID: "NV405", Name: "vault-identity-missing", Severity: rules.Error,
	Title: "a task has a vault block but no Vault identity, and the servers set no default_identity",
	Needs: []world.Kind{world.KindJobspec, world.KindAgentConfig},
	Doc: rules.Doc{
		Why: "Nomad 1.10 and later log tasks in to Vault only with workload identity: the task's identity named vault_<cluster>, or one the servers " +
			"add from their vault.default_identity. Without either, Nomad 1.10 accepts the job and the task hangs in prestart (`Building Task Directory`) " +
			"while the client retries `unable to find token for workload` forever. Nomad 1.7 to 1.9 use the deprecated legacy token flow instead, " +
			"which needs a server token and vault.policies: they refuse a task without policies (`Task <task> has a Vault block with an empty list of policies`). " +
			"Files do not tell the Nomad version: unless nomad_version is set in .nvlint.hcl (or doctor reads the live servers'), nvlint stays silent when the " +
			"given agent config sets up the legacy flow and the task has policies; such jobs still break on the upgrade to 1.10 (`nomad setup vault -check` lists them). " +
			"With nomad_version 1.10 or later they are reported; before 1.7 the rule does not apply.",
		Example: "# server: vault { enabled = true }   (no default_identity)\ntask \"web\" {\n  vault {}\n}",
		Fix: "Add default_identity { aud = [\"vault.io\"] ttl = \"1h\" } to the servers' vault block (what `nomad setup vault` suggests), " +
			"or give the task an identity { name = \"vault_default\" aud = [\"vault.io\"] ttl = \"1h\" }; the aud must be one the JWT role binds.",
	},
}

func (vaultIdentityMissing) Check(p *rules.Pass) {
	w := p.World
	legacy := legacyHints(w)
	// The targeted Nomad release (nomad_version in .nvlint.hcl, or the
	// live servers') settles what the files alone cannot.
	nv := w.NomadVersion()
	if nv != "" && world.CompareVersions(nv, "1.7") < 0 {
		p.CannotDecide("Nomad %s predates workload identity (1.7): tasks use the legacy token flow", nv)
		return
	}
	uses := vaultUses(w, func(wl access.Workload) bool {
		v := wl.Vault
		if v.Cluster.Set && !v.Cluster.Known {
			return false
		}
		cluster := v.ClusterName()
		if wl.Task.VaultIdentity(cluster) != nil {
			return false
		}
		if sv, agreed := serversDefaultIdentity(w, cluster); sv.Vault != nil {
			return false
		} else if !agreed {
			p.CannotDecide("%s: the server agent configs disagree on default_identity for Vault cluster %q (lint each environment separately)", wl, cluster)
			return false
		}
		if _, ok := enabledServer(w, cluster); !ok {
			p.CannotDecide("%s: no server agent config with Vault cluster %q enabled, so whether the servers set default_identity is unknown", wl, cluster)
			return false
		}
		withPolicies := v.Policies.Set && (!v.Policies.Known || len(v.Policies.Items) > 0)
		if withPolicies && legacy != "" && !world.VersionAtLeast(nv, "1.10") {
			if nv == "" {
				p.CannotDecide("%s has no Vault identity and uses the legacy token flow (%s): fine on Nomad 1.9 and earlier, broken from 1.10 (set nomad_version in .nvlint.hcl to decide)", wl, legacy)
			}
			return false
		}
		return true
	})
	for _, u := range uses {
		reportMissingIdentity(p, u.job, u.vault, u.tasks, legacy)
	}
}

// enabledServer is the first server vault block for cluster that is
// enabled, when there is one.
func enabledServer(w *world.World, cluster string) (serverVault, bool) {
	for _, s := range serverVaults(w, cluster) {
		if s.Vault.Enabled.IsKnown() && s.Vault.Enabled.V {
			return s, true
		}
	}
	return serverVault{}, false
}

func reportMissingIdentity(p *rules.Pass, job *world.Job, v *world.VaultBlock, ts []*world.Task, legacy string) {
	w := p.World
	cluster := v.ClusterName()
	server, _ := enabledServer(w, cluster)
	sv := server.Vault
	withPolicies := v.Policies.Set && (!v.Policies.Known || len(v.Policies.Items) > 0)
	nv := w.NomadVersion()
	hangs := "on Nomad 1.10+ the task hangs in prestart (Building Task Directory)"
	if nv != "" {
		hangs = fmt.Sprintf("on Nomad %s the task hangs in prestart (Building Task Directory)", nv)
		if !world.VersionAtLeast(nv, "1.10") {
			hangs = "from Nomad 1.10 the task hangs in prestart (Building Task Directory)"
		}
	}
	f := rules.Finding{
		Message: fmt.Sprintf("%s has a vault block but no identity vault_%s, and the servers' vault block sets no default_identity: %s",
			tasksOf(job, ts), cluster, hangs),
		Range:   v.Range,
		Object:  job.Ref,
		Related: []rules.Related{{Message: "the servers' vault block, without default_identity", Range: sv.Range}},
		Evidence: []string{
			"Nomad 1.10+: the job is accepted; the client finds no signed identity (unable to find token for workload ... and identity \"vault_" + cluster + "\") and retries forever",
		},
	}
	if h := w.Hints.NomadVersion; nv != "" && h.IsKnown() && h.Range.Filename != "" {
		f.Related = append(f.Related, rules.Related{Message: "nomad_version " + nv, Range: h.Range})
	}
	legacyRange := "Nomad 1.7-1.9"
	if nv != "" {
		legacyRange = "Nomad " + nv
	}
	switch {
	case world.VersionAtLeast(nv, "1.10"):
		if withPolicies && legacy != "" {
			f.Evidence = append(f.Evidence, "the legacy token flow is set up ("+legacy+"), but Nomad "+nv+" no longer has it: vault.policies are ignored")
		}
	case withPolicies:
		f.Message += fmt.Sprintf("; %s fall back to the deprecated legacy token flow, which nothing in the given files sets up", legacyRange)
		f.Evidence = append(f.Evidence, legacyRange+": the legacy flow needs a server token (vault.token or VAULT_TOKEN) and a token role; no agent config sets token, allow_unauthenticated or task_token_ttl, and no token role is given")
	default:
		f.Message += fmt.Sprintf("; %s refuse the job: Task %s has a Vault block with an empty list of policies", legacyRange, ts[0].Name.V)
		if legacy != "" {
			f.Evidence = append(f.Evidence, legacyRange+": the legacy token flow is set up ("+legacy+") but needs vault.policies")
		}
	}
	aud := identityAud(w, v)
	if e, ok := insertInBlock(server.Agent.File, sv.Range, "vault", []string{"default_identity {", fmt.Sprintf("  aud = [%q]", aud), `  ttl = "1h"`, "}"}); ok {
		f.Fixes = append(f.Fixes, rules.Fix{
			Description: fmt.Sprintf("Add default_identity { aud = [%q] } to the servers' vault block, then restart the servers and resubmit the job%s", aud, jwtSetupNote(w)),
			Edits:       []rules.TextEdit{e},
		})
	}
	for _, t := range ts {
		fix := rules.Fix{Description: fmt.Sprintf("Give task %s an identity named vault_%s with aud %q", t.Name.V, cluster, aud)}
		if e, ok := insertInBlock(job.File, t.Range, "task", []string{"identity {", fmt.Sprintf("  name = %q", "vault_"+cluster), fmt.Sprintf("  aud  = [%q]", aud), `  ttl  = "1h"`, "}", ""}); ok {
			fix.Edits = []rules.TextEdit{e}
		}
		f.Fixes = append(f.Fixes, fix)
	}
	p.Report(f)
}

// jwtSetupNote reminds that workload identity needs Vault's JWT auth
// method when the world shows none.
func jwtSetupNote(w *world.World) string {
	if len(w.JWTConfigs) > 0 || len(w.JWTRoles) > 0 {
		return ""
	}
	return " (Vault needs the JWT auth method for it: nomad setup vault)"
}
