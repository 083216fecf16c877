package inputs

import (
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/nvlint/nvlint/world"
)

// These helpers turn hcl expressions (native or JSON syntax) into world
// values that remember their ranges. A value nvlint cannot evaluate
// statically (variables, functions) is marked Set but not Known, so rules
// that need it stay silent instead of guessing.

func literal(expr hcl.Expression) (cty.Value, bool) {
	if expr == nil {
		return cty.NilVal, false
	}
	v, diags := expr.Value(nil)
	if diags.HasErrors() || !v.IsWhollyKnown() {
		return cty.NilVal, false
	}
	return v, true
}

func strValue(expr hcl.Expression) world.Str {
	out := world.Str{Set: true, Range: expr.Range()}
	v, ok := literal(expr)
	if !ok {
		return out
	}
	if v.IsNull() {
		return world.Str{}
	}
	sv, err := convert.Convert(v, cty.String)
	if err != nil {
		return out
	}
	out.V, out.Known = sv.AsString(), true
	return out
}

func strAttr(attrs hcl.Attributes, name string) world.Str {
	if a, ok := attrs[name]; ok {
		return strValue(a.Expr)
	}
	return world.Str{}
}

func boolAttr(attrs hcl.Attributes, name string) world.Bool {
	a, ok := attrs[name]
	if !ok {
		return world.Bool{}
	}
	out := world.Bool{Set: true, Range: a.Expr.Range()}
	v, ok := literal(a.Expr)
	if !ok || v.IsNull() {
		return out
	}
	// Vault and Nomad decode weakly: "true", 1 and true all mean true.
	if v.Type() == cty.String {
		b, err := strconv.ParseBool(v.AsString())
		if err != nil {
			return out
		}
		out.V, out.Known = b, true
		return out
	}
	bv, err := convert.Convert(v, cty.Bool)
	if err != nil {
		if v.Type() == cty.Number {
			out.V, out.Known = v.AsBigFloat().Sign() != 0, true
		}
		return out
	}
	out.V, out.Known = bv.True(), true
	return out
}

// intAttr reads a whole number; a string of digits counts, as Nomad's
// agent config decodes weakly.
func intAttr(attrs hcl.Attributes, name string) world.Value[int64] {
	a, ok := attrs[name]
	if !ok {
		return world.Value[int64]{}
	}
	out := world.Value[int64]{Set: true, Range: a.Expr.Range()}
	v, ok := literal(a.Expr)
	if !ok || v.IsNull() {
		return out
	}
	switch v.Type() {
	case cty.Number:
		if i, acc := v.AsBigFloat().Int64(); acc == big.Exact {
			out.V, out.Known = i, true
		}
	case cty.String:
		if i, err := strconv.ParseInt(strings.TrimSpace(v.AsString()), 10, 64); err == nil {
			out.V, out.Known = i, true
		}
	}
	return out
}

// secondsAttr reads a Vault duration: whole seconds as a number, or a
// string such as "72h", "30m" or "259200".
func secondsAttr(attrs hcl.Attributes, name string) world.Seconds {
	a, ok := attrs[name]
	if !ok {
		return world.Seconds{}
	}
	out := world.Seconds{Set: true, Range: a.Expr.Range()}
	v, ok := literal(a.Expr)
	if !ok || v.IsNull() {
		return out
	}
	switch v.Type() {
	case cty.Number:
		f := v.AsBigFloat()
		i, _ := f.Int64()
		out.V, out.Known = i, true
	case cty.String:
		if s, ok := ParseVaultDuration(v.AsString()); ok {
			out.V, out.Known = s, true
		}
	}
	return out
}

// ParseVaultDuration parses Vault's duration forms: an integer number of
// seconds, or a Go duration with an optional "d" unit.
func ParseVaultDuration(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, true
	}
	if n, ok := new(big.Int).SetString(s, 10); ok && n.IsInt64() {
		return n.Int64(), true
	}
	if strings.HasSuffix(s, "d") {
		if n, err := strconv.ParseInt(strings.TrimSuffix(s, "d"), 10, 64); err == nil {
			return n * 86400, true
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, false
	}
	return int64(d / time.Second), true
}

