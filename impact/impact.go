// Package impact compares the Vault access of every task between two
// states of a repository (base and head): which reads a change denies,
// which it allows, which it makes undecidable, and which privileged
// capabilities it grants. Every decision is access.Token.Read or
// access.Token.Can, the evaluation lint and access make, so impact cannot
// disagree with them.
package impact

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/access"
	"github.com/nvlint/nvlint/acl"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// Decision is a read's verdict on one side.
type Decision string

// The decisions.
const (
	Allow   Decision = "allow"
	Deny    Decision = "deny"
	Unknown Decision = "unknown"
	// Absent: the side has no such read (the call or the task is new or
	// gone).
	Absent Decision = "absent"
)

// Kind is what happened to a read.
type Kind string

// The kinds of change.
const (
	Lost           Kind = "lost"    // allow -> deny
	Gained         Kind = "gained"  // deny -> allow
	ChangedUnknown Kind = "unknown" // a transition from or to unknown
	NewRead        Kind = "new"     // a read only the head makes, not allowed
	// Capability is a privileged capability (create, update, delete,
	// sudo) the token gains on a path its policies name, read or not.
	Capability Kind = "capability"
)

// Task names a task across base and head.
type Task struct {
	// Setup is the task's setup, when several are compared: its world is
	// the one it is judged in.
	Setup     string `json:"setup,omitempty"`
	Namespace string `json:"namespace"`
	Job       string `json:"job"`
	Group     string `json:"group"`
	Task      string `json:"task"`
}

func (t Task) String() string {
	s := fmt.Sprintf("job %s group %s task %s", t.Job, t.Group, t.Task)
	if t.Namespace != "" && t.Namespace != "default" {
		s = "namespace " + t.Namespace + " " + s
	}
	return s
}

func taskOf(wl access.Workload) Task {
	return Task{Namespace: wl.Job.NamespaceName(), Job: wl.Job.Ref.Name, Group: wl.Group.Name.V, Task: wl.Task.Name.V}
}

// Cause is what flipped a decision: the policy rule (or the role, or the
// login) whose change made the difference, and where it is written.
type Cause struct {
	Policy string `json:"policy,omitempty"`
	// File and Line point at the rule; Side says whether at base (a rule
	// that was removed) or at head.
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	Side string `json:"side,omitempty"`
	// Rule is the policy path pattern, when a rule decided.
	Rule string `json:"rule,omitempty"`
	Why  string `json:"why"`
}

// Change is one decision that differs between base and head.
type Change struct {
	Kind     Kind           `json:"kind"`
	Severity rules.Severity `json:"-"`
	Task
	// Path is the path Vault receives; Call the template's call as
	// written, when it differs.
	Path   string   `json:"path"`
	Call   string   `json:"call,omitempty"`
	Op     string   `json:"operation"`
	Before Decision `json:"before"`
	After  Decision `json:"after"`
	Cause  Cause    `json:"cause"`
}

// TaskChange is a task with a vault block that only one side has.
type TaskChange struct {
	Task
	Added bool `json:"added"`
	// Reads is how many Vault calls the task makes; Denied how many of
	// them its token may not make (an added task's at head).
	Reads  int    `json:"reads"`
	Denied int    `json:"denied"`
	File   string `json:"file,omitempty"`
	Line   int    `json:"line,omitempty"`
}

// Result is what a change does.
type Result struct {
	Changes []Change
	Tasks   []TaskChange
	// Compared is how many tasks both sides have, and Reads how many of
	// their reads were compared.
	Compared, Reads int
	Notes           []string
	Introduced      []rules.Finding
	Fixed           []rules.Finding
	// Setups, when several were compared, are their counts in order;
	// every change, task and finding then names its setup.
	Setups []SetupCount
}

// SetupCount is what one setup compared.
type SetupCount struct {
	Name     string `json:"name"`
	Compared int    `json:"tasks_compared"`
	Reads    int    `json:"reads_compared"`
}

// SetupPair is one setup's world at base and at head; nil on a side that
// has none of its files, where its tasks are all added or all removed.
type SetupPair struct {
	Name       string
	Base, Head *world.World
}

// CompareSetups compares each setup in its own worlds, so that a task is
// judged only by its setup's roles and policies, and merges the results
// in the order given. One setup is compared as Compare does, its changes
// named by no setup.
func CompareSetups(pairs []SetupPair, opts Options) Result {
	orEmpty := func(w *world.World) *world.World {
		if w == nil {
			return &world.World{}
		}
		return w
	}
	if len(pairs) == 1 {
		return Compare(orEmpty(pairs[0].Base), orEmpty(pairs[0].Head), opts)
	}
	var res Result
	for _, p := range pairs {
		r := Compare(orEmpty(p.Base), orEmpty(p.Head), opts)
		for i := range r.Changes {
			r.Changes[i].Setup = p.Name
		}
		for i := range r.Tasks {
			r.Tasks[i].Setup = p.Name
		}
		for _, n := range r.Notes {
			res.Notes = append(res.Notes, "setup "+p.Name+": "+n)
		}
		res.Changes = append(res.Changes, r.Changes...)
		res.Tasks = append(res.Tasks, r.Tasks...)
		res.Compared += r.Compared
		res.Reads += r.Reads
		res.Setups = append(res.Setups, SetupCount{Name: p.Name, Compared: r.Compared, Reads: r.Reads})
	}
	return res
}

