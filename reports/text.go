package reports

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/hashicorp/hcl/v2"
	"github.com/muesli/termenv"
	"github.com/rivo/uniseg"

	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// The text report is for a person at a terminal: one headline per
// finding that says what is wrong, then the source with a caret, the
// evidence and the fix, grouped by file.

// Styles are whole-string only: lipgloss v1 renders a style with
// underline or strikethrough rune by rune (to style spaces apart), and
// ESC[1;4;4mf ESC[0m ESC[1;4;4mi ... cannot be searched for in less -R.
// TestTextStylesWholeStrings keeps it so.
type textStyles struct {
	err, warn, info, rule, file, gutter, dim, fix, ok, setup paint
}

// paint is a style that, without colour, hands back a one-line string
// as it is: lipgloss measures and rebuilds every string it renders, and
// a report of thousands of findings renders tens of thousands.
type paint struct {
	style lipgloss.Style
	plain bool
}

func (p paint) Render(s string) string {
	if p.plain && !strings.ContainsAny(s, "\t\n") {
		return s
	}
	return p.style.Render(s)
}

func newTextStyles(w io.Writer, color bool) textStyles {
	r := lipgloss.NewRenderer(w)
	if color {
		r.SetColorProfile(termenv.ANSI256)
	} else {
		r.SetColorProfile(termenv.Ascii)
	}
	s := r.NewStyle
	p := func(l lipgloss.Style) paint { return paint{style: l, plain: !color} }
	return textStyles{
		err:    p(s().Foreground(lipgloss.Color("9")).Bold(true)),
		warn:   p(s().Foreground(lipgloss.Color("11")).Bold(true)),
		info:   p(s().Foreground(lipgloss.Color("12")).Bold(true)),
		rule:   p(s().Foreground(lipgloss.Color("8"))),
		file:   p(s().Bold(true)),
		gutter: p(s().Foreground(lipgloss.Color("12"))),
		dim:    p(s().Foreground(lipgloss.Color("8"))),
		fix:    p(s().Foreground(lipgloss.Color("10"))),
		ok:     p(s().Foreground(lipgloss.Color("10")).Bold(true)),
		setup:  p(s().Foreground(lipgloss.Color("13")).Bold(true)),
	}
}

func (st textStyles) severity(s rules.Severity) paint {
	switch s {
	case rules.Error:
		return st.err
	case rules.Warning:
		return st.warn
	}
	return st.info
}

func writeText(w io.Writer, r *Report, opts Options) error {
	st := newTextStyles(w, opts.Color)
	var b bytes.Buffer
	files := r.fileByPath()
	if len(r.Verdicts) > 0 {
		writeVerdicts(&b, st, r.Verdicts)
	}
	if len(r.Setups) > 0 {
		writeSetups(&b, st, r, files)
	} else {
		writeFileGroups(&b, st, r, r.Findings, files)
	}
	if len(r.Fixed) > 0 {
		writeFixed(&b, st, r.Fixed, len(r.Findings) > 0)
	}
	if opts.Verbose {
		writeVerbose(&b, st, r)
	}
	if len(r.Findings) > 0 || len(r.Fixed) > 0 || opts.Verbose || len(r.Setups) > 0 {
		b.WriteString("\n")
	}
	if len(r.Findings) > byRuleFrom {
		writeByRule(&b, st, r.Findings)
	}
	b.WriteString(summaryLine(st, r) + "\n")
	_, err := w.Write(b.Bytes())
	return err
}

// writeFileGroups writes findings under the name of their file.
func writeFileGroups(b *bytes.Buffer, st textStyles, r *Report, fs []rules.Finding, files map[string]*world.File) {
	current := "\x00"
	for _, f := range fs {
		group := f.Range.Filename
		if group != current {
			if current != "\x00" {
				b.WriteString("\n")
			}
			current = group
			title := group
			if title == "" {
				title = "live objects"
			}
			b.WriteString(st.file.Render(title) + "\n")
		}
		writeFindingMarked(b, st, f, files, r.MarkFixable && f.Fixable())
	}
}

