package acl

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Operation is a Vault request operation.
type Operation string

// The operations a request can perform; opCap gives the capability each
// needs.
const (
	OpRead     Operation = "read"
	OpList     Operation = "list"
	OpCreate   Operation = "create"
	OpUpdate   Operation = "update"
	OpDelete   Operation = "delete"
	OpPatch    Operation = "patch"
	OpRecover  Operation = "recover"
	OpRenew    Operation = "renew"    // needs update
	OpRevoke   Operation = "revoke"   // needs update
	OpRollback Operation = "rollback" // needs update
	OpHelp     Operation = "help"     // always allowed
)

// opCap is the capability each operation needs (vault/acl.go AllowOperation).
var opCap = map[Operation]capBits{
	OpRead:     capRead,
	OpList:     capList,
	OpCreate:   capCreate,
	OpUpdate:   capUpdate,
	OpDelete:   capDelete,
	OpPatch:    capPatch,
	OpRecover:  capRecover,
	OpRenew:    capUpdate,
	OpRevoke:   capUpdate,
	OpRollback: capUpdate,
}

// ListMode selects how a LIST on a path ending in "/" consults non-exact
// rules; Vault changed this twice.
type ListMode int

const (
	// ListTrimmedFirst matches glob and "+" rules against the path without
	// its trailing "/" first, then with it (VAULT-3825; Vault
	// 1.13.10/1.14.6/1.15.2 and later, verified in 1.21.4).
	ListTrimmedFirst ListMode = iota
	// ListFullOnly matches only the path as sent (older Vault).
	ListFullOnly
	// ListCombined lets candidates for both forms compete; the most specific
	// deny wins unless a more specific rule grants list (Vault main after
	// the 2026 LIST deny-bypass fix).
	ListCombined
)

// Options selects version-dependent Vault behaviour. The zero value matches
// Vault 1.21 with the templated-wildcard fix.
type Options struct {
	List ListMode
	// TemplatedWildcards keeps template values containing "*" or "+" (Vault
	// before the 2026 fix); otherwise such paths are dropped.
	TemplatedWildcards bool
	// DenySlashInTemplatedPaths mirrors the server option of that name.
	DenySlashInTemplatedPaths bool
	// Now is used for time.now directives; zero means time.Now().
	Now time.Time
}

// Decision is the outcome of one request against a token's policies.
type Decision struct {
	Allowed bool
	// Capabilities of the winning rule (after merging identical paths);
	// ["deny"] if nothing matched, ["root"] for the root policy.
	Capabilities []string
	// RootPrivs: the winner grants sudo, which Vault additionally requires
	// on root-protected paths.
	RootPrivs bool
	Winner    *Match    // nil if nothing matched
	Dropped   []Dropped // paths Vault leaves out of this token's ACL
	// Candidates lists every rule that matched the path, best first.
	Candidates []*Match
	// Conditions: per-path keys on the winner (allowed_parameters,
	// min_wrapping_ttl, ...) under which Vault can still refuse the request.
	Conditions []string
	// Error is set when Vault could not build the ACL at all (root mixed
	// with other policies, or a filled path became invalid); every request
	// then fails.
	Error string
}

// Match is one compiled rule that matched the request path.
type Match struct {
	Path         string   // the (filled) path pattern, leading "/" stripped, "*" kept
	Kind         string   // "exact", "prefix", "segment"
	Sources      []Source // every policy rule with this identical path (merged)
	Capabilities []string // after merging
	Query        string   // the form of the request path it matched (LIST may drop the trailing "/")
	Why          string   // why it won, or why it lost to the winner
}

// Source is a policy rule that contributed to a merged path.
type Source struct {
	Policy string
	Rule   *PathRule
}

// Dropped is a rule Vault leaves out of the token's ACL.
type Dropped struct {
	Policy string
	Rule   *PathRule
	Reason string
}

// Evaluate decides op on path with the default Options.
func Evaluate(policies []*Policy, path string, op Operation, ent *Entity) Decision {
	return Options{}.Evaluate(policies, path, op, ent)
}

