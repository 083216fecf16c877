// Package agent holds the rules about Nomad agent configuration files:
// the vault {} block and its default_identity.
package agent

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/agext/levenshtein"

	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/rules/edits"
	"github.com/nvlint/nvlint/world"
)

// TokenInConfig: a Vault token committed to a file is a leaked secret.
var TokenInConfig rules.Rule = tokenInConfig{}

type tokenInConfig struct{}

func (tokenInConfig) Meta() *rules.Meta { return &tokenInConfigMeta }

var tokenInConfigMeta = rules.Meta{
	ID: "NV301", Name: "vault-token-in-config", Severity: rules.Error,
	Title: "a Vault token is written in the agent config",
	Needs: []world.Kind{world.KindAgentConfig},
	Doc: rules.Doc{
		Why: "A token in a config file ends up in version control, backups and config-management logs. The Nomad server token can create tokens for every policy its role allows. " +
			"Nomad reads the token from the VAULT_TOKEN environment variable just as well, and Nomad 1.10 ignores the key entirely.",
		Example: "vault {\n  enabled = true\n  token   = \"hvs.CAESI...\"\n}",
		Fix: "Remove the token from the file, revoke it (`vault token revoke -accessor <accessor>`), and start the server with VAULT_TOKEN in its environment; " +
			"better, move to workload identity (Nomad 1.7+), which needs no server token.",
	},
}

// A placeholder ("<your token>", "$TOKEN", "...") is documentation, not a
// secret.
var placeholder = regexp.MustCompile(`^[<$]|[<>{}\s]|(?i)your|\.\.\.|changeme|example|xxx`)

func (tokenInConfig) Check(p *rules.Pass) {
	for _, a := range p.World.Agents {
		for _, v := range a.Vaults {
			if !v.Token.IsKnown() || v.Token.V == "" || placeholder.MatchString(v.Token.V) {
				continue
			}
			p.Report(rules.Finding{
				Message:  "the vault block contains a Vault token: remove it, revoke it and pass VAULT_TOKEN in the server's environment",
				Range:    v.Token.Range,
				Object:   a.Ref,
				Evidence: []string{"token = <redacted>"},
				Fixes: []rules.Fix{{
					Description: "Remove the token from the file and supply VAULT_TOKEN instead",
					Edits:       []rules.TextEdit{edits.DeleteLines(a.File, attrRange(v, "token").Range)},
					Commands:    []rules.Command{rules.Template("vault token revoke -accessor <accessor of the leaked token>")},
					// The server needs the token from somewhere else first.
					Manual: true,
				}},
			})
		}
	}
}

func attrRange(v *world.VaultConfig, name string) world.Attr {
	for _, at := range v.Attrs {
		if at.Name == name {
			return at
		}
	}
	return world.Attr{}
}

// knownVaultKeys are every key Nomad's agent vault block decodes, in any
// version.
var knownVaultKeys = []string{
	"name", "enabled", "address", "token", "create_from_role", "allow_unauthenticated", "task_token_ttl",
	"jwt_auth_backend_path", "namespace", "ca_file", "ca_path", "cert_file", "key_file",
	"tls_skip_verify", "tls_server_name", "default_identity",
}

var knownIdentityKeys = []string{"aud", "env", "file", "filepath", "ttl", "extra_claims"}

// UnknownKey: Nomad decodes the vault block loosely and ignores typos.
var UnknownKey rules.Rule = unknownKey{}

type unknownKey struct{}

func (unknownKey) Meta() *rules.Meta { return &unknownKeyMeta }

var unknownKeyMeta = rules.Meta{
	ID: "NV302", Name: "unknown-vault-key", Severity: rules.Error,
	Title: "the agent's vault block has a key Nomad silently ignores",
	Needs: []world.Kind{world.KindAgentConfig},
	Doc: rules.Doc{
		Why: "Nomad decodes the agent's vault and default_identity blocks without rejecting unknown keys, so a typo such as `create_from_rol` starts cleanly " +
			"and the setting never takes effect.",
		Example: "vault {\n  enabled         = true\n  create_from_rol = \"nomad-cluster\"\n}",
		Fix:     "Correct the key name; nvlint suggests the closest known key.",
	},
}

func (unknownKey) Check(p *rules.Pass) {
	for _, a := range p.World.Agents {
		for _, v := range a.Vaults {
			reportUnknown(p, a, "vault", v.Attrs, knownVaultKeys)
			if v.DefaultIdentity != nil {
				reportUnknown(p, a, "default_identity", v.DefaultIdentity.Attrs, knownIdentityKeys)
			}
		}
	}
}

