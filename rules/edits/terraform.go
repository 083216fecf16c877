package edits

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/nvlint/nvlint/acl"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// InsertKey adds a top-level parameter to an object: "key": value as the
// first member of its JSON file, or, for an object a Terraform resource
// declares, the provider's attribute in the resource block (the value
// converted to the attribute's type).
func InsertKey(m *world.Meta, key, valueJSON string) rules.TextEdit {
	res := m.Resource
	if res == nil || res.File == nil {
		return InsertJSONKey(m.File, key, valueJSON)
	}
	key, value := world.TerraformAttribute(key, valueJSON)
	f := res.File
	at := res.InsertAt
	if strings.HasSuffix(strings.ToLower(f.Path), ".json") {
		sep := ","
		if rest := bytes.TrimSpace(f.Src[min(at.Byte, len(f.Src)):]); len(rest) > 0 && rest[0] == '}' {
			sep = ""
		}
		return InsertAt(f.Path, at, "\n"+res.Indent+strconv.Quote(key)+": "+value+sep)
	}
	line := res.Indent + key + " = " + value + "\n"
	if b := res.Braces; at.Column > 1 && b.End.Byte > b.Start.Byte && b.End.Byte <= len(f.Src) {
		// A one-line block: HCL wants it on lines of its own to take a
		// second attribute.
		inner := strings.TrimSpace(string(f.Src[b.Start.Byte+1 : b.End.Byte-1]))
		if inner != "" {
			inner = res.Indent + inner + "\n"
		}
		return Replace(b, "{\n"+inner+line+"}")
	}
	return InsertAt(f.Path, at, line)
}

// AppendToPolicy adds text (path blocks) at the end of a policy: its file,
// or, for a policy a Terraform resource writes inline, the end of its
// heredoc. ok is false when the policy's text cannot take it (an inline
// quoted string).
func AppendToPolicy(pol *world.Policy, text string) (rules.TextEdit, bool) {
	res := pol.Resource
	if pol.File == nil {
		return rules.TextEdit{}, false
	}
	if res == nil || pol.File != res.File {
		if jsonText(pol.File.Src) {
			// A policy in JSON takes no HCL block after it; Vault (HCL 1)
			// reads a text that starts with '{' as JSON.
			return rules.TextEdit{}, false
		}
		e := AppendToFile(pol.File, text)
		// HCL 1 takes what follows an assignment cut short at the end
		// of the file ("x =") as its value: the block would join it. A
		// policy already refused keeps the edit, beside the fix of what
		// Vault refuses.
		out, err := Apply(pol.File.Src, []rules.TextEdit{e})
		if err != nil || (!pol.Diagnostics().HasErrors() && !parsesAsPolicy(out, pol.File.Path)) {
			return rules.TextEdit{}, false
		}
		return e, true
	}
	if res.TextEnd == nil {
		return rules.TextEdit{}, false
	}
	var b strings.Builder
	b.WriteString("\n")
	for _, line := range strings.SplitAfter(text, "\n") {
		if strings.TrimSpace(line) != "" {
			b.WriteString(res.TextIndent)
		}
		b.WriteString(line)
	}
	if !strings.HasSuffix(text, "\n") {
		b.WriteString("\n")
	}
	return InsertAt(pol.File.Path, *res.TextEnd, b.String()), true
}

// parsesAsPolicy reports whether Vault would read src as a policy.
func parsesAsPolicy(src []byte, path string) bool {
	_, diags := acl.Parse(src, path)
	return !diags.HasErrors()
}

// jsonText reports whether src is a JSON document rather than HCL.
func jsonText(src []byte) bool {
	return bytes.HasPrefix(bytes.TrimLeft(src, " \t\r\n\ufeff"), []byte("{"))
}
