package rules

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/nvlint/nvlint/world"
)

// Suppressions: comments in HCL files that accept a finding.
//
//	# nvlint:ignore RULE[,RULE...] reason      this line, or the next line of configuration
//	// nvlint:ignore RULE reason               the same with //, or /* ... */
//	# nvlint:ignore-file RULE reason           the whole file; before its first line of configuration
//
// RULE is an ID or a name. The reason is required: a suppression without
// one suppresses nothing and is reported, as is one that suppresses
// nothing. JSON cannot hold comments: its findings are accepted with
// ignore blocks in .nvlint.hcl (Settings.Ignores).

// IDs of the rules the engine itself reports.
const (
	UnusedSuppressionID    = "NV004"
	MalformedSuppressionID = "NV005"
)

// Suppressed is a finding accepted by a suppression.
type Suppressed struct {
	Finding Finding
	Reason  string
	// By is where the suppression is written.
	By hcl.Range
}

const directivePrefix = "nvlint:"

// directive is one nvlint: comment.
type directive struct {
	rng      hcl.Range // the comment, without its trailing newline
	fileWide bool
	ownLine  bool
	// lines are the lines a line directive covers: its own and, on a line
	// of its own, the next line of configuration.
	lines   [2]int
	written []string // the rules as written
	ids     []string // resolved IDs, parallel to written
	reason  string
	problem string // set when malformed: why
	used    []bool
	// lineStart, lineEnd and codeEnd are byte offsets for the fix that
	// removes the comment: its line, and where code before it ends.
	lineStart, lineEnd, codeEnd int
}

// directives reads the nvlint: comments of an HCL file. JSON files hold
// none; nor does a file of no recognised kind (NV002): its text is not
// configuration, and what reads like a comment in it (a Markdown list
// item quoting the syntax) is not one.
func directives(f *world.File, all []Rule) []*directive {
	src := f.Src
	if f.Kind == "" || !bytes.Contains(src, []byte(directivePrefix)) {
		return nil
	}
	if t := bytes.TrimSpace(src); len(t) == 0 || t[0] == '{' || t[0] == '[' {
		return nil
	}
	toks, _ := hclsyntax.LexConfig(src, f.Path, hcl.InitialPos)
	var out []*directive
	seenCode := false
	for i, tok := range toks {
		switch tok.Type {
		case hclsyntax.TokenNewline, hclsyntax.TokenEOF:
			continue
		case hclsyntax.TokenComment:
		default:
			seenCode = true
			continue
		}
		body, ok := commentBody(tok.Bytes)
		if !ok {
			continue
		}
		d := parseDirective(body, all)
		if d == nil {
			continue
		}
		d.rng = tok.Range
		text := bytes.TrimRight(tok.Bytes, "\r\n")
		d.rng.End = posAt(src, tok.Range.Start.Byte+len(text))
		d.ownLine = i == 0 || startsLine(toks[i-1], tok)
		d.lines = [2]int{tok.Range.Start.Line, tok.Range.Start.Line}
		if d.ownLine {
			d.lines[1] = nextCodeLine(toks, i, d.lines[1])
		}
		if d.fileWide && seenCode && d.problem == "" {
			d.problem = "nvlint:ignore-file must come before the file's first line of configuration"
		}
		d.lineStart = bytes.LastIndexByte(src[:tok.Range.Start.Byte], '\n') + 1
		d.lineEnd = len(src)
		if j := bytes.IndexByte(src[tok.Range.Start.Byte:], '\n'); j >= 0 {
			d.lineEnd = tok.Range.Start.Byte + j + 1
		}
		d.codeEnd = tok.Range.Start.Byte
		for d.codeEnd > d.lineStart && (src[d.codeEnd-1] == ' ' || src[d.codeEnd-1] == '\t') {
			d.codeEnd--
		}
		out = append(out, d)
	}
	return out
}

// nextCodeLine is the line of configuration right below the comment
// toks[i]: stacked comment lines are passed over, a blank line ends the
// search (the comment is then about nothing below it; def is returned).
func nextCodeLine(toks hclsyntax.Tokens, i, def int) int {
	endsLine := func(j int) int {
		// A block comment does not hold its line end; skip it.
		if !bytes.HasSuffix(toks[j].Bytes, []byte("\n")) && j+1 < len(toks) && toks[j+1].Type == hclsyntax.TokenNewline {
			return j + 1
		}
		return j
	}
	for j := endsLine(i) + 1; j < len(toks); j++ {
		switch toks[j].Type {
		case hclsyntax.TokenComment:
			j = endsLine(j)
		case hclsyntax.TokenNewline, hclsyntax.TokenEOF:
			return def
		default:
			return toks[j].Range.Start.Line
		}
	}
	return def
}

