// Package legacy holds the rules of the legacy token-role flow (Nomad 1.9
// and earlier): the Nomad server's Vault token and policy, the token role
// it creates task tokens from, and the policies jobs request through it.
package legacy

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/acl"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/rules/edits"
	"github.com/nvlint/nvlint/world"
)

// serverPolicies finds the Nomad server's policy: the one granting create
// on the token role. When none does, the policies that manage tokens at
// all are checked instead, since one of them was meant to.
func serverPolicies(p *rules.Pass) (world.LegacyRole, []*world.Policy, bool) {
	lr, ok := p.World.LegacyTokenRole()
	if !ok {
		p.CannotDecide("no token role: give the agent config with create_from_role or the token role JSON")
		return lr, nil, false
	}
	granting, candidates := p.World.ServerPolicies(lr.Name)
	if len(granting) > 0 {
		return lr, granting, true
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
	f.Fixes = []rules.Fix{grantFix(pol, c, d)}
	p.Report(f)
}

// grantFix adds the capability to an existing exact rule, or appends a
// path block.
func grantFix(pol *world.Policy, c capability, d acl.Decision) rules.Fix {
	fix := rules.Fix{Description: fmt.Sprintf("Grant %s on %s in policy %s", c.any[0], c.path, pol.Name())}
	if pol.File == nil {
		fix.Commands = []string{PolicyPatchCommand(pol.Name(), c.path, c.any[0])}
		return fix
	}
	if w := d.Winner; w != nil && w.Kind == "exact" && w.Sources[0].Policy == pol.Name() {
		r := w.Sources[0].Rule
		if len(r.CapRanges) == len(r.Capabilities) && len(r.Capabilities) > 0 && !slices.Contains(r.Capabilities, "deny") {
			list := world.List{Set: true, Known: true, Range: capsListRange(pol.File, r)}
			for i, cp := range r.Capabilities {
				list.Items = append(list.Items, world.Str{V: cp, Set: true, Known: true, Range: r.CapRanges[i]})
			}
			fix.Edits = []rules.TextEdit{edits.AppendToList(pol.File, list, c.any[0])}
		}
	}
	if fix.Edits == nil {
		fix.Edits = []rules.TextEdit{edits.AppendToFile(pol.File, PathBlock(c.path, c.any[0]))}
	}
	fix.Commands = []string{fmt.Sprintf("vault policy write %s %s", pol.Name(), pol.File.Path)}
	return fix
}

// PathBlock renders a policy path block.
func PathBlock(path string, caps ...string) string {
	return fmt.Sprintf("path %q {\n  capabilities = %s\n}\n", path, quoteListComma(caps))
}

// PolicyPatchCommand is the command that adds a path block to a live
// policy without losing its other rules.
func PolicyPatchCommand(name, path, capability string) string {
	return fmt.Sprintf("{ vault policy read %s; printf '%%s' %s; } | vault policy write %s -", name, shellQuote("\n"+PathBlock(path, capability)), name)
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = strconv.Quote(x)
	}
	return "[" + strings.Join(q, " ") + "]"
}

func quoteListComma(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = strconv.Quote(x)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func bracketList(xs []string) string { return "[" + strings.Join(xs, " ") + "]" }

// capsListRange narrows a capabilities attribute to its list literal.
func capsListRange(f *world.File, r *acl.PathRule) hcl.Range {
	out := r.CapsRange
	src := f.Src
	if out.End.Byte > len(src) || out.Start.Byte > out.End.Byte {
		return out
	}
	if i := bytes.IndexByte(src[out.Start.Byte:out.End.Byte], '['); i >= 0 {
		out.Start.Byte += i
		out.Start.Column += i
	}
	return out
}
