// Package templates finds the Vault reads in a Nomad template block's
// consul-template text.
//
// Nomad renders template blocks with consul-template, i.e. Go text/template
// with consul-template's function map. The Vault-touching functions in that
// map (consul-template template/template.go funcMap, template/funcs.go) are:
//
//	secret "path"                 read   (dependency.NewVaultReadQuery)
//	secret "path" "k=v" ...       write  (NewVaultWriteQuery; any extra
//	                                      argument, even "", makes it a write)
//	secrets "path"                list   (NewVaultListQuery)
//	pkiCert "path" "k=v" ...      write  (NewVaultPKIQuery: Logical().Write,
//	                                      e.g. to pki/issue/<role>)
//
// Find parses the text with text/template/parse (no execution) and evaluates
// path arguments abstractly: string literals, variables, dot, printf/print/
// println and pipelines are folded to constants where possible; anything
// coming from env, data, or other functions makes the path Dynamic, keeping
// the constant prefix that is still known.
package templates

import (
	"cmp"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"text/template/parse"
	"unicode/utf8"
)

// Operations reported in Access.Op. "write" is a Vault PUT (the create/update
// capabilities).
const (
	OpRead  = "read"
	OpList  = "list"
	OpWrite = "write"
)

// Access is one Vault call found in a template.
type Access struct {
	Func    string   // "secret", "secrets" or "pkiCert"
	Op      string   // OpRead, OpList or OpWrite
	Path    string   // constant path exactly as the template produces it; "" if Dynamic
	Dynamic bool     // the path is (partly) only known at render time
	Prefix  string   // for Dynamic paths: the constant text the path starts with (may be "")
	Args    []string // extra arguments (k=v data) of writes; non-constant ones as their source text
	// Offset and EndOffset delimit, in bytes, the path argument in the
	// template text (for a piped path, the command producing it).
	Offset, EndOffset int
	// Line and Column are 1-based positions of Offset. Column counts Unicode
	// code points (runes; an invalid byte counts as one), not bytes and not
	// grapheme clusters, so it matches hcl for everything but combining
	// sequences. Lines end at '\n' only.
	Line, Column int
}

// ParseError is a template syntax error, positioned within the template text.
type ParseError struct {
	Line, Column int    // 1-based; Column counts runes like Access.Column
	Offset       int    // byte offset of the position
	Msg          string // text/template/parse's message without its "template: name:line:" prefix
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("%d:%d: %s", e.Line, e.Column, e.Msg)
}

// Find parses text with the given delimiters ("" means "{{" and "}}") and
// returns the Vault accesses in text order. Syntax errors are returned as
// *ParseError. Functions are not checked against consul-template's map
// (parse.SkipFuncCheck), so unknown function names are not errors here.
//
// Bodies of define/block templates are searched whether or not they are
// executed (with dot unknown), and every branch of if/with/range counts: the
// result over-approximates what a render could request. Calls that
// consul-template rejects before contacting Vault are left out: no path
// argument, a constant path that is empty after trimming spaces and "/" or
// (reads, pkiCert) not URL-parseable, a constant data argument that is not
// "k=v" (empty ones are allowed), a non-string constant argument, and
// secrets with other than one argument.
func Find(text, leftDelim, rightDelim string) (acc []Access, err error) {
	defer func() {
		// parse re-panics runtime errors and the evaluator must never take
		// the caller down; report such a failure as an error instead.
		if r := recover(); r != nil {
			acc, err = nil, &ParseError{Line: 1, Column: 1, Msg: fmt.Sprintf("internal error: %v", r)}
		}
	}()
	main, set, err := parseText(text, leftDelim, rightDelim)
	if err != nil {
		return nil, newParseError(text, leftDelim, rightDelim, err)
	}
	trees := []*parse.Tree{main}
	names := make([]string, 0, len(set))
	for name := range set {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if t := set[name]; t != main {
			trees = append(trees, t)
		}
	}
	f := &finder{text: text, lines: lineStarts(text)}
	for _, t := range trees {
		f.tree(t)
	}
	sort.SliceStable(f.out, func(i, j int) bool {
		if f.out[i].Offset != f.out[j].Offset {
			return f.out[i].Offset < f.out[j].Offset
		}
		return f.out[i].EndOffset < f.out[j].EndOffset
	})
	return f.out, nil
}

