package edits

import (
	"bytes"

	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// RemoveJSONMember removes the member "key": value of a JSON object, given
// the range of its value, with the comma that separates it from its
// neighbour and, when it has a line of its own, the whole line. ok is
// false when the source around the value does not look like a member.
func RemoveJSONMember(f *world.File, value hcl.Range) (rules.TextEdit, bool) {
	src := f.Src
	vs, ve := value.Start.Byte, value.End.Byte
	if value.Filename != f.Path || vs < 0 || ve > len(src) || vs > ve {
		return rules.TextEdit{}, false
	}
	// Back from the value over `"key"\s*:\s*`.
	i := skipSpaceBack(src, vs)
	if i == 0 || src[i-1] != ':' {
		return rules.TextEdit{}, false
	}
	i = skipSpaceBack(src, i-1)
	if i == 0 || src[i-1] != '"' {
		return rules.TextEdit{}, false
	}
	open := bytes.LastIndexByte(src[:i-1], '"')
	if open < 0 {
		return rules.TextEdit{}, false
	}
	start, end := open, ve
	after := skipSpace(src, ve)
	switch {
	case after < len(src) && src[after] == ',':
		// A member with a successor: take the comma after it.
		end = after + 1
	default:
		// The last member: take the comma before it.
		before := skipSpaceBack(src, open)
		if before == 0 || src[before-1] != ',' {
			if before > 0 && src[before-1] == '{' {
				break // the only member
			}
			return rules.TextEdit{}, false
		}
		start = before - 1
		return Replace(rangeOf(f, start, end), ""), true
	}
	// Widen to whole lines when the member has its lines to itself.
	lineStart := bytes.LastIndexByte(src[:start], '\n') + 1
	lineEnd := len(src)
	if j := bytes.IndexByte(src[end:], '\n'); j >= 0 {
		lineEnd = end + j + 1
	}
	switch {
	case len(bytes.TrimSpace(src[lineStart:start])) == 0 && len(bytes.TrimSpace(src[end:lineEnd])) == 0:
		start, end = lineStart, lineEnd
	default:
		// Inline: take the blanks after the comma too.
		for end < len(src) && (src[end] == ' ' || src[end] == '\t') {
			end++
		}
	}
	return Replace(rangeOf(f, start, end), ""), true
}

func skipSpace(src []byte, i int) int {
	for i < len(src) && isSpace(src[i]) {
		i++
	}
	return i
}

func skipSpaceBack(src []byte, i int) int {
	for i > 0 && isSpace(src[i-1]) {
		i--
	}
	return i
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