// Capabilities mimics sys/capabilities-self with the default Options.
func Capabilities(policies []*Policy, path string, ent *Entity) []string {
	return Options{}.Capabilities(policies, path, ent)
}

// Capabilities returns what sys/capabilities(-self) reports for path: the
// winning rule's capabilities, sorted, looked up as a LIST on the path as
// given (so the trailing-slash retries apply), ["deny"] when nothing
// matches, ["root"] for root.
func (o Options) Capabilities(policies []*Policy, path string, ent *Entity) []string {
	return o.evaluate(policies, path, OpList, ent).Capabilities
}

// Evaluate decides an HTTP request with op on path the way Vault's ACL does
// for a token holding policies (identity policies included) whose entity is
// ent (nil if none). Like Vault's HTTP layer, a LIST gets a trailing "/".
func (o Options) Evaluate(policies []*Policy, path string, op Operation, ent *Entity) Decision {
	if op == OpList && !strings.HasSuffix(path, "/") {
		path += "/"
	}
	return o.evaluate(policies, path, op, ent)
}

// requestPath strips every leading "/", as AllowOperation does.
func requestPath(path string) string {
	for len(path) > 0 && path[0] == '/' {
		path = path[1:]
	}
	return path
}

// Prepared is a token's ACL built once, for deciding many requests: what
// Vault builds when the token is used. Safe for concurrent use.
type Prepared struct {
	o Options
	a *compiled
	d Decision // Error and Dropped: the same for every request
	// What the ACL was built from: the policies and how each of their
	// templated paths filled; complete is false when compiling stopped
	// early (an error), before filling every path.
	policies []*Policy
	fills    []fill
	complete bool
}

// fill is how one templated path filled for the entity.
type fill struct {
	rule           *PathRule
	filled, reason string
	ok             bool
}

// Prepare builds the ACL of a token holding policies whose entity is ent.
// Its Evaluate answers as Options.Evaluate would for the same arguments.
func (o Options) Prepare(policies []*Policy, ent *Entity) *Prepared {
	p := &Prepared{o: o, policies: slices.Clone(policies)}
	p.a, p.d = o.compile(policies, ent, &p.fills)
	p.complete = p.d.Error == ""
	return p
}

// For reports whether p is also the ACL of a token holding policies
// whose entity is ent: the same policies, and every templated path of
// theirs fills the same for ent as for the entity p was built for. The
// ACL is a function of those alone, so tasks of one job, which differ
// only in claims no path names, share one.
func (p *Prepared) For(policies []*Policy, ent *Entity) bool {
	if !p.complete || !slices.Equal(p.policies, policies) {
		return false
	}
	// The same policies have the same templated paths: those filled.
	for _, f := range p.fills {
		filled, ok, reason := p.o.Fill(f.rule.Path, ent)
		if f.filled != filled || f.ok != ok || f.reason != reason {
			return false
		}
	}
	return true
}

// Capabilities answers as Options.Capabilities would for the policies
// and entity p was built for.
func (p *Prepared) Capabilities(path string) []string {
	return p.o.decide(p.a, p.d, path, OpList).Capabilities
}

// Evaluate decides an HTTP request with op on path, as Options.Evaluate.
func (p *Prepared) Evaluate(path string, op Operation) Decision {
	if op == OpList && !strings.HasSuffix(path, "/") {
		path += "/"
	}
	d := p.d
	d.Dropped = slices.Clone(d.Dropped)
	return p.o.decide(p.a, d, path, op)
}

// Allows reports whether Evaluate(path, op) would allow the request,
// without explaining it: most reads of a fleet's templates are allowed,
// and building the explanation nobody reads was most of deciding them.
func (p *Prepared) Allows(path string, op Operation) bool {
	if op == OpList {
		// LIST has resolutions of its own (ListMode), and is rare.
		return p.Evaluate(path, op).Allowed
	}
	switch {
	case p.d.Error != "":
		return false
	case p.a.root, op == OpHelp:
		return true
	}
	path = requestPath(path)
	e := p.a.exactEntry(path)
	if e == nil {
		e = p.a.bestNonExact(path)
	}
	need, ok := opCap[op]
	return e != nil && ok && e.bits&capDeny == 0 && e.bits&need != 0
}

