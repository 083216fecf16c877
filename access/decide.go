package access

import (
	"fmt"
	"strings"

	"github.com/nvlint/nvlint/acl"
)

// Answer is whether a token may perform an operation on a path.
type Answer struct {
	acl.Decision
	// Known is false when the answer depends on something nvlint cannot
	// know offline: a policy not given, or a templated path that only a
	// real entity fills (entity ID or name, groups).
	Known bool
	Why   string
}

// Can evaluates an operation on path with the token's policies.
func (t Token) Can(path string, op acl.Operation) Answer {
	switch {
	case t.Refused != "":
		return Answer{Known: true, Why: "no token: " + t.Refused}
	case t.Unknown != "":
		return Answer{Why: t.Unknown}
	}
	d := acl.Evaluate(t.Set, path, op, t.Entity)
	a := Answer{Decision: d, Known: true}
	if d.Allowed {
		return a
	}
	if len(t.Missing) > 0 {
		a.Known = false
		a.Why = "policies not given: " + strings.Join(t.Missing, ", ")
		return a
	}
	// A templated rule that only a real entity fills, or whose alias is on
	// a mount of unknown accessor, could grant this path if its fixed
	// prefix leads to it.
	for _, p := range t.Set {
		for _, r := range p.Rules {
			if !LeadsTo(r.Path, path) {
				continue
			}
			if dependsOnUnknown(r.Path) {
				a.Known = false
				a.Why = fmt.Sprintf("policy %s path %q depends on the entity's ID, name or groups, which exist only in Vault", p.Name, r.Path)
				return a
			}
			if t.Accessor == "" && usesAlias(r.Path) {
				a.Known = false
				a.Why = fmt.Sprintf("policy %s path %q depends on the JWT mount's accessor, which the files do not settle", p.Name, r.Path)
				return a
			}
		}
	}
	return a
}

// dependsOnUnknown reports whether a templated path uses parameters only a
// real Vault entity can fill.
func dependsOnUnknown(path string) bool {
	for _, p := range acl.TemplateParams(path) {
		switch p.Kind {
		case "entity-id", "entity-name", "entity-metadata", "entity-groups", "alias-id", "alias-custom-metadata", "group-id", "group-name", "group-metadata", "time-now":
			return true
		}
	}
	return false
}

// LeadsTo reports whether a (templated) policy path could match path once
// filled: its text before the first directive is a prefix of path.
func LeadsTo(policyPath, path string) bool {
	prefix, templated, _ := strings.Cut(strings.TrimPrefix(policyPath, "/"), "{{")
	if templated == "" && !strings.Contains(policyPath, "{{") {
		return false
	}
	return strings.HasPrefix(path, prefix)
}

func usesAlias(path string) bool {
	for _, p := range acl.TemplateParams(path) {
		if p.Accessor != "" && p.Accessor != AccessorPlaceholder {
			return true
		}
	}
	return false
}
