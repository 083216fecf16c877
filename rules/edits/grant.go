package edits

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/acl"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// Grant is the fix that makes policy pol grant capability on path: the
// capability added to the path's exact rule when the policy has one that
// decided d, else a new path block appended to the policy. A live policy
// gets a command that appends the block without losing its other rules.
func Grant(pol *world.Policy, path, capability string, d acl.Decision) rules.Fix {
	fix := rules.Fix{Description: fmt.Sprintf("Grant %s on %s in policy %s", capability, path, pol.Name())}
	if pol.File == nil {
		fix.Commands = []string{PolicyAppendCommand(pol.Name(), path, capability)}
		return fix
	}
	if w := d.Winner; w != nil && w.Kind == "exact" && len(w.Sources) > 0 && w.Sources[0].Policy == pol.Name() {
		r := w.Sources[0].Rule
		if len(r.CapRanges) == len(r.Capabilities) && len(r.Capabilities) > 0 && !slices.Contains(r.Capabilities, "deny") {
			list := world.List{Set: true, Known: true, Range: capsListRange(pol.File, r)}
			for i, c := range r.Capabilities {
				list.Items = append(list.Items, world.Str{V: c, Set: true, Known: true, Range: r.CapRanges[i]})
			}
			fix.Edits = []rules.TextEdit{AppendToList(pol.File, list, capability)}
		}
	}
	if fix.Edits == nil {
		if e, ok := AppendToPolicy(pol, PathBlock(path, capability)); ok {
			fix.Edits = []rules.TextEdit{e}
		}
	}
	fix.Commands = []string{fmt.Sprintf("vault policy write %s %s", pol.Name(), pol.File.Path)}
	return fix
}

// PathBlock renders a policy path block.
func PathBlock(path string, caps ...string) string {
	q := make([]string, len(caps))
	for i, c := range caps {
		q[i] = strconv.Quote(c)
	}
	return fmt.Sprintf("path %q {\n  capabilities = [%s]\n}\n", path, strings.Join(q, ", "))
}

// PolicyAppendCommand is the one-line command that adds a path block to a
// live policy, keeping its other rules.
func PolicyAppendCommand(name, path string, caps ...string) string {
	q := make([]string, len(caps))
	for i, c := range caps {
		q[i] = strconv.Quote(c)
	}
	block := fmt.Sprintf("path %q { capabilities = [%s] }", path, strings.Join(q, ", "))
	return fmt.Sprintf("{ vault policy read %s; echo %s; } | vault policy write %s -", name, shellQuote(block), name)
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// capsListRange narrows a capabilities attribute to its list literal.
func capsListRange(f *world.File, r *acl.PathRule) hcl.Range {
	out := r.CapsRange
	if out.End.Byte > len(f.Src) || out.Start.Byte > out.End.Byte {
		return out
	}
	if i := bytes.IndexByte(f.Src[out.Start.Byte:out.End.Byte], '['); i >= 0 {
		out.Start.Byte += i
		out.Start.Column += i
	}
	return out
}
