package templates

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"text/template/parse"
	"unicode/utf8"
)

// maxValueLen bounds folded constants: variables and printf can grow strings
// exponentially, and no Vault path is anywhere near this long.
const maxValueLen = 4096

// value is what the evaluator knows about a run-time value.
type value struct {
	known bool
	str   bool   // certainly a string
	s     string // the string if known; otherwise the constant prefix (only if str)
	gv    any    // the Go value text/template would pass to a function, if known
}

var unknown = value{}

// unknownStr is a string whose contents are only known to start with prefix.
func unknownStr(prefix string) value {
	return value{str: true, s: truncate(prefix)}
}

func strVal(s string) value {
	if len(s) > maxValueLen {
		return unknownStr(s)
	}
	return value{known: true, str: true, s: s, gv: s}
}

// truncate cuts s to maxValueLen bytes without splitting a rune.
func truncate(s string) string {
	if len(s) <= maxValueLen {
		return s
	}
	n := maxValueLen
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// numberVal mirrors text/template's idealConstant: the type a numeric
// literal gets when passed to an interface{} parameter such as printf's.
func numberVal(n *parse.NumberNode) value {
	switch {
	case n.IsComplex:
		return value{known: true, gv: n.Complex128}
	case n.IsFloat && !isHexInt(n.Text) && !isRuneInt(n.Text) && strings.ContainsAny(n.Text, ".eEpP"):
		return value{known: true, gv: n.Float64}
	case n.IsInt && int64(int(n.Int64)) == n.Int64:
		return value{known: true, gv: int(n.Int64)}
	}
	return unknown // execution fails with "overflows int"
}

func isRuneInt(s string) bool { return len(s) > 0 && s[0] == '\'' }

func isHexInt(s string) bool {
	return len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && !strings.ContainsAny(s, "pP")
}

// join is the value of a variable that may hold either a or b.
func join(a, b value) value {
	if a.known && b.known && a.str == b.str && a.gv == b.gv {
		return a
	}
	if !a.str || !b.str {
		return unknown
	}
	return unknownStr(commonPrefix(a.s, b.s))
}

func commonPrefix(a, b string) string {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	for n > 0 && n < len(a) && !utf8.RuneStart(a[n]) {
		n--
	}
	return a[:n]
}

// arg is an evaluated argument and the byte span of its source.
type arg struct {
	v          value
	start, end int
}

type binding struct {
	name string
	v    value
}

// change records a variable assignment so that branches can be undone and
// merged.
type change struct {
	idx int
	old value
}

// nameSet is the set of variable names assigned somewhere in a subtree;
// all means "too many to track".
type nameSet struct {
	all   bool
	names []string
}

const maxTrackedNames = 16

func (s *nameSet) add(o nameSet) {
	if s.all {
		return
	}
	if o.all {
		*s = nameSet{all: true}
		return
	}
	for _, n := range o.names {
		s.addName(n)
	}
}

func (s *nameSet) addName(n string) {
	if s.all {
		return
	}
	for _, m := range s.names {
		if m == n {
			return
		}
	}
	if len(s.names) == maxTrackedNames {
		*s = nameSet{all: true}
		return
	}
	s.names = append(s.names, n)
}

// finder walks parse trees, folding values the way text/template's exec
// would and recording Vault calls.
type finder struct {
	text  string
	lines []int
	out   []Access

	vars  []binding // the exec variable stack
	log   []change  // assignments, for branch merging
	dot   value
	loops map[*parse.RangeNode]nameSet // variables assigned in each range body
	spans map[parse.Node][2]int
}

func (f *finder) tree(t *parse.Tree) {
	if t == nil || t.Root == nil {
		return
	}
	// Each template starts like exec does: $ and dot are the data, which
	// consul-template does not supply (nil) and which template calls pass
	// along: unknown either way.
	f.vars = []binding{{name: "$", v: unknown}}
	f.log = nil
	f.dot = unknown
	f.loops = map[*parse.RangeNode]nameSet{}
	f.assigned(t.Root)
	f.walk(t.Root)
}

// assigned precomputes, for every range node below n, which variables its
// body assigns, and returns the set for n itself.
func (f *finder) assigned(n parse.Node) nameSet {
	var s nameSet
	switch n := n.(type) {
	case *parse.ListNode:
		if n != nil {
			for _, c := range n.Nodes {
				s.add(f.assigned(c))
			}
		}
	case *parse.ActionNode:
		s.add(f.assigned(n.Pipe))
	case *parse.TemplateNode:
		s.add(f.assigned(n.Pipe))
	case *parse.IfNode:
		s.add(f.assigned(n.Pipe))
		s.add(f.assigned(n.List))
		s.add(f.assigned(n.ElseList))
	case *parse.WithNode:
		s.add(f.assigned(n.Pipe))
		s.add(f.assigned(n.List))
		s.add(f.assigned(n.ElseList))
	case *parse.RangeNode:
		s.add(f.assigned(n.Pipe))
		body := f.assigned(n.List)
		f.loops[n] = body
		s.add(body)
		s.add(f.assigned(n.ElseList))
	case *parse.PipeNode:
		if n == nil {
			break
		}
		if n.IsAssign {
			for _, v := range n.Decl {
				s.addName(v.Ident[0])
			}
		}
		for _, c := range n.Cmds {
			for _, a := range c.Args {
				s.add(f.assigned(a))
			}
		}
	case *parse.ChainNode:
		s.add(f.assigned(n.Node))
	}
	return s
}

func (f *finder) walk(n parse.Node) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			f.walk(c)
		}
	case *parse.ActionNode:
		f.pipe(n.Pipe, false)
	case *parse.TemplateNode:
		// The called template is walked on its own (Find walks every tree).
		if n.Pipe != nil {
			f.pipe(n.Pipe, false)
		}
	case *parse.IfNode:
		f.control(&n.BranchNode, false, nil)
	case *parse.WithNode:
		f.control(&n.BranchNode, true, nil)
	case *parse.RangeNode:
		f.control(&n.BranchNode, false, n)
	}
	// Text, comments, break and continue touch nothing.
}

