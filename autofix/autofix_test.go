package autofix

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

var (
	ruleA = &rules.Meta{ID: "NV901", Name: "a"}
	ruleB = &rules.Meta{ID: "NV902", Name: "b"}
)

func edit(file string, start, end int, text string) rules.TextEdit {
	return rules.TextEdit{Range: hcl.Range{Filename: file, Start: hcl.Pos{Byte: start, Line: 1, Column: start + 1}, End: hcl.Pos{Byte: end, Line: 1, Column: end + 1}}, NewText: text}
}

func fixing(m *rules.Meta, msg string, es ...rules.TextEdit) rules.Finding {
	return rules.Finding{Rule: m, Message: msg, Range: es[0].Range, Fixes: []rules.Fix{{Description: "fix " + msg, Edits: es}}}
}

func TestPlanRefusesOverlappingEdits(t *testing.T) {
	srcs := map[string][]byte{"f": []byte("0123456789")}
	fs := []rules.Finding{
		fixing(ruleA, "first", edit("f", 2, 5, "x")),
		fixing(ruleB, "overlaps first", edit("f", 4, 6, "y")),
		fixing(ruleB, "same insertion point as first", edit("f", 2, 2, "z")),
		fixing(ruleB, "identical to first", edit("f", 2, 5, "x")),
		fixing(ruleB, "adjacent", edit("f", 5, 7, "w")),
		fixing(ruleB, "out of range", edit("f", 9, 12, "")),
		fixing(ruleB, "other file", edit("g", 0, 0, "v")),
		{Rule: ruleA, Message: "command only", Fixes: []rules.Fix{{Commands: []rules.Command{rules.Cmd("vault", "write")}}}},
	}
	p := NewPlan(fs, srcs)
	var applied []string
	for _, f := range p.Applied {
		applied = append(applied, f.Message)
	}
	if got := strings.Join(applied, ", "); got != "first, identical to first, adjacent" {
		t.Errorf("applied: %s", got)
	}
	skipped := map[string]string{}
	for _, s := range p.Skipped {
		skipped[s.Finding.Message] = s.Reason
	}
	for msg, want := range map[string]string{
		"overlaps first":                "overlap those of the fix for NV901 at f:1:3",
		"same insertion point as first": "overlap",
		"out of range":                  "out of range",
		"other file":                    "cannot be written",
	} {
		if !strings.Contains(skipped[msg], want) {
			t.Errorf("%s: skipped for %q, want %q", msg, skipped[msg], want)
		}
	}
	out, err := p.Apply(srcs)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(out["f"]); got != "01xw789" {
		t.Errorf("applied text: %q", got)
	}
}

// TestRunAppliesHeldBackFixesInALaterPass: a fix held back by a
// collision is applied once the fix it collided with is in, against the
// new text, and a second run changes nothing.
func TestRunAppliesHeldBackFixesInALaterPass(t *testing.T) {
	// The "linter" wants every "a" upper-cased, one finding per "a", each
	// fixing its letter; and wants the text to end with "!". The "!" fix
	// replaces the last letter and its neighbours, colliding with the
	// upper-casing of the last a.
	lint := func(srcs map[string][]byte) ([]rules.Finding, []*world.File, error) {
		src := srcs["f"]
		var fs []rules.Finding
		for i, c := range src {
			if c == 'a' {
				fs = append(fs, fixing(ruleA, "lower a at "+strconv.Itoa(i), edit("f", i, i+1, "A")))
			}
		}
		if !bytes.HasSuffix(src, []byte("!")) {
			n := len(src)
			fs = append(fs, fixing(ruleB, "no bang", edit("f", n-1, n, string(bytes.ToUpper(src[n-1:]))+"!")))
		}
		return fs, []*world.File{{Path: "f", Src: src}}, nil
	}
	srcs := map[string][]byte{"f": []byte("banana")}
	fs, files, _ := lint(srcs)
	out, err := Run(fs, files, srcs, lint)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(out.Sources["f"]); got != "bAnAnA!" {
		t.Fatalf("fixed to %q", got)
	}
	if len(out.Remaining) != 0 || out.Passes != 2 || len(out.Fixed) != 4 {
		t.Fatalf("remaining %d, passes %d, fixed %d", len(out.Remaining), out.Passes, len(out.Fixed))
	}
	again, err := Run(out.Remaining, out.Files, out.Sources, lint)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Changed) != 0 {
		t.Fatalf("second run changed %v", again.Changed)
	}
}

func TestRunUndoesFixesThatBreakTheFile(t *testing.T) {
	lint := func(srcs map[string][]byte) ([]rules.Finding, []*world.File, error) {
		src := srcs["f"]
		f := &world.File{Path: "f", Src: src}
		if bytes.Contains(src, []byte("{")) && !bytes.Contains(src, []byte("}")) {
			f.Diags = hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "unclosed"}}
		}
		var fs []rules.Finding
		if i := bytes.Index(src, []byte("bad")); i >= 0 {
			fs = append(fs, fixing(ruleA, "bad", edit("f", i, len(src), "good {")))
		}
		return fs, []*world.File{f}, nil
	}
	srcs := map[string][]byte{"f": []byte("x = bad }")}
	fs, files, _ := lint(srcs)
	out, err := Run(fs, files, srcs, lint)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Changed) != 0 || len(out.Skipped) != 1 || !strings.Contains(out.Skipped[0].Reason, "unparsable") {
		t.Fatalf("changed %v, skipped %+v", out.Changed, out.Skipped)
	}
}

