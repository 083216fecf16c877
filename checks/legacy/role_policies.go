package legacy

import (
	"fmt"
	"strings"

	"github.com/nvlint/nvlint/access"
	"github.com/nvlint/nvlint/acl"

	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/rules/edits"
	"github.com/nvlint/nvlint/world"
)

// roleAdmits reports whether a token created from role r may carry the
// policy, as Vault decides at create time, and why not.
func roleAdmits(r *world.TokenRole, policy string) (ok bool, why string, at world.Str) {
	if s, found := r.DisallowedPolicies.Find(policy); found {
		return false, fmt.Sprintf("token policy %q is disallowed by this role", policy), s
	}
	for _, g := range r.DisallowedPoliciesGlob.Items {
		if acl.GlobMatch(g.V, policy) {
			return false, fmt.Sprintf("token policy %q is disallowed by this role (glob %q)", policy, g.V), g
		}
	}
	if len(r.AllowedPolicies.Items) == 0 && len(r.AllowedPoliciesGlob.Items) == 0 {
		return true, "", world.Str{}
	}
	if r.AllowedPolicies.Contains(policy) {
		return true, "", world.Str{}
	}
	for _, g := range r.AllowedPoliciesGlob.Items {
		if acl.GlobMatch(g.V, policy) {
			return true, "", world.Str{}
		}
	}
	return false, fmt.Sprintf("token policies ([%q]) must be subset of the role's allowed policies (%q)", policy, r.AllowedPolicies.Strings()), world.Str{}
}

// RoleAllowsServerPolicy: tasks must not be able to get the server's own
// policy.
var RoleAllowsServerPolicy rules.Rule = roleAllowsServerPolicy{}

type roleAllowsServerPolicy struct{}

func (roleAllowsServerPolicy) Meta() *rules.Meta { return &roleAllowsServerPolicyMeta }

var roleAllowsServerPolicyMeta = rules.Meta{
	ID: "NV115", Name: "token-role-allows-server-policy", Severity: rules.Error,
	Title: "jobs can obtain the Nomad server's own Vault policy",
	// CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H: whoever can submit
	// a job gets the server's Vault access.
	Security: 8.8,
	Needs:    []world.Kind{world.KindTokenRole, world.KindPolicy},
	Doc: rules.Doc{
		Why: "The policy that lets the Nomad server create tokens from the role must be out of the role's reach. Otherwise any job that lists it in vault.policies gets a token " +
			"that can mint tokens from the role itself, and with them any policy the role allows: whoever can submit a job owns Nomad's Vault access. " +
			"A role with neither allowed_policies nor disallowed_policies is no safer: Vault then allows any subset of the server token's own policies." + legacyScope,
		Example: "{\n  \"name\": \"nomad-cluster\",\n  \"disallowed_policies\": \"\"\n}",
		Fix:     "List the server's policy in disallowed_policies (\"disallowed_policies\": \"nomad-server\"), or use an allowed_policies allow-list that leaves it out.",
	},
}

func (roleAllowsServerPolicy) Check(p *rules.Pass) {
	if legacyFlowGone(p) {
		return
	}
	for _, r := range nomadTokenRoles(p.World) {
		if !r.Ref.NameKnown() {
			p.CannotDecide("token role %s: its name is known only when Terraform applies it, so the server's policy cannot be found by what it grants", r.Ref.Name)
			continue
		}
		granting, _ := p.World.ServerPolicies(r.Ref.Name)
		if len(granting) == 0 {
			p.CannotDecide("no policy grants create on auth/token/create/%s, so the server's policy is unknown", r.Ref.Name)
			continue
		}
		if !r.AllowedPolicies.Known && r.AllowedPolicies.Set || !r.DisallowedPolicies.Known && r.DisallowedPolicies.Set {
			continue
		}
		for _, sp := range granting {
			name := sp.Name()
			if ok, _, _ := roleAdmits(r, name); !ok {
				continue
			}
			f := rules.Finding{
				Object:  r.Ref,
				Related: []rules.Related{{Message: "policy " + name + " grants create on auth/token/create/" + r.Ref.Name, Range: sp.Range}},
			}
			if guessedServerPolicy(p.World, sp) {
				// The fix names the policy: a wrong guess would disallow
				// a policy that does not exist and leave the real one.
				f.Assumes = []world.ObjectRef{sp.Ref}
			}
			if el, in := r.AllowedPolicies.Find(name); in {
				f.Message = fmt.Sprintf("token role %s allows the Nomad server's own policy %s: any job can request it", r.Ref.Name, name)
				f.Range = el.Range
				f.Evidence = []string{fmt.Sprintf("allowed_policies: %q", r.AllowedPolicies.Strings())}
				var rest []string
				for _, s := range r.AllowedPolicies.Strings() {
					if s != name {
						rest = append(rest, s)
					}
				}
				f.Fixes = roleFix(r, "Remove "+name+" from allowed_policies", edits.RemoveFromList(r.File, r.AllowedPolicies, el), "allowed_policies="+strings.Join(rest, ","))
			} else {
				f.Message = fmt.Sprintf("token role %s does not disallow the Nomad server's own policy %s: any job can request it; add it to disallowed_policies", r.Ref.Name, name)
				f.Range = r.Range
				f.Evidence = []string{fmt.Sprintf("disallowed_policies: %q, allowed_policies: %q", r.DisallowedPolicies.Strings(), r.AllowedPolicies.Strings())}
				var e rules.TextEdit
				switch {
				case r.DisallowedPolicies.Set:
					f.Range = r.DisallowedPolicies.Range
					e = edits.AppendToList(r.File, r.DisallowedPolicies, name)
				case r.File != nil:
					e = edits.InsertKey(&r.Meta, "disallowed_policies", edits.Literal(r.File, name))
				}
				list := append(r.DisallowedPolicies.Strings(), name)
				f.Fixes = roleFix(r, "Add "+name+" to disallowed_policies", e, "disallowed_policies="+strings.Join(list, ","))
			}
			if len(f.Assumes) > 0 {
				f.Evidence = append(f.Evidence, sp.GuessEvidence())
				f.Fixes = append(f.Fixes, rules.Fix{Description: "If the policy's name is not " + name + ", " + world.NameAdvice(sp.Meta, "NAME")})
			}
			p.Report(f)
		}
	}
}

