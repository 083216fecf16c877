package access

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/nvlint/nvlint/acl"
	"github.com/nvlint/nvlint/world"
)

// preparedACL is a token's ACL, built once for all the paths asked of
// it, with the policies and entity it was built from.
type preparedACL struct {
	once   sync.Once
	set    []*acl.Policy
	entity *acl.Entity
	acl    *acl.Prepared
	// recent, during a rules run, holds the ACL last built for each set
	// of policies.
	recent *recentACLs
}

// acl returns the token's ACL: the one built for an earlier question,
// unless the token's policies or entity have changed since.
func (t Token) acl() *acl.Prepared {
	p := t.prepared
	if p == nil || p.entity != t.Entity || !slices.Equal(p.set, t.Set) {
		return acl.Options{}.Prepare(t.Set, t.Entity)
	}
	p.once.Do(func() { p.acl = p.recent.get(p.set, p.entity) })
	return p.acl
}

// recentACLs remembers, for each set of policies, its fixed rules
// compiled once (acl.PolicySet) and the ACL last built on them: the
// tasks of one job log in with the same policies, and the templated
// paths usually name only the job, so they share one ACL (acl.Prepared
// For decides that exactly); the next job's ACL fills only the
// templated paths again.
type recentACLs struct {
	mu   sync.Mutex
	sets map[setKey][]*recentACL
}

// setKey sorts the sets of policies without building a key from all of
// them: their length and first, second and last policies (exact up to
// three, which roles seldom exceed; roles that share a "default" first
// policy still differ in the others).
type setKey struct {
	n          int
	a, b, last *acl.Policy
}

func keyOf(set []*acl.Policy) setKey {
	k := setKey{n: len(set)}
	if k.n > 0 {
		k.a, k.last = set[0], set[k.n-1]
	}
	if k.n > 1 {
		k.b = set[1]
	}
	return k
}

type recentACL struct {
	set  []*acl.Policy
	ps   *acl.PolicySet
	last *acl.Prepared
}

var recentACLsKey = world.NewDerivedKey("the ACL last built for each set of policies")

func newRecentACLs(*world.World) *recentACLs {
	return &recentACLs{sets: map[setKey][]*recentACL{}}
}

func (r *recentACLs) get(set []*acl.Policy, ent *acl.Entity) *acl.Prepared {
	if r == nil {
		return acl.Options{}.Prepare(set, ent)
	}
	key := keyOf(set)
	r.mu.Lock()
	var rec *recentACL
	for _, c := range r.sets[key] {
		if slices.Equal(c.set, set) {
			rec = c
			break
		}
	}
	if rec == nil {
		rec = &recentACL{set: slices.Clone(set), ps: acl.Options{}.Compile(set)}
		r.sets[key] = append(r.sets[key], rec)
	}
	prev := rec.last
	r.mu.Unlock()
	p := rec.ps.Reuse(prev, ent)
	if p != prev {
		r.mu.Lock()
		rec.last = p
		r.mu.Unlock()
	}
	return p
}

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
	d := t.acl().Evaluate(path, op)
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

// canQuickly is Can where it allows, with the decision unexplained (no
// winning rule or candidates), and Can otherwise: the known answers of
// the two, allowed or not, are the same.
func (t Token) canQuickly(path string, op acl.Operation) Answer {
	if t.Refused == "" && t.Unknown == "" && t.acl().Allows(path, op) {
		return Answer{Decision: acl.Decision{Allowed: true}, Known: true}
	}
	return t.Can(path, op)
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
