package nativehcl

import (
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// TestRecoveredCallRange: a call whose argument is an unterminated
// string keeps a range that starts at its name and ends at or after it,
// inside the text; a file without errors is as hclsyntax parses it.
func TestRecoveredCallRange(t *testing.T) {
	for _, src := range []string{
		"data = file(\"mong\nimage = \"mongo:7\"\n",
		"data = file(\n",
		"data = file(\"a\", \"b\n",
		"data = upper(file(\"x\n",
	} {
		file, diags := ParseConfig([]byte(src), "t.hcl", hcl.InitialPos)
		if !diags.HasErrors() {
			t.Fatalf("%q parsed without errors", src)
		}
		attrs, _ := file.Body.JustAttributes()
		for _, a := range attrs {
			r := a.Expr.Range()
			if r.Start.Byte > r.End.Byte || r.End.Byte > len(src) || r.Start.Line > r.End.Line {
				t.Errorf("%q: %s has range %s (bytes %d-%d)", src, a.Name, r, r.Start.Byte, r.End.Byte)
			}
		}
	}
	file, diags := ParseConfig([]byte("data = file(\"tpl\")\n"), "t.hcl", hcl.InitialPos)
	attrs, _ := file.Body.JustAttributes()
	if diags.HasErrors() || attrs["data"].Expr.Range().End.Byte != 18 {
		t.Errorf("a whole call: %v, range %s", diags, attrs["data"].Expr.Range())
	}
}
