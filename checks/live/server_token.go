package live

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nvlint/nvlint/forecast"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/rules/edits"
	"github.com/nvlint/nvlint/world"
)

const serverTokenOrigin = "auth/token/lookup-self"

// serverToken returns the Nomad server's token as Vault sees it, when
// doctor was given it.
func serverToken(w *world.World) (*world.VaultLive, *world.TokenInfo) {
	if w.Live == nil || w.Live.Vault == nil || w.Live.Vault.ServerToken == nil {
		return nil, nil
	}
	return w.Live.Vault, w.Live.Vault.ServerToken
}

// tokenFinding is a finding about the server token: where it is written
// when doctor took it from an agent config file, else the live object.
func tokenFinding(v *world.VaultLive, kind world.Kind, name, origin, msg string, evidence ...string) rules.Finding {
	f := liveFinding(kind, name, origin, msg, evidence...)
	f.Range = v.ServerTokenAt
	return f
}

// requiredCapabilities is what Nomad (1.9 and earlier) checks with
// sys/capabilities-self at startup.
func requiredCapabilities(role string, allowUnauthenticated bool) map[string]string {
	req := map[string]string{
		"auth/token/lookup-self":     "read",
		"auth/token/revoke-accessor": "update",
		"auth/token/renew-self":      "update",
		"sys/capabilities-self":      "update",
	}
	if role != "" {
		req["auth/token/create/"+role] = "update"
		req["auth/token/roles/"+role] = "read"
	}
	if !allowUnauthenticated {
		req["auth/token/lookup"] = "update"
	}
	return req
}

// ServerTokenCapability: what sys/capabilities-self really says.
var ServerTokenCapability rules.Rule = serverTokenCapability{}

type serverTokenCapability struct{}

func (serverTokenCapability) Meta() *rules.Meta { return &serverTokenCapabilityMeta }

var serverTokenCapabilityMeta = rules.Meta{
	ID: "NV612", Name: "server-token-missing-capability", Severity: rules.Error,
	Live:  true,
	Title: "the Nomad server's Vault token lacks a capability Nomad checks",
	Doc: rules.Doc{
		Why: "This is the check a Nomad 1.9 server runs at startup, run by doctor against the live token: sys/capabilities-self for each path Nomad needs. " +
			"A missing capability makes the server log `failed to validate self token/role`, and every task with a vault block fails with " +
			"`Vault: server failed to derive vault token: failed to establish connection to Vault`.",
		Example: `token must have one of the following capabilities ["update" "root"] on "auth/token/revoke-accessor"; has [deny]`,
		Fix:     "Add the path to the server token's policy with `vault policy write`; the server picks it up at its next check (every 30 s) without a restart.",
	},
}

func (serverTokenCapability) Check(p *rules.Pass) {
	v, tok := serverToken(p.World)
	if tok == nil || len(v.ServerCapabilities) == 0 {
		return
	}
	role := tok.Role
	allowUnauth := true
	for _, a := range p.World.Agents {
		for _, vc := range a.Vaults {
			if role == "" && vc.CreateFromRole.IsKnown() {
				role = vc.CreateFromRole.V
			}
			if vc.AllowUnauthenticated.IsKnown() && !vc.AllowUnauthenticated.V {
				allowUnauth = false
			}
		}
	}
	req := requiredCapabilities(role, allowUnauth)
	paths := make([]string, 0, len(req))
	for path := range req {
		paths = append(paths, path)
	}
	slices.Sort(paths)
	policy := serverPolicyName(tok)
	for _, path := range paths {
		caps, asked := v.ServerCapabilities[path]
		need := req[path]
		if !asked || slices.Contains(caps, need) || slices.Contains(caps, "root") {
			continue
		}
		f := tokenFinding(v, world.KindPolicy, policy, "sys/capabilities-self",
			fmt.Sprintf("the Nomad server's Vault token cannot %s %s (sys/capabilities-self says %v): grant it in policy %s", need, path, caps, policy),
			fmt.Sprintf("POST sys/capabilities-self {\"paths\":[%q]} => %v", path, caps),
			fmt.Sprintf("Nomad fails with: token must have one of the following capabilities [%q \"root\"] on %q; has %v", need, path, caps),
			"token policies: "+strings.Join(tok.Policies, ", "))
		f.Fixes = []rules.Fix{{
			Description: fmt.Sprintf("Grant %s on %s in policy %s", need, path, policy),
			Commands:    []rules.Command{edits.PolicyAppendCommand(policy, path, need)},
		}}
		p.Report(f)
	}
}