// control handles if, with and range: the pipeline runs once, then either
// the body or the else list (for range: the body any number of times).
// Variables declared in the pipeline live until the end of the construct.
func (f *finder) control(b *parse.BranchNode, isWith bool, rn *parse.RangeNode) {
	isRange := rn != nil
	mark0 := len(f.vars)
	v := f.pipe(b.Pipe, isRange)
	mark1 := len(f.vars)
	outer := f.dot
	alts := []func(){func() {
		switch {
		case isRange:
			f.widenLoopVars(f.loops[rn])
			f.dot = unknown
		case isWith:
			f.dot = v
		}
		f.walk(b.List)
		f.dot = outer
	}}
	if b.ElseList != nil {
		alts = append(alts, func() { f.walk(b.ElseList) })
	}
	// Without an else list the construct may run nothing at all.
	f.branch(mark1, b.ElseList == nil, alts...)
	f.popTo(mark0)
}

// widenLoopVars forgets what is known about variables the range body
// assigns: a later iteration sees the previous iteration's value.
func (f *finder) widenLoopVars(set nameSet) {
	if set.all {
		for i := range f.vars {
			f.set(i, join(f.vars[i].v, unknown))
		}
		return
	}
	for _, name := range set.names {
		if i := f.lookup(name); i >= 0 {
			f.set(i, join(f.vars[i].v, unknown))
		}
	}
}

// branch runs each alternative from the same variable state and leaves every
// variable below mark holding the join of the alternatives' outcomes
// (including the untouched state if mayskip).
func (f *finder) branch(mark int, mayskip bool, alts ...func()) {
	base := len(f.log)
	results := make([]map[int]value, 0, len(alts))
	for _, alt := range alts {
		alt()
		f.popTo(mark)
		res := map[int]value{}
		for _, c := range f.log[base:] {
			if c.idx < mark {
				res[c.idx] = f.vars[c.idx].v
			}
		}
		for i := len(f.log) - 1; i >= base; i-- {
			if c := f.log[i]; c.idx < mark {
				f.vars[c.idx].v = c.old
			}
		}
		f.log = f.log[:base]
		results = append(results, res)
	}
	var idxs []int
	seen := map[int]bool{}
	for _, res := range results {
		for i := range res {
			if !seen[i] {
				seen[i] = true
				idxs = append(idxs, i)
			}
		}
	}
	sort.Ints(idxs)
	for _, i := range idxs {
		before := f.vars[i].v
		v, first := before, !mayskip
		for _, res := range results {
			r, ok := res[i]
			if !ok {
				r = before
			}
			if first {
				v, first = r, false
			} else {
				v = join(v, r)
			}
		}
		f.set(i, v)
	}
}