func reportUnknown(p *rules.Pass, a *world.AgentConfig, block string, attrs []world.Attr, known []string) {
	for _, at := range attrs {
		if contains(known, at.Name) {
			continue
		}
		f := rules.Finding{
			Message:  fmt.Sprintf("%s block has unknown key %q, which Nomad ignores without a warning", block, at.Name),
			Range:    at.NameRange,
			Object:   a.Ref,
			Evidence: []string{"known keys: " + strings.Join(known, ", ")},
		}
		if s := closest(at.Name, known); s != "" {
			f.Message += fmt.Sprintf("; did you mean %q?", s)
			if want, misfit := at.Misfits[s]; misfit {
				// A rename would make Nomad refuse the file: say so, edit nothing.
				f.Message += fmt.Sprintf(" (%s takes %s)", s, want)
			} else {
				f.Fixes = []rules.Fix{{Description: fmt.Sprintf("Rename %s to %s", at.Name, s), Edits: []rules.TextEdit{edits.Replace(at.NameRange, s)}}}
			}
		}
		p.Report(f)
	}
}

func closest(name string, known []string) string {
	best, bestD := "", 4
	for _, k := range known {
		if d := levenshtein.Distance(name, k, nil); d < bestD && d <= len(k)/3+1 {
			best, bestD = k, d
		}
	}
	return best
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// DeprecatedKey: keys of the legacy flow, removed in Nomad 1.10.
var DeprecatedKey rules.Rule = deprecatedKey{}

type deprecatedKey struct{}

func (deprecatedKey) Meta() *rules.Meta { return &deprecatedKeyMeta }

var deprecatedKeyMeta = rules.Meta{
	ID: "NV303", Name: "deprecated-vault-key", Severity: rules.Warning,
	Title: "the agent's vault block uses a key removed in Nomad 1.10",
	Needs: []world.Kind{world.KindAgentConfig},
	Doc: rules.Doc{
		Why: "token, allow_unauthenticated and task_token_ttl belong to the legacy token-role flow, deprecated in Nomad 1.7 and removed in 1.10. " +
			"Nomad 1.10 starts with them silently ignored, so a cluster upgraded without migrating to workload identity loses its Vault integration. " +
			"The severity follows the targeted release (nomad_version in .nvlint.hcl, or the live servers' in nvlint doctor): an error from 1.10, " +
			"a warning from 1.7 to 1.9 or when unknown, advice before 1.7, where these keys are the only way.",
		Example: "vault {\n  enabled        = true\n  task_token_ttl = \"1h\"\n}",
		Fix: "Migrate to workload identity: configure default_identity { aud = [\"vault.io\"] } on the servers and a JWT auth method in Vault (`nomad setup vault`), " +
			"then remove these keys.",
	},
}

var removedKeys = map[string]string{
	"token":                 "the server token; workload identity needs none",
	"allow_unauthenticated": "workload identity checks job submitters with Nomad ACLs instead",
	"task_token_ttl":        "task token TTLs come from the JWT role's token_period/token_ttl",
}

func (deprecatedKey) Check(p *rules.Pass) {
	// The severity follows the Nomad release the setup targets
	// (nomad_version in .nvlint.hcl, or the live servers'): an error once
	// the key is ignored, advice while it is still the only way.
	nv := p.World.NomadVersion()
	for _, a := range p.World.Agents {
		for _, v := range a.Vaults {
			for _, at := range v.Attrs {
				why, removed := removedKeys[at.Name]
				if !removed {
					continue
				}
				f := rules.Finding{
					Message: fmt.Sprintf("vault key %s is deprecated since Nomad 1.7 and ignored from 1.10 (%s)", at.Name, why),
					Range:   at.NameRange,
					Object:  a.Ref,
					Fixes: []rules.Fix{{
						Description: "Remove " + at.Name + " after migrating to workload identity",
						Edits:       []rules.TextEdit{edits.DeleteLines(a.File, at.Range)},
						// Before 1.10 the key still works: removing it
						// before migrating breaks the legacy flow.
						Manual: true,
					}},
				}
				switch {
				case world.VersionAtLeast(nv, "1.10"):
					f.Fixes[0].Manual = false // ignored anyway: removing it is safe
					f.Severity = rules.Error
					f.Message = fmt.Sprintf("vault key %s was removed in Nomad 1.10 and Nomad %s ignores it (%s): tasks relying on the legacy token flow get no Vault token", at.Name, nv, why)
					f.Fixes[0].Description = "Remove " + at.Name + ", which Nomad " + nv + " ignores, and migrate to workload identity"
				case nv != "" && world.CompareVersions(nv, "1.7") < 0:
					f.Severity = rules.Info
					f.Message = fmt.Sprintf("vault key %s is still needed by Nomad %s but is ignored from Nomad 1.10 (%s): plan the move to workload identity (Nomad 1.7+)", at.Name, nv, why)
					f.Fixes = nil
				}
				if h := p.World.Hints.NomadVersion; nv != "" && h.IsKnown() && h.Range.Filename != "" {
					f.Related = append(f.Related, rules.Related{Message: "nomad_version " + nv, Range: h.Range})
				}
				p.Report(f)
			}
		}
	}
}
