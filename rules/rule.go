// Package rules is the contract between the engine, the rules and the
// reports: what a rule declares, what it sees (a Pass over a world.World)
// and what it returns (Findings with ranges, evidence and fixes as data).
//
// The same rules run over files (nvlint lint) and live clusters (nvlint
// doctor); a rule never reads files or calls APIs itself.
package rules

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/nvlint/nvlint/internal/suggest"
	"github.com/nvlint/nvlint/world"
)

// Rule is one check. Rules are stateless: everything they need comes
// through the Pass, so one value serves every run, concurrently.
type Rule interface {
	Meta() *Meta
	Check(p *Pass)
}

// Meta declares a rule.
type Meta struct {
	// ID is stable and never reused: "NV" and three digits, the first
	// digit naming the area (0 input, 1 legacy token flow, 2 workload
	// identity, 3 agent config, 4 jobspec and templates, 5 Vault policy).
	ID string
	// Name is the kebab-case slug, accepted wherever an ID is.
	Name string
	// Title is one line, lower case, no trailing period.
	Title    string
	Severity Severity
	// Needs lists the kinds of object the rule cannot decide without. When
	// one is absent from the world the rule is skipped, and --verbose says
	// so.
	Needs []world.Kind
	// Live marks a rule that reads only what running clusters answer
	// (World.Live): without them (lint without --snapshot) it is skipped
	// like a rule without what it Needs, rather than passing unexamined.
	Live bool
	// Security, above zero, marks a rule about a security weakness (a
	// leaked token, a path to more privilege than granted) and rates it on
	// CVSS's 0.0-10.0 scale, which code scanning reads from SARIF as
	// security-severity (low below 4, medium, high from 7, critical from
	// 9).
	Security float64
	// Doc explains the rule: why it matters, an example that triggers it
	// and how to fix it.
	Doc Doc
}

// Doc is a rule's documentation, printed by nvlint explain.
type Doc struct {
	Why     string
	Example string
	Fix     string
}

func (m *Meta) String() string { return m.ID + " " + m.Name }

var (
	idPattern   = regexp.MustCompile(`^NV[0-9]{3}$`)
	namePattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
)

// Validate checks a rule catalog: IDs and names well formed and unique,
// documentation present.
func Validate(all []Rule) error {
	var problems []string
	seen := map[string]string{}
	for _, r := range all {
		m := r.Meta()
		if !idPattern.MatchString(m.ID) {
			problems = append(problems, fmt.Sprintf("%s: ID must look like NV123", m.ID))
		}
		if !namePattern.MatchString(m.Name) {
			problems = append(problems, fmt.Sprintf("%s: name %q must be kebab-case", m.ID, m.Name))
		}
		for _, key := range []string{m.ID, m.Name} {
			if other, dup := seen[key]; dup {
				problems = append(problems, fmt.Sprintf("%s: %q already used by %s", m.ID, key, other))
			}
			seen[key] = m.ID
		}
		if m.Title == "" || strings.HasSuffix(m.Title, ".") {
			problems = append(problems, fmt.Sprintf("%s: title must be set and end without a period", m.ID))
		}
		if m.Doc.Why == "" || m.Doc.Example == "" || m.Doc.Fix == "" {
			problems = append(problems, fmt.Sprintf("%s: doc needs why, example and fix", m.ID))
		}
		if m.Severity < Info || m.Severity > Error {
			problems = append(problems, fmt.Sprintf("%s: invalid severity", m.ID))
		}
		if m.Security < 0 || m.Security > 10 {
			problems = append(problems, fmt.Sprintf("%s: security rating %.1f is outside 0.0-10.0", m.ID, m.Security))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("invalid rule catalog:\n  %s", strings.Join(problems, "\n  "))
	}
	return nil
}

// Lookup finds a rule by ID or name, case-insensitively for IDs.
func Lookup(all []Rule, key string) Rule {
	for _, r := range all {
		m := r.Meta()
		if strings.EqualFold(m.ID, key) || m.Name == key {
			return r
		}
	}
	return nil
}

// Near lists the rules a mistyped key may mean, by ID or name: those
// whose ID or name starts with it (NV10 gives NV101, NV102, ...), else
// the one closest. Every place that names an unknown rule suggests from
// it: explain, .nvlint.hcl and suppression comments.
func Near(key string, all []Rule) []string {
	var out []string
	if len(key) >= 2 {
		for _, r := range all {
			m := r.Meta()
			for _, k := range []string{m.ID, m.Name} {
				if strings.HasPrefix(strings.ToLower(k), strings.ToLower(key)) {
					out = append(out, k)
					break
				}
			}
		}
	}
	if len(out) > 0 && len(out) <= 12 {
		return out
	}
	keys := make([]string, 0, 2*len(all))
	for _, r := range all {
		keys = append(keys, r.Meta().ID, r.Meta().Name)
	}
	if best, ok := suggest.Closest(key, keys, 3); ok {
		return []string{best}
	}
	return nil
}

// DidYouMean is "; did you mean A, B?" for the rules Near key, or "".
func DidYouMean(key string, all []Rule) string {
	if near := Near(key, all); len(near) > 0 {
		return "; did you mean " + strings.Join(near, ", ") + "?"
	}
	return ""
}
