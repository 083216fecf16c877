package reports

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"strings"

	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// Markdown for a pull-request comment (GitHub, GitLab, Gitea render it
// alike): a headline, a table of counts by severity and one by rule, then
// a collapsible <details> per file with each finding, where it is, its
// evidence and its fix as a diff and commands.
//
// Everything that comes from the files or the clusters is escaped for
// where it lands: HTML-escaped inside HTML (<summary>), backslash- and
// entity-escaped in Markdown text, with newlines as <br> so that no
// message can start a block of its own, and code in fences longer than
// any run of backticks it contains. An @ is followed by a word joiner so
// that a name in a message never mentions a GitHub user or team.

// maxMarkdown keeps the comment under GitHub's 65,536-character limit:
// files past it are listed but not detailed.
const maxMarkdown = 60000

func writeMarkdown(w io.Writer, r *Report, opts Options) error {
	var b bytes.Buffer
	s := r.Summary()
	files := r.checked()
	c := counts{errors: s.Errors, warnings: s.Warnings, infos: s.Infos}
	switch {
	case s.Findings == 0:
		fmt.Fprintf(&b, "### ✅ nvlint: no problems in %s\n\n", files)
	case s.Errors > 0:
		fmt.Fprintf(&b, "### ❌ nvlint: %s in %s\n\n", c, files)
	default:
		fmt.Fprintf(&b, "### ⚠️ nvlint: %s in %s\n\n", c, files)
	}
	var hidden []string
	if s.Fixed > 0 {
		hidden = append(hidden, fmt.Sprintf("%d fixed by --fix", s.Fixed))
	}
	if s.Suppressed > 0 {
		hidden = append(hidden, fmt.Sprintf("%d suppressed", s.Suppressed))
	}
	if s.Baselined > 0 {
		hidden = append(hidden, fmt.Sprintf("%d in the baseline", s.Baselined))
	}
	if len(hidden) > 0 {
		fmt.Fprintf(&b, "_Not listed: %s._\n\n", strings.Join(hidden, ", "))
	}
	if len(r.Verdicts) > 0 {
		b.WriteString("| Area | Status | Detail |\n|---|---|---|\n")
		for _, v := range r.Verdicts {
			detail := v.Detail
			if v.Findings > 1 && v.Status != StatusNotChecked {
				detail = fmt.Sprintf("%s (+%d more)", detail, v.Findings-1)
			}
			fmt.Fprintf(&b, "| %s | %s %s | %s |\n", mdText(v.Area), verdictIcon(v.Status), mdText(v.Status), mdText(detail))
		}
		b.WriteString("\n")
	}
	if s.Findings == 0 {
		_, err := w.Write(b.Bytes())
		return err
	}
	b.WriteString("| Severity | Findings |\n|---|---:|\n")
	for _, row := range []struct {
		sev rules.Severity
		n   int
	}{{rules.Error, s.Errors}, {rules.Warning, s.Warnings}, {rules.Info, s.Infos}} {
		if row.n > 0 {
			fmt.Fprintf(&b, "| %s %s | %d |\n", severityIcon(row.sev), row.sev, row.n)
		}
	}
	b.WriteString("\n| Rule | Severity | Findings | Objects |\n|---|---|---:|---:|\n")
	for _, rc := range ruleCounts(r.Findings) {
		fmt.Fprintf(&b, "| `%s` %s | %s | %d | %d |\n", rc.meta.ID, mdText(rc.meta.Name), rc.severities, rc.n, rc.objects)
	}
	b.WriteString("\n")

	src := r.fileByPath()
	groups := byFile(r.Findings)
	for i, g := range groups {
		var sec bytes.Buffer
		writeMarkdownFile(&sec, g, src, opts)
		if b.Len()+sec.Len() > maxMarkdown {
			fmt.Fprintf(&b, "_%s not shown to keep this comment within GitHub's size limit; the other reports (text, SARIF, JUnit) have every finding:_\n\n", Plural(len(groups)-i, "more file"))
			for _, rest := range groups[i:] {
				fmt.Fprintf(&b, "- %s%s: %s\n", mdSetup(rest.Setup), mdCode(groupTitle(rest.File)), groupCounts(rest))
			}
			break
		}
		b.Write(sec.Bytes())
	}
	_, err := w.Write(b.Bytes())
	return err
}

// mdSetup is "setup prod · " before a group of setup prod; empty without
// setups.
func mdSetup(setup string) string {
	if setup == "" {
		return ""
	}
	return "setup " + mdText(setup) + " · "
}

func groupTitle(file string) string {
	if file == "" {
		return "live objects"
	}
	return file
}

func groupCounts(g fileGroup) counts {
	var c counts
	for _, f := range g.Findings {
		c.add(f.Severity)
	}
	return c
}