func (o Options) evaluate(policies []*Policy, path string, op Operation, ent *Entity) Decision {
	a, d := o.compile(policies, ent, nil)
	return o.decide(a, d, path, op)
}

// decide answers one request against a compiled ACL; d carries what
// compiling found.
func (o Options) decide(a *compiled, d Decision, path string, op Operation) Decision {
	if d.Error != "" {
		d.Capabilities = []string{"deny"}
		return d
	}
	if a.root {
		d.Allowed, d.RootPrivs, d.Capabilities = true, true, []string{"root"}
		return d
	}
	if op == OpHelp {
		d.Allowed = true
	}

	path = requestPath(path)
	win, cands := o.lookup(a, path, op)
	for _, c := range cands {
		d.Candidates = append(d.Candidates, c.match())
	}
	if win == nil {
		d.Capabilities = []string{"deny"}
		return d
	}
	if i := slices.Index(cands, win); i >= 0 {
		d.Winner = d.Candidates[i]
	} else {
		d.Winner = win.match()
	}
	d.Capabilities = capNames(win.e.bits)
	d.RootPrivs = win.e.bits&capSudo != 0 && win.e.bits&capDeny == 0
	if need, ok := opCap[op]; ok && win.e.bits&capDeny == 0 && win.e.bits&need != 0 {
		d.Allowed = true
	}
	for _, s := range win.e.sources {
		for _, c := range s.Rule.Conditions {
			if !slices.Contains(d.Conditions, c) {
				d.Conditions = append(d.Conditions, c)
			}
		}
	}
	return d
}

// entry is one compiled path: identical path strings of the same kind,
// merged across policies as Vault's NewACL does.
type entry struct {
	pattern string // filled path, one leading "/" stripped, "*" kept
	key     string // as Vault keys it: prefix rules lose the trailing "*"
	kind    string
	bits    capBits
	sources []Source
	// parts of a segment rule: its key without a trailing "*", split at
	// "/", for matching.
	parts []string
	// at is the place of each source among the rules of a PolicySet,
	// for merging in the rule order (nil outside one).
	at []int
}

type compiled struct {
	exact, prefix, segment map[string]*entry
	// prefixes and segments list the entries of prefix and segment:
	// every lookup walks them all, and a slice walks several times faster
	// than a map.
	prefixes, segments []*entry
	root               bool
	// fixed, when set, holds the rules of a PolicySet that no entity
	// changes, shared by the ACLs of every entity; the maps above then
	// hold only the filled templated paths, and an entry for a key that
	// fixed has too is the two merged.
	fixed *compiled
}

// put adds a new entry to m, one of a's maps.
func (a *compiled) put(m map[string]*entry, kind, key string, e *entry) {
	m[key] = e
	switch kind {
	case "prefix":
		a.prefixes = append(a.prefixes, e)
	case "segment":
		a.segments = append(a.segments, e)
	}
}

func (a *compiled) exactEntry(key string) *entry {
	if e := a.exact[key]; e != nil {
		return e
	}
	if a.fixed != nil {
		return a.fixed.exact[key]
	}
	return nil
}

