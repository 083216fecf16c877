package policy

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/acl"
	"github.com/nvlint/nvlint/internal/suggest"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/rules/edits"
	"github.com/nvlint/nvlint/world"
)

// PolicyRejectedByVault: a well-formed policy that Vault refuses to store.
var PolicyRejectedByVault rules.Rule = policyRejectedByVault{}

type policyRejectedByVault struct{}

func (policyRejectedByVault) Meta() *rules.Meta { return &policyRejectedByVaultMeta }

var policyRejectedByVaultMeta = rules.Meta{
	ID: "NV502", Name: "policy-rejected-by-vault", Severity: rules.Error,
	Title: "the policy is one Vault refuses at vault policy write",
	Needs: []world.Kind{world.KindPolicy},
	Doc: rules.Doc{
		Why: "A policy can be valid HCL and still be refused by Vault, which checks it when it is written: an unknown capability " +
			"(`failed to parse policy: path \"secret/*\": invalid capability \"reade\"`), \"+*\" in a path " +
			"(`invalid use of wildcards ('+*' is forbidden)`), a key Vault does not know (`invalid key \"capabilites\"`), " + //nolint:misspell // quotes Vault's error for a misspelt key
			"unbalanced templating (`failed to validate policy templating: unbalanced templating characters`) or a legacy policy value it does not know. " +
			"Vault stores nothing: the previous version of the policy stays in force, or the policy does not exist, and every token that names it lacks what it grants.",
		Example: "path \"kv/data/app/*\" {\n  capabilities = [\"reade\"]\n}",
		Fix: "Correct the value Vault names: capabilities are create, read, update, patch, delete, list, sudo and deny; a path block takes capabilities, " +
			"allowed/denied/required_parameters, min/max_wrapping_ttl, mfa_methods, control_group and comment; \"+\" matches one whole segment and a trailing \"*\" a prefix. " +
			"Then `vault policy write NAME FILE`.",
	},
}

// validCapabilities are what Vault accepts in a capabilities list, most
// common first ("subscribe" and "recover" only on recent Vault).
var validCapabilities = []string{"read", "list", "create", "update", "delete", "patch", "sudo", "deny", "subscribe", "recover"}

// capabilityAliases are words people write for a capability Vault names
// differently.
var capabilityAliases = map[string][]string{
	"write":   {"create", "update"},
	"get":     {"read"},
	"put":     {"create", "update"},
	"post":    {"create", "update"},
	"modify":  {"update"},
	"edit":    {"update"},
	"remove":  {"delete"},
	"destroy": {"delete"},
}

// pathKeys are the keys a path block takes (vault/policy.go parsePaths),
// without "comment", which nvlint cannot tell is already present.
var pathKeys = []string{
	"capabilities", "policy", "allowed_parameters", "denied_parameters", "required_parameters",
	"min_wrapping_ttl", "max_wrapping_ttl", "mfa_methods", "control_group", "subscribe_event_types",
}

func (policyRejectedByVault) Check(p *rules.Pass) {
	// Partly known policies carry only the problems of their literal text.
	for _, pol := range p.World.PolicyTexts() {
		if pol.File == nil {
			continue
		}
		for _, d := range pol.Diagnostics() {
			prob := acl.ProblemOf(d)
			if prob == nil || d.Severity != hcl.DiagError {
				continue
			}
			p.Report(rejection(pol, d, prob))
		}
	}
}

func rejection(pol *world.Policy, d *hcl.Diagnostic, prob *acl.Problem) rules.Finding {
	f := rules.Finding{
		Object:   pol.Ref,
		Range:    pol.Range,
		Evidence: []string{"Vault answers vault policy write with: " + vaultText(d, prob), "Vault stores nothing: the previous version of the policy stays in force, or the policy does not exist"},
	}
	if d.Subject != nil {
		f.Range = *d.Subject
	}
	if d.Detail != "" {
		f.Evidence = append(f.Evidence, d.Detail)
	}
	fix, hint := rejectionFix(pol, d, prob)
	f.Message = fmt.Sprintf("policy %s is rejected by vault policy write: %s; %s", pol.Name(), vaultText(d, prob), hint)
	fix.Commands = edits.PolicyWrite(pol)
	f.Fixes = []rules.Fix{fix}
	return f
}