// writeSetups writes the findings of each setup under a header that
// names it and counts them, clean setups included: a setup that is not
// listed was not linted.
func writeSetups(b *bytes.Buffer, st textStyles, r *Report, files map[string]*world.File) {
	bySetup := map[string][]rules.Finding{}
	for _, f := range r.Findings {
		bySetup[f.Setup] = append(bySetup[f.Setup], f)
	}
	for i, name := range r.Setups {
		fs := bySetup[name]
		if i > 0 {
			b.WriteString("\n")
		}
		var c counts
		for _, f := range fs {
			c.add(f.Severity)
		}
		verdict := st.ok.Render("no problems")
		if len(fs) > 0 {
			verdict = c.String()
		}
		b.WriteString(st.setup.Render("━━ setup "+name+":") + " " + verdict + "\n")
		if len(fs) > 0 {
			b.WriteString("\n")
			writeFileGroups(b, st, r, fs, files)
		}
	}
}

// writeFixed lists what --fix resolved: the headline and where it was,
// marked [fixed]. The source has changed since, so no snippet.
func writeFixed(b *bytes.Buffer, st textStyles, fs []rules.Finding, after bool) {
	if after {
		b.WriteString("\n")
	}
	b.WriteString(st.file.Render("fixed by --fix") + "\n")
	for _, f := range fs {
		sev := st.severity(f.Severity)
		fmt.Fprintf(b, "%s %s%s %s\n", sev.Render(f.Severity.String()+"["+f.Rule.ID+"]"), setupTag(f), f.Message, st.ok.Render("[fixed]"))
		if f.HasFile() {
			fmt.Fprintf(b, "  %s %s:%d:%d %s\n", st.gutter.Render("-->"), f.Range.Filename, f.Range.Start.Line, f.Range.Start.Column, st.rule.Render("("+f.Rule.Name+")"))
		}
		if len(f.Fixes) > 0 {
			writeIndented(b, st.gutter.Render("   = ")+st.fix.Render("fixed: "), f.Fixes[0].Description)
		}
	}
}

func writeFinding(b *bytes.Buffer, st textStyles, f rules.Finding, files map[string]*world.File) {
	writeFindingMarked(b, st, f, files, false)
}

// writeFindingMarked writes a finding, its headline marked [fixable] when
// fixable is set.
func writeFindingMarked(b *bytes.Buffer, st textStyles, f rules.Finding, files map[string]*world.File, fixable bool) {
	sev := st.severity(f.Severity)
	marker := ""
	if fixable {
		marker = " " + st.fix.Render("[fixable]")
	}
	fmt.Fprintf(b, "%s %s%s\n", sev.Render(f.Severity.String()+"["+f.Rule.ID+"]"), f.Message, marker)
	if f.HasFile() {
		fmt.Fprintf(b, "  %s %s:%d:%d %s\n", st.gutter.Render("-->"), f.Range.Filename, f.Range.Start.Line, f.Range.Start.Column, st.rule.Render("("+f.Rule.Name+")"))
		writeSnippet(b, st, sev, files[f.Range.Filename], f.Range)
	} else if f.Object.Name != "" {
		origin := ""
		if f.Object.Origin != "" {
			origin = " (" + f.Object.Origin + ")"
		}
		fmt.Fprintf(b, "  %s %s %s%s %s\n", st.gutter.Render("-->"), f.Object.Kind, f.Object.Name, origin, st.rule.Render("("+f.Rule.Name+")"))
	}
	for _, e := range f.Evidence {
		writeIndented(b, st.gutter.Render("   = ")+st.dim.Render("evidence: "), e)
	}
	for _, rel := range f.Related {
		loc := ""
		if rel.Range.Filename != "" {
			loc = fmt.Sprintf(" (%s:%d:%d)", rel.Range.Filename, rel.Range.Start.Line, rel.Range.Start.Column)
		}
		writeIndented(b, st.gutter.Render("   = ")+st.dim.Render("see: "), rel.Message+loc)
	}
	for _, fx := range f.Fixes {
		desc := fx.Description
		if fx.Manual && len(fx.Edits) > 0 {
			desc += st.dim.Render(" (by hand: --fix leaves it)")
		}
		writeIndented(b, st.gutter.Render("   = ")+st.fix.Render("fix: "), desc)
		for _, e := range fx.Edits {
			writeEdit(b, st, e, files[e.Range.Filename])
		}
		for _, c := range fx.CommandLines() {
			// Render line by line: lipgloss pads a multi-line block to
			// one width.
			for i, l := range strings.Split(c, "\n") {
				prefix := "$ "
				if i > 0 {
					prefix = "  "
				}
				b.WriteString("       " + st.fix.Render(prefix+l) + "\n")
			}
		}
	}
}