func writeMarkdownFile(b *bytes.Buffer, g fileGroup, src map[string]*world.File, opts Options) {
	setup := ""
	if g.Setup != "" {
		setup = "setup " + htmlText(g.Setup) + " · "
	}
	fmt.Fprintf(b, "<details>\n<summary>%s<code>%s</code> — %s</summary>\n\n", setup, htmlText(groupTitle(g.File)), groupCounts(g))
	for i, f := range g.Findings {
		if i > 0 {
			b.WriteString("---\n\n")
		}
		writeMarkdownFinding(b, f, src, opts)
	}
	b.WriteString("</details>\n\n")
}

func writeMarkdownFinding(b *bytes.Buffer, f rules.Finding, src map[string]*world.File, opts Options) {
	// The file is in the <summary>; the finding says the line.
	at := mdText(objectLabel(f))
	if f.HasFile() {
		at = fmt.Sprintf("line %d:%d", max(f.Range.Start.Line, 1), max(f.Range.Start.Column, 1))
	}
	fmt.Fprintf(b, "%s **%s** `%s` %s · %s\n\n", severityIcon(f.Severity), f.Severity, f.Rule.ID, mdText(f.Rule.Name), at)
	fmt.Fprintf(b, "> %s\n\n", mdText(f.Message))
	var items []string
	for _, e := range f.Evidence {
		items = append(items, "evidence: "+mdText(e))
	}
	for _, rel := range f.Related {
		s := "see: " + mdText(rel.Message)
		if rel.Range.Filename != "" {
			s += " at " + mdCode(position(rel.Range))
		}
		items = append(items, s)
	}
	for _, it := range items {
		b.WriteString("- " + it + "\n")
	}
	if len(items) > 0 {
		b.WriteString("\n")
	}
	for i, fx := range f.Fixes {
		// Fixes are alternatives.
		label := "Fix"
		if i > 0 {
			label = "Or"
		}
		fmt.Fprintf(b, "**%s:** %s\n\n", label, mdText(fx.Description))
		if len(fx.Edits) > 0 {
			var diff []string
			for _, e := range fx.Edits {
				diff = append(diff, fmt.Sprintf("# %s:%d", e.Range.Filename, e.Range.Start.Line))
				before, after := editLines(e, src[e.Range.Filename])
				for _, l := range before {
					diff = append(diff, "- "+l)
				}
				for _, l := range after {
					diff = append(diff, "+ "+l)
				}
			}
			b.WriteString(mdFence(opts.maskString(strings.Join(diff, "\n")), "diff"))
		}
		if len(fx.Commands) > 0 {
			b.WriteString(mdFence(strings.Join(fx.CommandLines(), "\n"), "sh"))
		}
	}
}

func severityIcon(s rules.Severity) string {
	switch s {
	case rules.Error:
		return "❌"
	case rules.Warning:
		return "⚠️"
	}
	return "ℹ️"
}

func verdictIcon(status string) string {
	switch status {
	case "broken":
		return "❌"
	case "at risk":
		return "⚠️"
	case "not checked":
		return "➖"
	}
	return "✅"
}

// mdText escapes s as inline Markdown text on one line: HTML-significant
// characters become entities, Markdown punctuation is backslash-escaped
// (and a leading -, = or "1." that would start a block), newlines become
// <br>, and @ cannot mention anyone. Callers never put the result at the
// start of a line of their own.
func mdText(s string) string {
	var b strings.Builder
	s = strings.ReplaceAll(strings.TrimRight(s, "\r\n"), "\r\n", "\n")
	if s != "" && (s[0] == '-' || s[0] == '=') {
		b.WriteByte('\\')
	}
	digits := 0
	for digits < len(s) && s[digits] >= '0' && s[digits] <= '9' {
		digits++
	}
	for i, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '@':
			b.WriteString("@\u2060")
		case '\n':
			b.WriteString("<br>")
		case '\r', '\t':
			b.WriteByte(' ')
		case '\\', '`', '*', '_', '{', '}', '[', ']', '(', ')', '#', '+', '!', '|', '~', '$':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '.':
			if digits > 0 && i == digits {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// mdCode is s as an inline code span on one line, fenced with more
// backticks than any run in s.
func mdCode(s string) string {
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	fence := strings.Repeat("`", longestRun(s, '`')+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}

// mdFence is s as a fenced code block, with a fence longer than any run
// of backticks in s, so no line of s can close it.
func mdFence(s, lang string) string {
	fence := strings.Repeat("`", max(3, longestRun(s, '`')+1))
	return fence + lang + "\n" + strings.TrimRight(s, "\n") + "\n" + fence + "\n\n"
}

func longestRun(s string, c rune) int {
	best, n := 0, 0
	for _, r := range s {
		if r == c {
			n++
			best = max(best, n)
		} else {
			n = 0
		}
	}
	return best
}

// htmlText escapes s for HTML text on one line.
func htmlText(s string) string {
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	return strings.ReplaceAll(html.EscapeString(s), "@", "@\u2060")
}