// compile builds the ACL; fills, when not nil, records how each
// templated path filled.
func (o Options) compile(policies []*Policy, ent *Entity, fills *[]fill) (*compiled, Decision) {
	var d Decision
	a := &compiled{exact: map[string]*entry{}, prefix: map[string]*entry{}, segment: map[string]*entry{}}
	for _, pol := range policies {
		if pol == nil {
			continue
		}
		if pol.Name == "root" {
			if len(policies) != 1 {
				d.Error = "other policies present along with root"
				return a, d
			}
			a.root = true
		}
		for _, r := range pol.Rules {
			if r == nil {
				continue
			}
			path := r.Path
			if err := checkTemplating(path); err != nil {
				d.Dropped = append(d.Dropped, Dropped{pol.Name, r, "Vault rejects this policy: failed to validate policy templating: " + err.Error()})
				continue
			}
			if r.Templated() {
				filled, ok, reason := o.Fill(path, ent)
				if fills != nil {
					*fills = append(*fills, fill{rule: r, filled: filled, reason: reason, ok: ok})
				}
				if !ok {
					d.Dropped = append(d.Dropped, Dropped{pol.Name, r, reason})
					continue
				}
				path = filled
			}
			path = strings.TrimPrefix(path, "/")
			if strings.Contains(path, "+*") {
				msg := fmt.Sprintf("path %q: invalid use of wildcards ('+*' is forbidden)", path)
				if r.Templated() {
					// Only reachable through an empty template value; Vault
					// then fails to build the token's ACL altogether.
					d.Error = fmt.Sprintf("error parsing templated policy %q: failed to parse policy: %s", pol.Name, msg)
					return a, d
				}
				d.Dropped = append(d.Dropped, Dropped{pol.Name, r, "Vault rejects this policy: " + msg})
				continue
			}
			a.add(path, bitsOf(r.Capabilities), Source{pol.Name, r})
		}
	}
	return a, d
}

// kindOf classifies a stored path as Vault's parsePaths does.
func kindOf(path string) (kind, key string) {
	switch {
	case path == "+" || strings.Contains(path, "/+") || strings.HasPrefix(path, "+/"):
		// A trailing "*" stays part of a segment path.
		return "segment", path
	case strings.HasSuffix(path, "*"):
		return "prefix", strings.TrimSuffix(path, "*")
	}
	return "exact", path
}

func (a *compiled) add(path string, bits capBits, src Source) {
	kind, key := kindOf(path)
	m := a.exact
	switch kind {
	case "prefix":
		m = a.prefix
	case "segment":
		m = a.segment
	}
	e := m[key]
	if e == nil {
		e = &entry{pattern: path, key: key, kind: kind, bits: bits, sources: []Source{src}}
		if kind == "segment" {
			e.parts = strings.Split(strings.TrimSuffix(key, "*"), "/")
		}
		a.put(m, kind, key, e)
		return
	}
	e.sources = append(e.sources, src)
	e.merge(bits)
}

// merge adds the capabilities of one more rule; the result does not
// depend on the order rules come in (bitsOf leaves deny alone).
func (e *entry) merge(bits capBits) {
	switch {
	case e.bits&capDeny != 0:
		// An existing deny absorbs everything after it.
	case bits&capDeny != 0:
		e.bits = capDeny
	default:
		e.bits |= bits
	}
}

// cand is a non-exact (or exact) rule matched against one request path form,
// with the fields Vault ranks on.
type cand struct {
	e         *entry
	query     string
	first     int // position of the first "+" or, for prefix rules, of the "*"
	wildcards int // "+" segments
	isPrefix  bool
	wcPath    string // path without the trailing "*"
	why       string
}

func (c *cand) match() *Match {
	return &Match{
		Path:         c.e.pattern,
		Kind:         c.e.kind,
		Sources:      slices.Clone(c.e.sources),
		Capabilities: capNames(c.e.bits),
		Query:        c.query,
		Why:          c.why,
	}
}

// lower reports whether x ranks below y (vault/acl.go, non-exact ordering).
func lower(x, y *cand) bool {
	if x.first != y.first {
		return x.first < y.first
	}
	if x.isPrefix != y.isPrefix {
		return x.isPrefix
	}
	if x.wildcards != y.wildcards {
		return x.wildcards > y.wildcards
	}
	if len(x.wcPath) != len(y.wcPath) {
		return len(x.wcPath) < len(y.wcPath)
	}
	return x.wcPath < y.wcPath
}

