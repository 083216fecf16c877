package edits

import (
	"encoding/json"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	hcljson "github.com/hashicorp/hcl/v2/json"

	"github.com/nvlint/nvlint/world"
)

// TestLiteral: what Literal writes reads back as the same string, in JSON
// and in HCL's native syntax.
func TestLiteral(t *testing.T) {
	jsonFile := &world.File{Path: "role.json"}
	hclFile := &world.File{Path: "job.nomad.hcl", Kind: world.KindJobspec}
	for _, s := range []string{
		"vault.io", "vault.\x7fo", "a\"b\\c", "tab\tnew\nline\r", "\x00\x1f", "caf\u00e9 \u2028", "${not.a.ref} and %{ if x }",
		"$${already}", "\xff",
	} {
		want := s
		if s == "\xff" {
			want = "\ufffd"
		}
		var got string
		if err := json.Unmarshal([]byte(Literal(jsonFile, s)), &got); err != nil || got != want {
			t.Errorf("JSON %q: %s -> %q, %v", s, Literal(jsonFile, s), got, err)
		}
		file, diags := hcljson.Parse([]byte(`{"k": `+Literal(jsonFile, s)+`}`), "x.json")
		if diags.HasErrors() {
			t.Errorf("hcl JSON %q: %v", s, diags)
		} else {
			attrs, _ := file.Body.JustAttributes()
			if v, d := attrs["k"].Expr.Value(nil); d.HasErrors() || v.AsString() != want && s[0] != '$' {
				t.Errorf("hcl JSON %q: %#v %v", s, v, d)
			}
		}
		expr, diags := hclsyntax.ParseExpression([]byte(Literal(hclFile, s)), "x.hcl", hcl.InitialPos)
		if diags.HasErrors() {
			t.Errorf("HCL %q: %s: %v", s, Literal(hclFile, s), diags)
			continue
		}
		if v, d := expr.Value(nil); d.HasErrors() || v.AsString() != want {
			t.Errorf("HCL %q: %s -> %#v %v", s, Literal(hclFile, s), v, d)
		}
	}
}