// serverPolicyName is the token's own policy (not default).
func serverPolicyName(t *world.TokenInfo) string {
	for _, p := range t.Policies {
		if p != "default" && p != "root" {
			return p
		}
	}
	return "nomad-server"
}

// ServerTokenLifetime: the token must outlive the server.
var ServerTokenLifetime rules.Rule = serverTokenLifetime{}

type serverTokenLifetime struct{}

func (serverTokenLifetime) Meta() *rules.Meta { return &serverTokenLifetimeMeta }

var serverTokenLifetimeMeta = rules.Meta{
	ID: "NV613", Name: "server-token-expiring", Severity: rules.Error,
	Live:  true,
	Title: "the Nomad server's Vault token is not periodic, not renewable, or about to expire",
	Doc: rules.Doc{
		Why: "A Nomad 1.9 server renews its own token forever only if it is renewable and periodic. A token that is not periodic dies at its max TTL however often it is renewed: " +
			"its explicit_max_ttl, else the token auth method's max_lease_ttl, else Vault's 768h (nomad#4372: after about a week). Then every new task fails with " +
			"`permission denied; invalid token`, and Nomad recovers only when restarted with a new token. Doctor forecasts that moment from lookup-self's creation_time " +
			"and the token auth method's tuning (sys/auth/token/tune); it is an error within 24h and a warning before (forecast { error_within } in .nvlint.hcl). " +
			"Nomad refuses a non-renewable token outright (`Vault token is not renewable or root`).",
		Example: "vault token create -policy nomad-server -ttl 72h   # not periodic",
		Fix:     "Create the server token as a periodic orphan: `vault token create -policy nomad-server -period 72h -orphan`, and give it to every server.",
	},
}

func (serverTokenLifetime) Check(p *rules.Pass) {
	v, tok := serverToken(p.World)
	if tok == nil || tok.IsRoot() && tok.CreationTTL == 0 {
		return
	}
	fix := []rules.Fix{{Description: "Create a periodic orphan token for the servers", Commands: []rules.Command{
		rules.Cmd("vault", "token", "create", "-policy="+serverPolicyName(tok), "-period=72h", "-orphan"),
	}}}
	evidence := []string{fmt.Sprintf("lookup-self: renewable=%t period=%ds ttl=%ds creation_ttl=%ds explicit_max_ttl=%ds", tok.Renewable, tok.Period, tok.TTL, tok.CreationTTL, tok.ExplicitMaxTTL)}
	now, th := forecast.Now(p.World), forecast.ThresholdsOf(p.World)
	end, forecastOK := forecast.ServerToken(v)
	if forecastOK {
		evidence = append(evidence, "dies at "+end.Basis)
		if end.Assumed != "" {
			evidence = append(evidence, end.Assumed)
		}
	}
	report := func(sev rules.Severity, msg string) {
		f := tokenFinding(v, "token", "nomad server token", serverTokenOrigin, msg, evidence...)
		f.Severity = sev
		f.Fixes = fix
		p.Report(f)
	}
	left := end.At.Sub(now)
	switch {
	case !tok.Renewable:
		report(rules.Error, "the Nomad server's Vault token is not renewable: Nomad refuses it (Vault token is not renewable or root)")
	case tok.Period == 0 && !forecastOK:
		report(rules.Error, "the Nomad server's Vault token is not periodic: renewals cannot take it past its max TTL, and then every new task fails with permission denied")
	case tok.Period == 0:
		// Certain to break, but at a known time: an error once it is
		// close, a warning until then.
		sev := rules.Warning
		if left < th.Error {
			sev = rules.Error
		}
		msg := "the Nomad server's Vault token is not periodic: Nomad's renewals cannot take it past its max TTL, and it dies " + forecast.When(now, end.At) +
			"; then every new task fails with permission denied"
		if end.Assumed != "" {
			msg += " (assuming Vault's default max TTL, 768h: the token auth method's tuning could not be read)"
		}
		report(sev, msg)
	case forecastOK && left < th.Warning:
		// Periodic, but capped by explicit_max_ttl.
		sev := rules.Warning
		if left < th.Error {
			sev = rules.Error
		}
		report(sev, "the Nomad server's Vault token is periodic but has an explicit max TTL: it dies "+forecast.When(now, end.At)+"; then every new task fails with permission denied")
	case tok.TTL > 0 && time.Duration(tok.TTL)*time.Second < th.Error && time.Duration(tok.Period)*time.Second > 2*time.Duration(tok.TTL)*time.Second:
		report(rules.Error, fmt.Sprintf("the Nomad server's Vault token has %ds left of its %ds period: the server is not renewing it (is the Vault client of the leader running?)", tok.TTL, tok.Period))
	}
}