// criterion names the first ranking rule that separates w from l.
func criterion(w, l *cand) string {
	switch {
	case w.first != l.first && w.e.kind == "prefix" && l.e.kind == "prefix":
		return "longest prefix"
	case w.first != l.first:
		return "later first wildcard position"
	case w.isPrefix != l.isPrefix:
		return "non-prefix beats trailing *"
	case w.wildcards != l.wildcards:
		return "fewer + segments"
	case len(w.wcPath) != len(l.wcPath):
		return "longer path"
	}
	return "lexicographically larger path"
}

// nonExact returns every prefix and segment rule matching path, best first.
// Vault only ranks the longest prefix against the segment rules, but a
// shorter prefix can never outrank the longest, so ranking all is the same.
func (a *compiled) nonExact(path string) []*cand {
	var out []*cand
	a.eachNonExact(path, func(c cand) {
		c.query = path
		out = append(out, &c)
	})
	slices.SortFunc(out, func(x, y *cand) int {
		switch {
		case lower(y, x):
			return -1
		case lower(x, y):
			return 1
		}
		return 0
	})
	return out
}

// bestNonExact is the entry of nonExact(path)[0], nil without a match,
// found without building and sorting the list. No two matches rank
// alike (their kinds, wildcard positions and paths differ), so the best
// is the same in any order.
func (a *compiled) bestNonExact(path string) *entry {
	var best cand
	a.eachNonExact(path, func(c cand) {
		if best.e == nil || lower(&best, &c) {
			best = c
		}
	})
	return best.e
}

// eachNonExact calls yield with every prefix and segment rule matching
// path.
func (a *compiled) eachNonExact(path string, yield func(cand)) {
	a.prefixMatches(path, nil, yield)
	if a.fixed != nil {
		a.fixed.prefixMatches(path, a.prefix, yield)
	}
	if len(a.segment) > 0 || a.fixed != nil && len(a.fixed.segment) > 0 {
		parts := strings.Split(path, "/")
		a.segmentMatches(parts, nil, yield)
		if a.fixed != nil {
			a.fixed.segmentMatches(parts, a.segment, yield)
		}
	}
}

// prefixMatches yields the prefix rules matching path, but for keys in
// shadow (the merged entries of an ACL built on a PolicySet).
func (a *compiled) prefixMatches(path string, shadow map[string]*entry, yield func(cand)) {
	for _, e := range a.prefixes {
		if !strings.HasPrefix(path, e.key) {
			continue
		}
		if _, ok := shadow[e.key]; !ok {
			yield(cand{e: e, first: len(e.key), isPrefix: true, wcPath: e.key})
		}
	}
}

// segmentMatches yields the "+" rules matching a path split into parts,
// but for keys in shadow.
func (a *compiled) segmentMatches(parts []string, shadow map[string]*entry, yield func(cand)) {
	for _, e := range a.segments {
		c, ok := matchSegment(e, parts)
		if !ok {
			continue
		}
		if _, shadowed := shadow[e.key]; !shadowed {
			yield(c)
		}
	}
}

// matchSegment matches a "+" rule segment by segment; a trailing "*" makes
// the last segment a prefix and lets the request have more segments.
func matchSegment(e *entry, parts []string) (cand, bool) {
	rule := e.key
	if rule == "" {
		return cand{}, false
	}
	isPrefix := strings.HasSuffix(rule, "*")
	if isPrefix {
		rule = rule[:len(rule)-1]
	}
	rparts := e.parts
	if len(parts) < len(rparts) || (!isPrefix && len(parts) != len(rparts)) {
		return cand{}, false
	}
	wildcards := 0
	for i, rp := range rparts {
		switch {
		case rp == "+":
			wildcards++
		case rp == parts[i]:
		case isPrefix && i == len(rparts)-1 && strings.HasPrefix(parts[i], rp):
		default:
			return cand{}, false
		}
	}
	return cand{e: e, first: strings.Index(e.key, "+"), isPrefix: isPrefix, wcPath: rule, wildcards: wildcards}, true
}

