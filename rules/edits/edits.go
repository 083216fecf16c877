// Package edits builds the text edits of suggested fixes from source
// ranges, for HCL and JSON alike. Edits are data: the engine (or the
// user) decides whether to apply them.
//
// Objects read from a live cluster have no file. Every builder here
// accepts one (a nil *world.File) and returns an edit without a file name,
// which the engine drops: a live object's fix is its command.
package edits

import (
	"bytes"
	"strconv"

	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// Replace replaces the text of r.
func Replace(r hcl.Range, text string) rules.TextEdit {
	return rules.TextEdit{Range: r, NewText: text}
}

// InsertAt inserts text at position p of file.
func InsertAt(file string, p hcl.Pos, text string) rules.TextEdit {
	return rules.TextEdit{Range: hcl.Range{Filename: file, Start: p, End: p}, NewText: text}
}

// AppendToFile appends text at the end of f, on a line of its own.
func AppendToFile(f *world.File, text string) rules.TextEdit {
	if f == nil {
		return rules.TextEdit{}
	}
	end := endPos(f.Src)
	if len(f.Src) > 0 && f.Src[len(f.Src)-1] != '\n' {
		text = "\n" + text
	}
	if len(f.Src) > 0 {
		text = "\n" + text
	}
	return InsertAt(f.Path, end, text)
}

// DeleteLines removes the whole lines r spans, when nothing else shares
// them; otherwise just the range.
func DeleteLines(f *world.File, r hcl.Range) rules.TextEdit {
	if f == nil || !within(f, r) {
		return rules.TextEdit{}
	}
	start := bytes.LastIndexByte(f.Src[:r.Start.Byte], '\n') + 1
	end := r.End.Byte
	if i := bytes.IndexByte(f.Src[end:], '\n'); i >= 0 {
		end += i + 1
	} else {
		end = len(f.Src)
	}
	before := bytes.TrimSpace(f.Src[start:r.Start.Byte])
	after := bytes.TrimSpace(f.Src[r.End.Byte:end])
	if len(before) > 0 || (len(after) > 0 && !bytes.Equal(after, []byte(","))) {
		return Replace(r, "")
	}
	return Replace(rangeOf(f, start, end), "")
}

// AppendToList adds a quoted string to a list literal (HCL tuple or JSON
// array) whose range is r, or to a comma-separated string.
func AppendToList(f *world.File, l world.List, item string) rules.TextEdit {
	r := l.Range
	if f == nil || !within(f, r) {
		return rules.TextEdit{}
	}
	src := r.SliceBytes(f.Src)
	switch {
	case len(src) >= 2 && src[0] == '[':
		closing := r.End
		closing.Byte--
		closing.Column--
		if len(l.Items) == 0 {
			return InsertAt(f.Path, closing, Literal(f, item))
		}
		last := l.Items[len(l.Items)-1].Range.End
		if last.Byte > closing.Byte || last.Byte < r.Start.Byte {
			last = closing
		}
		return InsertAt(f.Path, last, ", "+Literal(f, item))
	case len(src) >= 2 && src[0] == '"':
		s := ""
		for i, it := range l.Items {
			if i > 0 {
				s += ","
			}
			s += it.V
		}
		if s != "" {
			s += ","
		}
		return Replace(r, Literal(f, s+item))
	}
	return Replace(r, "["+Literal(f, item)+"]")
}

// RemoveFromList removes one element from a list literal, or rewrites a
// comma-separated string without it.
func RemoveFromList(f *world.File, l world.List, item world.Str) rules.TextEdit {
	if f == nil || !within(f, l.Range) {
		return rules.TextEdit{}
	}
	src := l.Range.SliceBytes(f.Src)
	if len(src) > 0 && src[0] == '"' {
		s := ""
		for _, it := range l.Items {
			if it.V == item.V {
				continue
			}
			if s != "" {
				s += ","
			}
			s += it.V
		}
		return Replace(l.Range, Literal(f, s))
	}
	idx := -1
	for i, it := range l.Items {
		if it.Range == item.Range {
			idx = i
		}
	}
	switch {
	case idx < 0:
		return Replace(item.Range, "")
	case len(l.Items) == 1:
		return Replace(rangeOf(f, l.Range.Start.Byte+1, l.Range.End.Byte-1), "")
	case idx == len(l.Items)-1:
		return Replace(rangeOf(f, l.Items[idx-1].Range.End.Byte, item.Range.End.Byte), "")
	default:
		return Replace(rangeOf(f, item.Range.Start.Byte, l.Items[idx+1].Range.Start.Byte), "")
	}
}

// InsertJSONKey adds "key": value as the first member of the JSON object
// that opens at the first '{' of f.
func InsertJSONKey(f *world.File, key, valueJSON string) rules.TextEdit {
	if f == nil {
		return rules.TextEdit{}
	}
	open := bytes.IndexByte(f.Src, '{')
	if open < 0 {
		return AppendToFile(f, "")
	}
	rest := bytes.TrimSpace(f.Src[open+1:])
	sep := ","
	if len(rest) > 0 && rest[0] == '}' {
		sep = ""
	}
	indent := "  "
	text := "\n" + indent + strconv.Quote(key) + ": " + valueJSON + sep
	p := rangeOf(f, open+1, open+1).Start
	return InsertAt(f.Path, p, text)
}

// within reports whether r is a range of f: named after it and inside
// its bytes.
func within(f *world.File, r hcl.Range) bool {
	return r.Filename == f.Path && r.Start.Byte >= 0 && r.Start.Byte <= r.End.Byte && r.End.Byte <= len(f.Src)
}

// rangeOf builds a range from byte offsets, computing lines and columns.
func rangeOf(f *world.File, start, end int) hcl.Range {
	return hcl.Range{Filename: f.Path, Start: posAt(f.Src, start), End: posAt(f.Src, end)}
}

func posAt(src []byte, offset int) hcl.Pos {
	line := bytes.Count(src[:offset], []byte("\n")) + 1
	col := offset - (bytes.LastIndexByte(src[:offset], '\n') + 1) + 1
	return hcl.Pos{Line: line, Column: col, Byte: offset}
}

func endPos(src []byte) hcl.Pos { return posAt(src, len(src)) }

// Span is the range of f's bytes from start to end.
func Span(f *world.File, start, end int) hcl.Range { return rangeOf(f, start, end) }