// Only is the part of a result of several setups that is about one.
func (r Result) Only(setup string) Result {
	out := Result{}
	for _, s := range r.Setups {
		if s.Name == setup {
			out.Compared, out.Reads = s.Compared, s.Reads
		}
	}
	for _, c := range r.Changes {
		if c.Setup == setup {
			out.Changes = append(out.Changes, c)
		}
	}
	for _, t := range r.Tasks {
		if t.Setup == setup {
			out.Tasks = append(out.Tasks, t)
		}
	}
	for _, f := range r.Introduced {
		if f.Setup == setup {
			out.Introduced = append(out.Introduced, f)
		}
	}
	for _, f := range r.Fixed {
		if f.Setup == setup {
			out.Fixed = append(out.Fixed, f)
		}
	}
	return out
}

// Options steer a comparison.
type Options struct {
	// BaseFile names a base file as the reader knows it (the head's path
	// for the same file); nil leaves names as loaded.
	BaseFile func(string) string
}

// BaseName is a base file's name as the reader knows it.
func (o Options) BaseName(name string) string {
	if o.BaseFile == nil || name == "" {
		return name
	}
	return o.BaseFile(name)
}

// side is one world with its workloads keyed by task.
type side struct {
	w     *world.World
	tasks map[Task]access.Workload
	order []Task
}

func sideOf(w *world.World) side {
	s := side{w: w, tasks: map[Task]access.Workload{}}
	for _, wl := range access.Workloads(w) {
		k := taskOf(wl)
		if _, dup := s.tasks[k]; dup {
			continue
		}
		s.tasks[k] = wl
		s.order = append(s.order, k)
	}
	return s
}

// Compare decides every read of every task at base and at head and
// returns the differences.
func Compare(base, head *world.World, opts Options) Result {
	// What every read derives from its world (the KV version of each
	// mount, every token) is worked out once per side.
	defer base.Memoize()()
	defer head.Memoize()()
	b, h := sideOf(base), sideOf(head)
	sigs := powers{}
	var res Result
	for _, k := range h.order {
		hwl := h.tasks[k]
		htok := access.Resolve(head, hwl)
		hreads, hnotes := Reads(head, hwl, htok)
		bwl, both := b.tasks[k]
		if !both {
			tc := TaskChange{Task: k, Added: true, Reads: len(hreads), File: hwl.Task.Range.Filename, Line: hwl.Task.Range.Start.Line}
			for _, r := range hreads {
				if decisionOf(r.Answer) != Allow {
					tc.Denied++
				}
			}
			res.Tasks = append(res.Tasks, tc)
			continue
		}
		res.Compared++
		res.Notes = append(res.Notes, hnotes...)
		btok := access.Resolve(base, bwl)
		breads, _ := Reads(base, bwl, btok)
		res.Reads += len(hreads)
		res.Changes = append(res.Changes, compareReads(k, btok, htok, breads, hreads, opts)...)
		// Same policies, same entity: the same powers everywhere.
		if sigs.of(btok) != sigs.of(htok) {
			res.Changes = append(res.Changes, compareCapabilities(k, btok, htok, opts)...)
		}
	}
	for _, k := range b.order {
		if _, ok := h.tasks[k]; ok {
			continue
		}
		bwl := b.tasks[k]
		reads, _ := Reads(base, bwl, access.Resolve(base, bwl))
		res.Tasks = append(res.Tasks, TaskChange{Task: k, Reads: len(reads), File: opts.BaseName(bwl.Task.Range.Filename), Line: bwl.Task.Range.Start.Line})
	}
	slices.SortStableFunc(res.Changes, func(x, y Change) int {
		return cmp.Or(-cmp.Compare(x.Severity, y.Severity), cmp.Compare(x.Kind, y.Kind),
			cmp.Compare(x.Namespace, y.Namespace), cmp.Compare(x.Job, y.Job), cmp.Compare(x.Group, y.Group), cmp.Compare(x.Task.Task, y.Task.Task),
			cmp.Compare(x.Path, y.Path), cmp.Compare(x.Op, y.Op))
	})
	slices.SortStableFunc(res.Tasks, func(x, y TaskChange) int {
		return cmp.Or(cmp.Compare(x.Namespace, y.Namespace), cmp.Compare(x.Job, y.Job), cmp.Compare(x.Group, y.Group), cmp.Compare(x.Task.Task, y.Task.Task))
	})
	return res
}

