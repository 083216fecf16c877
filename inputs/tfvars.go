package inputs

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/nvlint/nvlint/world"
)

// TerraformVar is one --var-file FILE or --var NAME=VALUE of the command
// line. They apply in the order given, after the module's own
// terraform.tfvars and *.auto.tfvars, as terraform plan applies them.
type TerraformVar struct {
	// File is a variable definitions file; when "", Name and Value are
	// one variable's value as written on the command line.
	File        string
	Name, Value string
}

// tfVarSet is one source of variable values, in precedence order.
type tfVarSet struct {
	file string
	// vals are a file's values; raw is one --var, whose parsing depends
	// on the variable's type.
	vals map[string]cty.Value
	at   map[string]hcl.Expression
	raw  *TerraformVar
}

// CheckTerraformVars reads the --var-file files and checks the --var
// values' form, so that a mistake is a usage error, as with terraform plan.
func CheckTerraformVars(vars []TerraformVar) error {
	for _, v := range vars {
		if v.File == "" {
			if v.Name == "" {
				return fmt.Errorf("--var wants NAME=VALUE, got %q", "="+v.Value)
			}
			continue
		}
		src, err := os.ReadFile(v.File)
		if err != nil {
			return fmt.Errorf("--var-file: %w", unwrapPathErr(err))
		}
		if _, diags := tfvarsValues(v.File, src); diags.HasErrors() {
			return fmt.Errorf("--var-file %s: %s", v.File, diags.Error())
		}
	}
	return nil
}

// isTFVarsPath reports whether p is a Terraform variable definitions file.
func isTFVarsPath(p string) bool {
	p = strings.ToLower(p)
	return strings.HasSuffix(p, ".tfvars") || strings.HasSuffix(p, ".tfvars.json")
}

// tfvarsValues reads a variable definitions file: constant expressions
// only, as Terraform reads them (no variables, no functions).
func tfvarsValues(path string, src []byte) (map[string]cty.Value, hcl.Diagnostics) {
	vals, _, diags := tfvarsFile(path, src)
	return vals, diags
}

// tfvarsFile is tfvarsValues with where each value is written.
func tfvarsFile(path string, src []byte) (map[string]cty.Value, map[string]hcl.Expression, hcl.Diagnostics) {
	file, diags := parseTerraform(src, path)
	if diags.HasErrors() || file == nil || file.Body == nil {
		return nil, nil, diags
	}
	attrs, diags := file.Body.JustAttributes()
	vals, at := map[string]cty.Value{}, map[string]hcl.Expression{}
	for n, a := range attrs {
		v, d := a.Expr.Value(nil)
		diags = append(diags, d...)
		if !d.HasErrors() {
			vals[n], at[n] = v, a.Expr
		}
	}
	return vals, at, diags
}

// tfVarSets are the sources of a module's variable values, lowest
// precedence first: terraform.tfvars, terraform.tfvars.json, the
// *.auto.tfvars(.json) files in lexical order, then the command line.
func (m *tfModules) tfVarSets(dir string) []tfVarSet {
	var sets []tfVarSet
	add := func(p string) {
		src, err := m.read(p)
		if err != nil || len(src) > MaxFileSize {
			return
		}
		if vals, at, _ := tfvarsFile(p, src); vals != nil {
			sets = append(sets, tfVarSet{file: p, vals: vals, at: at})
		}
	}
	if dir != "" {
		add(filepath.Join(dir, "terraform.tfvars"))
		add(filepath.Join(dir, "terraform.tfvars.json"))
		var auto []string
		if entries, err := os.ReadDir(dir); err == nil {
			for _, e := range entries {
				if n := e.Name(); !e.IsDir() && (strings.HasSuffix(n, ".auto.tfvars") || strings.HasSuffix(n, ".auto.tfvars.json")) {
					auto = append(auto, n)
				}
			}
		}
		sort.Strings(auto)
		for _, n := range auto {
			add(filepath.Join(dir, n))
		}
	}
	if m != nil {
		for i := range m.vars {
			v := &m.vars[i]
			if v.File != "" {
				add(v.File)
			} else {
				sets = append(sets, tfVarSet{raw: v})
			}
		}
	}
	return sets
}

