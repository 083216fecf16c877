package reports_test

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/reports"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

var (
	sgr       = regexp.MustCompile("\x1b\\[[0-9;]*m")
	styledRun = regexp.MustCompile("\x1b\\[([0-9;]*)m[^\x1b]*\x1b\\[0m")
)

func renderText(t *testing.T, r *reports.Report, color bool) string {
	t.Helper()
	var b bytes.Buffer
	if err := reports.Write(&b, reports.FormatText, r, reports.Options{Color: color, Verbose: true}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// A coloured string must stay one run of characters, so that a pager's
// search (less -R) finds it.
func TestTextStylesWholeStrings(t *testing.T) {
	r := hostileReport()
	r.Files[0].Path = "deploy/server policy.hcl"
	for i := range r.Findings {
		if r.Findings[i].Range.Filename != "" {
			r.Findings[i].Range.Filename = "deploy/server policy.hcl"
		}
	}
	out := renderText(t, r, true)
	if !sgr.MatchString(out) {
		t.Fatal("no colour with Color set")
	}
	for _, want := range []string{"deploy/server policy.hcl\x1b[0m", "not checked\x1b[0m", "error[NV101]\x1b[0m"} {
		if !strings.Contains(out, want) {
			t.Errorf("coloured report lacks %q in one piece:\n%q", want, out)
		}
	}
	// Two runs of the same style back to back are one string cut up.
	runs := styledRun.FindAllStringSubmatchIndex(out, -1)
	for i := 1; i < len(runs); i++ {
		prev, cur := runs[i-1], runs[i]
		if prev[1] == cur[0] && out[prev[2]:prev[3]] == out[cur[2]:cur[3]] {
			t.Errorf("style %s applied piece by piece at %q", out[cur[2]:cur[3]], out[prev[0]:cur[1]])
			break
		}
	}
	if plain := sgr.ReplaceAllString(out, ""); plain != renderText(t, r, false) {
		t.Errorf("colour changes the text:\n%s\n---\n%s", plain, renderText(t, r, false))
	}
}

// caretLine returns the styled caret line under the line of the source
// that contains marker.
func caretLine(t *testing.T, out, marker string) string {
	t.Helper()
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		if strings.Contains(l, marker) && i+1 < len(lines) {
			return lines[i+1]
		}
	}
	t.Fatalf("no line with %q in\n%s", marker, out)
	return ""
}

func TestTextCaretColourFollowsSeverity(t *testing.T) {
	src := "a = 1\nb = 2\nc = 3\n"
	file := &world.File{Path: "x.hcl", Src: []byte(src)}
	finding := func(m *rules.Meta, sev rules.Severity, line int) rules.Finding {
		off := (line - 1) * 6
		return rules.Finding{Rule: m, Severity: sev, Message: "m", Range: hcl.Range{Filename: "x.hcl",
			Start: hcl.Pos{Line: line, Column: 1, Byte: off}, End: hcl.Pos{Line: line, Column: 2, Byte: off + 1}}}
	}
	r := &reports.Report{Files: []*world.File{file}, Findings: []rules.Finding{
		finding(metaA, rules.Error, 1), finding(metaB, rules.Warning, 2), finding(metaC, rules.Info, 3),
	}}
	out := renderText(t, r, true)
	for _, c := range []struct {
		marker, colour string
	}{{"a = 1", "91"}, {"b = 2", "93"}, {"c = 3", "94"}} {
		l := caretLine(t, out, c.marker)
		if !strings.Contains(l, "\x1b[") || !strings.Contains(l, c.colour+"m^") {
			t.Errorf("caret under %q is not coloured %s: %q", c.marker, c.colour, l)
		}
	}
}

func TestTextCaretCountsDisplayCells(t *testing.T) {
	for _, c := range []struct {
		name, line, target string
		// column is the start column as hcl counts it (grapheme
		// clusters); width the target's display width.
		column, width int
		// noBytes drops the byte offsets, as hand-made ranges do.
		noBytes bool
	}{
		{name: "ascii", line: `  name = "web"`, target: `"web"`, column: 10, width: 5},
		{name: "wide", line: `  description = "日本語のジョブ" policy = "x"`, target: `"x"`, column: 36, width: 3},
		{name: "wide target", line: `  name = "日本語"`, target: `"日本語"`, column: 10, width: 8},
		{name: "tab", line: "\tpolicy\t= \"x\"", target: `"x"`, column: 11, width: 3},
		{name: "combining", line: "  name = \"cafe\u0301\" x = 1", target: "x", column: 17, width: 1},
		{name: "wide without offsets", line: `  description = "日本語のジョブ" policy = "x"`, target: `"x"`, column: 36, width: 3, noBytes: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			src := "job {\n" + c.line + "\n}\n"
			start := strings.Index(src, c.target)
			end := start + len(c.target)
			rg := hcl.Range{Filename: "x.hcl",
				Start: hcl.Pos{Line: 2, Column: c.column, Byte: start},
				End:   hcl.Pos{Line: 2, Column: c.column + len([]rune(c.target)), Byte: end}}
			if c.noBytes {
				rg.Start.Byte, rg.End.Byte = 0, 0
			}
			r := &reports.Report{Files: []*world.File{{Path: "x.hcl", Src: []byte(src)}},
				Findings: []rules.Finding{{Rule: metaA, Severity: rules.Error, Message: "m", Range: rg}}}
			out := renderText(t, r, false)
			lines := strings.Split(out, "\n")
			var text, shown string
			for i, l := range lines {
				if j := strings.Index(l, "2 | "); j >= 0 && i+1 < len(lines) {
					text, shown = l[j+4:], lines[i+1]
				}
			}
			caret := shown[strings.Index(shown, "| ")+2:]
			lead := len(caret) - len(strings.TrimLeft(caret, " "))
			carets := strings.Count(caret, "^")
			// The caret must start under the target: the text before it
			// takes as many cells as the lead.
			before, _, found := strings.Cut(text, strings.ReplaceAll(c.target, "\t", "    "))
			if !found {
				t.Fatalf("source line %q lacks %q", text, c.target)
			}
			if w := cells(before); lead != w || carets != c.width {
				t.Errorf("caret at cell %d, %d wide; want cell %d, %d wide\n%s\n%s", lead, carets, w, c.width, text, caret)
			}
		})
	}
}

