package jobspec

import (
	"fmt"
	"strings"

	"github.com/nvlint/nvlint/access"
	"github.com/nvlint/nvlint/acl"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/rules/edits"
	"github.com/nvlint/nvlint/world"
)

// TemplateReadDenied follows each template's Vault reads through the
// task's token: role, policies and templated paths.
var TemplateReadDenied rules.Rule = templateReadDenied{}

type templateReadDenied struct{}

func (templateReadDenied) Meta() *rules.Meta { return &templateReadDeniedMeta }

var templateReadDeniedMeta = rules.Meta{
	ID: "NV411", Name: "template-read-denied", Severity: rules.Error,
	Title: "a template or secret block reads a Vault path the task's token cannot read",
	Needs: []world.Kind{world.KindJobspec, world.KindPolicy},
	Doc: rules.Doc{
		Why: "A template that reads a path its token's policies do not grant never renders: the task sits in pending with `Template: Missing: vault.read(...)` " +
			"and only the client log shows the 403. nvlint follows the chain Vault follows: the task's role (vault.role, the clients' create_from_role, " +
			"the auth method's default_role), its token_policies plus default, the entity alias metadata that claim_mappings create, the templated policy " +
			"paths that metadata fills (a path that cannot be filled is dropped silently), and consul-template's KV v2 path rewriting. " +
			"consul-template asks Vault whether a mount is KV version 2 and then reads kv/x as kv/data/x; nvlint takes the version from Vault's mount table (doctor), " +
			"a declared mount (Terraform vault_mount, vault_kv_secret_backend_v2), the shape the templates read the secret in (.Data.data.key), " +
			"else the policies (data/ and metadata/ paths exist only on version 2); where it is not known " +
			"and the two readings differ, the rule stays undecided. Reads of a PKI mount's public endpoints (cert/ca_chain, ca/pem, crl...) need no grant. " +
			"A vault `secret` block (Nomad 1.11+) is read the same way: Nomad renders it as a template reading its path " +
			"(client/allocrunner/taskrunner/secrets/vault_provider.go), so a denied path shows the same `Template: Missing: vault.read(<path>)` event " +
			"although the job has no template. " +
			"`nvlint access` and doctor's failing-allocation triage decide every read with the same evaluation.",
		Example: "template {\n  data = <<EOF\n{{ with secret \"kv/data/prod/db\" }}{{ .Data.data.password }}{{ end }}\nEOF\n}\n# role nomad-workloads grants kv/data/<namespace>/<job>/* only",
		Fix: "Read a path the policies grant, or grant the path in one of the role's token_policies; nvlint suggests the smallest grant. " +
			"`nvlint access --job J --task T` prints the whole chain for each of the task's reads.",
	},
}

func (templateReadDenied) Check(p *rules.Pass) {
	w := p.World
	for _, wl := range access.Workloads(w) {
		// A refused login has no reads: the role rules report why.
		reads := access.UnallowedReads(w, wl)
		if len(reads) == 0 {
			continue
		}
		tok := access.Resolve(w, wl)
		for _, r := range reads {
			checkAccess(p, wl, &tok, r, tok.Read(w, r.Call))
		}
	}
}

func checkAccess(p *rules.Pass, wl access.Workload, tok *access.Token, r access.TaskRead, rd access.Read) {
	a := r.Call
	real, ans, capability, verb := rd.Path, rd.Answer, rd.Capability, rd.Verb()
	if !ans.Known {
		p.CannotDecide("%s reading %s: %s", wl, real, ans.Why)
		return
	}
	var dropped []acl.Dropped
	for _, dr := range ans.Dropped {
		if access.LeadsTo(dr.Rule.Path, real) {
			dropped = append(dropped, dr)
		}
	}
	blocks := "the template blocks with " + missingEvent(a)
	if r.Secret != nil {
		// Nomad renders the block as a template: the task event is a
		// template's although the job has none.
		blocks = fmt.Sprintf("%s blocks the task with Template: %s", r.Source(), missingEvent(a))
	}
	f := rules.Finding{
		Message: fmt.Sprintf("%s%s cannot %s %s: its token policies %s %s; %s",
			wl, world.ClusterLabel(tok.Cluster.V), verb, real, strings.Join(tok.Policies, ", "), denial(ans.Decision, capability), blocks),
		Range:    r.Range(wl.Job.File),
		Object:   wl.Job.Ref,
		Evidence: append([]string(nil), tok.Steps...),
		Cluster:  tok.Cluster.V,
	}
	if r.Secret != nil {
		f.Evidence = append(f.Evidence, fmt.Sprintf("secret block %s (provider vault) becomes the template read secret %q (Nomad 1.11 secrets/vault_provider.go)", r.Secret.Name.V, a.Path))
	}
	if rd.Rewritten() {
		f.Evidence = append(f.Evidence, fmt.Sprintf("consul-template reads %s as %s on the KV v2 mount (%s)", a.Path, real, rd.KV.Why))
	}
	for _, dr := range dropped {
		f.Evidence = append(f.Evidence, fmt.Sprintf("policy %s path %q is dropped: %s", dr.Policy, dr.Rule.Path, dr.Reason))
	}
	if len(dropped) > 0 {
		// The grant exists but Vault drops it: the fix is whatever makes
		// the template fill (the accessor and claim-mapping rules say so),
		// not another grant.
		dr := dropped[0]
		f.Message = fmt.Sprintf("%s%s cannot %s %s: policy %s would grant it with path %q, but Vault drops that path for this task (%s); %s",
			wl, world.ClusterLabel(tok.Cluster.V), verb, real, dr.Policy, dr.Rule.Path, dr.Reason, blocks)
		f.Related = append(f.Related, rules.Related{Message: "dropped path", Range: dr.Rule.PathRange})
		p.Report(f)
		return
	}
	if ans.Winner != nil {
		f.Evidence = append(f.Evidence, fmt.Sprintf("decided by path %q (%s match) of policy %s: %v", ans.Winner.Path, ans.Winner.Kind, ans.Winner.Sources[0].Policy, ans.Capabilities))
	}
	if target := grantTarget(p.World, tok); target != nil {
		fix := edits.Grant(target, real, capability, ans.Decision)
		if tok.Role != nil {
			// Everything the role's policies grant, every job logging in
			// with the role gets.
			fix.Description += " (granted to every workload that logs in with role " + tok.RoleName + ")"
		}
		f.Fixes = []rules.Fix{fix}
	}
	p.Report(f)
}

func denial(d acl.Decision, capability string) string {
	if d.Winner == nil {
		return "grant nothing on it"
	}
	return fmt.Sprintf("match it with %q, which grants %v, not %s", d.Winner.Path, d.Capabilities, capability)
}

// grantTarget is the policy a fix should extend: the first of the token's
// own policies (not default) that the world defines.
func grantTarget(w *world.World, tok *access.Token) *world.Policy {
	for _, name := range tok.Policies {
		if name == "default" {
			continue
		}
		if pol := w.PolicyIn(tok.Place(), name); pol != nil {
			return pol
		}
	}
	return nil
}
