package legacy

import (
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// ServerPolicyCapability checks the Nomad server's policy against every
// capability Nomad needs from its own token.
var ServerPolicyCapability rules.Rule = serverPolicyCapability{}

type serverPolicyCapability struct{}

func (serverPolicyCapability) Meta() *rules.Meta { return &serverPolicyCapabilityMeta }

var serverPolicyCapabilityMeta = rules.Meta{
	ID: "NV101", Name: "server-policy-missing-capability", Severity: rules.Error,
	Title: "the Nomad server's Vault policy lacks a capability Nomad needs",
	Needs: []world.Kind{world.KindPolicy},
	Doc: rules.Doc{
		Why: "In the legacy flow (Nomad 1.9 and earlier) every Nomad server checks its own Vault token with sys/capabilities-self at startup. " +
			"A missing capability makes it log `failed to validate self token/role` and refuse to create task tokens, so every task with a vault block " +
			"fails with `Vault: server failed to derive vault token`. The server's policy is the one that grants update on auth/token/create/<role>, " +
			"where <role> is the agent config's create_from_role." + legacyScope,
		Example: "path \"auth/token/create/nomad-cluster\" {\n  capabilities = [\"update\"]\n}\n# auth/token/revoke-accessor, auth/token/roles/nomad-cluster, ... missing",
		Fix: "Grant every path of the documented nomad-server policy: auth/token/create/<role> (update), auth/token/roles/<role> (read), " +
			"auth/token/lookup-self (read), auth/token/lookup (update, needed when allow_unauthenticated = false), auth/token/revoke-accessor (update), " +
			"sys/capabilities-self (update) and auth/token/renew-self (update); then `vault policy write nomad-server nomad-server-policy.hcl`.",
	},
}

func (serverPolicyCapability) Check(p *rules.Pass) {
	if legacyFlowGone(p) {
		return
	}
	lr, pols, ok := serverPolicies(p)
	if !ok {
		return
	}
	required := []capability{
		{path: "auth/token/create/" + lr.Name, any: []string{"update"}, why: "the server cannot create task tokens from role " + lr.Name},
		{path: "auth/token/roles/" + lr.Name, any: []string{"read"}, why: "the server cannot read role " + lr.Name + " to validate it"},
		{path: "auth/token/lookup-self", any: []string{"read"}, why: "the server cannot look up its own token at startup"},
		{path: "auth/token/revoke-accessor", any: []string{"update"}, why: "the server cannot revoke the tokens of stopped tasks"},
		{path: "auth/token/renew-self", any: []string{"update"}, why: "the server cannot renew its own token, which then expires"},
	}
	vc := p.World.LegacyVaultConfig(lr.Name)
	switch {
	case vc != nil && !vc.AllowsUnauthenticated():
		required = append(required, capability{path: "auth/token/lookup", any: []string{"update"}, why: "allow_unauthenticated = false makes the server look up the tokens of job submitters"})
	case vc == nil:
		p.CannotDecide("auth/token/lookup is only needed with allow_unauthenticated = false; no agent config says")
	}
	for _, pol := range pols {
		for _, c := range required {
			checkCapability(p, pol, c)
		}
	}
}

// ServerCapabilitiesSelf checks that the server token can verify its own
// capabilities; without it Nomad skips every check above silently.
var ServerCapabilitiesSelf rules.Rule = serverCapabilitiesSelf{}

type serverCapabilitiesSelf struct{}

func (serverCapabilitiesSelf) Meta() *rules.Meta { return &serverCapabilitiesSelfMeta }

var serverCapabilitiesSelfMeta = rules.Meta{
	ID: "NV102", Name: "server-cannot-check-capabilities", Severity: rules.Warning,
	Title: "the Nomad server's Vault token cannot check its own capabilities",
	Needs: []world.Kind{world.KindPolicy},
	Doc: rules.Doc{
		Why: "Without update on sys/capabilities-self, a Nomad server (1.9 and earlier) only logs `can not lookup token capabilities. As such certain operations may fail in the future` " +
			"and skips all its capability checks, so a missing capability surfaces later as failing tasks instead of at startup." + legacyScope,
		Example: "# nomad-server policy without:\npath \"sys/capabilities-self\" {\n  capabilities = [\"update\"]\n}",
		Fix:     "Add `path \"sys/capabilities-self\" { capabilities = [\"update\"] }` to the server's policy (Vault's default policy also grants it).",
	},
}

func (serverCapabilitiesSelf) Check(p *rules.Pass) {
	if legacyFlowGone(p) {
		return
	}
	_, pols, ok := serverPolicies(p)
	if !ok {
		return
	}
	for _, pol := range pols {
		checkCapability(p, pol, capability{path: "sys/capabilities-self", any: []string{"update"}, why: "Nomad then skips its startup checks of the token and role"})
	}
}
