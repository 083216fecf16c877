package inputs

import (
	"maps"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// tfFunctions are the Terraform functions whose result the configuration
// alone settles (no files, no time, no randomness), with go-cty's
// implementations, which Terraform's own wrap. Any other function is
// unknown to nvlint, and so is what uses it.
var tfFunctions = map[string]function.Function{
	"concat":    stdlib.ConcatFunc,
	"contains":  stdlib.ContainsFunc,
	"distinct":  stdlib.DistinctFunc,
	"flatten":   stdlib.FlattenFunc,
	"format":    stdlib.FormatFunc,
	"join":      stdlib.JoinFunc,
	"keys":      stdlib.KeysFunc,
	"length":    stdlib.LengthFunc,
	"lookup":    stdlib.LookupFunc,
	"lower":     stdlib.LowerFunc,
	"merge":     stdlib.MergeFunc,
	"replace":   stdlib.ReplaceFunc,
	"split":     stdlib.SplitFunc,
	"trimspace": stdlib.TrimSpaceFunc,
	"upper":     stdlib.UpperFunc,
	"values":    stdlib.ValuesFunc,
	"tolist":    stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
	"toset":     stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)),
	"tomap":     stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)),
	"tostring":  stdlib.MakeToFunc(cty.String),
	"tonumber":  stdlib.MakeToFunc(cty.Number),
	"tobool":    stdlib.MakeToFunc(cty.Bool),
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
