package inputs

import (
	"fmt"
	"maps"
	"path/filepath"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// tfFunctions are the Terraform functions whose result the configuration
// alone settles (no time, no randomness), under Terraform's names, with
// go-cty's implementations, which Terraform's own wrap, and hcl's try and
// can. file() reads the module's files (tfModules.functions). Any other
// function is unknown to nvlint, and so is what uses it.
var tfFunctions = map[string]function.Function{
	"abs":             stdlib.AbsoluteFunc,
	"can":             tryfunc.CanFunc,
	"ceil":            stdlib.CeilFunc,
	"chomp":           stdlib.ChompFunc,
	"chunklist":       stdlib.ChunklistFunc,
	"coalesce":        stdlib.CoalesceFunc,
	"coalescelist":    stdlib.CoalesceListFunc,
	"compact":         stdlib.CompactFunc,
	"concat":          stdlib.ConcatFunc,
	"contains":        stdlib.ContainsFunc,
	"csvdecode":       stdlib.CSVDecodeFunc,
	"distinct":        stdlib.DistinctFunc,
	"element":         stdlib.ElementFunc,
	"flatten":         stdlib.FlattenFunc,
	"floor":           stdlib.FloorFunc,
	"format":          stdlib.FormatFunc,
	"formatlist":      stdlib.FormatListFunc,
	"indent":          stdlib.IndentFunc,
	"index":           stdlib.IndexFunc,
	"join":            stdlib.JoinFunc,
	"jsondecode":      stdlib.JSONDecodeFunc,
	"jsonencode":      stdlib.JSONEncodeFunc,
	"keys":            stdlib.KeysFunc,
	"length":          stdlib.LengthFunc,
	"lookup":          stdlib.LookupFunc,
	"lower":           stdlib.LowerFunc,
	"max":             stdlib.MaxFunc,
	"merge":           stdlib.MergeFunc,
	"min":             stdlib.MinFunc,
	"parseint":        stdlib.ParseIntFunc,
	"range":           stdlib.RangeFunc,
	"regex":           stdlib.RegexFunc,
	"regexall":        stdlib.RegexAllFunc,
	"replace":         stdlib.ReplaceFunc,
	"reverse":         stdlib.ReverseListFunc,
	"setintersection": stdlib.SetIntersectionFunc,
	"setproduct":      stdlib.SetProductFunc,
	"setsubtract":     stdlib.SetSubtractFunc,
	"setunion":        stdlib.SetUnionFunc,
	"slice":           stdlib.SliceFunc,
	"sort":            stdlib.SortFunc,
	"split":           stdlib.SplitFunc,
	"strrev":          stdlib.ReverseFunc,
	"substr":          stdlib.SubstrFunc,
	"title":           stdlib.TitleFunc,
	"trim":            stdlib.TrimFunc,
	"trimprefix":      stdlib.TrimPrefixFunc,
	"trimspace":       stdlib.TrimSpaceFunc,
	"trimsuffix":      stdlib.TrimSuffixFunc,
	"try":             tryfunc.TryFunc,
	"upper":           stdlib.UpperFunc,
	"values":          stdlib.ValuesFunc,
	"zipmap":          stdlib.ZipmapFunc,
	"tolist":          stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
	"toset":           stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)),
	"tomap":           stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)),
	"tostring":        stdlib.MakeToFunc(cty.String),
	"tonumber":        stdlib.MakeToFunc(cty.Number),
	"tobool":          stdlib.MakeToFunc(cty.Bool),
}

// functions are tfFunctions with file() reading paths relative to root,
// the root module's directory, as Terraform does; a module's own files
// are "${path.module}/...". A file nvlint cannot read as text is an
// error, which leaves what uses it unknown.
func (m *tfModules) functions(root string) map[string]function.Function {
	if m == nil || root == "" {
		return tfFunctions
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if f, ok := m.funcs[root]; ok {
		return f
	}
	f := maps.Clone(tfFunctions)
	f["file"] = function.New(&function.Spec{
		Params: []function.Parameter{{Name: "path", Type: cty.String}},
		Type:   function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			p := args[0].AsString()
			if !filepath.IsAbs(p) {
				p = filepath.Join(root, p)
			}
			src, err := m.read(filepath.Clean(p))
			switch {
			case err != nil:
				return cty.DynamicVal, err
			case len(src) > MaxFileSize || !utf8.Valid(src):
				return cty.DynamicVal, fmt.Errorf("%s is not a text file nvlint reads", p)
			}
			return cty.StringVal(string(src)), nil
		},
	})
	if m.funcs == nil {
		m.funcs = map[string]map[string]function.Function{}
	}
	m.funcs[root] = f
	return f
}

// evalPartial evaluates expr as Terraform plans it: what the context
// does not hold (a variable, a data source, a computed attribute) is an
// unknown value, not an error, so the known parts of the result stay
// known (the keys of a for_each map whose values name policies). ok is
// false when even that fails (an unknown function).
func evalPartial(expr hcl.Expression, ctx *hcl.EvalContext) (cty.Value, bool) {
	v, diags := expr.Value(ctx)
	if !diags.HasErrors() {
		return v, true
	}
	vars := maps.Clone(ctx.Variables)
	if vars == nil {
		vars = map[string]cty.Value{}
	}
	changed := false
	for _, t := range expr.Variables() {
		if _, d := t.TraverseAbs(&hcl.EvalContext{Variables: vars}); !d.HasErrors() {
			continue
		}
		vars[t.RootName()] = unknownAt(vars[t.RootName()], t[1:])
		changed = true
	}
	if !changed {
		return cty.DynamicVal, false
	}
	v, diags = expr.Value(&hcl.EvalContext{Variables: vars, Functions: ctx.Functions})
	if diags.HasErrors() {
		return cty.DynamicVal, false
	}
	return v, true
}

// unknownAt returns v with an unknown value at the attribute path.
func unknownAt(v cty.Value, path hcl.Traversal) cty.Value {
	if len(path) == 0 {
		return cty.DynamicVal
	}
	step, ok := path[0].(hcl.TraverseAttr)
	if !ok {
		return cty.DynamicVal
	}
	attrs := map[string]cty.Value{}
	switch {
	case v == cty.NilVal:
	case v.IsKnown() && !v.IsNull() && v.Type().IsObjectType():
		attrs = v.AsValueMap()
		if attrs == nil {
			attrs = map[string]cty.Value{}
		}
	default:
		return cty.DynamicVal
	}
	prev, ok := attrs[step.Name]
	if !ok {
		prev = cty.NilVal
	}
	attrs[step.Name] = unknownAt(prev, path[1:])
	return cty.ObjectVal(attrs)
}