func decisionOf(a access.Answer) Decision {
	switch {
	case !a.Known:
		return Unknown
	case a.Allowed:
		return Allow
	}
	return Deny
}

// compareReads matches a task's reads by call and reports those whose
// decision differs, and the new ones that are not allowed.
func compareReads(k Task, btok, htok access.Token, breads, hreads []TaskRead, opts Options) []Change {
	before := map[string]TaskRead{}
	for _, r := range breads {
		before[r.Key] = r
	}
	var out []Change
	for _, hr := range hreads {
		c := Change{Task: k, Path: hr.Path, Op: string(hr.Op), After: decisionOf(hr.Answer), Before: Absent}
		if hr.Path != hr.Call.Path {
			c.Call = hr.Verb() + " " + hr.Call.Path
		}
		br, ok := before[hr.Key]
		if ok {
			c.Before = decisionOf(br.Answer)
		}
		switch {
		case c.Before == c.After:
			continue
		case c.Before == Absent && c.After == Allow:
			continue
		case c.Before == Absent:
			c.Kind, c.Severity = NewRead, rules.Error
			if c.After == Unknown {
				c.Severity = rules.Warning
			}
		case c.Before == Allow && c.After == Deny:
			c.Kind, c.Severity = Lost, rules.Error
		case c.Before == Deny && c.After == Allow:
			c.Kind, c.Severity = Gained, rules.Info
			if privileged(hr.Op) {
				c.Severity = rules.Warning
			}
		default:
			c.Kind = ChangedUnknown
			switch {
			case c.After == Deny:
				c.Severity = rules.Error // broken now, whatever it was before
			case c.Before == Allow:
				c.Severity = rules.Warning // may be lost
			default:
				c.Severity = rules.Info
			}
		}
		c.Cause = causeOf(btok, htok, br.Answer, hr.Answer, c, opts)
		out = append(out, c)
	}
	return out
}

// privileged reports whether op needs a capability whose gain is worth a
// warning: writes and deletes.
func privileged(op acl.Operation) bool {
	switch op {
	case acl.OpCreate, acl.OpUpdate, acl.OpDelete, acl.OpPatch:
		return true
	}
	return false
}

// causeOf explains a change: the login that is refused (or no longer
// is), else the rule that decides at head when one matches, else the
// rule that decided at base, gone since.
func causeOf(btok, htok access.Token, before, after access.Answer, c Change, opts Options) Cause {
	switch {
	case htok.Refused != "" && htok.Refused != btok.Refused:
		return rangeCause(htok.RefusedAt, "head", "login refused: "+htok.Refused, opts)
	case btok.Refused != "" && htok.Refused == "":
		return rangeCause(btok.RefusedAt, "base", "login no longer refused (was: "+btok.Refused+")", opts)
	case c.After == Unknown:
		return Cause{Why: after.Why}
	case c.Before == Unknown && (c.After != Allow || after.Winner == nil):
		return Cause{Why: "was unknown: " + before.Why}
	}
	if after.Winner != nil {
		cause := matchCause(after.Winner, "head", opts)
		switch c.After {
		case Allow:
			cause.Why = fmt.Sprintf("grants %s with %q", c.Op, cause.Rule)
			attached(&cause, btok, htok)
		default:
			cause.Why = fmt.Sprintf("its rule %q, the most specific that matches, gives %s", cause.Rule, capList(after.Capabilities))
		}
		return cause
	}
	if before.Winner != nil {
		cause := matchCause(before.Winner, "base", opts)
		if slices.Contains(htok.Policies, cause.Policy) {
			cause.Why = fmt.Sprintf("no rule matches any more: %q gave %s", cause.Rule, capList(before.Capabilities))
		} else {
			cause.Why = fmt.Sprintf("is no longer one of the token's policies (now %s)", strings.Join(htok.Policies, ", "))
		}
		return cause
	}
	if after.Why != "" {
		return Cause{Why: after.Why}
	}
	return Cause{Why: "no rule of the token's policies matches"}
}

func capList(caps []string) string {
	if len(caps) == 0 {
		return "no capability"
	}
	return "[" + strings.Join(caps, ", ") + "]"
}

func rangeCause(r hcl.Range, side, why string, opts Options) Cause {
	c := Cause{Why: why, Line: r.Start.Line, Side: side, File: r.Filename}
	if side == "base" {
		c.File = opts.BaseName(r.Filename)
	}
	if c.File == "" {
		c.Side = ""
	}
	return c
}