func writeIndented(b *bytes.Buffer, prefix, text string) {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	b.WriteString(prefix + lines[0] + "\n")
	for _, l := range lines[1:] {
		b.WriteString("       " + l + "\n")
	}
}

// writeEdit shows an edit as the whole lines it changes, before and
// after.
func writeEdit(b *bytes.Buffer, st textStyles, e rules.TextEdit, f *world.File) {
	fmt.Fprintf(b, "       %s\n", st.dim.Render(fmt.Sprintf("%s:%d:", e.Range.Filename, e.Range.Start.Line)))
	before, after := editLines(e, f)
	for _, l := range before {
		b.WriteString("       " + st.err.Render("- "+l) + "\n")
	}
	for _, l := range after {
		b.WriteString("       " + st.fix.Render("+ "+l) + "\n")
	}
}

// editLines returns the non-blank lines an edit changes, before and
// after it, tabs expanded. Without the file's source only the new text
// is known.
func editLines(e rules.TextEdit, f *world.File) (before, after []string) {
	if f == nil || e.Range.Start.Byte > e.Range.End.Byte || e.Range.End.Byte > len(f.Src) {
		return nil, strings.Split(strings.TrimRight(e.NewText, "\n"), "\n")
	}
	src := f.Src
	start := bytes.LastIndexByte(src[:e.Range.Start.Byte], '\n') + 1
	end := len(src)
	switch {
	case e.Range.End.Byte > e.Range.Start.Byte && src[e.Range.End.Byte-1] == '\n':
		// The edit ends with a whole line; the next line is not part of it.
		end = e.Range.End.Byte - 1
	default:
		if i := bytes.IndexByte(src[e.Range.End.Byte:], '\n'); i >= 0 {
			end = e.Range.End.Byte + i
		}
	}
	old := string(src[start:end])
	updated := string(src[start:e.Range.Start.Byte]) + e.NewText
	if e.Range.End.Byte <= end {
		updated += string(src[e.Range.End.Byte:end])
	}
	return nonBlankLines(old), nonBlankLines(updated)
}

func nonBlankLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, expandTabs(strings.TrimRight(l, "\r")))
		}
	}
	return out
}

// writeSnippet prints the first line of rng with a caret line under it,
// the caret in the finding's colour.
func writeSnippet(b *bytes.Buffer, st textStyles, caret paint, f *world.File, rng hcl.Range) {
	if f == nil || rng.Start.Line < 1 {
		return
	}
	ls, le, ok := lineBounds(f.Src, rng.Start.Line)
	if !ok {
		return
	}
	start, end := snippetBytes(f.Src, ls, le, rng)
	line := newDisplayLine(f.Src, rng.Start.Line, ls, le, f.Secrets)
	num := strconv.Itoa(rng.Start.Line)
	pad := strings.Repeat(" ", len(num))
	b.WriteString("  " + pad + " " + st.gutter.Render("|") + "\n")
	b.WriteString("  " + st.gutter.Render(num+" |") + " " + line.text + "\n")
	from := line.startCell(start - ls)
	to := max(line.endCell(end-ls), from+1)
	b.WriteString("  " + pad + " " + st.gutter.Render("|") + " " + strings.Repeat(" ", from) + caret.Render(strings.Repeat("^", to-from)) + "\n")
}

// lineBounds returns the byte offsets of the start and end of line n
// (1-based) of src, without its line ending.
func lineBounds(src []byte, n int) (start, end int, ok bool) {
	for i := 1; i < n; i++ {
		j := bytes.IndexByte(src[start:], '\n')
		if j < 0 {
			return 0, 0, false
		}
		start += j + 1
	}
	end = len(src)
	if j := bytes.IndexByte(src[start:], '\n'); j >= 0 {
		end = start + j
	}
	if end > start && src[end-1] == '\r' {
		end--
	}
	return start, end, true
}

