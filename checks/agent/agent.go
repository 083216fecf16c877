// Package agent holds the rules about Nomad agent configuration files:
// the vault {} block and its default_identity, and the client template
// runner's retries of Vault.
package agent

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
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
	// CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:N: whoever reads the
	// file acts in Vault as the Nomad server.
	Security: 8.1,
	Needs:    []world.Kind{world.KindAgentConfig},
	Doc: rules.Doc{
		Why: "A token in a config file ends up in version control, backups and config-management logs. The Nomad server token can create tokens for every policy its role allows. " +
			"Nomad reads the token from the VAULT_TOKEN environment variable just as well, and Nomad 1.10 ignores the key entirely. " +
			"A value in a Vault token format (hvs., hvb., hvr., s. plus 24 characters, a UUID) is an error; another literal, such as a dev server's hand-chosen root token ID, " +
			"a warning; a placeholder a deploy step replaces (TOKEN_FOR_NOMAD, <token>, ${...}, {{ ... }}) is no token and not reported. " +
			"Only servers read the key: a token in a client's config is NV304.",
		Example: "vault {\n  enabled = true\n  token   = \"hvs.CAESI...\"\n}",
		Fix: "Remove the token from the file, revoke it (`vault token revoke -accessor <accessor>`), and start the server with VAULT_TOKEN in its environment; " +
			"better, move to workload identity (Nomad 1.7+), which needs no server token.",
	},
}

// tokenShape is what a literal vault.token looks like.
type tokenShape int

const (
	// shapeReal is a Vault token format: hvs./hvb./hvr. (Vault 1.10+),
	// s./b./r. plus 24 characters (earlier), or a UUID (before 0.9).
	shapeReal tokenShape = iota
	// shapeCustom is any other literal: Vault takes hand-chosen token IDs
	// (a dev server's -dev-root-token-id, auth/token/create's id), so it
	// may be a token, but nothing says it is.
	shapeCustom
	// shapePlaceholder is text a deploy step replaces: upper-case words,
	// <...>, ${...}, {{...}}, $VAR, REPLACE_ME, changeme...
	shapePlaceholder
)

var (
	realToken = regexp.MustCompile(`^(hv[sbr]\.[A-Za-z0-9_-]+|[sbr]\.[A-Za-z0-9]{24}(\.[A-Za-z0-9]+)?|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$`)
	// Upper-case words (TOKEN_FOR_NOMAD, VAULT_TOKEN) are how sed and
	// envsubst templates mark the spot; real tokens mix cases.
	upperWords  = regexp.MustCompile(`^[A-Z][A-Z0-9]*([_-][A-Z0-9]+)*$`)
	placeholder = regexp.MustCompile(`^[<$%@]|[<>{}\s]|\.\.\.|(?i)your|changeme|change_me|replace|example|placeholder|xxx|todo|redacted|secret`)
)

// shapeOf classifies a literal token value.
func shapeOf(v string) tokenShape {
	switch {
	case realToken.MatchString(v):
		return shapeReal
	case upperWords.MatchString(v), placeholder.MatchString(v):
		return shapePlaceholder
	}
	return shapeCustom
}

// onClient reports whether an agent config is a client's only: Nomad
// clients never use vault.token (they get task tokens through the
// servers), so a token there is a different finding. A config that says
// neither is treated as a server's, the only agent that reads the key,
// and so is a client config next to a server config: Nomad merges every
// file of a -config directory, so one agent may load both.
func onClient(w *world.World, a *world.AgentConfig) bool {
	if !a.Client.IsKnown() || !a.Client.V || isServer(a) {
		return false
	}
	if a.File == nil {
		return true
	}
	dir := filepath.Dir(a.File.Path)
	for _, b := range w.Agents {
		if b != a && isServer(b) && b.File != nil && filepath.Dir(b.File.Path) == dir {
			return false
		}
	}
	return true
}

func isServer(a *world.AgentConfig) bool {
	return a.Server.IsKnown() && a.Server.V
}

