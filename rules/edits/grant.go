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
		fix.Commands = []rules.Command{PolicyAppendCommand(pol.Name(), path, capability)}
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
	fix.Commands = PolicyWrite(pol)
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

// PolicyAppendCommand is the command that adds a path block to a live
// policy, keeping its other rules. The read and the block are one group
// joined by &&: when the read fails nothing reaches the write, which
// Vault then refuses as empty, instead of replacing the policy with the
// block alone.
func PolicyAppendCommand(name, path string, caps ...string) rules.Command {
	q := make([]string, len(caps))
	for i, c := range caps {
		q[i] = strconv.Quote(c)
	}
	block := fmt.Sprintf("path %q { capabilities = [%s] }", path, strings.Join(q, ", "))
	return rules.Seq(
		append(rules.Argv{"vault", "policy", "read"}, rules.Args(name)...),
		rules.Argv{"printf", `\n%s\n`, block},
	).Pipe(append([]string{"vault", "policy", "write"}, rules.Args(name, "-")...)...)
}

// PolicyWrite is the command that writes a policy file to Vault: none
// for a policy read from standard input, whose file nvlint cannot name
// (the edited text is shown, and the user writes it where it is kept),
// nor for one with no file.
func PolicyWrite(pol *world.Policy) []rules.Command {
	if pol.File == nil || pol.File.Path == "-" || pol.File.Path == "" {
		return nil
	}
	return []rules.Command{rules.Cmd(append([]string{"vault", "policy", "write"}, rules.Args(pol.Name(), pol.File.Path)...)...)}
}

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

// SedSubstitute is the sed expression that replaces every old with new,
// both taken literally: the characters sed would read as regular
// expression, delimiter or back-reference are escaped. ok is false for
// text sed cannot take on one line.
func SedSubstitute(old, new string) (string, bool) {
	if strings.ContainsAny(old+new, "\n\r") || old == "" {
		return "", false
	}
	pat := strings.NewReplacer(`\`, `\\`, `/`, `\/`, `.`, `\.`, `*`, `\*`, `[`, `\[`, `]`, `\]`, `^`, `\^`, `$`, `\$`).Replace(old)
	rep := strings.NewReplacer(`\`, `\\`, `/`, `\/`, `&`, `\&`).Replace(new)
	return "s/" + pat + "/" + rep + "/g", true
}

// PolicyRewrite is the command that replaces every old with new in the
// text of a live policy: read, substitute, write back. A failed read
// leaves the write an empty policy, which Vault refuses.
func PolicyRewrite(name, old, new string) (rules.Command, bool) {
	expr, ok := SedSubstitute(old, new)
	if !ok {
		return rules.Command{}, false
	}
	return rules.Cmd(append([]string{"vault", "policy", "read"}, rules.Args(name)...)...).
		Pipe("sed", expr).
		Pipe(append([]string{"vault", "policy", "write"}, rules.Args(name, "-")...)...), true
}
