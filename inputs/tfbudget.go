package inputs

import (
	"strings"
	"sync/atomic"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	hcljson "github.com/hashicorp/hcl/v2/json"
	"github.com/zclconf/go-cty/cty"

	"github.com/nvlint/nvlint/internal/nativehcl"
)

// forIterationBudget bounds the elements that the for expressions of one
// Terraform file may iterate over, across every evaluation of it. Nested
// for expressions multiply: a few kilobytes of them can ask for billions
// of iterations, which Terraform would attempt and nvlint must not. Real
// modules stay far below it; beyond it, a value is unknown.
const forIterationBudget = 1 << 16

// parseTerraform parses a Terraform or tfvars file, native or JSON, with
// its for expressions bounded by one budget for the file.
func parseTerraform(src []byte, path string) (*hcl.File, hcl.Diagnostics) {
	if strings.HasSuffix(strings.ToLower(path), ".json") {
		return hcljson.Parse(src, path)
	}
	file, diags := nativehcl.ParseConfig(src, path, hcl.InitialPos)
	if file == nil {
		return file, diags
	}
	if body, ok := file.Body.(*hclsyntax.Body); ok {
		budget := &atomic.Int64{}
		budget.Store(forIterationBudget)
		_ = hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
			if fe, ok := n.(*hclsyntax.ForExpr); ok {
				if _, done := fe.CollExpr.(boundedCollection); !done {
					fe.CollExpr = boundedCollection{Expression: fe.CollExpr, budget: budget}
				}
			}
			return nil
		})
	}
	return file, diags
}

// boundedCollection is the collection of a for expression, charged to
// its file's budget each time the for expression iterates over it.
type boundedCollection struct {
	hclsyntax.Expression
	budget *atomic.Int64
}

func (c boundedCollection) Value(ctx *hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	v, diags := c.Expression.Value(ctx)
	if diags.HasErrors() || !v.IsKnown() || v.IsNull() || !v.CanIterateElements() {
		return v, diags
	}
	if c.budget.Add(-int64(v.LengthInt())) < 0 {
		return cty.DynamicVal, diags.Append(&hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Too many iterations to evaluate",
			Detail:   "The for expressions of this file iterate over more elements than nvlint evaluates; what depends on them is unknown.",
			Subject:  c.Range().Ptr(),
		})
	}
	return v, diags
}
