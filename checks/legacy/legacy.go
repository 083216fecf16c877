// Package legacy holds the rules of the legacy token-role flow (Nomad 1.9
// and earlier): the Nomad server's Vault token and policy, the token role
// it creates task tokens from, and the policies jobs request through it.
package legacy

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/nvlint/nvlint/acl"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/rules/edits"
	"github.com/nvlint/nvlint/world"
)

// legacyScope ends the doc of every rule of the legacy flow: the
// versions it assumes.
const legacyScope = "\n\nApplies to Nomad 1.9 and earlier. From 1.10 the legacy flow is gone (nomad#25155): with nomad_version 1.10 or later in .nvlint.hcl, " +
	"or live servers on 1.10 or later, the rule stays silent, and NV303 and NV405 report what still relies on the flow."

// legacyFlowGone reports whether the targeted Nomad release has no
// legacy token flow, and records why the rule says nothing: Nomad 1.10
// removed it (nomad#25155), so its servers neither hold a Vault token
// nor create task tokens from a role. The release is nomad_version in
// .nvlint.hcl, or the live servers'; unknown, the rules apply.
func legacyFlowGone(p *rules.Pass) bool {
	nv := p.World.NomadVersion()
	if !world.VersionAtLeast(nv, "1.10") {
		return false
	}
	p.CannotDecide("Nomad %s has no legacy token flow (removed in 1.10): the rules of that flow do not apply", nv)
	return true
}

// serverPolicies finds the Nomad server's policy: the one granting create
// on the token role. When none does, the policies that manage tokens at
// all are checked instead, since one of them was meant to.
func serverPolicies(p *rules.Pass) (world.LegacyRole, []*world.Policy, bool) {
	lr, ok := p.World.LegacyTokenRole()
	if !ok {
		p.CannotDecide("no token role: give the agent config with create_from_role or the token role JSON")
		return lr, nil, false
	}
	if !lr.NameKnown() {
		// Its stand-in name is no path a policy could grant.
		p.CannotDecide("the token role's name is known only when Terraform applies %s, so the paths the server's policy needs are unknown", lr.Name)
		return lr, nil, false
	}
	granting, candidates := p.World.ServerPolicies(lr.Name)
	if len(granting) > 0 {
		return lr, granting, true
	}
	if lr.Source == world.NameFromFileName {
		// No policy grants create on the guessed name: the role may
		// well have another.
		p.CannotDecide("no policy grants create on auth/token/create/%s, and %s is only a guess from the token role's file name", lr.Name, lr.Name)
		return lr, nil, false
	}
	if len(candidates) > 0 {
		return lr, candidates, true
	}
	p.CannotDecide("no policy manages tokens for role %q, so the Nomad server's policy is unknown", lr.Name)
	return lr, nil, false
}

// serverTokenSet is what the server token holds: its policy plus default,
// which `vault token create -policy nomad-server` attaches.
func serverTokenSet(p *rules.Pass, pol *world.Policy) ([]*acl.Policy, bool) {
	def, assumed := p.World.DefaultPolicy()
	return []*acl.Policy{pol.ACL, def}, assumed
}

// capability is one requirement on the server token.
type capability struct {
	path string
	any  []string // any one of these suffices (root always does)
	why  string
}

// checkCapability evaluates one requirement against the server token and
// reports it when unmet.
func checkCapability(p *rules.Pass, pol *world.Policy, c capability) {
	set, assumedDefault := serverTokenSet(p, pol)
	caps := acl.Capabilities(set, c.path, nil)
	for _, want := range append([]string{"root"}, c.any...) {
		if slices.Contains(caps, want) {
			return
		}
	}
	d := acl.Evaluate(set, c.path, acl.Operation(c.any[0]), nil)
	f := rules.Finding{
		Message: fmt.Sprintf("policy %s does not grant %s on %s: %s", pol.Name(), strings.Join(c.any, " or "), c.path, c.why),
		Range:   pol.Range,
		Object:  pol.Ref,
		Evidence: []string{
			fmt.Sprintf("Nomad checks this with sys/capabilities-self at startup and fails with: token must have one of the following capabilities %s on %q; has %s",
				quoteList(append(c.any, "root")), c.path, bracketList(caps)),
		},
	}
	if d.Winner != nil {
		src := d.Winner.Sources[0]
		f.Evidence = append(f.Evidence, fmt.Sprintf("decided by path %q (%s match) in policy %s: %s", d.Winner.Path, d.Winner.Kind, src.Policy, bracketList(d.Capabilities)))
		if src.Policy == pol.Name() && src.Rule.PathRange.Filename != "" {
			f.Range = src.Rule.PathRange
		}
	} else {
		f.Evidence = append(f.Evidence, "no path rule in the server token's policies matches")
	}
	if assumedDefault {
		f.Evidence = append(f.Evidence, "the default policy was taken to be Vault's built-in one (no default policy file given)")
	}
	f.Fixes = []rules.Fix{edits.Grant(pol, c.path, c.any[0], d)}
	p.Report(f)
}

func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = strconv.Quote(x)
	}
	return "[" + strings.Join(q, " ") + "]"
}

func bracketList(xs []string) string { return "[" + strings.Join(xs, " ") + "]" }