func (f *finder) set(i int, v value) {
	f.log = append(f.log, change{idx: i, old: f.vars[i].v})
	f.vars[i].v = v
}

func (f *finder) popTo(mark int) {
	if mark < len(f.vars) {
		f.vars = f.vars[:mark]
	}
}

// lookup finds the innermost variable called name, as exec does.
func (f *finder) lookup(name string) int {
	for i := len(f.vars) - 1; i >= 0; i-- {
		if f.vars[i].name == name {
			return i
		}
	}
	return -1
}

// pipe evaluates a pipeline, handles its declarations or assignments, and
// returns its value. In range, declared variables are index and element.
func (f *finder) pipe(p *parse.PipeNode, isRange bool) value {
	if p == nil {
		return unknown
	}
	var prev *arg
	for _, c := range p.Cmds {
		v := f.cmd(c, prev)
		s, e := f.span(c)
		prev = &arg{v: v, start: s, end: e}
	}
	result := unknown
	if prev != nil {
		result = prev.v
	}
	for _, d := range p.Decl {
		v := result
		if isRange || len(p.Decl) > 1 {
			v = unknown
		}
		if p.IsAssign {
			if i := f.lookup(d.Ident[0]); i >= 0 {
				f.set(i, v)
			}
		} else {
			f.vars = append(f.vars, binding{name: d.Ident[0], v: v})
		}
	}
	return result
}

// cmd evaluates one command; prev is the value piped into it, which
// text/template passes as the final argument.
func (f *finder) cmd(c *parse.CommandNode, prev *arg) value {
	if len(c.Args) == 0 {
		return unknown
	}
	if id, ok := c.Args[0].(*parse.IdentifierNode); ok {
		args := make([]arg, 0, len(c.Args))
		for _, a := range c.Args[1:] {
			s, e := f.span(a)
			args = append(args, arg{v: f.eval(a), start: s, end: e})
		}
		if prev != nil {
			args = append(args, *prev)
		}
		return f.call(id.Ident, args)
	}
	v := f.eval(c.Args[0])
	for _, a := range c.Args[1:] {
		f.eval(a)
	}
	if len(c.Args) > 1 || prev != nil {
		return unknown // a method call
	}
	return v
}

// eval evaluates an operand, recording Vault calls nested in it.
func (f *finder) eval(n parse.Node) value {
	switch n := n.(type) {
	case *parse.StringNode:
		return strVal(n.Text)
	case *parse.NumberNode:
		return numberVal(n)
	case *parse.BoolNode:
		return value{known: true, gv: n.True}
	case *parse.DotNode:
		return f.dot
	case *parse.VariableNode:
		if len(n.Ident) == 1 {
			if i := f.lookup(n.Ident[0]); i >= 0 {
				return f.vars[i].v
			}
		}
		return unknown
	case *parse.IdentifierNode:
		return f.call(n.Ident, nil) // a niladic function call
	case *parse.PipeNode:
		return f.pipe(n, false)
	case *parse.ChainNode:
		f.eval(n.Node)
		return unknown
	}
	return unknown // nil, fields of data
}

// stringFuncs are consul-template/text/template functions known to return a
// string; that matters only for print's spacing rule.
var stringFuncs = map[string]bool{
	"env": true, "mustEnv": true, "envOrDefault": true, "key": true, "keyOrDefault": true,
	"toLower": true, "toUpper": true, "toTitle": true, "trimSpace": true, "trim": true,
	"trimPrefix": true, "trimSuffix": true, "replaceAll": true, "regexReplaceAll": true,
	"join": true, "base64Decode": true, "base64Encode": true, "base64URLDecode": true,
	"base64URLEncode": true, "html": true, "js": true, "urlquery": true,
}