// ServerTokenRoot: works, but is every power in Vault.
var ServerTokenRoot rules.Rule = serverTokenRoot{}

type serverTokenRoot struct{}

func (serverTokenRoot) Meta() *rules.Meta { return &serverTokenRootMeta }

var serverTokenRootMeta = rules.Meta{
	ID: "NV614", Name: "server-token-root", Severity: rules.Warning,
	Live:  true,
	Title: "the Nomad server uses a root Vault token",
	// CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H: jobs can request any
	// policy, root's included.
	Security: 8.8,
	Doc: rules.Doc{
		Why:     "A root token works, but anyone who reads the server's config or environment owns Vault, and jobs can request any policy.",
		Example: "vault token lookup   # policies: [root]",
		Fix:     "Use a periodic orphan token with the nomad-server policy and a token role (create_from_role), then revoke the root token.",
	},
}

func (serverTokenRoot) Check(p *rules.Pass) {
	v, tok := serverToken(p.World)
	if tok == nil || !tok.IsRoot() {
		return
	}
	p.Report(tokenFinding(v, "token", "nomad server token", serverTokenOrigin,
		"the Nomad server's Vault token is a root token: use a periodic token with the nomad-server policy and a token role", "lookup-self: policies "+strings.Join(tok.Policies, ", ")))
}

// ServerTokenNotOrphan: revoking its parent revokes it.
var ServerTokenNotOrphan rules.Rule = serverTokenNotOrphan{}

type serverTokenNotOrphan struct{}

func (serverTokenNotOrphan) Meta() *rules.Meta { return &serverTokenNotOrphanMeta }

var serverTokenNotOrphanMeta = rules.Meta{
	ID: "NV615", Name: "server-token-not-orphan", Severity: rules.Warning,
	Live:  true,
	Title: "the Nomad server's Vault token is a child of another token",
	Doc: rules.Doc{
		Why:     "When a token's parent expires or is revoked (an operator's login token, say), Vault revokes the child too: the Nomad servers lose Vault with no change of their own.",
		Example: "vault token create -policy nomad-server -period 72h   # without -orphan",
		Fix:     "Create it with -orphan: `vault token create -policy nomad-server -period 72h -orphan`.",
	},
}

func (serverTokenNotOrphan) Check(p *rules.Pass) {
	v, tok := serverToken(p.World)
	if tok == nil || tok.Orphan || tok.IsRoot() {
		return
	}
	f := tokenFinding(v, "token", "nomad server token", serverTokenOrigin,
		"the Nomad server's Vault token is not an orphan: it is revoked with its parent token; create it with -orphan", "lookup-self: orphan=false")
	f.Fixes = []rules.Fix{{Description: "Create an orphan token for the servers", Commands: []rules.Command{rules.Cmd("vault", "token", "create", "-policy="+serverPolicyName(tok), "-period=72h", "-orphan")}}}
	p.Report(f)
}
