package jobspec

import (
	"fmt"
	"strings"

	"github.com/nvlint/nvlint/access"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/rules/edits"
	"github.com/nvlint/nvlint/world"
)

// VaultPoliciesIgnored reports vault.policies on tasks that log in with
// workload identity, which ignores them.
var VaultPoliciesIgnored rules.Rule = vaultPoliciesIgnored{}

type vaultPoliciesIgnored struct{}

func (vaultPoliciesIgnored) Meta() *rules.Meta { return &vaultPoliciesIgnoredMeta }

var vaultPoliciesIgnoredMeta = rules.Meta{
	ID: "NV403", Name: "vault-policies-ignored", Severity: rules.Warning,
	Title: "vault.policies are set on a task that uses workload identity, which ignores them",
	Needs: []world.Kind{world.KindJobspec},
	Doc: rules.Doc{
		Why: "A task logs in to Vault with workload identity when it has an identity named vault_<cluster> or the servers set vault.default_identity. " +
			"Its token then carries the JWT role's token_policies, never the job's vault.policies. Nomad 1.7 to 1.9 accept the job with the warning " +
			"`Task <task> has a Vault block with policies but uses workload identity to authenticate with Vault, policies will be ignored`; " +
			"Nomad 1.10 drops the policies without a word. Whoever reads the jobspec believes the task holds policies it does not.",
		Example: "vault {\n  policies = [\"db-read\"]\n}\nidentity {\n  name = \"vault_default\"\n  aud  = [\"vault.io\"]\n}",
		Fix: "Remove vault.policies and give the policies through the token_policies of the JWT role the task logs in with " +
			"(a role of its own, named with vault.role, rather than the shared default role).",
	},
}

func (vaultPoliciesIgnored) Check(p *rules.Pass) {
	w := p.World
	uses := vaultUses(w, func(wl access.Workload) bool {
		v := wl.Vault
		if !v.Policies.Known || len(v.Policies.Items) == 0 {
			return false
		}
		if _, ok := identityFlow(w, wl.Task, v.ClusterName()); ok {
			return true
		}
		if _, agreed := serversDefaultIdentity(w, v.ClusterName()); !agreed {
			p.CannotDecide("%s: the server agent configs disagree on default_identity for Vault cluster %q (lint each environment separately)", wl, v.ClusterName())
		}
		return false
	})
	for _, u := range uses {
		via, _ := identityFlow(w, u.tasks[0], u.vault.ClusterName())
		reportIgnoredPolicies(p, u.job, u.vault, u.tasks, via)
	}
}

// identityFlow says whether task t logs in to cluster with workload
// identity, and through what: its own vault_<cluster> identity or the
// servers' default_identity in an agent config.
func identityFlow(w *world.World, t *world.Task, cluster string) (rules.Related, bool) {
	if id := t.VaultIdentity(cluster); id != nil {
		return rules.Related{Message: "identity " + id.Name.V + " of task " + t.Name.V, Range: id.Range}, true
	}
	if sv, agreed := serversDefaultIdentity(w, cluster); agreed && sv.Vault != nil {
		return rules.Related{Message: "the servers' default_identity", Range: sv.Vault.DefaultIdentity.Range}, true
	}
	return rules.Related{}, false
}

func reportIgnoredPolicies(p *rules.Pass, job *world.Job, v *world.VaultBlock, ts []*world.Task, via rules.Related) {
	pols := v.Policies.Strings()
	f := rules.Finding{
		Message: fmt.Sprintf("vault.policies %s of %s are ignored: the task logs in to Vault with workload identity (%s), so its token gets the JWT role's token_policies instead",
			bracketQuoted(pols), tasksOf(job, ts), via.Message),
		Range:   v.Policies.Range,
		Object:  job.Ref,
		Related: []rules.Related{via},
		Evidence: []string{
			fmt.Sprintf("Nomad 1.7-1.9 warn: Task %s has a Vault block with policies but uses workload identity to authenticate with Vault, policies will be ignored", ts[0].Name.V),
			"Nomad 1.10 and later drop vault.policies silently",
		},
	}
	if via.Range.Filename == "" {
		f.Related = nil
	}
	role := loginRole(p.World, v)
	ownRole := role != nil && v.Role.IsKnown() && v.Role.V == role.Ref.Name
	if role != nil {
		f.Evidence = append(f.Evidence, fmt.Sprintf("JWT role %s token_policies: %s", role.Ref.Name, bracketQuoted(role.TokenPolicies.Strings())))
	}
	fix := rules.Fix{Description: "Remove vault.policies; grant them through the token_policies of a JWT role for this job, named with vault.role"}
	if ownRole {
		fix.Description = fmt.Sprintf("Move vault.policies to the token_policies of JWT role %s", role.Ref.Name)
	}
	r, inFile := attrRange(job.File, "policies", v.Policies.Range)
	if inFile {
		fix.Edits = append(fix.Edits, edits.DeleteLines(job.File, r))
	}
	// The role's side: its file edited, or the live role written with the
	// policies added (the job is then resubmitted without them).
	if ownRole && (inFile || job.File == nil) && role.TokenPolicies.Known && role.TokenPolicies.Set {
		list := role.TokenPolicies.Strings()
		for _, pol := range pols {
			if !role.TokenPolicies.Contains(pol) {
				list = append(list, pol)
				fix.Edits = append(fix.Edits, edits.AppendToList(role.File, role.TokenPolicies, pol))
			}
		}
		path := "auth/" + jwtMount(role) + "/role/" + role.Ref.Name
		if role.File != nil {
			fix.Commands = []rules.Command{rules.Cmd("vault", "write", path, "@"+role.File.Path)}
		} else {
			// The JWT plugin checks an update as an oidc role unless it
			// names role_type.
			typ := "jwt"
			if role.RoleType.IsKnown() && role.RoleType.V != "" {
				typ = role.RoleType.V
			}
			fix.Commands = []rules.Command{rules.Cmd("vault", "write", path, "role_type="+typ, "token_policies="+strings.Join(list, ","))}
		}
	}
	f.Fixes = []rules.Fix{fix}
	p.Report(f)
}

func jwtMount(r *world.JWTRole) string {
	if r.Mount != "" {
		return r.Mount
	}
	return "jwt-nomad"
}

func bracketQuoted(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", x)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