func (f *finder) call(name string, args []arg) value {
	switch name {
	case "secret":
		// consul-template: secret(path, rest...) reads if rest is empty,
		// otherwise writes rest as k=v data.
		if len(args) > 0 {
			op := OpRead
			if len(args) > 1 {
				op = OpWrite
			}
			f.record(name, op, args[0], args[1:])
		}
	case "secrets":
		// func(string): any other arity fails before calling.
		if len(args) == 1 {
			f.record(name, OpList, args[0], nil)
		}
	case "pkiCert":
		if len(args) > 0 {
			f.record(name, OpWrite, args[0], args[1:])
		}
	case "printf":
		return sprintf(args)
	case "print":
		return sprint(args, false)
	case "println":
		return sprint(args, true)
	default:
		if stringFuncs[name] {
			return unknownStr("")
		}
	}
	return unknown
}

// record adds an Access unless executing the call could not reach Vault.
func (f *finder) record(fn, op string, path arg, rest []arg) {
	for _, a := range append([]arg{path}, rest...) {
		if a.v.known && !a.v.str {
			return // a non-string constant for a string parameter: exec error
		}
	}
	for _, a := range rest {
		if a.v.known && badData(a.v.s) {
			return
		}
	}
	acc := Access{Func: fn, Op: op, Offset: path.start, EndOffset: path.end}
	if path.v.known {
		if badPath(fn, op, path.v.s) {
			return
		}
		acc.Path = path.v.s
	} else {
		acc.Dynamic = true
		if path.v.str {
			acc.Prefix = path.v.s
		}
	}
	for _, a := range rest {
		if a.v.known {
			acc.Args = append(acc.Args, a.v.s)
		} else {
			acc.Args = append(acc.Args, f.text[a.start:a.end])
		}
	}
	acc.Line, acc.Column = position(f.text, f.lines, acc.Offset)
	f.out = append(f.out, acc)
}

// badData reports whether secret/pkiCert reject a data argument before
// contacting Vault: non-empty and not k=v (funcs.go, "not k=v pair").
func badData(s string) bool {
	return s != "" && !strings.Contains(s, "=")
}

// badPath reports whether consul-template rejects path without contacting
// Vault: NewVault*Query trim spaces and slashes and refuse "" (secrets
// returns early on ""), and reads and pkiCert refuse what url.Parse does.
func badPath(fn, op, path string) bool {
	p := strings.Trim(strings.TrimSpace(path), "/")
	if p == "" {
		return true
	}
	if op == OpRead || fn == "pkiCert" {
		if _, err := url.Parse(p); err != nil {
			return true
		}
	}
	return false
}

// noArgs lets fmt render a lone verb exactly as printf would ("%!s(MISSING)").
var noArgs []any

// sprintf folds printf. Verbs with known operands are formatted by fmt
// itself; at the first operand or construct that is not known the result
// becomes a string with the text so far as prefix.
func sprintf(args []arg) value {
	if len(args) == 0 {
		return unknown // exec: wrong number of args
	}
	fv := args[0].v
	if !fv.str {
		return unknown
	}
	if !fv.known {
		p, _, _ := strings.Cut(fv.s, "%")
		return unknownStr(p)
	}
	format, ops := fv.s, args[1:]
	var b strings.Builder
	next := 0
	for i := 0; i < len(format); {
		j := strings.IndexByte(format[i:], '%')
		if j < 0 {
			b.WriteString(format[i:])
			break
		}
		b.WriteString(format[i : i+j])
		i += j
		k := i + 1
		for k < len(format) && strings.IndexByte("+-# 0", format[k]) >= 0 {
			k++
		}
		var ok bool
		if k, ok = skipNum(format, k); !ok {
			return unknownStr(b.String()) // '*', '[n]' or a huge width
		}
		if k < len(format) && format[k] == '.' {
			if k, ok = skipNum(format, k+1); !ok {
				return unknownStr(b.String())
			}
		}
		if k < len(format) && format[k] == '[' {
			return unknownStr(b.String())
		}
		if k >= len(format) {
			fmt.Fprintf(&b, format[i:], noArgs...) // %!(NOVERB)
			break
		}
		r, size := utf8.DecodeRuneInString(format[k:])
		k += size
		spec := format[i:k]
		i = k
		if r == '%' || next >= len(ops) {
			fmt.Fprintf(&b, spec, noArgs...) // "%" or %!v(MISSING)
			continue
		}
		op := ops[next].v
		next++
		if !op.known {
			if op.str && (spec == "%s" || spec == "%v") {
				b.WriteString(op.s)
			}
			return unknownStr(b.String())
		}
		fmt.Fprintf(&b, spec, op.gv)
		if b.Len() > maxValueLen {
			return unknownStr(b.String())
		}
	}
	if next < len(ops) {
		return unknownStr(b.String()) // fmt appends %!(EXTRA ...)
	}
	return strVal(b.String())
}