// lookup follows AllowOperation: exact rule (and, for LIST, the exact rule
// without the trailing "/") wins outright; otherwise the best non-exact rule.
// It returns the winner and all matching candidates, best first.
func (o Options) lookup(a *compiled, path string, op Operation) (*cand, []*cand) {
	var cands []*cand
	seen := map[*entry]bool{}
	push := func(cs ...*cand) {
		for _, c := range cs {
			if !seen[c.e] {
				seen[c.e] = true
				cands = append(cands, c)
			}
		}
	}
	var win *cand
	trimmed := strings.TrimSuffix(path, "/")
	if e := a.exactEntry(path); e != nil {
		win = &cand{e: e, query: path, why: "exact match wins outright"}
		push(win)
	}
	if op == OpList && trimmed != path {
		if e := a.exactEntry(trimmed); e != nil {
			c := &cand{e: e, query: trimmed, why: "exact match on the path without its trailing \"/\" (LIST retry) wins outright"}
			if win == nil {
				win = c
			}
			push(c)
		}
	}
	listSlash := op == OpList && trimmed != path
	full := a.nonExact(path)
	var trim []*cand
	if listSlash && o.List != ListFullOnly {
		trim = a.nonExact(trimmed)
	}

	switch {
	case win != nil:
		push(trim...)
		push(full...)
		for _, c := range cands {
			if c != win {
				c.why = "shadowed: an exact rule wins outright"
			}
		}
		return win, cands
	case listSlash && o.List == ListTrimmedFirst && len(trim) > 0:
		win = trim[0]
		rankWhy(trim)
		win.why = "LIST: matched the path without its trailing \"/\", which is checked first; " + win.why
		push(trim...)
		for _, c := range full {
			if !seen[c.e] {
				c.why = "not consulted: a rule already matched the path without its trailing \"/\""
			}
		}
		push(full...)
	case listSlash && o.List == ListCombined && len(trim)+len(full) > 0:
		all := append(slices.Clone(trim), full...)
		win = combinedWinner(all)
		slices.SortStableFunc(all, func(x, y *cand) int {
			switch {
			case x == win:
				return -1
			case y == win:
				return 1
			case lower(y, x):
				return -1
			case lower(x, y):
				return 1
			}
			return 0
		})
		push(all...)
		for _, c := range cands {
			switch {
			case c == win || c.e == win.e:
			case lower(win, c):
				c.why = "more specific than " + win.e.pattern + ", but LIST prefers the most specific deny or list grant"
			default:
				c.why = "loses to " + win.e.pattern + ": " + criterion(win, c)
			}
		}
	case len(full) > 0:
		win = full[0]
		rankWhy(full)
		push(full...)
	}
	return win, cands
}

// rankWhy explains a ranked candidate list (best first).
func rankWhy(cs []*cand) {
	if len(cs) == 0 {
		return
	}
	w := cs[0]
	if len(cs) == 1 {
		w.why = "only matching " + w.e.kind + " rule"
		return
	}
	w.why = "wins over " + cs[1].e.pattern + ": " + criterion(w, cs[1])
	for _, c := range cs[1:] {
		c.why = "loses to " + w.e.pattern + ": " + criterion(w, c)
	}
}

// combinedWinner is the 2026 LIST resolution: the most specific deny wins
// unless a strictly more specific rule grants list; without either, the
// most specific rule.
func combinedWinner(all []*cand) *cand {
	var deny, list, best *cand
	for _, c := range all {
		if c.e.bits&capDeny != 0 && (deny == nil || lower(deny, c)) {
			deny = c
		}
		if c.e.bits&capList != 0 && (list == nil || lower(list, c)) {
			list = c
		}
		if best == nil || lower(best, c) {
			best = c
		}
	}
	switch {
	case deny != nil && (list == nil || lower(list, deny)):
		deny.why = "LIST: most specific deny across the path with and without its trailing \"/\""
		return deny
	case list != nil:
		list.why = "LIST: most specific rule granting list across the path with and without its trailing \"/\""
		return list
	}
	best.why = "LIST: most specific rule across the path with and without its trailing \"/\""
	return best
}