// snippetBytes returns the part of rng on the line from ls to le as byte
// offsets into src. Byte offsets are what every reader sets alike;
// columns are counted in characters by some and grapheme clusters by
// hcl. A range with no offsets (zero where the line starts later, or
// with a column past 1) falls back to its columns, read as hcl counts
// them.
func snippetBytes(src []byte, ls, le int, rng hcl.Range) (start, end int) {
	byBytes := rng.Start.Byte >= ls && rng.Start.Byte <= le && (rng.Start.Byte > ls || rng.Start.Column <= 1)
	if byBytes {
		start = rng.Start.Byte
	} else {
		start = ls + columnOffset(src[ls:le], rng.Start.Column)
	}
	switch {
	case rng.End.Line != rng.Start.Line:
		end = le
	case byBytes && rng.End.Byte >= start:
		end = min(rng.End.Byte, le)
	case !byBytes:
		end = ls + columnOffset(src[ls:le], rng.End.Column)
	}
	return start, max(start, end)
}

// columnOffset is the byte offset of 1-based column col of line, columns
// counted in grapheme clusters.
func columnOffset(line []byte, col int) int {
	off, state := 0, -1
	for c := 1; c < col && off < len(line); c++ {
		var cluster []byte
		cluster, _, _, state = uniseg.FirstGraphemeCluster(line[off:], state)
		off += len(cluster)
	}
	return off
}

// maxLineCells is how much of a source line is shown.
const maxLineCells = 240

// displayLine is a source line as the terminal shows it: secrets masked,
// tabs expanded, cut at maxLineCells; units map its bytes to the display
// cells they take, so that the caret lands under what it points at after
// wide (CJK) characters, tabs, combining marks and masks.
type displayLine struct {
	text  string
	units []displayUnit
	width int
}

// displayUnit is a grapheme cluster or a masked secret: bytes [from, to)
// of the line, shown in cells [start, end).
type displayUnit struct{ from, to, start, end int }

func newDisplayLine(src []byte, n, ls, le int, secrets []hcl.Range) displayLine {
	line := src[ls:le]
	// offset is where p falls on the line: its byte offset, or its column
	// when the offset is not on this line (unset).
	offset := func(p hcl.Pos) int {
		if p.Byte >= ls && p.Byte <= le {
			return p.Byte - ls
		}
		return columnOffset(line, p.Column)
	}
	var masks [][2]int
	for _, r := range secrets {
		if r.Start.Line > n || r.End.Line < n {
			continue
		}
		a, b := 0, len(line)
		if r.Start.Line == n {
			a = offset(r.Start)
		}
		if r.End.Line == n {
			b = offset(r.End)
		}
		if a < b {
			masks = append(masks, [2]int{a, b})
		}
	}
	var d displayLine
	var text strings.Builder
	add := func(from, to int, shown string, cells int) bool {
		if d.width+cells > maxLineCells {
			text.WriteString("…")
			return false
		}
		text.WriteString(shown)
		d.units = append(d.units, displayUnit{from, to, d.width, d.width + cells})
		d.width += cells
		return true
	}
	state := -1
	for off := 0; off < len(line); {
		if m, ok := maskAt(masks, off); ok {
			const mask = `"<redacted>"`
			if !add(off, m, mask, len(mask)) {
				break
			}
			off, state = m, -1
			continue
		}
		cluster, _, w, next := uniseg.FirstGraphemeCluster(line[off:], state)
		state = next
		shown := string(cluster)
		if shown == "\t" {
			shown, w = "    ", 4
		}
		if !add(off, off+len(cluster), shown, w) {
			break
		}
		off += len(cluster)
	}
	d.text = text.String()
	return d
}

// maskAt returns the end of the secret starting at or covering off.
func maskAt(masks [][2]int, off int) (int, bool) {
	for _, m := range masks {
		if m[0] <= off && off < m[1] {
			return m[1], true
		}
	}
	return 0, false
}

// startCell is the cell where the unit holding byte off starts.
func (d displayLine) startCell(off int) int {
	for _, u := range d.units {
		if off < u.to {
			return u.start
		}
	}
	return d.width
}

// endCell is the cell after the unit holding the byte before off.
func (d displayLine) endCell(off int) int {
	end := 0
	for _, u := range d.units {
		if u.from >= off {
			break
		}
		end = u.end
	}
	return end
}

func expandTabs(s string) string { return strings.ReplaceAll(s, "\t", "    ") }