// cells is the display width of s: CJK characters take two cells, a
// combining accent none.
func cells(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case r >= 0x3000 && r <= 0x9fff:
			n += 2
		case r == 0x301:
		default:
			n++
		}
	}
	return n
}

func TestTextCaretUnderMaskedSecret(t *testing.T) {
	line := `  token = "hvs.CAESIJlongsecretvalue0123456789"`
	src := "vault {\n" + line + "\n}\n"
	start := strings.Index(src, `"hvs.`)
	end := strings.Index(src, "789\"") + 4
	rg := hcl.Range{Filename: "server.hcl", Start: hcl.Pos{Line: 2, Column: 11, Byte: start}, End: hcl.Pos{Line: 2, Column: 11 + end - start, Byte: end}}
	r := &reports.Report{
		Files:    []*world.File{{Path: "server.hcl", Src: []byte(src), Secrets: []hcl.Range{rg}}},
		Findings: []rules.Finding{{Rule: metaB, Severity: rules.Error, Message: "token in file", Range: rg}},
	}
	out := renderText(t, r, false)
	if strings.Contains(out, "hvs.") {
		t.Fatalf("secret printed:\n%s", out)
	}
	// A secret range without byte offsets is masked by its columns.
	noBytes := rg
	noBytes.Start.Byte, noBytes.End.Byte = 0, 0
	r.Files[0].Secrets = []hcl.Range{noBytes}
	if out := renderText(t, r, false); strings.Contains(out, "hvs.") {
		t.Fatalf("secret without offsets printed:\n%s", out)
	}
	caret := caretLine(t, out, "2 | ")
	if want := "    |           " + strings.Repeat("^", len(`"<redacted>"`)); !strings.HasSuffix(caret, want) || strings.HasSuffix(caret, "^"+want) {
		t.Errorf("caret %q does not cover the mask exactly (%q)", caret, want)
	}
}

// A long report ends with its findings counted by rule and severity,
// errors first, then the most found; a short one does not.
func TestTextByRule(t *testing.T) {
	migrate := &rules.Meta{ID: "NV641", Name: "workload-identity-migration-pending", Severity: rules.Warning}
	denied := &rules.Meta{ID: "NV411", Name: "template-read-denied", Severity: rules.Error}
	var fs []rules.Finding
	for i := range 18 {
		fs = append(fs, rules.Finding{Rule: migrate, Severity: rules.Warning, Message: "m",
			Object: world.ObjectRef{Kind: world.KindJobspec, Name: fmt.Sprintf("job-%d", i)}})
	}
	for i := range 3 {
		// Two findings on one job: three findings, two objects.
		fs = append(fs, rules.Finding{Rule: denied, Severity: rules.Error, Message: fmt.Sprintf("d%d", i),
			Object: world.ObjectRef{Kind: world.KindJobspec, Name: fmt.Sprintf("job-%d", i/2)}})
	}
	out := renderText(t, &reports.Report{Findings: fs}, false)
	want := "by rule\n" +
		"  error   NV411 template-read-denied                 3 findings in 2 objects\n" +
		"  warning NV641 workload-identity-migration-pending  18 findings in 18 objects\n"
	if !strings.Contains(out, want) {
		t.Errorf("want the counts by rule:\n%s\ngot:\n%s", want, out)
	}
	if out := renderText(t, &reports.Report{Findings: fs[:20]}, false); strings.Contains(out, "by rule") {
		t.Errorf("20 findings are counted by rule:\n%s", out)
	}
}