// startsLine reports whether tok is the first token of its line, given
// the token before it.
func startsLine(prev, tok hclsyntax.Token) bool {
	if prev.Type == hclsyntax.TokenNewline || prev.Range.End.Line < tok.Range.Start.Line {
		return true
	}
	return prev.Type == hclsyntax.TokenComment && bytes.HasSuffix(prev.Bytes, []byte("\n"))
}

// commentBody strips the comment markers; ok is false when the comment is
// not an nvlint: directive.
func commentBody(c []byte) (string, bool) {
	s := strings.TrimSpace(string(c))
	switch {
	case strings.HasPrefix(s, "#"):
		s = s[1:]
	case strings.HasPrefix(s, "//"):
		s = s[2:]
	case strings.HasPrefix(s, "/*"):
		s = strings.TrimSuffix(s[2:], "*/")
	default:
		return "", false
	}
	s = strings.TrimSpace(s)
	return s, strings.HasPrefix(s, directivePrefix)
}

// parseDirective reads "nvlint:ignore RULES reason".
func parseDirective(body string, all []Rule) *directive {
	word, rest, _ := strings.Cut(body, " ")
	if i := strings.IndexAny(word, "\t"); i >= 0 {
		word, rest = word[:i], word[i:]+" "+rest
	}
	d := &directive{}
	switch word {
	case directivePrefix + "ignore":
	case directivePrefix + "ignore-file":
		d.fileWide = true
	default:
		d.problem = fmt.Sprintf("unknown directive %s (want nvlint:ignore or nvlint:ignore-file)", word)
		return d
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		d.problem = fmt.Sprintf("%s names no rule: write %s RULE reason", word, word)
		return d
	}
	for _, name := range strings.Split(strings.Trim(fields[0], ","), ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		r := Lookup(all, name)
		if r == nil {
			d.problem = fmt.Sprintf("%s names unknown rule %q%s (nvlint rules lists them)", word, name, DidYouMean(name, all))
			return d
		}
		d.written = append(d.written, name)
		d.ids = append(d.ids, r.Meta().ID)
	}
	d.used = make([]bool, len(d.ids))
	reason := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(rest), fields[0]))
	for _, sep := range []string{"--", "—", "-", ":"} {
		reason = strings.TrimSpace(strings.TrimPrefix(reason, sep))
	}
	if reason == "" {
		d.problem = fmt.Sprintf("%s %s has no reason: say why after the rule (%s %s <reason>); it suppresses nothing until it does", word, fields[0], word, fields[0])
		return d
	}
	d.reason = reason
	return d
}

// covers reports whether d accepts finding f (of rule index i).
func (d *directive) covers(f *Finding) (int, bool) {
	for i, id := range d.ids {
		if id != f.Rule.ID {
			continue
		}
		if d.fileWide || f.Range.Start.Line == d.lines[0] || f.Range.Start.Line == d.lines[1] {
			return i, true
		}
	}
	return 0, false
}

// suppress drops the findings that a directive or an ignore accepts and
// reports unused and malformed suppressions. all is the full catalog (a
// directive may name a disabled rule); catalog is what ran.
func suppress(w *world.World, all, catalog []Rule, res Result, ignores []Ignore) Result {
	unusedMeta := metaOf(catalog, UnusedSuppressionID)
	malformedMeta := metaOf(catalog, MalformedSuppressionID)
	byFile := map[string][]*directive{}
	files := map[string]*world.File{}
	for _, f := range w.Files {
		if ds := directives(f, all); len(ds) > 0 {
			byFile[f.Path] = ds
			files[f.Path] = f
		}
	}
	igUsed := make([]bool, len(ignores))
	kept := res.Findings[:0:0]
	for _, f := range res.Findings {
		if s, ok := accept(&f, byFile[f.Range.Filename], ignores, igUsed); ok {
			res.Suppressed = append(res.Suppressed, s)
			continue
		}
		kept = append(kept, f)
	}
	res.Findings = kept

	// Report the suppressions themselves, in file order.
	for _, f := range w.Files {
		for _, d := range byFile[f.Path] {
			if d.problem != "" {
				if malformedMeta != nil {
					res.Findings = append(res.Findings, Finding{
						Rule: malformedMeta, Severity: malformedMeta.Severity,
						Message: "malformed suppression: " + d.problem,
						Range:   d.rng,
						Object:  world.ObjectRef{Kind: f.Kind, Name: f.Path},
					})
				}
				continue
			}
			if unusedMeta != nil {
				if fd, ok := unusedDirective(f, d, res.Ran); ok {
					fd.Rule, fd.Severity = unusedMeta, unusedMeta.Severity
					res.Findings = append(res.Findings, fd)
				}
			}
		}
	}
	for i := range ignores {
		ig := &ignores[i]
		if igUsed[i] || unusedMeta == nil || !res.Ran[ig.Rule] || !ig.inScope(w) {
			continue
		}
		where := ""
		switch {
		case ig.Pattern != "" && ig.Object != "":
			where = fmt.Sprintf(" on path %q and object %q", ig.Pattern, ig.Object)
		case ig.Pattern != "":
			where = fmt.Sprintf(" on path %q", ig.Pattern)
		case ig.Object != "":
			where = fmt.Sprintf(" on object %q", ig.Object)
		}
		res.Findings = append(res.Findings, Finding{
			Rule: unusedMeta, Severity: unusedMeta.Severity,
			Message: fmt.Sprintf("ignore block for %s%s matches no finding: remove it from the config", ig.Rule, where),
			Range:   ig.Range,
			Object:  world.ObjectRef{Kind: "config", Name: ig.Range.Filename},
		})
	}
	return res
}