func writeVerbose(b *bytes.Buffer, st textStyles, r *Report) {
	for _, f := range r.Findings {
		if f.Trace != "" {
			b.WriteString("\n" + st.file.Render("stack of the crash of "+f.Rule.ID+" "+f.Rule.Name) + "\n")
			for _, l := range strings.Split(f.Trace, "\n") {
				b.WriteString("  " + st.dim.Render(l) + "\n")
			}
		}
	}
	if len(r.Skipped) == 0 && len(r.Notes) == 0 {
		return
	}
	b.WriteString("\n" + st.file.Render("not checked") + "\n")
	for _, s := range r.Skipped {
		tag := ""
		if s.Setup != "" {
			tag = "[" + s.Setup + "] "
		}
		fmt.Fprintf(b, "  %s%s %s\n", tag, st.rule.Render(s.Rule.ID+" "+s.Rule.Name+":"), s.Reason)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(b, "  %s\n", st.dim.Render(n))
	}
}

// byRuleFrom is how many findings a text report takes before it ends
// with a count by rule: past a screen, the list is for searching, and
// the counts say what a fleet's problem is (one rule on every job, or
// many rules on a few).
const byRuleFrom = 20

// writeByRule counts the findings of each rule, and the objects they
// name (ruleCounts).
func writeByRule(b *bytes.Buffer, st textStyles, fs []rules.Finding) {
	counts := ruleCounts(fs)
	width := 0
	for _, rc := range counts {
		width = max(width, len(rc.meta.ID)+1+len(rc.meta.Name))
	}
	b.WriteString(st.file.Render("by rule") + "\n")
	for _, rc := range counts {
		name := rc.meta.ID + " " + rc.meta.Name
		fmt.Fprintf(b, "  %s %s%s  %s in %s\n", st.severity(rc.worst).Render(fmt.Sprintf("%-7s", rc.worst.String())),
			st.rule.Render(name), strings.Repeat(" ", width-len(name)), Plural(rc.n, "finding"), Plural(rc.objects, "object"))
	}
	b.WriteString("\n")
}

func summaryLine(st textStyles, r *Report) string {
	s := r.Summary()
	files := r.checked()
	var also []string
	if s.Fixed > 0 {
		also = append(also, fmt.Sprintf("%d fixed", s.Fixed))
	}
	if n := r.fixable(); n > 0 {
		also = append(also, fmt.Sprintf("%d fixable with --fix", n))
	}
	if s.Suppressed > 0 {
		also = append(also, fmt.Sprintf("%d suppressed", s.Suppressed))
	}
	if s.Baselined > 0 {
		also = append(also, fmt.Sprintf("%d in the baseline", s.Baselined))
	}
	if len(also) > 0 {
		files += st.dim.Render(" (" + strings.Join(also, ", ") + ")")
	}
	if s.Findings == 0 {
		return st.ok.Render("✔ no problems") + " in " + files
	}
	var parts []string
	if s.Errors > 0 {
		parts = append(parts, st.err.Render(Plural(s.Errors, "error")))
	}
	if s.Warnings > 0 {
		parts = append(parts, st.warn.Render(Plural(s.Warnings, "warning")))
	}
	if s.Infos > 0 {
		parts = append(parts, st.info.Render(Plural(s.Infos, "info")))
	}
	mark := st.err.Render("✖")
	if s.Errors == 0 {
		mark = st.warn.Render("!")
	}
	return mark + " " + strings.Join(parts, ", ") + " in " + files
}

// fixable counts the findings marked [fixable].
func (r *Report) fixable() int {
	if !r.MarkFixable {
		return 0
	}
	n := 0
	for _, f := range r.Findings {
		if f.Fixable() {
			n++
		}
	}
	return n
}

// Plural says n things: "1 file", "3 files".
func Plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// writeVerdicts prints one line per area: the screen an operator reads
// first.
func writeVerdicts(b *bytes.Buffer, st textStyles, vs []Verdict) {
	width := 0
	for _, v := range vs {
		width = max(width, len(v.Area))
	}
	for _, v := range vs {
		status := st.ok.Render(fmt.Sprintf("%-11s", v.Status))
		switch v.Status {
		case "broken":
			status = st.err.Render(fmt.Sprintf("%-11s", v.Status))
		case "at risk":
			status = st.warn.Render(fmt.Sprintf("%-11s", v.Status))
		case "not checked":
			status = st.dim.Render(fmt.Sprintf("%-11s", v.Status))
		}
		detail := v.Detail
		if v.Findings > 1 && v.Status != StatusNotChecked {
			detail = fmt.Sprintf("%s (+%d more)", detail, v.Findings-1)
		}
		fmt.Fprintf(b, "%-*s  %s %s\n", width, v.Area, status, detail)
	}
	b.WriteString("\n")
}
