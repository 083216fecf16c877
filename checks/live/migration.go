package live

import (
	"fmt"
	"strings"

	"github.com/nvlint/nvlint/access"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// MigrationPending: what `nomad setup vault -check` reports, as findings.
var MigrationPending rules.Rule = migrationPending{}

type migrationPending struct{}

func (migrationPending) Meta() *rules.Meta { return &migrationPendingMeta }

var migrationPendingMeta = rules.Meta{
	ID: "NV641", Name: "workload-identity-migration-pending", Severity: rules.Warning,
	Live:  true,
	Title: "the cluster is not ready for Vault workload identity only (Nomad 1.10)",
	Doc: rules.Doc{
		Why: "Nomad 1.10 removed the legacy token flow. A job whose tasks have no vault_<cluster> identity (submitted before the servers had default_identity) " +
			"can no longer get a Vault token, and clients older than 1.7 cannot sign identities. Upgrading with either left breaks those tasks.",
		Example: "nomad setup vault -check   # Jobs Without Workload Identity for Vault: web",
		Fix:     "Configure default_identity on the servers, resubmit every job that uses Vault (`nomad job run`), and upgrade clients to 1.7+ before moving to 1.10.",
	},
}

func (migrationPending) Check(p *rules.Pass) {
	l := p.World.Live
	if l == nil || l.Nomad == nil {
		return
	}
	seen := map[string]bool{}
	for _, wl := range access.Workloads(p.World) {
		if wl.Task.VaultIdentity(wl.Vault.ClusterName()) != nil || seen[wl.Job.Ref.Name] {
			continue
		}
		seen[wl.Job.Ref.Name] = true
		f := liveFinding(world.KindJobspec, wl.Job.Ref.Name, wl.Job.Ref.Origin,
			fmt.Sprintf("job %s uses Vault but %s has no vault_%s identity: on Nomad 1.10 it gets no Vault token; resubmit the job after the servers have default_identity", wl.Job.Ref.Name, wl.Task.Name.V, wl.Vault.ClusterName()))
		f.Fixes = []rules.Fix{{Description: "Resubmit the job so the servers add its identity", Commands: []rules.Command{
			rules.Cmd(append([]string{"nomad", "job", "inspect", "-namespace=" + wl.Job.NamespaceName()}, rules.Args(wl.Job.Ref.Name)...)...).Pipe("nomad", "job", "run", "-json", "-"),
		}}}
		p.Report(f)
	}
	var old []string
	for _, n := range l.Nomad.Nodes {
		if n.Version != "" && world.CompareVersions(n.Version, "1.7.0") < 0 {
			old = append(old, fmt.Sprintf("%s (%s)", n.Name, n.Version))
		}
	}
	if len(old) > 0 {
		p.Report(liveFinding("node", strings.Join(old, ", "), "nomad:/v1/nodes",
			fmt.Sprintf("%d client(s) run Nomad older than 1.7 and cannot use workload identity: %s; upgrade them before Nomad 1.10", len(old), strings.Join(old, ", "))))
	}
}

// VaultVersionQuirk: known Vault releases that break the integration.
var VaultVersionQuirk rules.Rule = vaultVersionQuirk{}

type vaultVersionQuirk struct{}

func (vaultVersionQuirk) Meta() *rules.Meta { return &vaultVersionQuirkMeta }

var vaultVersionQuirkMeta = rules.Meta{
	ID: "NV651", Name: "vault-version-quirk", Severity: rules.Error,
	Title: "this Vault release has a bug that breaks the integration",
	Doc: rules.Doc{
		Why: "Vault 0.6.4 mis-validates token creation from a role with disallowed_policies, so the legacy flow cannot create task tokens (fixed in 0.6.5). " +
			"Vault 1.16.1 rejects Nomad's JWKS when the JWT auth config is written (`error checking jwks URL ... unexpected signature algorithm \"HS256\"`, nomad#20298).",
		Example: "vault status   # Version 1.16.1\n# or, offline, in .nvlint.hcl:\nvault_version = \"1.16.1\"",
		Fix:     "Upgrade Vault past the affected release (0.6.5+, 1.16.2+). nvlint lint checks the vault_version declared in .nvlint.hcl; doctor the running one.",
	},
}

func (vaultVersionQuirk) Check(p *rules.Pass) {
	// The live version when doctor read it; offline, the vault_version
	// declared in .nvlint.hcl, and the finding points at it.
	w := p.World
	var at func(msg string) rules.Finding
	ver := w.VaultVersion()
	switch l := w.Live; {
	case l != nil && l.Vault != nil && l.Vault.Health != nil && l.Vault.Health.Version != "":
		at = func(msg string) rules.Finding { return liveFinding("vault", l.Vault.Addr, "sys/health", msg) }
	case ver != "":
		h := w.Hints.VaultVersion
		at = func(msg string) rules.Finding {
			return rules.Finding{Message: msg, Range: h.Range, Object: world.ObjectRef{Kind: "vault", Name: "vault_version " + ver}}
		}
	default:
		p.CannotDecide("the Vault version is not known (nvlint doctor, lint --snapshot, or vault_version in .nvlint.hcl)")
		return
	}
	ver = strings.TrimPrefix(ver, "v")
	base, _, _ := strings.Cut(ver, "+")
	switch {
	case base == "0.6.4":
		for _, r := range w.TokenRoles {
			if len(r.DisallowedPolicies.Items) > 0 {
				f := at(fmt.Sprintf("Vault 0.6.4 cannot create tokens from role %s, which uses disallowed_policies (a 0.6.4 regression): upgrade Vault", r.Ref.Name))
				if r.File != nil {
					f.Related = append(f.Related, rules.Related{Message: "token role " + r.Ref.Name + " disallowed_policies", Range: r.DisallowedPolicies.Range})
				}
				p.Report(f)
			}
		}
	case strings.HasPrefix(base, "1.16.1"):
		if len(w.JWTConfigs) > 0 {
			f := at("Vault 1.16.1 rejects Nomad's JWKS when the JWT auth config is written (unexpected signature algorithm \"HS256\"): upgrade Vault to 1.16.2+")
			if c := w.JWTConfigs[0]; c.File != nil {
				f.Related = append(f.Related, rules.Related{Message: "JWT auth config " + c.Ref.Name, Range: c.Range})
			}
			p.Report(f)
		}
	}
}
