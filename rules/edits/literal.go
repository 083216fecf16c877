package edits

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/nvlint/nvlint/world"
)

// Literal is s as a quoted string literal of f's syntax. Go's quoting is
// neither: its \x escapes are invalid in JSON and HCL alike, and HCL 2
// (jobspecs, Terraform) reads ${ and %{ in a quoted string as a template,
// which HCL 1 (agent configs, Vault policies) does not. Control characters
// become \u escapes, which all accept; a byte that is not UTF-8 becomes
// U+FFFD.
func Literal(f *world.File, s string) string {
	templates := f != nil && !isJSON(f) && (f.Kind == world.KindJobspec || f.Kind == world.KindTerraform)
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || (r >= 0x7f && r < 0xa0) || r == utf8.RuneError:
			fmt.Fprintf(&b, `\u%04x`, r)
		case templates && (r == '$' || r == '%') && strings.HasPrefix(s[i+size:], "{"):
			b.WriteRune(r)
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
		i += size
	}
	b.WriteByte('"')
	return b.String()
}

// isJSON reports whether f is written in JSON rather than HCL's native
// syntax.
func isJSON(f *world.File) bool {
	if f == nil {
		return false
	}
	if strings.HasSuffix(strings.ToLower(f.Path), ".json") {
		return true
	}
	src := bytes.TrimSpace(f.Src)
	return len(src) > 0 && src[0] == '{'
}

// LiteralIn is Literal for a file known by its path alone (JSON when its
// name says so), whose ${ are left as written.
func LiteralIn(path, s string) string {
	return Literal(&world.File{Path: path}, s)
}