// parseText parses like consul-template does (template.New("").Delims(l, r)
// .Parse(text)): the main template is named "", so a non-empty
// {{define ""}} is a "multiple definition" error there too.
func parseText(text, leftDelim, rightDelim string) (main *parse.Tree, set map[string]*parse.Tree, err error) {
	defer func() {
		if r := recover(); r != nil {
			main, set, err = nil, nil, fmt.Errorf("template: :1: internal parser error: %v", r)
		}
	}()
	set = map[string]*parse.Tree{}
	main = parse.New("")
	main.Mode = parse.SkipFuncCheck | parse.ParseComments
	if _, err := main.Parse(text, leftDelim, rightDelim, set); err != nil {
		return nil, nil, err
	}
	return main, set, nil
}

// lineStarts returns the byte offset at which each line begins.
func lineStarts(text string) []int {
	starts := []int{0}
	for i := 0; i < len(text); i++ {
		if text[i] == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// position converts a byte offset into a 1-based line and rune column.
func position(text string, starts []int, off int) (line, col int) {
	off = max(0, min(off, len(text)))
	i := sort.Search(len(starts), func(i int) bool { return starts[i] > off }) - 1
	return i + 1, 1 + utf8.RuneCountInString(text[starts[i]:off])
}

// newParseError positions a parse error. text/template/parse only reports a
// line, so the offset is found as the shortest prefix of text that fails with
// the very same message (the point where the parser had seen enough to
// fail), backed up to the start of the token ending there, and kept on the
// line the parser reported.
func newParseError(text, leftDelim, rightDelim string, err error) *ParseError {
	full := err.Error()
	msgLine, msg := splitParseMsg(full)
	same := func(n int) bool {
		_, _, e := parseText(text[:n], leftDelim, rightDelim)
		return e != nil && e.Error() == full
	}
	starts := lineStarts(text)
	// A prefix ending before the reported line cannot reach that line.
	lo, hi := 0, len(text) // same(hi) holds by definition
	if msgLine >= 1 && msgLine <= len(starts) {
		lo = starts[msgLine-1]
	}
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if same(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	off := tokenStart(text, hi, leftDelim, rightDelim)
	if ld := cmp.Or(leftDelim, "{{"); strings.HasPrefix(text[off:], cmp.Or(rightDelim, "}}")) {
		// The parser needed the whole action ("unexpected {{end}}",
		// "missing value for if"): point at its start when on the same line.
		if i := strings.LastIndex(text[:off], ld); i >= 0 {
			if l, _ := position(text, starts, i); l == msgLine {
				off = i
			}
		}
	}
	if msgLine >= 1 && msgLine <= len(starts) {
		// Trust the parser's line; clamp the offset onto it.
		first := starts[msgLine-1]
		last := len(text)
		if msgLine < len(starts) {
			last = starts[msgLine] - 1 // the '\n'
		}
		off = max(first, min(off, last))
	}
	line, col := position(text, starts, off)
	return &ParseError{Line: line, Column: col, Offset: off, Msg: msg}
}

// splitParseMsg splits "template: NAME:LINE: msg" into LINE and msg.
func splitParseMsg(s string) (int, string) {
	rest, ok := strings.CutPrefix(s, "template: :")
	if !ok {
		return 0, s
	}
	num, msg, ok := strings.Cut(rest, ": ")
	if !ok {
		return 0, s
	}
	n, err := strconv.Atoi(num)
	if err != nil {
		return 0, s
	}
	return n, msg
}

// tokenStart returns where the token that ends at end begins, recognising the
// delimiters, quoted strings and identifier-like runs; otherwise it points at
// the last byte.
func tokenStart(text string, end int, leftDelim, rightDelim string) int {
	if end <= 0 {
		return 0
	}
	if leftDelim == "" {
		leftDelim = "{{"
	}
	if rightDelim == "" {
		rightDelim = "}}"
	}
	s := text[:end]
	for _, d := range []string{rightDelim, leftDelim, "/*"} {
		if strings.HasSuffix(s, d) {
			return end - len(d)
		}
	}
	switch c := s[len(s)-1]; {
	case c == '`':
		if i := strings.LastIndexByte(s[:len(s)-1], '`'); i >= 0 {
			return i
		}
	case c == '"' || c == '\'':
		for i := len(s) - 2; i >= 0; i-- {
			if s[i] != c {
				continue
			}
			bs := 0
			for j := i - 1; j >= 0 && s[j] == '\\'; j-- {
				bs++
			}
			if bs%2 == 0 {
				return i
			}
		}
	case isWordByte(c):
		i := len(s) - 1
		for i > 0 && isWordByte(s[i-1]) {
			i--
		}
		return i
	}
	// Step back over one (possibly multi-byte) rune.
	_, size := utf8.DecodeLastRuneInString(s)
	return end - size
}

func isWordByte(c byte) bool {
	return c == '_' || c == '.' || c == '$' || c >= 0x80 ||
		'0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
