package reports

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// Helpers shared by the CI formats (JUnit, Checkstyle, GitHub, Markdown).

// position is "file:line:col".
func position(r hcl.Range) string {
	return fmt.Sprintf("%s:%d:%d", r.Filename, max(r.Start.Line, 1), max(r.Start.Column, 1))
}

// where says where a finding is: its position in a file, else the live
// object it is about.
func where(f rules.Finding) string {
	if f.HasFile() {
		return position(f.Range)
	}
	return objectLabel(f)
}

// objectLabel names the object of a finding: "policy nomad-server".
func objectLabel(f rules.Finding) string {
	s := strings.TrimSpace(string(f.Object.Kind) + " " + f.Object.Name)
	if f.Object.Origin != "" {
		s += " (" + f.Object.Origin + ")"
	}
	if s == "" {
		return "live objects"
	}
	return s
}

// ruleLabel is "NV101 server-policy-missing-capability".
func ruleLabel(m *rules.Meta) string { return m.ID + " " + m.Name }

// checked says what the run checked, for summaries: "3 files", "10
// files of 2 setups", "the live clusters".
func (r *Report) checked() string {
	if len(r.Files) == 0 {
		return "the live clusters"
	}
	s := Plural(len(r.Files), "file")
	if len(r.Setups) > 0 {
		s += " of " + Plural(len(r.Setups), "setup")
	}
	return s
}

// setupTag is "[prod] " for a finding of setup prod, put before its
// message by the formats that have no place of their own for it; empty
// when the run has no setups.
func setupTag(f rules.Finding) string {
	if f.Setup == "" {
		return ""
	}
	return "[" + f.Setup + "] "
}

type fileGroup struct {
	// Setup is the findings' setup; empty without setups.
	Setup string
	// File is empty for findings about live objects.
	File     string
	Findings []rules.Finding
}

// byFile groups findings by setup and file in the order they first
// appear (findings come sorted by setup, file, then position).
func byFile(fs []rules.Finding) []fileGroup {
	var groups []fileGroup
	type key struct{ setup, file string }
	index := map[key]int{}
	for _, f := range fs {
		k := key{f.Setup, f.Range.Filename}
		i, ok := index[k]
		if !ok {
			i = len(groups)
			index[k] = i
			groups = append(groups, fileGroup{Setup: f.Setup, File: f.Range.Filename})
		}
		groups[i].Findings = append(groups[i].Findings, f)
	}
	return groups
}

// plainFinding renders a finding as the text report does, without
// colour: headline, source line with caret, evidence, related places and
// fixes with their edits and commands. Source lines are masked.
func plainFinding(f rules.Finding, files map[string]*world.File, opts Options) string {
	var b bytes.Buffer
	writeFinding(&b, newTextStyles(io.Discard, false), f, files)
	return opts.maskString(b.String())
}

// counts is the number of findings of each severity.
type counts struct{ errors, warnings, infos int }

func (c *counts) add(s rules.Severity) {
	switch s {
	case rules.Error:
		c.errors++
	case rules.Warning:
		c.warnings++
	default:
		c.infos++
	}
}

// String is "1 error, 2 warnings".
func (c counts) String() string {
	var parts []string
	if c.errors > 0 {
		parts = append(parts, Plural(c.errors, "error"))
	}
	if c.warnings > 0 {
		parts = append(parts, Plural(c.warnings, "warning"))
	}
	if c.infos > 0 {
		parts = append(parts, Plural(c.infos, "info"))
	}
	return strings.Join(parts, ", ")
}

// xmlEscape escapes s for XML 1.0 character data or, with attr, a
// double-quoted attribute value. Characters XML 1.0 cannot carry at all
// (most C0 controls, invalid UTF-8) become U+FFFD; a carriage return is
// written as a reference so that parsers do not fold it away, and in
// attributes so are newlines and tabs.
func xmlEscape(s string, attr bool) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteRune('\uFFFD')
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '"' && attr:
			b.WriteString("&quot;")
		case r == '\r':
			b.WriteString("&#xD;")
		case r == '\n' && attr:
			b.WriteString("&#xA;")
		case r == '\t' && attr:
			b.WriteString("&#x9;")
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r < 0x20, r >= 0xD800 && r <= 0xDFFF, r == 0xFFFE, r == 0xFFFF:
			b.WriteRune('\uFFFD')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// xmlAttrs writes name="value" pairs, escaped.
func xmlAttrs(kv ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(&b, ` %s="%s"`, kv[i], xmlEscape(kv[i+1], true))
	}
	return b.String()
}