// accept finds the first suppression that accepts f and marks it used.
func accept(f *Finding, ds []*directive, ignores []Ignore, igUsed []bool) (Suppressed, bool) {
	if f.Rule == nil || f.Rule.ID == UnusedSuppressionID || f.Rule.ID == MalformedSuppressionID {
		return Suppressed{}, false
	}
	var found *directive
	for _, d := range ds {
		if d.problem != "" {
			continue
		}
		if i, ok := d.covers(f); ok {
			d.used[i] = true
			if found == nil {
				found = d
			}
		}
	}
	if found != nil {
		return Suppressed{Finding: *f, Reason: found.reason, By: found.rng}, true
	}
	for i := range ignores {
		if ignores[i].matches(f) {
			igUsed[i] = true
			return Suppressed{Finding: *f, Reason: ignores[i].Reason, By: ignores[i].Range}, true
		}
	}
	return Suppressed{}, false
}

// unusedDirective is the finding for a directive some of whose rules
// suppressed nothing. Rules that did not run (disabled, or missing an
// input) are not counted: the directive may serve a fuller run.
func unusedDirective(f *world.File, d *directive, ran map[string]bool) (Finding, bool) {
	var unused []string
	for i, id := range d.ids {
		if !d.used[i] && ran[id] {
			unused = append(unused, d.written[i])
		}
	}
	if len(unused) == 0 {
		return Finding{}, false
	}
	kind := "nvlint:ignore"
	if d.fileWide {
		kind = "nvlint:ignore-file"
	}
	fd := Finding{
		Range:  d.rng,
		Object: world.ObjectRef{Kind: f.Kind, Name: f.Path},
	}
	if len(unused) < len(d.ids) {
		fd.Message = fmt.Sprintf("%s for %s matches no finding: remove %s from it", kind, strings.Join(unused, ", "), strings.Join(unused, ", "))
		return fd, true
	}
	fd.Message = fmt.Sprintf("%s for %s matches no finding: remove it", kind, strings.Join(unused, ", "))
	// Remove the comment: its whole line when it has one of its own,
	// else the comment and the blanks before it.
	start, end := d.codeEnd, d.rng.End.Byte
	if d.ownLine && strings.TrimSpace(string(f.Src[d.lineStart:d.rng.Start.Byte])) == "" && strings.TrimSpace(string(f.Src[d.rng.End.Byte:d.lineEnd])) == "" {
		start, end = d.lineStart, d.lineEnd
	}
	fd.Fixes = []Fix{{
		Description: "Remove the unused suppression",
		Edits: []TextEdit{{
			Range: hcl.Range{Filename: f.Path, Start: posAt(f.Src, start), End: posAt(f.Src, end)},
		}},
	}}
	return fd, true
}

func metaOf(catalog []Rule, id string) *Meta {
	for _, r := range catalog {
		if m := r.Meta(); m.ID == id {
			return m
		}
	}
	return nil
}

// posAt is the position of a byte offset, columns counted in runes.
func posAt(src []byte, off int) hcl.Pos {
	start := bytes.LastIndexByte(src[:off], '\n') + 1
	return hcl.Pos{Line: bytes.Count(src[:off], []byte("\n")) + 1, Column: utf8.RuneCount(src[start:off]) + 1, Byte: off}
}
