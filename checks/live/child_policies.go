package live

import (
	"fmt"
	"slices"
	"strings"

	"github.com/nvlint/nvlint/access"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// childPoliciesMsg is Vault's answer (token store, handleCreateCommon)
// when a token is created with policies outside its creator's and
// nothing else decides them: no token role, or a role with none of
// allowed_policies, disallowed_policies and their glob forms, and no sudo
// on the create path. In the legacy flow the creator is the Nomad
// server's token, so a job can only get policies that token holds.
const childPoliciesMsg = "child policies must be subset of parent"

// childPolicies is what the world tells about one such refusal.
type childPolicies struct {
	role     world.LegacyRole
	haveRole bool
	// jobPolicies are the task's vault.policies; nil when the job was not
	// read.
	jobPolicies []string
	// serverPolicies are the server token's (lookup-self), nil when no
	// token was given; serverPolicy is the one that lets it create tokens
	// from the role, "" when not known.
	serverPolicies []string
	serverPolicy   string
}

func childPoliciesOf(w *world.World, a world.NomadAlloc) childPolicies {
	var c childPolicies
	c.role, c.haveRole = w.LegacyTokenRole()
	for _, wl := range access.Workloads(w) {
		if a.Runs(wl.Job) && wl.Group.Name.V == a.TaskGroup && wl.Task.Name.V == a.Task && wl.Vault.Policies.Known {
			c.jobPolicies = wl.Vault.Policies.Strings()
		}
	}
	if l := w.Live; l != nil && l.Vault != nil && l.Vault.ServerToken != nil {
		c.serverPolicies = l.Vault.ServerToken.Policies
	}
	if c.haveRole {
		if granting, _ := w.ServerPolicies(c.role.Name); len(granting) > 0 {
			c.serverPolicy = granting[0].Name()
		}
	}
	if c.serverPolicy == "" {
		for _, p := range c.serverPolicies {
			if p != "default" && p != "root" {
				c.serverPolicy = p
				break
			}
		}
	}
	return c
}

// hasLists reports whether the role names policies itself, which makes
// Vault skip the subset check.
func hasLists(r *world.TokenRole) bool {
	return len(r.AllowedPolicies.Items) > 0 || len(r.DisallowedPolicies.Items) > 0 ||
		len(r.AllowedPoliciesGlob.Items) > 0 || len(r.DisallowedPoliciesGlob.Items) > 0 ||
		!r.AllowedPolicies.Known && r.AllowedPolicies.Set || !r.DisallowedPolicies.Known && r.DisallowedPolicies.Set
}

func explainChildPolicies(p *rules.Pass, a world.NomadAlloc, _ string) (string, []string) {
	c := childPoliciesOf(p.World, a)
	asks := "the job's policies"
	if c.jobPolicies != nil {
		asks = "the job's vault.policies [" + strings.Join(c.jobPolicies, ", ") + "]"
	}
	var evidence []string
	if c.jobPolicies != nil {
		evidence = append(evidence, fmt.Sprintf("task %s requests vault.policies %q", a.Task, c.jobPolicies))
	}
	if c.serverPolicies != nil {
		evidence = append(evidence, fmt.Sprintf("the Nomad server token has policies %q", c.serverPolicies))
		var missing []string
		for _, pol := range c.jobPolicies {
			if pol != "default" && !slices.Contains(c.serverPolicies, pol) {
				missing = append(missing, pol)
			}
		}
		if len(missing) > 0 {
			evidence = append(evidence, fmt.Sprintf("the server token does not hold %q", missing))
		}
	}
	switch {
	case !c.haveRole:
		return fmt.Sprintf("the Nomad servers create task tokens without a token role (no create_from_role), so Vault allows only a subset of the server token's own policies, and %s are not: "+
			"set create_from_role to a token role with allowed_policies or disallowed_policies", asks), evidence
	case c.role.Role == nil:
		return fmt.Sprintf("Vault allows only a subset of the Nomad server token's own policies, and %s are not: it checks this when token role %s has neither allowed_policies nor disallowed_policies (the role was not read): "+
			"set one of them on the role", asks, c.role.Name), evidence
	case hasLists(c.role.Role):
		return fmt.Sprintf("Vault allows only a subset of the Nomad server token's own policies, and %s are not, although token role %s sets allowed or disallowed policies: "+
			"the servers may not be creating tokens from it", asks, c.role.Name), evidence
	}
	r := c.role.Role
	evidence = append(evidence, fmt.Sprintf("token role %s: allowed_policies %q, disallowed_policies %q (and no glob forms)", c.role.Name, r.AllowedPolicies.Strings(), r.DisallowedPolicies.Strings()))
	return fmt.Sprintf("token role %s has neither allowed_policies nor disallowed_policies, so Vault lets the Nomad server give a task only policies its own token holds, and %s are not among them: "+
		"set disallowed_policies (the server's own policy) or allowed_policies on the role", c.role.Name, asks), evidence
}

// childPoliciesFixes are the role writes that make the role decide the
// policies: disallow the server's own policy (what Nomad's docs set up),
// or allow exactly what jobs request.
func childPoliciesFixes(p *rules.Pass, a world.NomadAlloc) []rules.Fix {
	c := childPoliciesOf(p.World, a)
	if !c.haveRole || c.role.Role != nil && hasLists(c.role.Role) {
		return nil
	}
	path := "auth/token/roles/" + c.role.Name
	disallow := rules.Fix{Description: fmt.Sprintf("Disallow the Nomad server's own policy on token role %s; Vault then allows jobs any other policy", c.role.Name)}
	if c.serverPolicy != "" {
		disallow.Commands = []rules.Command{rules.Cmd("vault", "write", path, "disallowed_policies="+c.serverPolicy)}
	} else {
		disallow.Commands = []rules.Command{rules.Template("vault write %s disallowed_policies=<the Nomad server token's policy>", path)}
	}
	allow := rules.Fix{Description: fmt.Sprintf("Allow on token role %s the policies jobs request", c.role.Name)}
	if len(c.jobPolicies) > 0 {
		allow.Description += " (this one: " + strings.Join(c.jobPolicies, ", ") + "; add the other jobs')"
		allow.Commands = []rules.Command{rules.Cmd("vault", "write", path, "allowed_policies="+strings.Join(c.jobPolicies, ","))}
	} else {
		allow.Commands = []rules.Command{rules.Template("vault write %s allowed_policies=<the policies your jobs request>", path)}
	}
	return []rules.Fix{disallow, allow}
}
