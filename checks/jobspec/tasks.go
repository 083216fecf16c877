package jobspec

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/access"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/rules/edits"
	"github.com/nvlint/nvlint/templates"
	"github.com/nvlint/nvlint/world"
)

// Helpers shared by the jobspec rules.

// taskOf names a task for messages: "task server of job web".
func taskOf(j *world.Job, t *world.Task) string {
	return fmt.Sprintf("task %s of job %s", t.Name.V, j.Ref.Name)
}

// tasksOf names several tasks of one job: "tasks a, b of job web".
func tasksOf(j *world.Job, ts []*world.Task) string {
	if len(ts) == 1 {
		return taskOf(j, ts[0])
	}
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.Name.V
	}
	return fmt.Sprintf("tasks %s of job %s", strings.Join(names, ", "), j.Ref.Name)
}

// vaultUse is one vault block of a job and the tasks it covers.
type vaultUse struct {
	job   *world.Job
	vault *world.VaultBlock
	tasks []*world.Task
}

// vaultUses groups the Vault-using tasks that keep accepts by the vault
// block covering them, in source order, so a rule reports each block once
// and names its tasks.
func vaultUses(w *world.World, keep func(access.Workload) bool) []*vaultUse {
	var out []*vaultUse
	byBlock := map[*world.VaultBlock]*vaultUse{}
	for _, wl := range access.Workloads(w) {
		if !keep(wl) {
			continue
		}
		u := byBlock[wl.Vault]
		if u == nil {
			u = &vaultUse{job: wl.Job, vault: wl.Vault}
			byBlock[wl.Vault] = u
			out = append(out, u)
		}
		u.tasks = append(u.tasks, wl.Task)
	}
	return out
}

// vaultCalls returns the Vault calls of an inline template. ok is false
// when the text is not known (a source file, an expression) or does not
// parse: then nothing can be said about it.
func vaultCalls(tpl *world.Template) ([]templates.Access, bool) {
	if !tpl.Data.IsKnown() {
		return nil, false
	}
	accs, err := tpl.VaultCalls()
	if err != nil {
		return nil, false
	}
	return accs, true
}

// callPath is the path of a call as consul-template names it, "..." for
// the part only known at render time.
func callPath(a templates.Access) string {
	if a.Dynamic {
		return a.Prefix + "..."
	}
	return templates.KVv2Path(a.Path, "", a.Op)
}

// missingEvent is the task event Nomad shows while a template waits for
// the call: `Missing: vault.read(path)`. consul-template names writes
// with a hash of their data, so only reads and lists are spelled out.
func missingEvent(a templates.Access) string {
	switch a.Op {
	case templates.OpRead:
		return fmt.Sprintf("Missing: vault.read(%s)", callPath(a))
	case templates.OpList:
		return fmt.Sprintf("Missing: vault.list(%s)", callPath(a))
	}
	return "Missing: vault.write(...)"
}

// describeCall renders a call for evidence: `secret "kv/data/x" (read)`.
func describeCall(a templates.Access) string {
	return fmt.Sprintf("%s %q (%s)", a.Func, callPath(a), a.Op)
}

// callRange points at the call's path argument in the file, or at the
// template block when the text cannot be mapped back verbatim.
func callRange(j *world.Job, tpl *world.Template, a templates.Access) hcl.Range {
	if j.File == nil {
		return tpl.Range
	}
	return tpl.TextRange(j.File, a.Line, a.Column, a.Offset, a.EndOffset-a.Offset)
}

// insertInBlock builds the edit that adds lines at the top of the body of
// the native-syntax HCL block whose header (keyword and labels) is hdr:
// `task "web" {` followed by a newline. Each line is indented one level
// deeper than the header, the way the body is. ok is false for other
// layouts (JSON, a one-line block), where an edit could break the file.
func insertInBlock(f *world.File, hdr hcl.Range, keyword string, lines []string) (rules.TextEdit, bool) {
	if f == nil || hdr.Filename == "" || hdr.Start.Byte < 0 || hdr.End.Byte > len(f.Src) || hdr.Start.Byte > hdr.End.Byte {
		return rules.TextEdit{}, false
	}
	src := f.Src
	if !bytes.HasPrefix(src[hdr.Start.Byte:], []byte(keyword)) {
		return rules.TextEdit{}, false
	}
	i := hdr.End.Byte
	for i < len(src) && (src[i] == ' ' || src[i] == '\t') {
		i++
	}
	if i >= len(src) || src[i] != '{' {
		return rules.TextEdit{}, false
	}
	nl := bytes.IndexByte(src[i:], '\n')
	if nl < 0 {
		return rules.TextEdit{}, false
	}
	if rest := bytes.TrimSpace(src[i+1 : i+nl]); len(rest) > 0 && rest[0] != '#' && !bytes.HasPrefix(rest, []byte("//")) {
		return rules.TextEdit{}, false
	}
	at := i + nl + 1
	indent := lineIndent(src, hdr.Start.Byte)
	unit := "  "
	if body := nextLineIndent(src, at); strings.HasPrefix(body, indent) && len(body) > len(indent) {
		unit = body[len(indent):]
	}
	var b strings.Builder
	for _, l := range lines {
		if l != "" {
			b.WriteString(indent + unit + l)
		}
		b.WriteString("\n")
	}
	return edits.InsertAt(f.Path, bytePos(src, at), b.String()), true
}

