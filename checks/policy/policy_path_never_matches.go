package policy

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/acl"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/rules/edits"
	"github.com/nvlint/nvlint/world"
)

// PolicyPathNeverMatches: a path rule no request can ever reach.
var PolicyPathNeverMatches rules.Rule = policyPathNeverMatches{}

type policyPathNeverMatches struct{}

func (policyPathNeverMatches) Meta() *rules.Meta { return &policyPathNeverMatchesMeta }

var policyPathNeverMatchesMeta = rules.Meta{
	ID: "NV503", Name: "policy-path-never-matches", Severity: rules.Warning,
	Title: "a policy path can never match a request",
	Needs: []world.Kind{world.KindPolicy},
	Doc: rules.Doc{
		Why: "Vault stores these paths without complaint, but no request ever reaches them, so what they grant or deny silently does not apply: " +
			"a \"*\" anywhere but at the end is a literal asterisk (only a trailing \"*\" is a glob; \"+\" is the segment wildcard); " +
			"an empty segment (\"kv//app\", or \"//kv\" which keeps one \"/\" after Vault strips the first) never occurs because Vault's HTTP server collapses repeated slashes before any ACL check; " +
			"a path block with no label applies to the literal path \"path\"; and a template directive Vault can never fill " +
			"(an unknown parameter such as identity.entity.aliases.<accessor>.meta.<key>) makes Vault drop the path for every token. " +
			"Only what is certain is reported: which mount or KV version a path means cannot be known offline.",
		Example: "path \"kv/data/*/config\" {\n  capabilities = [\"read\"]\n}",
		Fix: "Use \"+\" for one whole path segment (kv/data/+/config), remove doubled slashes, give every path block its path as a label, " +
			"and use only template parameters Vault knows.",
	},
}

func (policyPathNeverMatches) Check(p *rules.Pass) {
	for _, pol := range p.World.Policies {
		for _, r := range pol.ACL.Rules {
			if r == nil || r.PathRange == (hcl.Range{}) {
				continue
			}
			checkInnerStar(p, pol, r)
			checkEmptySegment(p, pol, r)
		}
		// A live policy keeps the parser's warnings too.
		for _, d := range pol.Diagnostics() {
			prob := acl.ProblemOf(d)
			if prob == nil || d.Severity != hcl.DiagWarning || d.Subject == nil {
				continue
			}
			switch prob.Code {
			case acl.ProblemNoPathLabel:
				p.Report(rules.Finding{
					Message:  fmt.Sprintf("policy %s has a path block without a path; Vault applies it to the literal path \"path\", which no request uses: add the path as a label", pol.Name()),
					Range:    *d.Subject,
					Object:   pol.Ref,
					Evidence: []string{"Vault's HCL decoder keys a block without a label by its type, \"path\""},
					Fixes:    []rules.Fix{{Description: "Add the path the rule is for: path \"kv/data/app/*\" { ... }"}},
				})
			case acl.ProblemUnfillableTemplate:
				p.Report(rules.Finding{
					Message:  fmt.Sprintf("policy %s: %s, so Vault drops the path for every token: use a template parameter Vault knows", pol.Name(), d.Summary),
					Range:    *d.Subject,
					Object:   pol.Ref,
					Evidence: []string{d.Detail},
					Fixes:    []rules.Fix{{Description: fmt.Sprintf("Replace {{%s}} with a parameter Vault fills, such as identity.entity.aliases.<accessor>.metadata.<key>", prob.Value)}},
				})
			}
		}
	}
}

// directive matches a template directive, whose text may not be judged
// as a path.
var directive = regexp.MustCompile(`\{\{[^}]*\}\}`)

// masked is the path with directives blanked out, the same length.
func masked(path string) string {
	return directive.ReplaceAllStringFunc(path, func(s string) string { return strings.Repeat("x", len(s)) })
}

