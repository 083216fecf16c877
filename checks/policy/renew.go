// Package policy holds the rules about Vault ACL policies themselves and
// what the tokens built from them can do.
package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/nvlint/nvlint/access"
	"github.com/nvlint/nvlint/acl"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/rules/edits"
	"github.com/nvlint/nvlint/world"
)

// renewPaths are what a task token needs to keep itself and its secrets'
// leases alive.
var renewPaths = []struct{ path, why string }{
	{"auth/token/renew-self", "the task's Vault token expires and Nomad re-derives it, restarting or signalling the task"},
	{"sys/leases/renew", "leased dynamic secrets (database, consul, aws credentials) cannot be renewed and expire under the task"},
}

// TaskTokenCannotRenew: task tokens must renew themselves and their leases.
var TaskTokenCannotRenew rules.Rule = taskTokenCannotRenew{}

type taskTokenCannotRenew struct{}

func (taskTokenCannotRenew) Meta() *rules.Meta { return &taskTokenCannotRenewMeta }

var taskTokenCannotRenewMeta = rules.Meta{
	ID: "NV501", Name: "task-token-cannot-renew", Severity: rules.Error,
	Title: "task tokens cannot renew themselves or their leases",
	Needs: []world.Kind{world.KindPolicy},
	Doc: rules.Doc{
		Why: "Nomad renews each task's token with auth/token/renew-self and the leases of its secrets with sys/leases/renew. Both come from Vault's default policy, " +
			"but Vault writes that policy once, at initialisation, and never upgrades it: a cluster initialised before Vault 0.7.1 lacks sys/leases/renew " +
			"(`Code: 403 ... URL: PUT .../v1/sys/leases/renew * permission denied`). A role with token_no_default_policy drops the default policy altogether, " +
			"so its own policies must grant both paths.",
		Example: "# default policy without\npath \"sys/leases/renew\" {\n  capabilities = [\"update\"]\n}",
		Fix:     "Add `path \"sys/leases/renew\" { capabilities = [\"update\"] }` and `path \"auth/token/renew-self\" { capabilities = [\"update\"] }` to the default policy, or to the task's policies when its role drops the default policy.",
	},
}

func (taskTokenCannotRenew) Check(p *rules.Pass) {
	w := p.World
	if d := w.Policy("default"); d != nil {
		for _, rp := range renewPaths {
			if !grantsUpdate([]*acl.Policy{d.ACL}, rp.path) {
				p.Report(rules.Finding{
					Message:  fmt.Sprintf("the default policy does not grant update on %s, which every task token relies on: %s", rp.path, rp.why),
					Range:    d.Range,
					Object:   d.Ref,
					Evidence: []string{fmt.Sprintf("capabilities of the default policy on %s: %v", rp.path, acl.Capabilities([]*acl.Policy{d.ACL}, rp.path, nil))},
					Fixes:    []rules.Fix{appendGrant(d, rp.path)},
				})
			}
		}
	}
	for _, r := range w.TokenRoles {
		if (!r.TokenNoDefaultPolicy.IsKnown() || !r.TokenNoDefaultPolicy.V) && !r.DisallowedPolicies.Contains("default") {
			continue
		}
		checkJobsUnderTokenRole(p, r)
	}
	for _, r := range w.JWTRoles {
		if !r.TokenNoDefaultPolicy.IsKnown() || !r.TokenNoDefaultPolicy.V || !r.TokenPolicies.Known {
			continue
		}
		set, missing := w.PolicySetIn(r.Place(), r.TokenPolicies.Strings(), false)
		if len(missing) > 0 {
			p.CannotDecide("JWT role %s drops the default policy and policies %s are not given", r.Ref.Name, strings.Join(missing, ", "))
			continue
		}
		for _, rp := range renewPaths {
			if grantsUpdate(set, rp.path) {
				continue
			}
			p.Report(rules.Finding{
				Message:  fmt.Sprintf("JWT role %s sets token_no_default_policy and its policies %s do not grant update on %s: %s", r.Ref.Name, strings.Join(r.TokenPolicies.Strings(), ", "), rp.path, rp.why),
				Range:    r.TokenNoDefaultPolicy.Range,
				Object:   r.Ref,
				Evidence: []string{"token_no_default_policy: true", "token_policies: " + strings.Join(r.TokenPolicies.Strings(), ", ")},
				Fixes:    noDefaultFix(r.File, r.TokenNoDefaultPolicy),
			})
		}
	}
}

func checkJobsUnderTokenRole(p *rules.Pass, r *world.TokenRole) {
	w := p.World
	if lr, ok := w.LegacyTokenRole(); !ok || lr.Name != r.Ref.Name {
		return
	}
	for _, wl := range access.Workloads(w) {
		job, v := wl.Job, wl.Vault
		if !v.Policies.Known || len(v.Policies.Items) == 0 {
			continue
		}
		set, missing := w.PolicySetIn(access.PlaceFor(w, v), v.Policies.Strings(), false)
		if len(missing) > 0 {
			p.CannotDecide("job %s requests policies %s that are not given", job.Ref.Name, strings.Join(missing, ", "))
			continue
		}
		for _, rp := range renewPaths {
			if grantsUpdate(set, rp.path) {
				continue
			}
			f := rules.Finding{
				Message:  fmt.Sprintf("token role %s drops the default policy and job %s's policies %s do not grant update on %s: %s", r.Ref.Name, job.Ref.Name, strings.Join(v.Policies.Strings(), ", "), rp.path, rp.why),
				Range:    v.Policies.Range,
				Object:   job.Ref,
				Related:  []rules.Related{{Message: "token role " + r.Ref.Name, Range: r.Range}},
				Evidence: []string{"token role " + r.Ref.Name + " gives tokens no default policy"},
			}
			if r.TokenNoDefaultPolicy.Set {
				f.Fixes = noDefaultFix(r.File, r.TokenNoDefaultPolicy)
			}
			p.Report(f)
		}
	}
}

func grantsUpdate(set []*acl.Policy, path string) bool {
	caps := acl.Capabilities(set, path, nil)
	return slices.Contains(caps, "update") || slices.Contains(caps, "root")
}

func appendGrant(pol *world.Policy, path string) rules.Fix {
	block := fmt.Sprintf("path %q {\n  capabilities = [\"update\"]\n}\n", path)
	fix := rules.Fix{Description: fmt.Sprintf("Grant update on %s in policy %s", path, pol.Name())}
	if pol.File != nil {
		if e, ok := edits.AppendToPolicy(pol, block); ok {
			fix.Edits = []rules.TextEdit{e}
		}
		fix.Commands = edits.PolicyWrite(pol)
	} else {
		fix.Commands = []rules.Command{edits.PolicyAppendCommand(pol.Name(), path, "update")}
	}
	return fix
}

func noDefaultFix(f *world.File, v world.Bool) []rules.Fix {
	if f == nil || !v.Set {
		return nil
	}
	return []rules.Fix{{Description: "Keep the default policy: set token_no_default_policy to false", Edits: []rules.TextEdit{edits.Replace(v.Range, "false")}}}
}