func (tokenInConfig) Check(p *rules.Pass) {
	for _, a := range p.World.Agents {
		if onClient(p.World, a) {
			continue
		}
		for _, v := range a.Vaults {
			if !v.Token.IsKnown() || v.Token.V == "" {
				continue
			}
			shape := shapeOf(v.Token.V)
			if shape == shapePlaceholder {
				// Documentation or a deploy step's template: no token is
				// in the file (NV303 still flags the key).
				continue
			}
			f := rules.Finding{
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
			}
			if shape == shapeCustom {
				// A hand-chosen ID (a dev server's root token) is a token
				// too, but the value may as well be a word a script replaces.
				f.Severity = rules.Warning
				f.Message = "vault.token holds a literal that is not in a Vault token format: if it is a token (a dev server's -dev-root-token-id, a custom ID), it is a secret in the file; pass VAULT_TOKEN in the server's environment instead"
				f.Evidence = []string{"the value is not in a Vault token format (hvs., s., UUID) and reads as no placeholder either"}
				f.Fixes[0].Commands = nil
			}
			p.Report(f)
		}
	}
}

// TokenOnClient: a client's vault block holds a token Nomad never uses.
var TokenOnClient rules.Rule = tokenOnClient{}

type tokenOnClient struct{}

func (tokenOnClient) Meta() *rules.Meta { return &tokenOnClientMeta }

var tokenOnClientMeta = rules.Meta{
	ID: "NV304", Name: "vault-token-on-client", Severity: rules.Warning,
	Title: "a client's vault block holds a token Nomad clients never use",
	Needs: []world.Kind{world.KindAgentConfig},
	Doc: rules.Doc{
		Why: "Only Nomad servers use vault.token (the legacy flow's parent token); clients get each task's token through the servers and " +
			"never read the key. A token there does nothing but spread a secret to every client machine, its backups and config-management logs, " +
			"and a copy of the server config suggests the client was meant to be configured differently. " +
			"A file is taken as a client's when it enables the client and no server, and no server config sits in its directory: Nomad merges every file " +
			"of a -config directory, so a client.hcl next to a server.hcl may be loaded by a server too, and its token is then NV301's.",
		Example: "client {\n  enabled = true\n}\nvault {\n  enabled = true\n  token   = \"hvs.CAESI...\"\n}",
		Fix:     "Remove token from the client's vault block (clients need enabled and address, plus TLS settings); if the value is a real token, revoke it.",
	},
}

func (tokenOnClient) Check(p *rules.Pass) {
	for _, a := range p.World.Agents {
		if !onClient(p.World, a) {
			continue
		}
		for _, v := range a.Vaults {
			if !v.Token.IsKnown() || v.Token.V == "" {
				continue
			}
			f := rules.Finding{
				Message: "the client's vault block holds a Vault token, which Nomad clients never use: remove it, and revoke it",
				Range:   v.Token.Range,
				Object:  a.Ref,
				Evidence: []string{
					"token = <redacted>",
					"client { enabled = true } and no server block: only servers read vault.token",
					"assumed: no server config is merged with this file (Nomad merges every file of a -config directory; none here is a server's)",
				},
				Fixes: []rules.Fix{{
					Description: "Remove the token, which clients do not use",
					Edits:       []rules.TextEdit{edits.DeleteLines(a.File, attrRange(v, "token").Range)},
					Commands:    []rules.Command{rules.Template("vault token revoke -accessor <accessor of the leaked token>")},
					// Only if no server loads this file too.
					Manual: true,
				}},
			}
			switch shapeOf(v.Token.V) {
			case shapePlaceholder:
				f.Severity = rules.Info
				f.Message = "the client's vault block has a token placeholder, which Nomad clients never use: remove it, so the deploy step writes no token to clients"
				f.Fixes[0].Commands = nil
			case shapeCustom:
				f.Message = "the client's vault block holds a literal token value, which Nomad clients never use: remove it (and revoke it if it is a token)"
				f.Fixes[0].Commands = nil
			}
			p.Report(f)
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
			set := slices.ContainsFunc(attrs, func(o world.Attr) bool { return o.Name == s })
			if want, misfit := at.Misfits[s]; misfit {
				// A rename would make Nomad refuse the file: say so, edit nothing.
				f.Message += fmt.Sprintf(" (%s takes %s)", s, want)
			} else if set {
				// The block sets it already: a rename would set it twice,
				// which Nomad refuses.
				f.Message += fmt.Sprintf(" (%s is set already: remove one)", s)
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