// vaultText is the error Vault returns: Parse words the problems Vault
// itself checks as Vault does, and Vault prefixes them; for the shape
// errors of its HCL decoder Parse has its own words.
func vaultText(d *hcl.Diagnostic, prob *acl.Problem) string {
	switch prob.Code {
	case acl.ProblemStructure, acl.ProblemOther:
		return d.Summary
	}
	return "failed to parse policy: " + d.Summary
}

// rejectionFix builds the fix of one rejection and the hint the message
// ends with.
func rejectionFix(pol *world.Policy, d *hcl.Diagnostic, prob *acl.Problem) (rules.Fix, string) {
	f := pol.File
	subject := hcl.Range{}
	if d.Subject != nil {
		subject = *d.Subject
	}
	switch prob.Code {
	case acl.ProblemInvalidCapability:
		repl := capabilityReplacement(pol, prob)
		if len(repl) == 0 {
			return rules.Fix{Description: fmt.Sprintf("Replace capability %q with one Vault knows", prob.Value)},
				"use one of create, read, update, patch, delete, list, sudo or deny"
		}
		fix := rules.Fix{Description: fmt.Sprintf("Replace capability %q with %s", prob.Value, strings.Join(quoteAll(repl), ", "))}
		if sourceIs(f, subject, strconv.Quote(prob.Value)) {
			fix.Edits = []rules.TextEdit{edits.Replace(subject, strings.Join(quoteAll(repl), ", "))}
		}
		return fix, "use " + strings.Join(quoteAll(repl), ", ")
	case acl.ProblemInvalidPolicy:
		best, ok := suggest.Closest(prob.Value, []string{"read", "write", "deny", "sudo"}, 2)
		if !ok {
			return rules.Fix{Description: fmt.Sprintf("Replace policy = %q with a capabilities list", prob.Value)},
				`use capabilities = ["read", "list"] (legacy policy values are deny, read, write and sudo)`
		}
		fix := rules.Fix{Description: fmt.Sprintf("Replace policy %q with %q", prob.Value, best)}
		if sourceIs(f, subject, strconv.Quote(prob.Value)) {
			fix.Edits = []rules.TextEdit{edits.Replace(subject, edits.LiteralIn(subject.Filename, best))}
		}
		return fix, fmt.Sprintf("use %q", best)
	case acl.ProblemInvalidWildcard:
		r := ruleFor(pol, prob.Path, subject)
		if r == nil {
			return rules.Fix{Description: `Replace "+*" with "+" or "*"`}, `"+" matches one whole segment, a trailing "*" any suffix`
		}
		newPath := fixPlusStar(r.Path)
		fix := rules.Fix{Description: fmt.Sprintf("Write path %q as %q", r.Path, newPath)}
		if e, ok := labelEdit(f, r, newPath); ok {
			fix.Edits = []rules.TextEdit{e}
		}
		return fix, fmt.Sprintf("write %q", newPath)
	case acl.ProblemInvalidKey:
		return keyFix(pol, subject, prob)
	case acl.ProblemInvalidTemplating:
		return rules.Fix{Description: fmt.Sprintf("Close every {{ with }} in path %q", prob.Path)}, `close every "{{" with "}}"`
	case acl.ProblemWrappingTTL:
		return rules.Fix{Description: "Write min_wrapping_ttl and max_wrapping_ttl as durations, the minimum below the maximum"}, "correct the wrapping TTLs"
	}
	return rules.Fix{Description: "Correct the policy where Vault points"}, "correct it as Vault says"
}