// JobPolicyNotAllowed: a job's vault.policies must be creatable from the
// role.
var JobPolicyNotAllowed rules.Rule = jobPolicyNotAllowed{}

type jobPolicyNotAllowed struct{}

func (jobPolicyNotAllowed) Meta() *rules.Meta { return &jobPolicyNotAllowedMeta }

var jobPolicyNotAllowedMeta = rules.Meta{
	ID: "NV121", Name: "job-policy-not-allowed", Severity: rules.Error,
	Title: "a job requests a Vault policy its token cannot have",
	Needs: []world.Kind{world.KindJobspec},
	Doc: rules.Doc{
		Why: "In the legacy flow the Nomad server creates each task's token from the token role with the task's vault.policies. Vault refuses a policy outside " +
			"allowed_policies or inside disallowed_policies, and Nomad refuses `root` outright; the task is then killed with `Vault: server failed to derive vault token`. " +
			"Requesting the server's own policy would hand the job the server's power." + legacyScope,
		Example: "vault {\n  policies = [\"nomad-server\"]\n}",
		Fix:     "Request only policies the role allows, or add the policy to the role's allowed_policies (never the server's own policy or root).",
	},
}

func (jobPolicyNotAllowed) Check(p *rules.Pass) {
	if legacyFlowGone(p) {
		return
	}
	lr, haveRole := p.World.LegacyTokenRole()
	var serverPols map[string]*world.Policy
	if haveRole && lr.NameKnown() {
		serverPols = map[string]*world.Policy{}
		granting, _ := p.World.ServerPolicies(lr.Name)
		for _, sp := range granting {
			serverPols[sp.Name()] = sp
		}
	}
	if !haveRole || lr.Role == nil {
		p.CannotDecide("no token role given: only root is checked in vault.policies")
	}
	for _, wl := range access.Workloads(p.World) {
		job, v := wl.Job, wl.Vault
		if !v.Policies.Known {
			continue
		}
		for _, pol := range v.Policies.Items {
			f := rules.Finding{Range: pol.Range, Object: job.Ref}
			sp := serverPols[pol.V]
			if sp != nil && guessedServerPolicy(p.World, sp) && lr.Role != nil {
				if ok, _, _ := roleAdmits(lr.Role, pol.V); !ok {
					// The role refuses it: a fact, whatever the
					// server policy's name.
					sp = nil
				}
			}
			switch {
			case pol.V == "root":
				f.Message = fmt.Sprintf("job %s requests the root policy in vault.policies; Nomad refuses it: Can not specify \"root\" policy", job.Ref.Name)
			case sp != nil:
				f.Message = fmt.Sprintf("job %s requests %s, the Nomad server's own policy: its tasks would get the server's power to mint tokens", job.Ref.Name, pol.V)
				f.Evidence = []string{fmt.Sprintf("policy %s grants create on auth/token/create/%s", pol.V, lr.Name)}
				if guessedServerPolicy(p.World, sp) {
					f.Assumes = []world.ObjectRef{sp.Ref}
					f.Evidence = append(f.Evidence, sp.GuessEvidence())
				}
			case lr.Role != nil:
				ok, why, at := roleAdmits(lr.Role, pol.V)
				if ok {
					continue
				}
				f.Message = fmt.Sprintf("job %s requests policy %s, which token role %s does not allow: %s", job.Ref.Name, pol.V, lr.Name, why)
				f.Related = []rules.Related{{Message: "token role " + lr.Name, Range: lr.Role.Range}}
				if at.Set {
					f.Related = []rules.Related{{Message: "disallowed here", Range: at.Range}}
				} else if lr.Role.AllowedPolicies.Set {
					list := append(lr.Role.AllowedPolicies.Strings(), pol.V)
					f.Fixes = append(f.Fixes, rules.Fix{
						Description: "Add " + pol.V + " to the allowed_policies of token role " + lr.Name,
						Edits:       []rules.TextEdit{edits.AppendToList(lr.Role.File, lr.Role.AllowedPolicies, pol.V)},
						Commands:    []rules.Command{roleWriteCommand(lr.Role, "allowed_policies="+strings.Join(list, ","))},
					})
				}
			default:
				continue
			}
			if job.File != nil {
				f.Fixes = append([]rules.Fix{{
					Description: "Remove " + pol.V + " from the job's vault.policies",
					Edits:       []rules.TextEdit{edits.RemoveFromList(job.File, v.Policies, pol)},
				}}, f.Fixes...)
			}
			p.Report(f)
		}
	}
}

// guessedServerPolicy reports whether the server policy's name is only a
// guess: named from its file, and not the server_policy .nvlint.hcl
// declares.
func guessedServerPolicy(w *world.World, sp *world.Policy) bool {
	if !sp.Ref.Guessed() {
		return false
	}
	h := w.Hints.ServerPolicy
	return !h.IsKnown() || h.V != sp.Name()
}
