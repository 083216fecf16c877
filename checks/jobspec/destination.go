package jobspec

import (
	"regexp"
	"slices"
	"strings"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/world"
)

// How Nomad fills a template destination: the client's template hook
// passes it through the task environment's ReplaceEnv (client/taskenv),
// which replaces each ${name} (helper/args: `\${[a-zA-Z0-9_\-\.]+}`)
// found in the task's environment or the node's attributes and leaves
// every other one, and any $name without braces, as literal text.

var (
	bracedVar = regexp.MustCompile(`\$\{[a-zA-Z0-9_\-.]+\}`)
	bareVar   = regexp.MustCompile(`\$[A-Za-z_][A-Za-z0-9_]*`)
)

// nomadVars are the variables Nomad sets in every task's environment
// (client/taskenv); nomadVarPrefixes name families of them.
var (
	nomadVars = []string{
		"NOMAD_ALLOC_DIR", "NOMAD_TASK_DIR", "NOMAD_SECRETS_DIR",
		"NOMAD_MEMORY_LIMIT", "NOMAD_MEMORY_MAX_LIMIT", "NOMAD_CPU_LIMIT", "NOMAD_CPU_CORES",
		"NOMAD_ALLOC_ID", "NOMAD_SHORT_ALLOC_ID", "NOMAD_ALLOC_NAME", "NOMAD_ALLOC_INDEX",
		"NOMAD_TASK_NAME", "NOMAD_GROUP_NAME", "NOMAD_JOB_NAME", "NOMAD_JOB_ID", "NOMAD_JOB_PARENT_ID",
		"NOMAD_DC", "NOMAD_REGION", "NOMAD_NAMESPACE", "NOMAD_PARENT_CGROUP", "NOMAD_TOKEN",
		"VAULT_TOKEN", "VAULT_NAMESPACE",
	}
	nomadVarPrefixes = []string{
		"NOMAD_ADDR_", "NOMAD_HOST_ADDR_", "NOMAD_IP_", "NOMAD_HOST_IP_", "NOMAD_PORT_",
		"NOMAD_ALLOC_PORT_", "NOMAD_HOST_PORT_", "NOMAD_META_", "NOMAD_UPSTREAM_", "NOMAD_ALLOC_",
		"NOMAD_TOKEN_",
	}
	// Node values: node.unique.id, node.datacenter..., attr.*, meta.*.
	nodeVarPrefixes = []string{"node.", "attr.", "meta."}
)

// varKind is what Nomad makes of one variable in a destination.
type varKind int

const (
	// varFilled: Nomad fills it (its own variables, node values, the
	// task's env block).
	varFilled varKind = iota
	// varNotNomads: named like Nomad's variables (NOMAD_*) but not one of
	// them, so it stays literal text.
	varNotNomads
	// varBare: $NAME without braces, which Nomad never fills.
	varBare
	// varElsewhere: not Nomad's and not in the task's env block; only the
	// client agent's own environment could set it.
	varElsewhere
)

// destVar is one variable in a destination.
type destVar struct {
	Text, Name string
	Offset     int // in the destination text
	Kind       varKind
	// Suggest is the Nomad variable the name is probably a typo of.
	Suggest string
}

// destVars lists the variables of a destination, in order.
func destVars(dest string, t *world.Task) []destVar {
	var out []destVar
	braced := bracedVar.FindAllStringIndex(dest, -1)
	for _, m := range braced {
		text := dest[m[0]:m[1]]
		v := destVar{Text: text, Name: text[2 : len(text)-1], Offset: m[0]}
		switch {
		case isNomadVar(v.Name), hasPrefix(v.Name, nodeVarPrefixes), t != nil && slices.Contains(t.Env, v.Name), fillsSecret(v.Name):
			v.Kind = varFilled
		case strings.HasPrefix(v.Name, "NOMAD_"):
			v.Kind, v.Suggest = varNotNomads, closestVar(v.Name)
		default:
			v.Kind = varElsewhere
		}
		out = append(out, v)
	}
	for _, m := range bareVar.FindAllStringIndex(dest, -1) {
		if inside(m[0], braced) {
			continue
		}
		text := dest[m[0]:m[1]]
		out = append(out, destVar{Text: text, Name: text[1:], Offset: m[0], Kind: varBare})
	}
	slices.SortFunc(out, func(a, b destVar) int { return a.Offset - b.Offset })
	return out
}

// fillsSecret reports whether name is a secret.NAME.KEY, which Nomad
// 1.11+ fills from the task's secret "NAME" block; one naming a block the
// task lacks is NV410's finding, not a destination's.
func fillsSecret(name string) bool {
	return strings.HasPrefix(name, "secret.")
}

func inside(off int, spans [][]int) bool {
	for _, s := range spans {
		if off >= s[0] && off < s[1] {
			return true
		}
	}
	return false
}

func isNomadVar(name string) bool {
	return slices.Contains(nomadVars, name) || hasPrefix(name, nomadVarPrefixes)
}

func hasPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// closestVar is the Nomad variable a misspelt NOMAD_* name most likely
// means, or "".
func closestVar(name string) string {
	best, bestD := "", 4
	for _, k := range nomadVars {
		if d := levenshtein.Distance(name, k, nil); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// rangeOf is the range of bytes [start, end) of f.
func rangeOf(f *world.File, start, end int) hcl.Range {
	return hcl.Range{Filename: f.Path, Start: bytePos(f.Src, start), End: bytePos(f.Src, end)}
}
