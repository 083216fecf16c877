package rules

import (
	"path"

	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/world"
)

// Settings are what a run is told about the rules, from .nvlint.hcl: which
// rules run, at what severity, and which findings are accepted where
// comments cannot say so. The zero value runs every rule at its own
// severity.
type Settings struct {
	// Disabled rules do not run, by ID.
	Disabled map[string]bool
	// Severity replaces the severity of every finding of a rule, by ID.
	Severity map[string]Severity
	// Ignores suppress findings by rule and place: for JSON files, which
	// cannot hold comments, and for live objects.
	Ignores []Ignore
}

// Ignore suppresses the findings of one rule in matching files or on
// matching objects.
type Ignore struct {
	// Rule is the rule's ID.
	Rule string
	// Path matches the files it applies to (nil: any); Pattern is the
	// pattern as written, for messages.
	Path    func(file string) bool
	Pattern string
	// Object is a glob (path.Match) on the finding's object name; empty
	// for any.
	Object string
	Reason string
	// Range is where the ignore is declared.
	Range hcl.Range
}

func (ig *Ignore) matches(f *Finding) bool {
	if f.Rule == nil || f.Rule.ID != ig.Rule {
		return false
	}
	if ig.Path != nil && (!f.HasFile() || !ig.Path(f.Range.Filename)) {
		return false
	}
	if ig.Object != "" {
		if ok, _ := path.Match(ig.Object, f.Object.Name); !ok {
			return false
		}
	}
	return true
}

// inScope reports whether the run saw anything the ignore is about: a
// file its path matches, or an object its name matches. An ignore about
// files or objects this run did not look at is not unused, just idle.
func (ig *Ignore) inScope(w *world.World) bool {
	if ig.Path != nil {
		for _, f := range w.Files {
			if ig.Path(f.Path) {
				return true
			}
		}
		return false
	}
	if ig.Object == "" {
		return true
	}
	for _, name := range objectNames(w) {
		if ok, _ := path.Match(ig.Object, name); ok {
			return true
		}
	}
	return false
}

func objectNames(w *world.World) []string {
	var out []string
	for _, o := range w.Jobs {
		out = append(out, o.Ref.Name)
	}
	for _, o := range w.Agents {
		out = append(out, o.Ref.Name)
	}
	for _, o := range w.Policies {
		out = append(out, o.Ref.Name)
	}
	for _, o := range w.TokenRoles {
		out = append(out, o.Ref.Name)
	}
	for _, o := range w.JWTConfigs {
		out = append(out, o.Ref.Name)
	}
	for _, o := range w.JWTRoles {
		out = append(out, o.Ref.Name)
	}
	if l := w.Live; l != nil {
		if l.Vault != nil {
			out = append(out, l.Vault.Addr)
		}
		if l.Nomad != nil {
			out = append(out, l.Nomad.Addr)
			for _, n := range l.Nomad.Nodes {
				out = append(out, n.Name)
			}
		}
	}
	return out
}

// enabled returns the rules of all that s does not disable.
func (s Settings) enabled(all []Rule) []Rule {
	if len(s.Disabled) == 0 {
		return all
	}
	out := make([]Rule, 0, len(all))
	for _, r := range all {
		if !s.Disabled[r.Meta().ID] {
			out = append(out, r)
		}
	}
	return out
}

// applySeverity replaces the severity of a finding of an overridden rule.
func (s Settings) applySeverity(f *Finding) {
	if f.Rule == nil {
		return
	}
	if sev, ok := s.Severity[f.Rule.ID]; ok {
		f.Severity = sev
		if f.RestsOnGuess() {
			// Raising a rule does not make a guess certain.
			f.Severity = min(sev, Warning)
		}
	}
}

// RunWith runs the rules of all that s enables over w, then applies the
// suppressions (nvlint:ignore comments in the files and s.Ignores) and
// s's severity overrides. Suppressions that suppress nothing and
// malformed ones are reported as findings of NV004 and NV005 when those
// rules are in the catalog and enabled.
func RunWith(w *world.World, all []Rule, s Settings) Result {
	catalog := s.enabled(all)
	res := run(w, catalog)
	res = suppress(w, all, catalog, res, s.Ignores)
	for i := range res.Findings {
		s.applySeverity(&res.Findings[i])
	}
	for i := range res.Suppressed {
		s.applySeverity(&res.Suppressed[i].Finding)
	}
	res.Findings = SortFindings(res.Findings)
	return res
}
