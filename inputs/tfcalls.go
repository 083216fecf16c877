package inputs

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/nvlint/nvlint/world"
)

// A module block whose source is a local path (./ or ../, as Terraform
// tells local paths from registry addresses) is read as Terraform
// plans it: the called directory's resources, with its variables set
// from the call's arguments, and its outputs as module.NAME.* in the
// caller. A directory a module of the run calls is read only through
// its calls, never as a root module of its own, where its variables
// would have no values. Registry and remote modules are not fetched:
// what they declare is recorded as skipped, so no rule calls it missing.

// maxModuleDepth bounds how deep module calls are followed; Terraform
// refuses a cycle, nvlint stops at it.
const maxModuleDepth = 16

// tfMetaArgs are a module block's arguments that are not its inputs.
var tfMetaArgs = map[string]bool{"source": true, "version": true, "count": true, "for_each": true, "providers": true, "depends_on": true}

// tfParsed is one parsed Terraform file of a module directory.
type tfParsed struct {
	path string
	src  []byte
	file *hcl.File
	json bool
	// diags are the file's parse diagnostics.
	diags hcl.Diagnostics
}

// localSource is the directory a module source names when it is a local
// path, relative to the calling module's directory.
func localSource(dir, source string) (string, bool) {
	if !strings.HasPrefix(source, "./") && !strings.HasPrefix(source, "../") && source != "." && source != ".." {
		return "", false
	}
	return filepath.Clean(filepath.Join(dir, source)), true
}

// callSource is a module block's source when it is a literal string, as
// Terraform requires.
func callSource(b *hcl.Block) (string, hcl.Range, bool) {
	attrs, _ := b.Body.JustAttributes()
	a, ok := attrs["source"]
	if !ok {
		return "", b.DefRange, false
	}
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() || !v.IsKnown() || v.IsNull() || v.Type() != cty.String {
		return "", a.Expr.Range(), false
	}
	return v.AsString(), a.Expr.Range(), true
}