// lineIndent is the leading white space of the line holding offset off.
func lineIndent(src []byte, off int) string {
	start := bytes.LastIndexByte(src[:off], '\n') + 1
	end := start
	for end < len(src) && (src[end] == ' ' || src[end] == '\t') {
		end++
	}
	return string(src[start:end])
}

// nextLineIndent is the indentation of the first non-blank line at or
// after offset off.
func nextLineIndent(src []byte, off int) string {
	for off < len(src) {
		end := bytes.IndexByte(src[off:], '\n')
		if end < 0 {
			end = len(src) - off
		}
		line := src[off : off+end]
		if len(bytes.TrimSpace(line)) > 0 {
			return lineIndent(src, off)
		}
		off += end + 1
	}
	return ""
}

// bytePos is the position of a byte offset, columns counted in runes.
func bytePos(src []byte, off int) hcl.Pos {
	start := bytes.LastIndexByte(src[:off], '\n') + 1
	return hcl.Pos{Line: bytes.Count(src[:off], []byte("\n")) + 1, Column: utf8.RuneCount(src[start:off]) + 1, Byte: off}
}

// attrRange widens the range of an attribute's value to the whole
// native-syntax attribute `name = value`, when the source reads so.
func attrRange(f *world.File, name string, value hcl.Range) (hcl.Range, bool) {
	if f == nil || value.Start.Byte > len(f.Src) || value.End.Byte > len(f.Src) {
		return hcl.Range{}, false
	}
	lineStart := bytes.LastIndexByte(f.Src[:value.Start.Byte], '\n') + 1
	m := regexp.MustCompile(`(^|[\s{])(` + regexp.QuoteMeta(name) + `)\s*=\s*$`).FindSubmatchIndex(f.Src[lineStart:value.Start.Byte])
	if m == nil {
		return hcl.Range{}, false
	}
	start := lineStart + m[4]
	return hcl.Range{Filename: f.Path, Start: bytePos(f.Src, start), End: value.End}, true
}

// identityAud is the audience a fix writes into a new identity: the first
// bound audience of the JWT role the task would log in with, else the
// "vault.io" of `nomad setup vault`.
func identityAud(w *world.World, v *world.VaultBlock) string {
	if r := loginRole(w, v); r != nil && len(r.BoundAudiences.Items) > 0 {
		return r.BoundAudiences.Items[0].V
	}
	return "vault.io"
}

// loginRole is the JWT role a task logs in with, when the world says:
// vault.role, the clients' create_from_role, the auth method's
// default_role, or the only JWT role.
func loginRole(w *world.World, v *world.VaultBlock) *world.JWTRole {
	if name, _ := access.RoleFor(w, v); name != "" {
		return w.JWTRoleIn(access.PlaceFor(w, v), name)
	}
	if len(w.JWTRoles) == 1 {
		return w.JWTRoles[0]
	}
	return nil
}

// serverVault is an agent config's vault block for one cluster.
type serverVault struct {
	Agent *world.AgentConfig
	Vault *world.VaultConfig
}

// serverVaults lists the vault blocks for cluster of the agent configs
// that are recognisably a server's: server { enabled = true }, or keys
// only servers read (default_identity, and the legacy token,
// allow_unauthenticated and task_token_ttl).
func serverVaults(w *world.World, cluster string) []serverVault {
	// Asked for every task: worked out once per cluster and run.
	return world.Derived(w, serverVaultsKey{cluster}, func(w *world.World) []serverVault { return findServerVaults(w, cluster) })
}

type serverVaultsKey struct{ cluster string }

func findServerVaults(w *world.World, cluster string) []serverVault {
	var out []serverVault
	for _, a := range w.Agents {
		v := a.Vault(cluster)
		if v == nil {
			continue
		}
		if (a.Server.IsKnown() && a.Server.V) || v.DefaultIdentity != nil || v.Token.Set || v.AllowUnauthenticated.Set || v.TaskTokenTTL.Set {
			out = append(out, serverVault{a, v})
		}
	}
	return slices.Clip(out)
}

// serversDefaultIdentity is the servers' default_identity for cluster,
// nil when they set none. agreed is false when some server configs set
// one and others do not: which applies depends on the leader, so nothing
// can be said (usually several setups were linted as one).
func serversDefaultIdentity(w *world.World, cluster string) (sv serverVault, agreed bool) {
	servers := serverVaults(w, cluster)
	var with []serverVault
	for _, s := range servers {
		if s.Vault.DefaultIdentity != nil {
			with = append(with, s)
		}
	}
	switch {
	case len(with) == 0:
		return serverVault{}, true
	case len(with) == len(servers):
		return with[0], true
	}
	return serverVault{}, false
}