func TestUnified(t *testing.T) {
	a := "one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\nten\n"
	b := "one\ntwo\nTHREE\nfour\nfive\nsix\nseven\neight\nnine\nten\neleven\n"
	want := `--- a/x.hcl
+++ b/x.hcl
@@ -1,6 +1,6 @@
 one
 two
-three
+THREE
 four
 five
 six
@@ -8,3 +8,4 @@
 eight
 nine
 ten
+eleven
`
	if got := Unified("x.hcl", []byte(a), []byte(b)); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got := Unified("x.hcl", []byte(a), []byte(a)); got != "" {
		t.Errorf("equal files: %q", got)
	}
	got := Unified("x", []byte("a\nb"), []byte("a\nc"))
	if !strings.Contains(got, "-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n") {
		t.Errorf("no newline at end:\n%s", got)
	}
	got = Unified("x", nil, []byte("new\n"))
	if !strings.Contains(got, "@@ -0,0 +1 @@\n+new\n") {
		t.Errorf("new content:\n%s", got)
	}
}

// TestUnifiedAppliesWithPatch: random edits' diffs, applied by patch(1),
// give the new text.
func TestUnifiedAppliesWithPatch(t *testing.T) {
	patch, err := exec.LookPath("patch")
	if err != nil {
		t.Skip("no patch(1)")
	}
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 40; i++ {
		var lines []string
		for j := 0; j < 5+r.Intn(40); j++ {
			lines = append(lines, fmt.Sprintf("line %d", r.Intn(8)))
		}
		a := strings.Join(lines, "\n") + "\n"
		var b []string
		for _, l := range lines {
			switch r.Intn(6) {
			case 0:
			case 1:
				b = append(b, l, "inserted")
			case 2:
				b = append(b, "changed "+l)
			default:
				b = append(b, l)
			}
		}
		bs := strings.Join(b, "\n") + "\n"
		dir := t.TempDir()
		file := filepath.Join(dir, "f.txt")
		writeFile(t, file, a)
		d := Unified("f.txt", []byte(a), []byte(bs))
		cmd := exec.Command(patch, "-s", "-p1", "-d", dir)
		cmd.Stdin = strings.NewReader(d)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("patch: %v\n%s\n%s", err, out, d)
		}
		if got := readFile(t, file); got != bs {
			t.Fatalf("patched to\n%s\nwant\n%s\ndiff\n%s", got, bs, d)
		}
	}
}

func TestScript(t *testing.T) {
	applied := []rules.Finding{
		{Rule: ruleA, Message: "role not renewable", Fixes: []rules.Fix{{Description: "Set renewable", Commands: []rules.Command{rules.Cmd("vault", "write", "auth/token/roles/r", "@r.json")}}}},
		{Rule: ruleA, Message: "role not periodic", Fixes: []rules.Fix{{Description: "Set period", Commands: []rules.Command{rules.Cmd("vault", "write", "auth/token/roles/r", "@r.json")}}}},
	}
	remaining := []rules.Finding{
		{Rule: ruleB, Message: "placeholder", Object: world.ObjectRef{Kind: "policy", Name: "p"}, Fixes: []rules.Fix{{Description: "Replace it", Commands: []rules.Command{rules.Cmd("sed", "-i", "s/x/y/", "p.hcl")}}}},
		{Rule: ruleB, Message: "fixable, not fixed", Fixes: []rules.Fix{{Edits: []rules.TextEdit{edit("f", 0, 0, "")}, Commands: []rules.Command{rules.Cmd("never")}}}},
	}
	s := Script(applied, remaining)
	if strings.Count(s, "vault write auth/token/roles/r @r.json") != 1 || !strings.Contains(s, "sed -i s/x/y/ p.hcl") || strings.Contains(s, "never") ||
		!strings.HasPrefix(s, "#!/bin/sh\n") || !strings.Contains(s, "# NV902 policy p: placeholder") {
		t.Errorf("script:\n%s", s)
	}
	if Script(nil, nil) != "" {
		t.Error("empty script not empty")
	}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestScriptKeepsTemplatesAsComments: a command with parts to fill in is
// shown but never run, and no name ends a comment line.
func TestScriptKeepsTemplatesAsComments(t *testing.T) {
	remaining := []rules.Finding{{
		Rule: ruleB, Message: "config lacks an algorithm\nrm -rf /", Object: world.ObjectRef{Kind: "jwt-auth-config", Name: "jwt\nid"},
		Fixes: []rules.Fix{{Description: "Accept EdDSA\nid", Commands: []rules.Command{
			rules.Template("vault write %s jwt_supported_algs=RS256,EdDSA <the other config parameters>", "auth/jwt nomad/config"),
			rules.Cmd("vault", "read", "auth/jwt nomad/config"),
		}}},
	}}
	s := Script(nil, remaining)
	for _, l := range strings.Split(s, "\n") {
		if l == "" || strings.HasPrefix(l, "#") || l == "set -eu" {
			continue
		}
		if l != "vault read 'auth/jwt nomad/config'" {
			t.Errorf("runnable line %q", l)
		}
	}
	if !strings.Contains(s, "#   vault write 'auth/jwt nomad/config' jwt_supported_algs=RS256,EdDSA <the other config parameters>") {
		t.Errorf("the template is not shown as a comment:\n%s", s)
	}
}
