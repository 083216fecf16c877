package input

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/rules/edits"
	"github.com/nvlint/nvlint/world"
)

// hcl1Jobspec explains HCL 2's complaint about a quoted argument name in a
// jobspec: `env { "VERSION" = "1" }` is HCL 1, which Nomad 1.0 to 1.8
// read only with `nomad job run -hcl1`, and which Nomad 1.9 removed
// (hashicorp/nomad#23912). ok is false for any other diagnostic.
func hcl1Jobspec(w *world.World, f *world.File, d *hcl.Diagnostic) (rules.Finding, bool) {
	if f.Kind != world.KindJobspec || d.Summary != "Invalid argument name" || d.Detail != "Argument names must not be quoted." || d.Subject == nil {
		return rules.Finding{}, false
	}
	name, end, ok := quotedName(f.Src, d.Subject.Start.Byte)
	if !ok {
		return rules.Finding{}, false
	}
	fd := rules.Finding{
		Range:  edits.Span(f, d.Subject.Start.Byte, end),
		Object: world.ObjectRef{Kind: f.Kind, Name: f.Path},
	}
	nv := w.NomadVersion()
	verdict := "which Nomad 1.9 and later refuse: HCL 1 jobspecs were removed in 1.9 (Nomad 1.0 to 1.8 needed `nomad job run -hcl1`)"
	switch {
	case nv != "" && !world.VersionAtLeast(nv, "1.0"):
		fd.Severity = rules.Warning
		verdict = fmt.Sprintf("Nomad %s's own jobspec syntax, but Nomad 1.0 to 1.8 need `nomad job run -hcl1` for it and 1.9 and later refuse it (HCL 1 jobspecs were removed in 1.9)", nv)
	case nv != "" && !world.VersionAtLeast(nv, "1.9"):
		fd.Severity = rules.Warning
		verdict = fmt.Sprintf("which Nomad %s reads only with `nomad job run -hcl1`, and 1.9 and later refuse (HCL 1 jobspecs were removed in 1.9)", nv)
	}
	fd.Message = fmt.Sprintf("jobspec: quoted argument name %q is HCL 1 syntax, %s", name, verdict)
	fd.Evidence = []string{"HCL 2 (Nomad's jobspec syntax since 1.0): Argument names must not be quoted", "nomad_version: " + orUnknown(nv)}
	if !hclsyntax.ValidIdentifier(name) {
		block := enclosingBlock(f.Src, d.Subject.Start.Byte)
		fd.Fixes = []rules.Fix{{
			Description: fmt.Sprintf("%q is not an HCL 2 identifier, so it cannot be an argument name: write the block as a map argument, %s = { %q = ... }", name, block, name),
			Manual:      true,
		}}
		return fd, true
	}
	es, names := unquoteAll(f)
	desc := fmt.Sprintf("Unquote argument name %s: HCL 2 reads the same key", name)
	if len(names) > 1 {
		desc = fmt.Sprintf("Unquote argument names %s: HCL 2 reads the same keys", strings.Join(names, ", "))
	}
	fd.Fixes = []rules.Fix{{Description: desc, Edits: es}}
	return fd, true
}

func orUnknown(v string) string {
	if v == "" {
		return "not set (the rule judges against Nomad 1.9 and later)"
	}
	return v
}

// quotedName reads the string literal that starts at offset start (its
// opening quote) and is followed by = or {: the name, the offset after its
// closing quote, and whether it is a plain string (no escape, no
// template).
func quotedName(src []byte, start int) (string, int, bool) {
	if start < 0 || start >= len(src) || src[start] != '"' {
		return "", 0, false
	}
	for i := start + 1; i < len(src); i++ {
		switch c := src[i]; {
		case c == '"':
			rest := bytes.TrimLeft(src[i+1:], " \t")
			if len(rest) == 0 || (rest[0] != '=' && rest[0] != '{') {
				return "", 0, false
			}
			return string(src[start+1 : i]), i + 1, true
		case c == '\\' || c == '\n' || ((c == '$' || c == '%') && i+1 < len(src) && src[i+1] == '{'):
			return "", 0, false
		}
	}
	return "", 0, false
}

// unquoteAll unquotes, in turn, every quoted argument name HCL 2 stops
// at, as long as each is an identifier: the edits, in the file's own
// offsets, and the names. HCL 2 reports only the first, so the file is
// parsed again after each.
func unquoteAll(f *world.File) ([]rules.TextEdit, []string) {
	src := append([]byte(nil), f.Src...)
	var es []rules.TextEdit
	var names []string
	for len(es) < 100 {
		_, diags := hclsyntax.ParseConfig(src, f.Path, hcl.InitialPos)
		var d *hcl.Diagnostic
		for _, x := range diags {
			if x.Severity == hcl.DiagError {
				d = x
				break
			}
		}
		if d == nil || d.Summary != "Invalid argument name" || d.Subject == nil {
			break
		}
		start := d.Subject.Start.Byte
		name, end, ok := quotedName(src, start)
		if !ok || !hclsyntax.ValidIdentifier(name) {
			break
		}
		// Each edit so far removed two quotes before this one.
		orig := start + 2*len(es)
		es = append(es, edits.Replace(edits.Span(f, orig, orig+end-start), name))
		names = append(names, name)
		src = append(src[:start:start], append([]byte(name), src[end:]...)...)
	}
	return es, names
}

// enclosingBlock is the type of the block whose body holds offset: "env"
// for `env { "a.b" = "x" }`; "BLOCK" when it cannot be told.
func enclosingBlock(src []byte, offset int) string {
	depth := 0
	for i := offset - 1; i >= 0; i-- {
		switch src[i] {
		case '}':
			depth++
		case '{':
			if depth > 0 {
				depth--
				continue
			}
			head := strings.Fields(string(src[bytes.LastIndexByte(src[:i], '\n')+1 : i]))
			if len(head) > 0 {
				if t, err := strconv.Unquote(head[0]); err == nil {
					head[0] = t
				}
				if hclsyntax.ValidIdentifier(head[0]) {
					return head[0]
				}
			}
			return "BLOCK"
		}
	}
	return "BLOCK"
}