// checkInnerStar reports a "*" that is not the last character: Vault
// globs only on a trailing "*".
func checkInnerStar(p *rules.Pass, pol *world.Policy, r *acl.PathRule) {
	path := masked(strings.TrimPrefix(r.Path, "/"))
	if strings.Contains(path, "+*") {
		return // Vault refuses the policy; NV502 says so
	}
	inner := strings.Index(strings.TrimSuffix(path, "*"), "*")
	if inner < 0 {
		return
	}
	f := rules.Finding{
		Message: fmt.Sprintf("policy %s path %q has a \"*\" inside the path, which Vault matches as a literal asterisk (only a trailing \"*\" is a glob), so the rule never applies: use \"+\" for one whole segment", pol.Name(), r.Path),
		Range:   r.PathRange,
		Object:  pol.Ref,
		Evidence: []string{
			"Vault (vault/policy.go) makes a path a prefix glob only when it ends in \"*\"; a \"+\" segment matches any one segment",
		},
	}
	newPath, ok := segmentWildcards(r.Path)
	if !ok {
		f.Fixes = []rules.Fix{{Description: "Use \"+\" for a whole segment, or list the paths the rule is for"}}
		p.Report(f)
		return
	}
	fix := rules.Fix{Description: fmt.Sprintf("Write path %q as %q", r.Path, newPath)}
	if e, ok := labelEdit(pol.File, r, newPath); ok {
		fix.Edits = []rules.TextEdit{e}
		fix.Commands = edits.PolicyWrite(pol)
	}
	if pol.File == nil {
		if c, ok := edits.PolicyRewrite(pol.Name(), strconv.Quote(r.Path), strconv.Quote(newPath)); ok {
			fix.Commands = []rules.Command{c}
		}
	}
	f.Fixes = []rules.Fix{fix}
	p.Report(f)
}

// segmentWildcards replaces every inner "*" segment with "+"; ok is false
// when a "*" shares its segment with other text.
func segmentWildcards(path string) (string, bool) {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		last := i == len(segs)-1
		switch {
		case s == "*" && !last:
			segs[i] = "+"
		case last && strings.HasSuffix(s, "*") && !strings.Contains(strings.TrimSuffix(s, "*"), "*"):
		case strings.Contains(masked(s), "*"):
			return "", false
		}
	}
	return strings.Join(segs, "/"), true
}

// checkEmptySegment reports a path with an empty segment, which no
// request path has once Vault's HTTP server has cleaned it.
func checkEmptySegment(p *rules.Pass, pol *world.Policy, r *acl.PathRule) {
	stored := strings.TrimPrefix(r.Path, "/")
	if !strings.Contains(masked(stored), "//") && !strings.HasPrefix(stored, "/") {
		return
	}
	clean := collapseSlashes(r.Path)
	f := rules.Finding{
		Message: fmt.Sprintf("policy %s path %q has an empty segment (\"//\"), which no request has because Vault collapses repeated slashes before checking policies, so the rule never applies: write %q", pol.Name(), r.Path, clean),
		Range:   r.PathRange,
		Object:  pol.Ref,
		Evidence: []string{
			"Vault strips one leading \"/\" from a policy path; its HTTP server redirects a request for a path with \"//\" to the cleaned path",
		},
	}
	fix := rules.Fix{Description: fmt.Sprintf("Write path %q as %q", r.Path, clean)}
	if e, ok := labelEdit(pol.File, r, clean); ok {
		fix.Edits = []rules.TextEdit{e}
		fix.Commands = edits.PolicyWrite(pol)
	}
	if pol.File == nil {
		if c, ok := edits.PolicyRewrite(pol.Name(), strconv.Quote(r.Path), strconv.Quote(clean)); ok {
			fix.Commands = []rules.Command{c}
		}
	}
	f.Fixes = []rules.Fix{fix}
	p.Report(f)
}

// collapseSlashes removes empty segments and leading slashes.
func collapseSlashes(path string) string {
	for strings.Contains(path, "//") {
		path = strings.ReplaceAll(path, "//", "/")
	}
	return strings.TrimPrefix(path, "/")
}