// capabilityReplacement is what an invalid capability most likely meant,
// without capabilities the rule already grants.
func capabilityReplacement(pol *world.Policy, prob *acl.Problem) []string {
	var want []string
	if alias, ok := capabilityAliases[strings.ToLower(prob.Value)]; ok {
		want = alias
	} else if best, ok := suggest.Closest(prob.Value, validCapabilities, 2); ok {
		want = []string{best}
	} else {
		return nil
	}
	var have []string
	for _, r := range pol.ACL.Rules {
		if r.Path == prob.Path {
			have = append(have, r.Capabilities...)
		}
	}
	var out []string
	for _, c := range want {
		if !slices.Contains(have, c) {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		// Everything meant is granted already; a duplicate is harmless.
		out = want[:1]
	}
	return out
}

// keyFix renames a misspelt key when the name it most likely meant is
// not already used in the same block.
func keyFix(pol *world.Policy, subject hcl.Range, prob *acl.Problem) (rules.Fix, string) {
	remove := rules.Fix{Description: fmt.Sprintf("Remove key %q", prob.Value)}
	if prob.Path == "" {
		hint := `a policy holds only path blocks and a name`
		best, ok := suggest.Closest(prob.Value, []string{"path"}, 2)
		if !ok {
			return remove, "remove it; " + hint
		}
		fix := rules.Fix{Description: fmt.Sprintf("Rename %q to %q", prob.Value, best)}
		if e, ok := renameKey(pol.File, subject, prob.Value, best); ok {
			fix.Edits = []rules.TextEdit{e}
		}
		return fix, fmt.Sprintf("write %q", best)
	}
	maxDist := 2
	if len(prob.Value) >= 8 {
		maxDist = 3
	}
	best, ok := suggest.Closest(prob.Value, pathKeys, maxDist)
	if !ok {
		return remove, "remove it or use capabilities, allowed_parameters, denied_parameters, required_parameters, min_wrapping_ttl, max_wrapping_ttl, mfa_methods, control_group or comment"
	}
	fix := rules.Fix{Description: fmt.Sprintf("Rename %q to %q", prob.Value, best)}
	if r := ruleFor(pol, prob.Path, subject); r != nil && !hasKey(pol.File, r, best) {
		if e, ok := renameKey(pol.File, subject, prob.Value, best); ok {
			fix.Edits = []rules.TextEdit{e}
		}
	}
	return fix, fmt.Sprintf("write %q", best)
}

// hasKey reports whether the path rule already has key, so that renaming
// a misspelt key to it would write the key twice.
func hasKey(f *world.File, r *acl.PathRule, key string) bool {
	switch key {
	case "capabilities", "policy":
		if r.CapsRange == (hcl.Range{}) {
			return false
		}
		// CapsRange is the capabilities attribute, else the policy one;
		// with both written it names capabilities.
		text := strings.TrimLeft(string(r.CapsRange.SliceBytes(f.Src)), `"`)
		if strings.HasPrefix(text, key) {
			return true
		}
		return key == "policy" && r.Policy != ""
	}
	return slices.Contains(r.Conditions, key)
}

// renameKey replaces a key name, quoted as written.
func renameKey(f *world.File, rng hcl.Range, old, name string) (rules.TextEdit, bool) {
	switch {
	case sourceIs(f, rng, old):
		return edits.Replace(rng, name), true
	case sourceIs(f, rng, strconv.Quote(old)):
		return edits.Replace(rng, edits.LiteralIn(rng.Filename, name)), true
	}
	return rules.TextEdit{}, false
}

// ruleFor finds the path rule a diagnostic is about: the one with that
// path whose block holds the diagnostic, else the only one with the path.
func ruleFor(pol *world.Policy, path string, at hcl.Range) *acl.PathRule {
	var same []*acl.PathRule
	for _, r := range pol.ACL.Rules {
		if r.Path != path && strings.TrimPrefix(r.Path, "/") != path {
			continue
		}
		if r.PathRange == at || (r.Block.ContainsOffset(at.Start.Byte) && r.Block.Filename == at.Filename) {
			return r
		}
		same = append(same, r)
	}
	if len(same) == 1 {
		return same[0]
	}
	return nil
}

// fixPlusStar rewrites the "+*" Vault forbids: a trailing one becomes a
// prefix glob, one inside the path a segment wildcard.
func fixPlusStar(path string) string {
	for {
		i := strings.Index(path, "+*")
		if i < 0 {
			return path
		}
		if i+2 == len(path) {
			return path[:i] + "*"
		}
		path = path[:i] + "+" + path[i+2:]
	}
}

// labelEdit rewrites the path label of rule r, when it is written as a
// plain quoted string.
func labelEdit(f *world.File, r *acl.PathRule, newPath string) (rules.TextEdit, bool) {
	if f == nil || !sourceIs(f, r.PathRange, strconv.Quote(r.Path)) {
		return rules.TextEdit{}, false
	}
	return edits.Replace(r.PathRange, edits.LiteralIn(r.PathRange.Filename, newPath)), true
}

// sourceIs reports whether the text of rng in f is exactly text.
func sourceIs(f *world.File, rng hcl.Range, text string) bool {
	if f == nil || rng.Filename != f.Path || rng.Start.Byte < 0 || rng.End.Byte > len(f.Src) || rng.Start.Byte > rng.End.Byte {
		return false
	}
	return bytes.Equal(f.Src[rng.Start.Byte:rng.End.Byte], []byte(text))
}

func quoteAll(xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = strconv.Quote(x)
	}
	return out
}
