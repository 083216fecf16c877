package inputs

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

func TestForExpressionsAreBounded(t *testing.T) {
	letters := `"` + strings.Repeat("x", 40) + `"`
	// 40^5 iterations, far beyond the budget: unknown, and quickly.
	deep := `p = join("", [for a in split("", ` + letters + `) : join("", [for b in split("", ` + letters + `) : join("", [for c in split("", ` + letters + `) : join("", [for d in split("", ` + letters + `) : join("", [for e in split("", ` + letters + `) : e])])])])])` + "\n"
	// A nested for of the usual size still evaluates.
	usual := `p = flatten([for a in ["x", "y"] : [for b in ["1", "2", "3"] : "${a}${b}"]])` + "\n"

	eval := func(src string) (cty.Value, hcl.Diagnostics) {
		file, diags := parseTerraform([]byte(src), "main.tf")
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		attrs, _ := file.Body.JustAttributes()
		return attrs["p"].Expr.Value(&hcl.EvalContext{Functions: tfFunctions})
	}
	if _, diags := eval(deep); !diags.HasErrors() || !strings.Contains(diags.Error(), "Too many iterations") {
		t.Errorf("deep for expressions: %v, want too many iterations", diags)
	}
	v, diags := eval(usual)
	if diags.HasErrors() || v.LengthInt() != 6 {
		t.Errorf("usual for expressions: %#v %v, want 6 elements", v, diags)
	}
}