// variableValues are the values of the module's declared variables:
// the default, overridden by each set in turn, converted to the declared
// type. A variable with no value, or one that does not convert, is
// unknown, as it is until Terraform asks for it. at is where each known
// value is written (a default or a tfvars file); a --var has no place.
func variableValues(blocks []*hcl.Block, sets []tfVarSet) (val cty.Value, at map[string]hcl.Expression) {
	vals := map[string]cty.Value{}
	at = map[string]hcl.Expression{}
	for _, b := range blocks {
		name := b.Labels[0]
		attrs, _ := b.Body.JustAttributes()
		ty, literal := cty.DynamicPseudoType, true
		if a, ok := attrs["type"]; ok {
			if t, diags := typeexpr.TypeConstraint(a.Expr); !diags.HasErrors() {
				ty, literal = t, t.IsPrimitiveType()
			}
		}
		var where hcl.Expression
		v := cty.NilVal
		if a, ok := attrs["default"]; ok {
			if d, diags := a.Expr.Value(nil); !diags.HasErrors() {
				v, where = d, a.Expr
			}
		}
		for _, s := range sets {
			switch {
			case s.raw != nil && s.raw.Name == name && literal:
				v, where = cty.StringVal(s.raw.Value), nil
			case s.raw != nil && s.raw.Name == name:
				expr, diags := hclsyntax.ParseExpression([]byte(s.raw.Value), "<value for var."+name+">", hcl.InitialPos)
				v, where = cty.DynamicVal, nil
				if !diags.HasErrors() {
					if pv, d := expr.Value(nil); !d.HasErrors() {
						v = pv
					}
				}
			case s.vals != nil:
				if sv, ok := s.vals[name]; ok {
					v, where = sv, s.at[name]
				}
			}
		}
		if v == cty.NilVal || v.IsNull() {
			vals[name] = cty.DynamicVal
			continue
		}
		if c, err := convert.Convert(v, ty); err == nil {
			v = c
			if where != nil {
				at[name] = where
			}
		} else {
			v = cty.DynamicVal
		}
		vals[name] = v
	}
	return cty.ObjectVal(vals), at
}

// tfVarExpr is an attribute set to a variable (name = var.x): its value
// is written where the variable's value is, so findings and their edits
// go there.
type tfVarExpr struct {
	tfExpr
	at hcl.Range
}

func (e tfVarExpr) Range() hcl.Range { return e.at }

// valueOrigin is the expression that writes the value of expr, when
// expr only reads a value written elsewhere: a variable (var.x, or a
// part of it, var.x.a["b"]) whose value is written in a file, or a part
// of the for_each element of the instance (each.value.a), whose
// expression is each. Anything computed has no one place.
func valueOrigin(expr hcl.Expression, at map[string]hcl.Expression, each hcl.Expression) (hcl.Expression, bool) {
	t, ok := expr.(*hclsyntax.ScopeTraversalExpr)
	if !ok || len(t.Traversal) < 2 {
		return nil, false
	}
	step, ok := t.Traversal[1].(hcl.TraverseAttr)
	if !ok {
		return nil, false
	}
	var base hcl.Expression
	switch t.Traversal.RootName() {
	case "var":
		base = at[step.Name]
	case "each":
		if step.Name == "value" {
			base = each
		}
	}
	if base == nil {
		return nil, false
	}
	return exprAt(base, t.Traversal[2:])
}

// exprAt follows attribute and index steps into an object or list
// written literally: the expression of the part the path names.
func exprAt(expr hcl.Expression, path hcl.Traversal) (hcl.Expression, bool) {
	for _, step := range path {
		var key cty.Value
		switch s := step.(type) {
		case hcl.TraverseAttr:
			key = cty.StringVal(s.Name)
		case hcl.TraverseIndex:
			key = s.Key
		default:
			return nil, false
		}
		next, ok := elementExpr(expr, key)
		if !ok {
			return nil, false
		}
		expr = next
	}
	return expr, true
}

// elementExpr is the expression of one element of an object or list
// written literally, by key or index.
func elementExpr(expr hcl.Expression, key cty.Value) (hcl.Expression, bool) {
	if !key.IsKnown() || key.IsNull() {
		return nil, false
	}
	if key.Type() == cty.String {
		pairs, diags := hcl.ExprMap(expr)
		if diags.HasErrors() {
			return nil, false
		}
		for _, kv := range pairs {
			if k, d := kv.Key.Value(nil); !d.HasErrors() && k.Type() == cty.String && k.IsKnown() && !k.IsNull() && k.AsString() == key.AsString() {
				return kv.Value, true
			}
		}
		return nil, false
	}
	if key.Type() == cty.Number {
		elems, diags := hcl.ExprList(expr)
		if diags.HasErrors() {
			return nil, false
		}
		i, acc := key.AsBigFloat().Int64()
		if acc != 0 || i < 0 || int(i) >= len(elems) {
			return nil, false
		}
		return elems[i], true
	}
	return nil, false
}

// useOrigin records that a value written in the file at path is read, so
// that the file is one of the run's: findings show it and fixes edit it.
func (m *tfModules) useOrigin(path, module string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.origins[samePath(path)] != nil {
		return
	}
	src, err := m.read(path)
	if err != nil {
		return
	}
	if m.origins == nil {
		m.origins = map[string]*world.File{}
	}
	m.origins[samePath(path)] = &world.File{Path: path, Kind: world.KindTerraform, Src: src, Terraform: module}
}

// addOrigins adds the files variable values were read from that the run
// does not already hold.
func (m *tfModules) addOrigins(w *world.World) {
	have := map[string]bool{}
	for _, f := range w.Files {
		have[samePath(f.Path)] = true
	}
	var add []*world.File
	for p, f := range m.origins {
		if !have[p] {
			add = append(add, f)
		}
	}
	sort.Slice(add, func(i, j int) bool { return add[i].Path < add[j].Path })
	w.Files = append(w.Files, add...)
}