// skipNum skips a decimal width or precision; it fails on '*', '[' and
// widths that could make the output large.
func skipNum(s string, k int) (int, bool) {
	if k < len(s) && (s[k] == '*' || s[k] == '[') {
		return k, false
	}
	n := 0
	for k < len(s) && '0' <= s[k] && s[k] <= '9' {
		n = n*10 + int(s[k]-'0')
		if n > 1000 {
			return k, false
		}
		k++
	}
	return k, true
}

// sprint folds print (fmt.Sprint: a space between operands when neither is
// a string) and println (always spaces, then a newline).
func sprint(args []arg, ln bool) value {
	var b strings.Builder
	for i, a := range args {
		v := a.v
		if i > 0 {
			switch prev := args[i-1].v; {
			case ln:
				b.WriteByte(' ')
			case prev.str || v.str:
			case v.known:
				b.WriteByte(' ') // both known non-strings
			default:
				return unknownStr(b.String()) // a space depends on v's type
			}
		}
		if !v.known {
			if v.str {
				b.WriteString(v.s)
			}
			return unknownStr(b.String())
		}
		if v.str {
			b.WriteString(v.s)
		} else {
			fmt.Fprint(&b, v.gv)
		}
		if b.Len() > maxValueLen {
			return unknownStr(b.String())
		}
	}
	if ln {
		b.WriteByte('\n')
	}
	return strVal(b.String())
}

// span returns the byte range of n's source. Node positions come from
// text/template/parse, with its quirk that a multi-field .a.b or $x.a is
// positioned at its second element.
func (f *finder) span(n parse.Node) (start, end int) {
	// Memoized: nested parentheses would otherwise make this quadratic.
	if sp, ok := f.spans[n]; ok {
		return sp[0], sp[1]
	}
	start, end = f.rawSpan(n)
	start = max(0, min(start, len(f.text)))
	end = max(start, min(end, len(f.text)))
	if f.spans == nil {
		f.spans = map[parse.Node][2]int{}
	}
	f.spans[n] = [2]int{start, end}
	return start, end
}

func (f *finder) rawSpan(n parse.Node) (int, int) {
	p := int(n.Position())
	switch n := n.(type) {
	case *parse.StringNode:
		return p, p + len(n.Quoted)
	case *parse.NumberNode:
		return p, p + len(n.Text)
	case *parse.BoolNode:
		return p, p + len(n.String())
	case *parse.NilNode:
		return p, p + len("nil")
	case *parse.DotNode:
		return p, p + 1
	case *parse.IdentifierNode:
		return p, p + len(n.Ident)
	case *parse.FieldNode:
		if len(n.Ident) > 1 {
			p -= 1 + len(n.Ident[0])
		}
		return p, p + len(n.String())
	case *parse.VariableNode:
		if len(n.Ident) > 1 {
			p -= len(n.Ident[0])
		}
		return p, p + len(n.String())
	case *parse.ChainNode:
		s, _ := f.span(n.Node)
		e := p
		for _, fld := range n.Field {
			e += 1 + len(fld)
		}
		return s, e
	case *parse.CommandNode:
		if len(n.Args) == 0 {
			return p, p
		}
		s, _ := f.span(n.Args[0])
		_, e := f.span(n.Args[len(n.Args)-1])
		return s, e
	case *parse.PipeNode:
		// A parenthesized pipeline: include the parentheses.
		s := p
		for s > 0 && isSpace(f.text[s-1]) {
			s--
		}
		if s > 0 && f.text[s-1] == '(' {
			s--
		} else {
			s = p
		}
		e := p
		if len(n.Cmds) > 0 {
			_, e = f.span(n.Cmds[len(n.Cmds)-1])
		}
		for e < len(f.text) && isSpace(f.text[e]) {
			e++
		}
		if e < len(f.text) && f.text[e] == ')' {
			e++
		}
		return s, e
	}
	return p, p
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