// dirFiles parses the Terraform files of a module directory, once per
// Load.
func (m *tfModules) dirFiles(dir string) []*tfParsed {
	if m == nil {
		return nil
	}
	key := samePath(dir)
	m.mu.Lock()
	if got, ok := m.parsed[key]; ok {
		m.mu.Unlock()
		return got
	}
	m.mu.Unlock()
	var out []*tfParsed
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if e.IsDir() || !isTerraformPath(p) {
			continue
		}
		src, err := m.read(p)
		if err != nil || len(src) > MaxFileSize {
			continue
		}
		pf := &tfParsed{path: p, src: src, json: strings.HasSuffix(strings.ToLower(p), ".json")}
		pf.file, pf.diags = parseTerraform(src, p)
		if pf.file != nil && pf.file.Body != nil {
			out = append(out, pf)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.parsed == nil {
		m.parsed = map[string][]*tfParsed{}
	}
	if got, ok := m.parsed[key]; ok {
		return got
	}
	m.parsed[key] = out
	return out
}

// planCalls finds the directories the run's Terraform modules call with
// a local source, and how often: those are read through their calls. It
// runs before the files are loaded.
func (m *tfModules) planCalls(files []*world.File) {
	m.called = map[string]int{}
	roots := map[string][]string{}
	for _, f := range files {
		if f.Path != "-" && isTerraformPath(f.Path) {
			d := filepath.Dir(f.Path)
			roots[d] = append(roots[d], f.Path)
		}
	}
	var visit func(dir string, depth int, stack map[string]bool)
	visit = func(dir string, depth int, stack map[string]bool) {
		if depth > maxModuleDepth || stack[samePath(dir)] {
			return
		}
		stack[samePath(dir)] = true
		defer delete(stack, samePath(dir))
		var bodies []hcl.Body
		if depth == 0 {
			// A root module's calls are those of the files linted; a
			// file that never says "module" is not parsed for them.
			for _, p := range roots[dir] {
				if src, err := m.read(p); err == nil && len(src) <= MaxFileSize && bytes.Contains(src, []byte("module")) {
					if f, _ := parseTerraform(src, p); f != nil && f.Body != nil {
						bodies = append(bodies, f.Body)
					}
				}
			}
		} else {
			for _, pf := range m.dirFiles(dir) {
				bodies = append(bodies, pf.file.Body)
			}
		}
		for _, body := range bodies {
			content, _, _ := body.PartialContent(tfRootSchema)
			for _, b := range content.Blocks {
				if b.Type != "module" {
					continue
				}
				src, _, ok := callSource(b)
				if !ok {
					continue
				}
				if child, ok := localSource(dir, src); ok && !stack[samePath(child)] {
					m.called[samePath(child)]++
					visit(child, depth+1, stack)
				}
			}
		}
	}
	dirs := make([]string, 0, len(roots))
	for d := range roots {
		dirs = append(dirs, d)
	}
	sort.Strings(dirs)
	for _, d := range dirs {
		visit(d, 0, map[string]bool{})
	}
}

// isCalled reports whether a module of the run calls the directory.
func (m *tfModules) isCalled(dir string) bool {
	if m == nil {
		return false
	}
	return m.called[samePath(dir)] > 0
}

// moduleFile is the one world.File of a called module's file, shared by
// every call of the module.
func (m *tfModules) moduleFile(pf *tfParsed, root string) *world.File {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.callFiles == nil {
		m.callFiles = map[string]*world.File{}
	}
	key := samePath(pf.path)
	if f := m.callFiles[key]; f != nil {
		return f
	}
	f := &world.File{Path: pf.path, Src: pf.src, Kind: world.KindTerraform, Terraform: root, Explicit: true, Diags: pf.diags}
	m.callFiles[key] = f
	return f
}

// fileLock is the lock of a called module's file (see call).
func (m *tfModules) fileLock(f *world.File) *sync.Mutex {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fileLocks == nil {
		m.fileLocks = map[*world.File]*sync.Mutex{}
	}
	mu := m.fileLocks[f]
	if mu == nil {
		mu = &sync.Mutex{}
		m.fileLocks[f] = mu
	}
	return mu
}

// uniqueDiags drops the repeats of a diagnostic: each call of a module
// finds the same problems in its files.
func uniqueDiags(diags hcl.Diagnostics) hcl.Diagnostics {
	type key struct {
		summary, detail string
		at              hcl.Range
	}
	seen := map[key]bool{}
	out := diags[:0]
	for _, d := range diags {
		k := key{summary: d.Summary, detail: d.Detail}
		if d.Subject != nil {
			k.at = *d.Subject
		}
		if !seen[k] {
			seen[k] = true
			out = append(out, d)
		}
	}
	return out
}

// tfCallInstance is one instance of a module call: its address and the
// count or each object its arguments see.
type tfCallInstance struct {
	addr  string
	scope string
	val   cty.Value
}

// callInstances expands a module call's count or for_each as for a
// resource; ok is false when they are not known.
func callInstances(b *hcl.Block, prefix string, ctx *hcl.EvalContext) ([]tfCallInstance, bool) {
	attrs, _ := b.Body.JustAttributes()
	addr := prefix + "module." + b.Labels[0]
	if a, ok := attrs["count"]; ok {
		n, ok := countOf(a.Expr, ctx)
		if !ok {
			return nil, false
		}
		out := make([]tfCallInstance, n)
		for i := range n {
			out[i] = tfCallInstance{addr: fmt.Sprintf("%s[%d]", addr, i), scope: "count", val: cty.ObjectVal(map[string]cty.Value{"index": cty.NumberIntVal(int64(i))})}
		}
		return out, true
	}
	if a, ok := attrs["for_each"]; ok {
		each, ok := forEach(a.Expr, ctx)
		if !ok {
			return nil, false
		}
		out := make([]tfCallInstance, len(each))
		for i, e := range each {
			out[i] = tfCallInstance{addr: fmt.Sprintf("%s[%q]", addr, e.key), scope: "each", val: e.each}
		}
		return out, true
	}
	return []tfCallInstance{{addr: addr}}, true
}

// callInputs are the values a module call gives the called module's
// variables, evaluated in the caller, and where each is written when a
// finding on it can be fixed there alone: a literal argument of a call
// without count or for_each, or an argument set to a variable whose
// value is written somewhere.
func callInputs(b *hcl.Block, ctx *hcl.EvalContext, origins map[string]hcl.Expression, each hcl.Expression, shared bool) tfVarSet {
	attrs, _ := b.Body.JustAttributes()
	set := tfVarSet{vals: map[string]cty.Value{}, at: map[string]hcl.Expression{}}
	for n, a := range attrs {
		if tfMetaArgs[n] {
			continue
		}
		v, ok := evalPartial(a.Expr, ctx)
		if !ok {
			v = cty.DynamicVal
		}
		set.vals[n] = v
		if at, ok := valueOrigin(a.Expr, origins, each); ok {
			set.at[n] = at
		} else if !shared && (isLiteral(a.Expr) || isFileCall(a.Expr)) {
			set.at[n] = a.Expr
		}
	}
	return set
}

// isFileCall reports whether expr is file() of a literal path: the
// file's text, which a module's policy or jobspec may be set to.
func isFileCall(expr hcl.Expression) bool {
	call, ok := expr.(*hclsyntax.FunctionCallExpr)
	return ok && call.Name == "file" && len(call.Args) == 1 && isLiteral(call.Args[0])
}

// isLiteral reports whether expr is written as a constant: no
// references, no function calls, no templates with interpolations.
func isLiteral(expr hcl.Expression) bool {
	if len(expr.Variables()) > 0 {
		return false
	}
	native, ok := expr.(hclsyntax.Expression)
	if !ok {
		return false
	}
	literal := true
	_ = hclsyntax.VisitAll(native, func(n hclsyntax.Node) hcl.Diagnostics {
		switch n.(type) {
		case *hclsyntax.FunctionCallExpr, *hclsyntax.ForExpr, *hclsyntax.ConditionalExpr:
			literal = false
		}
		return nil
	})
	return literal
}

// moduleOutputs are a call's module.NAME value in the caller: the called
// module's outputs, as an object, a list of objects (count) or a map of
// them (for_each); unknown when the call cannot be followed.
func (m *tfModules) moduleOutputs(b *hcl.Block, root, dir string, ctx *hcl.EvalContext, origins map[string]hcl.Expression, stack []string) cty.Value {
	src, _, ok := callSource(b)
	if !ok || m == nil || len(stack) >= maxModuleDepth {
		return cty.DynamicVal
	}
	child, ok := localSource(dir, src)
	if !ok || samePath(child) == samePath(dir) || slices.Contains(stack, samePath(child)) {
		return cty.DynamicVal
	}
	insts, ok := callInstances(b, "", ctx)
	if !ok {
		return cty.DynamicVal
	}
	attrs, _ := b.Body.JustAttributes()
	if len(insts) == 0 {
		if _, ok := attrs["for_each"]; ok {
			return cty.EmptyObjectVal
		}
		return cty.EmptyTupleVal
	}
	stack = append(slices.Clip(stack), samePath(dir))
	outs := map[string]cty.Value{}
	var list []cty.Value
	for _, in := range insts {
		ictx := scoped(ctx, in.scope, in.val)
		set := callInputs(b, ictx, origins, nil, in.scope != "")
		vars, _ := m.childVars(root, child, set, stack)
		obj := map[string]cty.Value{}
		cctx := &hcl.EvalContext{Variables: vars, Functions: m.functions(root)}
		for _, pf := range m.dirFiles(child) {
			content, _, _ := pf.file.Body.PartialContent(tfRootSchema)
			for _, ob := range content.Blocks {
				if ob.Type != "output" {
					continue
				}
				attrs, _ := ob.Body.JustAttributes()
				v := cty.DynamicVal
				if a, ok := attrs["value"]; ok {
					if ev, ok := evalPartial(a.Expr, cctx); ok {
						v = ev
					}
				}
				obj[ob.Labels[0]] = v
			}
		}
		switch in.scope {
		case "each":
			outs[in.val.GetAttr("key").AsString()] = cty.ObjectVal(obj)
		default:
			list = append(list, cty.ObjectVal(obj))
		}
	}
	switch insts[0].scope {
	case "each":
		return cty.ObjectVal(outs)
	case "count":
		return cty.TupleVal(list)
	}
	return list[0]
}

// scoped is ctx with one more variable (count or each); ctx itself when
// scope is "".
func scoped(ctx *hcl.EvalContext, scope string, val cty.Value) *hcl.EvalContext {
	if scope == "" {
		return ctx
	}
	vars := make(map[string]cty.Value, len(ctx.Variables)+1)
	for k, v := range ctx.Variables {
		vars[k] = v
	}
	vars[scope] = val
	return &hcl.EvalContext{Variables: vars, Functions: ctx.Functions}
}

// childVars is the evaluation context's variables of a called module,
// its variables set from the call's inputs alone: a called module reads
// no tfvars files and no --var. stack are the directories of the calls
// that lead to it. A module called again with the same inputs (the
// caller's locals evaluated again, another instance) is evaluated once.
func (m *tfModules) childVars(root, dir string, inputs tfVarSet, stack []string) (map[string]cty.Value, map[string]hcl.Expression) {
	var key strings.Builder
	fmt.Fprintf(&key, "%s\x00%s\x00%s", samePath(root), samePath(dir), strings.Join(stack, "\x00"))
	names := slices.Sorted(maps.Keys(inputs.vals))
	for _, n := range names {
		fmt.Fprintf(&key, "\x00%s=%s", n, inputs.vals[n].GoString())
		if at, ok := inputs.at[n]; ok {
			r := at.Range()
			fmt.Fprintf(&key, "@%s:%d-%d", r.Filename, r.Start.Byte, r.End.Byte)
		}
	}
	m.mu.Lock()
	got, ok := m.childCache[key.String()]
	m.mu.Unlock()
	if ok {
		return got.vars, got.origins
	}
	var bodies []hcl.Body
	for _, pf := range m.dirFiles(dir) {
		bodies = append(bodies, pf.file.Body)
	}
	vars, origins := moduleVars(m, root, dir, bodies, []tfVarSet{inputs}, stack)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.childCache == nil {
		m.childCache = map[string]tfChildVars{}
	}
	m.childCache[key.String()] = tfChildVars{vars, origins}
	return vars, origins
}

// tfChildVars are a called module's variables and where their values
// are written (see childVars).
type tfChildVars struct {
	vars    map[string]cty.Value
	origins map[string]hcl.Expression
}

// calls reads the module calls of a file being loaded: each local
// module's resources, once per instance of the call.
func (l *tfLoader) calls(blocks []*hcl.Block) {
	for _, b := range blocks {
		if b.Type == "module" {
			l.call(b)
		}
	}
}

func (l *tfLoader) call(b *hcl.Block) {
	addr := l.module + "module." + b.Labels[0]
	src, at, ok := callSource(b)
	if !ok {
		l.notef(at, "%s: skipped: its source is not a literal string", addr)
		l.skipModule(addr+" (a module whose source nvlint cannot read)", b.DefRange)
		return
	}
	child, local := localSource(filepath.Dir(l.f.Path), src)
	switch {
	case !local:
		l.notef(b.DefRange, "%s: skipped: %q is a registry or remote module, which nvlint does not fetch", addr, src)
		l.skipModule(fmt.Sprintf("%s (the module %s, which nvlint does not fetch)", addr, src), b.DefRange)
		return
	case l.f.Path == "-":
		l.notef(b.DefRange, "%s: skipped: a configuration read from standard input has no directory to find %s in", addr, src)
		l.skipModule(addr+" (a local module of standard input)", b.DefRange)
		return
	case l.depth >= maxModuleDepth || slices.Contains(l.stack, samePath(child)) || samePath(child) == samePath(filepath.Dir(l.f.Path)):
		l.notef(b.DefRange, "%s: skipped: it calls a module that is calling it, or module calls nest deeper than nvlint follows", addr)
		l.skipModule(addr+" (a module cycle, or calls nested too deep)", b.DefRange)
		return
	}
	files := l.opts.tf.dirFiles(child)
	if len(files) == 0 {
		l.notef(at, "%s: skipped: %s holds no Terraform files nvlint can read", addr, child)
		l.skipModule(addr+" (a module directory nvlint cannot read)", b.DefRange)
		return
	}
	insts, ok := callInstances(b, l.module, l.ctx)
	if !ok {
		l.notef(b.DefRange, "%s: skipped: its count or for_each is not known without Terraform", addr)
		l.skipModule(addr+" (a count or for_each known only to Terraform)", b.DefRange)
		return
	}
	shared := l.opts.tf.called[samePath(child)] > 1
	attrs, _ := b.Body.JustAttributes()
	var from hcl.Expression
	if a, ok := attrs["for_each"]; ok {
		from, _ = valueOrigin(a.Expr, l.origins, nil)
	}
	for _, in := range insts {
		ctx := scoped(l.ctx, in.scope, in.val)
		var each hcl.Expression
		if in.scope == "each" {
			each = eachOrigin(from, in.val.GetAttr("key").AsString())
		}
		set := callInputs(b, ctx, l.origins, each, in.scope != "")
		vars, origins := l.opts.tf.childVars(l.f.Terraform, child, set, append(slices.Clip(l.stack), samePath(filepath.Dir(l.f.Path))))
		if shared || len(insts) > 1 {
			// A default in the module is every call's value: editing it
			// is no one object's fix.
			origins = maps.Clone(origins)
			for n, o := range origins {
				if filepath.Dir(o.Range().Filename) == child {
					delete(origins, n)
				}
			}
		}
		for _, pf := range files {
			cl := &tfLoader{
				f: l.opts.tf.moduleFile(pf, l.f.Terraform), opts: l.opts, w: l.w,
				ctx:     &hcl.EvalContext{Variables: vars, Functions: l.ctx.Functions},
				origins: origins, json: pf.json, lines: newLineIndex(pf.src),
				module: in.addr + ".", depth: l.depth + 1, shared: l.shared || shared || len(insts) > 1 || in.scope != "",
				stack: append(slices.Clip(l.stack), samePath(filepath.Dir(l.f.Path))),
			}
			// Every call of the module reads its file, maybe at once
			// (two root modules calling it): one at a time, so that what
			// a reading adds to the file (its diagnostics) is added once.
			mu := l.opts.tf.fileLock(cl.f)
			mu.Lock()
			cl.readBody(pf.file.Body)
			cl.f.Diags = uniqueDiags(cl.f.Diags)
			mu.Unlock()
			l.notes = append(l.notes, cl.notes...)
			if !slices.Contains(l.called, cl.f) {
				l.called = append(l.called, cl.f)
			}
			for _, f := range cl.called {
				if !slices.Contains(l.called, f) {
					l.called = append(l.called, f)
				}
			}
		}
	}
}

// skipModule records that a module call may declare objects of every
// kind nvlint reads, with any names.
func (l *tfLoader) skipModule(what string, at hcl.Range) {
	for _, k := range []world.Kind{world.KindPolicy, world.KindTokenRole, world.KindJWTAuthConfig, world.KindJWTRole, world.KindJobspec} {
		l.skip(k, "", what, at)
	}
}