// matchCause names the first policy rule behind a match.
func matchCause(m *acl.Match, side string, opts Options) Cause {
	c := Cause{Rule: m.Path}
	if len(m.Sources) == 0 {
		return c
	}
	src := m.Sources[0]
	c.Policy = src.Policy
	if src.Rule != nil {
		rc := rangeCause(src.Rule.Block, side, "", opts)
		c.File, c.Line, c.Side = rc.File, rc.Line, rc.Side
		c.Rule = src.Rule.Path
	}
	return c
}

// attached points a cause at the token's policy list when the policy
// granting is one the token did not have at base: the role (or the
// vault block) that now attaches it is what changed.
func attached(c *Cause, btok, htok access.Token) {
	if c.Policy == "" || slices.Contains(btok.Policies, c.Policy) || btok.Refused != "" || btok.Unknown != "" {
		return
	}
	var where hcl.Range
	switch {
	case htok.Role != nil && htok.Role.TokenPolicies.Set:
		where = htok.Role.TokenPolicies.Range
		c.Why = fmt.Sprintf("now attached by role %s's token_policies; it %s", htok.Role.Ref.Name, c.Why)
	case htok.Vault != nil && htok.Vault.Policies.Set:
		where = htok.Vault.Policies.Range
		c.Why = "now attached by the vault block's policies; it " + c.Why
	default:
		c.Why = "now one of the token's policies; it " + c.Why
		return
	}
	if where.Filename != "" {
		c.File, c.Line, c.Side = where.Filename, where.Start.Line, "head"
	}
}

// powers fingerprints what decides a token's capabilities: its policies'
// rules and its entity. Policies are fingerprinted once each.
type powers map[*acl.Policy]string

func (pw powers) of(t access.Token) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\x00%s\x00", t.Refused, t.Unknown)
	for _, p := range t.Set {
		sig, ok := pw[p]
		if !ok {
			var ps strings.Builder
			for _, r := range p.Rules {
				fmt.Fprintf(&ps, "%q%q;", r.Path, r.Capabilities)
			}
			sig = ps.String()
			pw[p] = sig
		}
		b.WriteString(sig)
		b.WriteString("\x00")
	}
	if t.Entity != nil {
		// fmt prints maps sorted by key.
		fmt.Fprintf(&b, "%v", t.Entity.Aliases)
	}
	return b.String()
}

// privilegedCaps are the capabilities whose gain anywhere is a warning.
var privilegedCaps = []string{"create", "update", "delete", "sudo"}

// compareCapabilities probes every path the token's policies name, at
// base and at head, for privileged capabilities the head gains.
func compareCapabilities(k Task, btok, htok access.Token, opts Options) []Change {
	if htok.Refused != "" || htok.Unknown != "" {
		return nil
	}
	var out []Change
	seen := map[string]bool{}
	for _, p := range htok.Set {
		for _, r := range p.Rules {
			probe, shown := probePath(r.Path, htok.Entity)
			if probe == "" || seen[probe] {
				continue
			}
			seen[probe] = true
			after := htok.Can(probe, acl.OpRead)
			if !after.Known || after.Winner == nil {
				continue
			}
			before := btok.Can(probe, acl.OpRead)
			var had []string
			if before.Known && before.Winner != nil {
				had = before.Capabilities
			}
			for _, cp := range privilegedCaps {
				if !slices.Contains(after.Capabilities, cp) || slices.Contains(had, cp) || slices.Contains(after.Capabilities, "deny") {
					continue
				}
				c := Change{Kind: Capability, Severity: rules.Warning, Task: k, Path: shown, Op: cp, Before: Deny, After: Allow}
				if !before.Known {
					c.Before = Unknown
				}
				c.Cause = matchCause(after.Winner, "head", opts)
				c.Cause.Why = fmt.Sprintf("grants %s with %q", cp, c.Cause.Rule)
				attached(&c.Cause, btok, htok)
				out = append(out, c)
			}
		}
	}
	return out
}

// probePath is a request path a policy rule's pattern matches: the
// pattern filled for the token's entity, with its glob removed and each
// + segment filled; "" for a templated rule the entity cannot fill
// offline (entity IDs, groups).
func probePath(pattern string, ent *acl.Entity) (probe, filled string) {
	p := strings.TrimPrefix(pattern, "/")
	if strings.Contains(p, "{{") {
		if ent == nil {
			return "", ""
		}
		f, ok, _ := acl.Fill(p, ent)
		// A value only Vault knows (the entity's ID) fills nothing real.
		if !ok || strings.Contains(f, "\x00") {
			return "", ""
		}
		p = f
	}
	filled = p
	if p = strings.TrimSuffix(p, "*"); p == "" {
		p = "_"
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if s == "+" {
			segs[i] = "_"
		}
	}
	return strings.Join(segs, "/"), filled
}
