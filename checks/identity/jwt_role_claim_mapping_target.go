package identity

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/rules/edits"
	"github.com/nvlint/nvlint/world"
)

// JWTRoleClaimMappingTarget: claim_mappings targets Vault refuses.
var JWTRoleClaimMappingTarget rules.Rule = jwtRoleClaimMappingTarget{}

type jwtRoleClaimMappingTarget struct{}

func (jwtRoleClaimMappingTarget) Meta() *rules.Meta { return &jwtRoleClaimMappingTargetMeta }

var jwtRoleClaimMappingTargetMeta = rules.Meta{
	ID: "NV218", Name: "jwt-role-claim-mapping-target", Severity: rules.Error,
	Title: "the JWT role maps a claim to a reserved or already used metadata key",
	Needs: []world.Kind{world.KindJWTRole},
	Doc: rules.Doc{
		Why: "claim_mappings copies claims into the token's and the entity alias's metadata, where templated policies read them. Vault keeps the metadata key \"role\" " +
			"for the role's name and refuses a mapping onto it (`metadata key \"role\" is reserved and may not be a mapping destination`), and refuses two claims mapped " +
			"to one key (`multiple keys are mapped to metadata key \"nomad_job_id\"`). The role then does not exist and every login naming it fails.",
		Example: "\"claim_mappings\": {\n  \"nomad_job_id\": \"nomad_job_id\",\n  \"nomad_task\": \"nomad_job_id\"\n}",
		Fix:     "Map each claim to a metadata key of its own, other than \"role\": usually the claim's own name.",
	},
}

// reservedMetadata are the metadata keys the JWT auth method sets itself.
var reservedMetadata = []string{"role"}

func (jwtRoleClaimMappingTarget) Check(p *rules.Pass) {
	for _, r := range p.World.JWTRoles {
		m := r.ClaimMappings
		if !m.Known {
			continue
		}
		type entry struct {
			claim string
			to    world.Str
		}
		var es []entry
		targets := map[string]bool{}
		for _, k := range m.Keys() {
			es = append(es, entry{k, m.Entries[k]})
			targets[m.Entries[k].V] = true
		}
		sort.SliceStable(es, func(i, j int) bool { return es[i].to.Range.Start.Byte < es[j].to.Range.Start.Byte })
		first := map[string]string{}
		for _, e := range es {
			var msg string
			var evidence []string
			switch prev, dup := first[e.to.V]; {
			case slices.Contains(reservedMetadata, e.to.V):
				msg = fmt.Sprintf("JWT role %s maps claim %q to metadata key %q, which Vault reserves for the role name; Vault refuses to write it: metadata key %q is reserved and may not be a mapping destination", r.Ref.Name, e.claim, e.to.V, e.to.V)
				evidence = []string{fmt.Sprintf("claim_mappings: %q -> %q", e.claim, e.to.V), "Vault sets metadata key \"role\" to the role's name on every login"}
			case dup:
				msg = fmt.Sprintf("JWT role %s maps claims %q and %q to the same metadata key %q; Vault refuses to write it: multiple keys are mapped to metadata key %q", r.Ref.Name, prev, e.claim, e.to.V, e.to.V)
				evidence = []string{fmt.Sprintf("claim_mappings: %q -> %q", prev, e.to.V), fmt.Sprintf("claim_mappings: %q -> %q", e.claim, e.to.V)}
			default:
				first[e.to.V] = e.claim
				continue
			}
			target := freeTarget(e.claim, targets)
			targets[target] = true
			f := rules.Finding{
				Message:  msg + fmt.Sprintf(": map %q to %q", e.claim, target),
				Range:    e.to.Range,
				Object:   r.Ref,
				Evidence: evidence,
			}
			fix := rules.Fix{Description: fmt.Sprintf("Map claim %q to metadata key %q", e.claim, target), Commands: []rules.Command{roleTemplate(r, "claim_mappings=<every mapping of the role, with this one changed>")}}
			if vr, ok := valueRange(r.File, e.to); ok {
				fix.Edits = []rules.TextEdit{edits.Replace(vr, edits.LiteralIn(vr.Filename, target))}
			}
			f.Fixes = []rules.Fix{fix}
			p.Report(f)
		}
	}
}

// freeTarget is a metadata key for claim that no other mapping uses: the
// claim's own name (a JSON pointer's last segment) when free.
func freeTarget(claim string, used map[string]bool) string {
	base := claim
	if strings.HasPrefix(base, "/") {
		base = base[strings.LastIndex(base, "/")+1:]
	}
	if base == "" || slices.Contains(reservedMetadata, base) {
		base = "claim_" + strings.Trim(strings.ReplaceAll(claim, "/", "_"), "_")
	}
	name := base
	for i := 2; used[name] || slices.Contains(reservedMetadata, name); i++ {
		name = fmt.Sprintf("%s_%d", base, i)
	}
	return name
}

// valueRange narrows a map entry's range (key through value) to the
// value, written as a plain quoted string at its end.
func valueRange(f *world.File, v world.Str) (hcl.Range, bool) {
	r := v.Range
	if f == nil || r.Filename != f.Path || r.End.Byte > len(f.Src) || r.Start.Byte > r.End.Byte {
		return hcl.Range{}, false
	}
	q := []byte(strconv.Quote(v.V))
	src := f.Src[r.Start.Byte:r.End.Byte]
	if !bytes.HasSuffix(src, q) || bytes.IndexByte(q, '\n') >= 0 {
		return hcl.Range{}, false
	}
	start := r.End
	start.Byte -= len(q)
	start.Column -= utf8.RuneCount(q)
	return hcl.Range{Filename: r.Filename, Start: start, End: r.End}, true
}