// listValue reads a list of strings. A single string is split on commas,
// as Vault accepts for its comma-string list parameters; each element then
// gets the range of its own text inside the string when that can be
// worked out.
func listValue(expr hcl.Expression) world.List {
	if v, ok := literal(expr); ok && v.IsNull() {
		return world.List{}
	}
	out := world.List{Set: true, Range: expr.Range()}
	if elems, diags := hcl.ExprList(expr); !diags.HasErrors() {
		out.Known = true
		for _, e := range elems {
			s := strValue(e)
			if !s.Known {
				out.Known = false
				continue
			}
			out.Items = append(out.Items, s)
		}
		return out
	}
	// A list that is not written out (a Terraform reference or function)
	// but evaluates: its elements share the expression's range.
	if v, ok := literal(expr); ok && (v.Type().IsListType() || v.Type().IsSetType() || v.Type().IsTupleType()) {
		out.Known = true
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			sv, err := convert.Convert(e, cty.String)
			if err != nil || sv.IsNull() {
				out.Known = false
				continue
			}
			out.Items = append(out.Items, world.Str{V: sv.AsString(), Set: true, Known: true, Range: expr.Range()})
		}
		return out
	}
	s := strValue(expr)
	if !s.Known {
		return out
	}
	out.Known = true
	out.Items = splitCommaString(s)
	return out
}

func listAttr(attrs hcl.Attributes, name string) world.List {
	if a, ok := attrs[name]; ok {
		return listValue(a.Expr)
	}
	return world.List{}
}

// splitCommaString splits "a, b" into elements. When the string is a
// plain one-line literal (the source is the value in quotes), element
// ranges point at each element's text; otherwise they share the range of
// the whole string.
func splitCommaString(s world.Str) []world.Str {
	r := s.Range
	exact := r.Start.Line == r.End.Line && r.End.Byte-r.Start.Byte == len(s.V)+2
	var out []world.Str
	offset := 0
	for _, part := range strings.Split(s.V, ",") {
		trimmed := strings.TrimSpace(part)
		lead := len(part) - len(strings.TrimLeft(part, " \t"))
		if trimmed != "" {
			item := world.Str{V: trimmed, Set: true, Known: true, Range: r}
			if exact {
				start := offset + lead + 1 // +1 for the opening quote
				item.Range = subRange(r, start, start+len(trimmed))
			}
			out = append(out, item)
		}
		offset += len(part) + 1
	}
	return out
}

// subRange returns the part of a one-line range from byte offset a to b,
// relative to its start.
func subRange(r hcl.Range, a, b int) hcl.Range {
	return hcl.Range{
		Filename: r.Filename,
		Start:    hcl.Pos{Line: r.Start.Line, Column: r.Start.Column + a, Byte: r.Start.Byte + a},
		End:      hcl.Pos{Line: r.Start.Line, Column: r.Start.Column + b, Byte: r.Start.Byte + b},
	}
}

// mapValue reads an object of strings.
func mapValue(expr hcl.Expression) world.Map {
	out := world.Map{Set: true, Range: expr.Range(), Entries: map[string]world.Str{}}
	pairs, diags := hcl.ExprMap(expr)
	if diags.HasErrors() {
		return out
	}
	out.Known = true
	for _, kv := range pairs {
		k := strValue(kv.Key)
		v := strValue(kv.Value)
		if !k.Known || !v.Known {
			out.Known = false
			continue
		}
		v.Range = hcl.RangeBetween(kv.Key.Range(), kv.Value.Range())
		out.Entries[k.V] = v
	}
	return out
}

// rawAttrs lists the attributes as written, for unknown-key checks.
func rawAttrs(attrs hcl.Attributes) []world.Attr {
	out := make([]world.Attr, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, world.Attr{Name: a.Name, NameRange: a.NameRange, Range: a.Range})
	}
	sortAttrs(out)
	return out
}

func sortAttrs(attrs []world.Attr) {
	sort.Slice(attrs, func(i, j int) bool { return attrs[i].NameRange.Start.Byte < attrs[j].NameRange.Start.Byte })
}

// templateText returns the text of an HCL native template expression with
// interpolations kept as written, so that consul-template text survives
// even when it contains ${...} sequences nvlint cannot evaluate.
func templateText(expr hcl.Expression, src []byte) (string, hcl.Pos, bool) {
	switch e := expr.(type) {
	case *hclsyntax.TemplateExpr:
		var b strings.Builder
		start := e.SrcRange.Start
		for i, part := range e.Parts {
			if i == 0 {
				start = part.Range().Start
			}
			if lit, ok := part.(*hclsyntax.LiteralValueExpr); ok && lit.Val.Type() == cty.String {
				b.WriteString(lit.Val.AsString())
				continue
			}
			b.Write(part.Range().SliceBytes(src))
		}
		return b.String(), start, true
	case *hclsyntax.TemplateWrapExpr:
		return string(e.SrcRange.SliceBytes(src)), e.SrcRange.Start, true
	}
	s := strValue(expr)
	if !s.Known {
		return "", hcl.Pos{}, false
	}
	start := expr.Range().Start
	// A JSON string's text starts after its opening quote.
	start.Column++
	start.Byte++
	return s.V, start, true
}
