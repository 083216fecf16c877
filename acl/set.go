package acl

import (
	"fmt"
	"slices"
	"strings"
)

// PolicySet is the part of a token's ACL that its policies alone decide:
// the rules with a fixed path, compiled once. Tokens with the same
// policies differ only in how the templated paths fill for their entity
// (on Nomad's workload identity, usually the job), so Prepare compiles
// only those per entity and layers them over the shared fixed rules,
// instead of building the whole ACL again. Safe for concurrent use.
type PolicySet struct {
	o        Options
	policies []*Policy
	fixed    *compiled
	// Rules dropped whatever the entity, and where each stands among the
	// rules of all the policies (Vault reports them in that order).
	dropped   []Dropped
	droppedAt []int
	templated []templatedRule
	// whole: compile the whole ACL per entity (a root policy, whose
	// presence decides the ACL before any rule does).
	whole bool
}

// templatedRule is a rule whose path fills per entity, and its place.
type templatedRule struct {
	pol *Policy
	r   *PathRule
	at  int
}

// Compile builds the fixed part of the ACL of tokens holding policies.
func (o Options) Compile(policies []*Policy) *PolicySet {
	s := &PolicySet{o: o, policies: slices.Clone(policies)}
	for _, pol := range policies {
		if pol != nil && pol.Name == "root" {
			s.whole = true
			return s
		}
	}
	a := &compiled{exact: map[string]*entry{}, prefix: map[string]*entry{}, segment: map[string]*entry{}}
	at := 0
	for _, pol := range policies {
		if pol == nil {
			continue
		}
		for _, r := range pol.Rules {
			at++
			if r == nil {
				continue
			}
			if err := checkTemplating(r.Path); err != nil {
				s.drop(Dropped{pol.Name, r, "Vault rejects this policy: failed to validate policy templating: " + err.Error()}, at)
				continue
			}
			if r.Templated() {
				s.templated = append(s.templated, templatedRule{pol, r, at})
				continue
			}
			path := strings.TrimPrefix(r.Path, "/")
			if strings.Contains(path, "+*") {
				s.drop(Dropped{pol.Name, r, fmt.Sprintf("Vault rejects this policy: path %q: invalid use of wildcards ('+*' is forbidden)", path)}, at)
				continue
			}
			a.addAt(path, bitsOf(r.Capabilities), Source{pol.Name, r}, at)
		}
	}
	s.fixed = a
	return s
}

func (s *PolicySet) drop(d Dropped, at int) {
	s.dropped = append(s.dropped, d)
	s.droppedAt = append(s.droppedAt, at)
}

// Prepare builds the ACL of a token holding the set's policies whose
// entity is ent; it answers as Options.Prepare would.
func (s *PolicySet) Prepare(ent *Entity) *Prepared {
	return s.Reuse(nil, ent)
}

// Reuse returns prev when it is also the ACL of ent (prev.For(policies,
// ent)), else the ACL Prepare builds, filling the templated paths only
// once for both.
func (s *PolicySet) Reuse(prev *Prepared, ent *Entity) *Prepared {
	if s.whole {
		if prev != nil && prev.For(s.policies, ent) {
			return prev
		}
		return s.o.Prepare(s.policies, ent)
	}
	fills := make([]fill, len(s.templated))
	for i, t := range s.templated {
		filled, ok, reason := s.o.Fill(t.r.Path, ent)
		fills[i] = fill{rule: t.r, filled: filled, reason: reason, ok: ok}
	}
	if prev != nil && prev.complete && slices.Equal(prev.policies, s.policies) && slices.Equal(prev.fills, fills) {
		return prev
	}
	p := &Prepared{o: s.o, policies: s.policies, complete: true}
	if len(s.templated) == 0 {
		p.a, p.d.Dropped = s.fixed, s.dropped
		return p
	}
	a := &compiled{fixed: s.fixed}
	var dropped []Dropped
	var droppedAt []int
	for i, t := range s.templated {
		f := fills[i]
		if !f.ok {
			dropped = append(dropped, Dropped{t.pol.Name, t.r, f.reason})
			droppedAt = append(droppedAt, t.at)
			continue
		}
		path := strings.TrimPrefix(f.filled, "/")
		if strings.Contains(path, "+*") {
			// Only reachable through an empty template value; Vault then
			// fails to build the token's ACL altogether, with the rules
			// dropped before this one.
			p.a, p.complete, p.fills = a, false, fills[:i+1]
			p.d.Dropped = s.mergeDropped(dropped, droppedAt, t.at)
			p.d.Error = fmt.Sprintf("error parsing templated policy %q: failed to parse policy: path %q: invalid use of wildcards ('+*' is forbidden)", t.pol.Name, path)
			return p
		}
		a.addOver(path, bitsOf(t.r.Capabilities), Source{t.pol.Name, t.r}, t.at)
	}
	p.a, p.fills = a, fills
	p.d.Dropped = s.mergeDropped(dropped, droppedAt, -1)
	return p
}

// mergeDropped puts the fixed and the templated dropped rules in the
// order of the rules, keeping those before the rule at before (all when
// before < 0).
func (s *PolicySet) mergeDropped(dropped []Dropped, droppedAt []int, before int) []Dropped {
	if len(dropped) == 0 && before < 0 {
		return s.dropped
	}
	var out []Dropped
	i, j := 0, 0
	for i < len(s.dropped) || j < len(dropped) {
		var d Dropped
		var at int
		if j >= len(dropped) || i < len(s.dropped) && s.droppedAt[i] < droppedAt[j] {
			d, at = s.dropped[i], s.droppedAt[i]
			i++
		} else {
			d, at = dropped[j], droppedAt[j]
			j++
		}
		if before >= 0 && at >= before {
			break
		}
		out = append(out, d)
	}
	return out
}

// addAt adds a fixed rule to a PolicySet's compiled rules, recording its
// place.
func (a *compiled) addAt(path string, bits capBits, src Source, at int) {
	a.add(path, bits, src)
	kind, key := kindOf(path)
	e := a.kindMap(kind)[key]
	e.at = append(e.at, at)
}

// addOver adds a filled templated path to an ACL layered over a
// PolicySet's fixed rules. A path the fixed rules have too becomes an
// entry of its own, merged with theirs in the order of the rules.
func (a *compiled) addOver(path string, bits capBits, src Source, at int) {
	kind, key := kindOf(path)
	if a.exact == nil {
		a.exact, a.prefix, a.segment = map[string]*entry{}, map[string]*entry{}, map[string]*entry{}
	}
	m := a.kindMap(kind)
	e := m[key]
	if e == nil {
		f := a.fixed.kindMap(kind)[key]
		if f == nil {
			a.add(path, bits, src)
			return
		}
		c := *f
		c.sources, c.at = slices.Clone(f.sources), slices.Clone(f.at)
		e = &c
		a.put(m, kind, key, e)
	}
	if e.at == nil {
		// Only templated rules, which come in order.
		e.sources = append(e.sources, src)
	} else {
		// Fixed rules may come after this one.
		i, _ := slices.BinarySearch(e.at, at)
		e.sources = slices.Insert(e.sources, i, src)
		e.at = slices.Insert(e.at, i, at)
	}
	e.merge(bits)
}

func (a *compiled) kindMap(kind string) map[string]*entry {
	switch kind {
	case "prefix":
		return a.prefix
	case "segment":
		return a.segment
	}
	return a.exact
}
