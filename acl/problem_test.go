package acl

import (
	"go/ast"
	goparser "go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestProblemCodes(t *testing.T) {
	cases := []struct {
		src   string
		code  Code
		path  string
		value string
	}{
		{"path \"a\" {\n  capabilities = [\"reed\"]\n}\n", ProblemInvalidCapability, "a", "reed"},
		{"path \"a\" {\n  policy = \"rwx\"\n}\n", ProblemInvalidPolicy, "a", "rwx"},
		{"path \"a/+*\" {\n  capabilities = [\"read\"]\n}\n", ProblemInvalidWildcard, "a/+*", ""},
		{"path \"a\" {\n  capabilites = [\"read\"]\n}\n", ProblemInvalidKey, "a", "capabilites"}, //nolint:misspell // the misspelt key is the one under test
		{"paths \"a\" {\n  capabilities = [\"read\"]\n}\n", ProblemInvalidKey, "", "paths"},
		{"path \"a/{{identity.entity.id\" {\n  capabilities = [\"read\"]\n}\n", ProblemInvalidTemplating, "a/{{identity.entity.id", ""},
		{"path = \"a\"\n", ProblemStructure, "", ""},
		{"path \"a\" {\n  capabilities = [\"read\"]\n  min_wrapping_ttl = \"x\"\n}\n", ProblemWrappingTTL, "", ""},
		{"path {\n  capabilities = [\"read\"]\n}\n", ProblemNoPathLabel, "path", ""},
		{"path \"a/{{identity.entity.bogus}}\" {\n  capabilities = [\"read\"]\n}\n", ProblemUnfillableTemplate, "a/{{identity.entity.bogus}}", "identity.entity.bogus"},
		{`{"path": {"a": {"capabilities": ["reed"]}}}`, ProblemInvalidCapability, "a", "reed"},
	}
	for _, c := range cases {
		_, diags := Parse([]byte(c.src), "p.hcl")
		var got *Problem
		for _, d := range diags {
			if p := ProblemOf(d); p != nil && p.Code == c.code {
				got = p
			}
		}
		if got == nil {
			t.Errorf("%q: no %s problem in %v", c.src, c.code, diags)
			continue
		}
		if got.Path != c.path || got.Value != c.value {
			t.Errorf("%q: problem %+v, want path %q value %q", c.src, got, c.path, c.value)
		}
	}
	// Syntax errors carry no Problem.
	_, diags := Parse([]byte("path \"a\" {\n  capabilities = [\"read\"\n}\n"), "p.hcl")
	if !diags.HasErrors() {
		t.Fatal("want a syntax error")
	}
	for _, d := range diags {
		if ProblemOf(d) != nil {
			t.Errorf("syntax error %q has a Problem", d.Summary)
		}
	}
}

// TestEveryDiagnosticClassified keeps problemFor in step with the formats
// Parse reports: a new errorf or warnf format must get a code.
func TestEveryDiagnosticClassified(t *testing.T) {
	fset := token.NewFileSet()
	files, _ := filepath.Glob("*.go")
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := goparser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		checkFormats(t, fset, f)
	}
}

func checkFormats(t *testing.T, fset *token.FileSet, f *ast.File) {
	t.Helper()
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || (sel.Sel.Name != "errorf" && sel.Sel.Name != "warnf") || len(call.Args) < 3 {
			return true
		}
		lit, ok := call.Args[2].(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			t.Errorf("%s: format is not a string literal", fset.Position(call.Pos()))
			return true
		}
		format, _ := strconv.Unquote(lit.Value)
		if problemFor(format, nil).Code == ProblemOther {
			t.Errorf("%s: format %q has no Problem code in problemFor (acl/problem.go)", fset.Position(call.Pos()), format)
		}
		return true
	})
}
