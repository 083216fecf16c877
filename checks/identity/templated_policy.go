package identity

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/access"
	"github.com/nvlint/nvlint/acl"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/rules/edits"
	"github.com/nvlint/nvlint/world"
)

// paramRange is the range of one template directive inside a path label.
func paramRange(r *acl.PathRule, prm acl.Param) hcl.Range {
	label := r.PathRange
	// The label's text starts after its opening quote; path offsets are
	// bytes of the unquoted path, exact while it has no escapes.
	if label.End.Line != label.Start.Line || label.End.Byte-label.Start.Byte != len(r.Path)+2 {
		return label
	}
	start := label.Start.Byte + 1 + prm.Start
	return hcl.Range{
		Filename: label.Filename,
		Start:    hcl.Pos{Line: label.Start.Line, Column: label.Start.Column + 1 + prm.Start, Byte: start},
		End:      hcl.Pos{Line: label.Start.Line, Column: label.Start.Column + 1 + prm.End, Byte: label.Start.Byte + 1 + prm.End},
	}
}

// AccessorPlaceholder: the guides' placeholder left in a policy.
var AccessorPlaceholder rules.Rule = accessorPlaceholder{}

type accessorPlaceholder struct{}

func (accessorPlaceholder) Meta() *rules.Meta { return &accessorPlaceholderMeta }

var accessorPlaceholderMeta = rules.Meta{
	ID: "NV231", Name: "accessor-placeholder", Severity: rules.Error,
	Title: "a templated policy still says AUTH_METHOD_ACCESSOR",
	Needs: []world.Kind{world.KindPolicy},
	Doc: rules.Doc{
		Why: "HashiCorp's workload-identity guide writes AUTH_METHOD_ACCESSOR where the JWT auth mount's accessor belongs. Vault accepts the policy, " +
			"but no entity has an alias on a mount by that name, so every path using it is silently dropped and tasks get `permission denied`.",
		Example: "path \"kv/data/{{identity.entity.aliases.AUTH_METHOD_ACCESSOR.metadata.nomad_namespace}}/*\" {\n  capabilities = [\"read\"]\n}",
		Fix:     "Replace it with the mount's accessor: `vault auth list -format=json | jq -r '.\"jwt-nomad/\".accessor'` (auth_jwt_...).",
	},
}

func (accessorPlaceholder) Check(p *rules.Pass) {
	// A placeholder written literally stays one whatever Terraform fills
	// in elsewhere, so partly known policies are checked too.
	for _, pol := range p.World.PolicyTexts() {
		for _, r := range pol.ACL.Rules {
			for _, prm := range acl.TemplateParams(r.Path) {
				if prm.Accessor != access.AccessorPlaceholder {
					continue
				}
				f := rules.Finding{
					Message: fmt.Sprintf("policy %s path %q uses the placeholder %s instead of the JWT mount's accessor: Vault drops the path for every token", pol.Name(), r.Path, prm.Accessor),
					Range:   paramRange(r, prm),
					Object:  pol.Ref,
				}
				fix := rules.Fix{Description: "Replace AUTH_METHOD_ACCESSOR with the accessor of the JWT auth mount"}
				if h := p.World.Hints.JWTAccessor; h.IsKnown() && h.V != "" {
					// The accessor declared in .nvlint.hcl: an edit of the
					// file, or a rewrite of the live policy.
					if pol.File == nil {
						if c, ok := edits.PolicyRewrite(pol.Name(), access.AccessorPlaceholder, h.V); ok {
							fix.Description = fmt.Sprintf("Replace AUTH_METHOD_ACCESSOR with %s, the JWT mount's accessor (jwt_accessor)", h.V)
							fix.Commands = []rules.Command{c}
						}
					} else if es := replaceAccessor(pol, access.AccessorPlaceholder, h.V); es != nil {
						fix.Description = fmt.Sprintf("Replace AUTH_METHOD_ACCESSOR with %s, the JWT mount's accessor (jwt_accessor)", h.V)
						fix.Edits = es
						fix.Commands = edits.PolicyWrite(pol)
					}
				}
				if fix.Commands == nil && pol.File == nil {
					fix.Commands = []rules.Command{rules.Template("vault policy read %s | sed 's/"+access.AccessorPlaceholder+"/<accessor of the JWT mount, from vault auth list>/g' | vault policy write %s -",
						pol.Name(), pol.Name())}
				}
				if fix.Edits == nil && pol.File != nil {
					// The mount is not known here: the accessor is the user's
					// to look up, so the command is one to complete.
					if w := rules.TerraformCommands(p.World, edits.PolicyWrite(pol)); len(w) > 0 {
						words := append(rules.Args("s/"+access.AccessorPlaceholder+"/<accessor of the JWT mount, from vault auth list>/g", pol.File.Path), w[0].Words()...)
						fix.Commands = []rules.Command{rules.Template("sed -i"+strings.Repeat(" %s", len(words)-len(w[0].Words()))+" &&"+strings.Repeat(" %s", len(w[0].Words())), words...)}
					}
				}
				f.Fixes = []rules.Fix{fix}
				p.Report(f)
				break
			}
		}
	}
}

// MixedAccessors: one policy naming several auth mounts' accessors.
var MixedAccessors rules.Rule = mixedAccessors{}

type mixedAccessors struct{}

func (mixedAccessors) Meta() *rules.Meta { return &mixedAccessorsMeta }

var mixedAccessorsMeta = rules.Meta{
	ID: "NV232", Name: "mixed-accessors", Severity: rules.Warning,
	Title: "a templated policy refers to several auth mounts' accessors",
	Needs: []world.Kind{world.KindPolicy},
	Doc: rules.Doc{
		Why: "A Nomad task's entity has one alias on the JWT auth mount. A policy whose paths name different accessors usually holds a stale accessor " +
			"from an older mount (the auth method was re-enabled, or the policy was copied from another cluster): the paths with the wrong one are silently dropped.",
		Example: "path \"kv/data/{{identity.entity.aliases.auth_jwt_1111.metadata.nomad_namespace}}/*\" { ... }\npath \"kv/metadata/{{identity.entity.aliases.auth_jwt_2222.metadata.nomad_namespace}}/*\" { ... }",
		Fix:     "Use the current accessor of the JWT mount everywhere (`vault auth list`).",
	},
}

func (mixedAccessors) Check(p *rules.Pass) {
	for _, pol := range p.World.Policies {
		first := map[string]hcl.Range{}
		var order []string
		for _, r := range pol.ACL.Rules {
			for _, prm := range acl.TemplateParams(r.Path) {
				if prm.Accessor == "" || prm.Accessor == access.AccessorPlaceholder {
					continue
				}
				if _, seen := first[prm.Accessor]; !seen {
					first[prm.Accessor] = paramRange(r, prm)
					order = append(order, prm.Accessor)
				}
			}
		}
		if len(order) < 2 {
			continue
		}
		f := rules.Finding{
			Message: fmt.Sprintf("policy %s names %d auth mount accessors (%s); a Nomad task's entity has an alias on one JWT mount, so paths with the others are dropped", pol.Name(), len(order), strings.Join(order, ", ")),
			Range:   first[order[1]],
			Object:  pol.Ref,
		}
		for _, a := range order {
			f.Related = append(f.Related, rules.Related{Message: "accessor " + a, Range: first[a]})
		}
		p.Report(f)
	}
}

// ClaimMappingMissing: templated paths need metadata keys the role maps.
var ClaimMappingMissing rules.Rule = claimMappingMissing{}

type claimMappingMissing struct{}

func (claimMappingMissing) Meta() *rules.Meta { return &claimMappingMissingMeta }

var claimMappingMissingMeta = rules.Meta{
	ID: "NV233", Name: "claim-mapping-missing", Severity: rules.Error,
	Title: "a templated policy uses alias metadata the JWT role does not map",
	Needs: []world.Kind{world.KindPolicy, world.KindJWTRole},
	Doc: rules.Doc{
		Why: "identity.entity.aliases.<accessor>.metadata.<key> is filled from the JWT role's claim_mappings: a key the role does not map (or maps from a claim " +
			"Nomad does not issue) has no value, and Vault drops the whole path without a word. The task then gets `permission denied` on every path " +
			"that depended on it.",
		Example: "# policy: kv/data/{{identity.entity.aliases.auth_jwt_x.metadata.nomad_job_id}}/*\n# role:   \"claim_mappings\": {\"nomad_namespace\": \"nomad_namespace\"}",
		Fix:     "Add the claim to the role's claim_mappings (\"nomad_job_id\": \"nomad_job_id\"), or use a key it maps.",
	},
}

func (claimMappingMissing) Check(p *rules.Pass) {
	w := p.World
	for _, pol := range w.Policies {
		// A role gives the policy of its own cluster and namespace.
		var roles []*world.JWTRole
		for _, r := range w.JWTRolesGranting(pol.Name()) {
			if r.In(pol.Place()) {
				roles = append(roles, r)
			}
		}
		if len(roles) == 0 {
			continue
		}
		reported := map[string]bool{}
		for _, rule := range pol.ACL.Rules {
			for _, prm := range acl.TemplateParams(rule.Path) {
				if prm.Kind != "alias-metadata" || prm.Accessor == access.AccessorPlaceholder {
					continue
				}
				for _, role := range roles {
					if reported[role.Ref.Name+"\x00"+prm.Key] {
						continue
					}
					if !role.ClaimMappings.Known && role.ClaimMappings.Set || mapsTo(role, prm.Key) {
						continue
					}
					reported[role.Ref.Name+"\x00"+prm.Key] = true
					n := pathsUsing(pol, prm.Key)
					f := rules.Finding{
						Message:  fmt.Sprintf("policy %s uses alias metadata %q but JWT role %s, which grants the policy, does not map it in claim_mappings: Vault drops %s for its tokens", pol.Name(), prm.Key, role.Ref.Name, plural(n, "path")),
						Range:    paramRange(rule, prm),
						Object:   pol.Ref,
						Related:  []rules.Related{{Message: "claim_mappings of role " + role.Ref.Name, Range: mappingsRange(role)}},
						Evidence: []string{fmt.Sprintf("role %s maps: %s", role.Ref.Name, strings.Join(mappedKeys(role), ", "))},
					}
					if isNomadClaim(prm.Key) && (role.File != nil || role.ClaimMappings.Known || !role.ClaimMappings.Set) {
						mappings := map[string]any{prm.Key: prm.Key}
						for k, v := range role.ClaimMappings.Entries {
							mappings[k] = v.V
						}
						fix := rules.Fix{
							Description: fmt.Sprintf("Map claim %s to metadata %s in JWT role %s", prm.Key, prm.Key, role.Ref.Name),
							Commands:    []rules.Command{roleWriteJSON(role, map[string]any{"claim_mappings": mappings})},
						}
						if role.ClaimMappings.Set {
							fix.Edits = []rules.TextEdit{addMapping(role, prm.Key)}
						} else {
							fix.Edits = []rules.TextEdit{edits.InsertKey(&role.Meta, "claim_mappings", "{"+edits.Literal(role.File, prm.Key)+": "+edits.Literal(role.File, prm.Key)+"}")}
						}
						f.Fixes = []rules.Fix{fix}
					}
					p.Report(f)
				}
			}
		}
	}
}

func mapsTo(r *world.JWTRole, key string) bool {
	if key == "role" {
		return true // Vault always sets it
	}
	for _, target := range r.ClaimMappings.Entries {
		if target.V == key {
			return true
		}
	}
	return false
}

func mappedKeys(r *world.JWTRole) []string {
	var keys []string
	for _, t := range r.ClaimMappings.Entries {
		keys = append(keys, t.V)
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		return []string{"(nothing)"}
	}
	return keys
}

func mappingsRange(r *world.JWTRole) hcl.Range {
	if r.ClaimMappings.Set {
		return r.ClaimMappings.Range
	}
	return r.Range
}

func isNomadClaim(k string) bool {
	switch k {
	case "nomad_namespace", "nomad_job_id", "nomad_task", "nomad_allocation_id":
		return true
	}
	return false
}

// addMapping inserts "key": "key" as the first entry of the role's
// claim_mappings object.
func addMapping(r *world.JWTRole, key string) rules.TextEdit {
	if r.File == nil {
		return rules.TextEdit{}
	}
	at := r.ClaimMappings.Range.Start
	at.Byte++
	at.Column++
	sep := ","
	if len(r.ClaimMappings.Entries) == 0 {
		sep = ""
	}
	return edits.InsertAt(r.File.Path, at, "\n    "+edits.Literal(r.File, key)+": "+edits.Literal(r.File, key)+sep)
}

// pathsUsing counts the policy's paths that use an alias metadata key.
func pathsUsing(pol *world.Policy, key string) int {
	n := 0
	for _, r := range pol.ACL.Rules {
		for _, prm := range acl.TemplateParams(r.Path) {
			if prm.Kind == "alias-metadata" && prm.Key == key {
				n++
				break
			}
		}
	}
	return n
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// AccessorNotMounted: the accessor a templated policy names must be the
// live JWT mount's.
var AccessorNotMounted rules.Rule = accessorNotMounted{}

type accessorNotMounted struct{}

func (accessorNotMounted) Meta() *rules.Meta { return &accessorNotMountedMeta }

var accessorNotMountedMeta = rules.Meta{
	ID: "NV234", Name: "accessor-not-mounted", Severity: rules.Error,
	Title: "a templated policy names an accessor no auth mount has",
	Needs: []world.Kind{world.KindPolicy},
	Doc: rules.Doc{
		Why: "Accessors change whenever an auth method is disabled and enabled again, and differ between clusters. A templated policy that names an accessor " +
			"no mount has never fills: Vault drops its paths and tasks get `permission denied`, which looks identical from Nomad to a missing grant. " +
			"This rule needs the live auth mounts (nvlint doctor, or lint --snapshot).",
		Example: "path \"kv/data/{{identity.entity.aliases.auth_jwt_0ld0ld00.metadata.nomad_namespace}}/*\"   # jwt-nomad/ is auth_jwt_d34481ad",
		Fix:     "Replace the accessor with the JWT mount's current one (`vault auth list`) and rewrite the policy.",
	},
}

func (accessorNotMounted) Check(p *rules.Pass) {
	l := p.World.Live
	// Each Vault cluster has its own auth mounts: a policy's accessors are
	// those of its cluster's (the default one's for a policy that does
	// not say).
	type known struct {
		mounted map[string]string
		jwt     []world.AuthMount
	}
	byCluster := map[string]*known{}
	var declared *rules.Related
	switch h := p.World.Hints; {
	case l != nil && slices.ContainsFunc(l.Vaults(), func(v *world.VaultLive) bool { return len(v.AuthMounts) > 0 }):
		for _, v := range l.Vaults() {
			if len(v.AuthMounts) > 0 {
				byCluster[v.Name()] = &known{mounted: map[string]string{}}
				for _, m := range v.AuthMounts {
					byCluster[v.Name()].mounted[m.Accessor] = m.Path
					if m.Type == "jwt" || m.Type == "oidc" {
						byCluster[v.Name()].jwt = append(byCluster[v.Name()].jwt, m)
					}
				}
			}
		}
	case h.JWTAccessor.IsKnown() && h.JWTAccessor.V != "":
		// Offline, the accessor declared in .nvlint.hcl is the JWT
		// mount's; templated policies of the setup name no other mount.
		m := world.AuthMount{Path: p.World.NomadJWTMount(), Type: "jwt", Accessor: h.JWTAccessor.V}
		byCluster[world.DefaultCluster] = &known{mounted: map[string]string{m.Accessor: m.Path}, jwt: []world.AuthMount{m}}
		declared = &rules.Related{Message: "jwt_accessor " + h.JWTAccessor.V, Range: h.JWTAccessor.Range}
	default:
		p.CannotDecide("the live auth mounts are not known (nvlint doctor, lint --snapshot, or jwt_accessor in .nvlint.hcl)")
		return
	}
	for _, pol := range p.World.Policies {
		cluster := world.DefaultCluster
		if pol.Cluster.IsKnown() {
			cluster = pol.Cluster.V
		}
		k := byCluster[cluster]
		if k == nil {
			continue // that cluster's auth mounts were not read
		}
		mounted, jwt := k.mounted, k.jwt
		done := map[string]bool{}
		for _, r := range pol.ACL.Rules {
			for _, prm := range acl.TemplateParams(r.Path) {
				// A Terraform reference to a mount's accessor is right by
				// construction.
				if prm.Accessor == "" || prm.Accessor == access.AccessorPlaceholder || world.IsSymbolicAccessor(prm.Accessor) || done[prm.Accessor] {
					continue
				}
				done[prm.Accessor] = true
				if _, ok := mounted[prm.Accessor]; ok {
					continue
				}
				f := rules.Finding{
					Message: fmt.Sprintf("policy %s names accessor %s, which no auth mount has: Vault drops %s for every token", pol.Name(), prm.Accessor, plural(pathsWithAccessor(pol, prm.Accessor), "path")),
					Range:   paramRange(r, prm),
					Object:  pol.Ref,
				}
				if declared != nil {
					f.Message = fmt.Sprintf("policy %s names accessor %s, but the JWT mount's is %s (jwt_accessor): Vault drops %s for every Nomad task", pol.Name(), prm.Accessor, jwt[0].Accessor, plural(pathsWithAccessor(pol, prm.Accessor), "path"))
					f.Related = append(f.Related, *declared)
				}
				if len(jwt) == 1 {
					if declared == nil {
						f.Message += fmt.Sprintf("; the JWT mount %s/ has accessor %s", jwt[0].Path, jwt[0].Accessor)
					}
					fix := rules.Fix{Description: fmt.Sprintf("Use accessor %s of mount %s/", jwt[0].Accessor, jwt[0].Path)}
					if pol.File != nil {
						fix.Edits = replaceAccessor(pol, prm.Accessor, jwt[0].Accessor)
						fix.Commands = edits.PolicyWrite(pol)
						if w := edits.PolicyWrite(pol); fix.Edits == nil && len(w) > 0 {
							if expr, ok := edits.SedSubstitute(prm.Accessor, jwt[0].Accessor); ok {
								fix.Commands = []rules.Command{rules.Cmd(append([]string{"sed", "-i"}, rules.Args(expr, pol.File.Path)...)...).And(w[0].Words()...)}
							}
						}
					} else if c, ok := edits.PolicyRewrite(pol.Name(), prm.Accessor, jwt[0].Accessor); ok {
						fix.Commands = []rules.Command{c}
					}
					f.Fixes = []rules.Fix{fix}
				}
				p.Report(f)
			}
		}
	}
}

// replaceAccessor is the edits that write accessor to in place of from in
// every templated path of pol; nil when some path's text cannot be mapped
// back to the file exactly (escapes, a multi-line label).
func replaceAccessor(pol *world.Policy, from, to string) []rules.TextEdit {
	var es []rules.TextEdit
	for _, r := range pol.ACL.Rules {
		for _, prm := range acl.TemplateParams(r.Path) {
			if prm.Accessor != from {
				continue
			}
			rng := paramRange(r, prm)
			src := pol.File.Src
			if rng == r.PathRange || rng.End.Byte > len(src) || string(src[rng.Start.Byte:rng.End.Byte]) != r.Path[prm.Start:prm.End] {
				return nil
			}
			i := strings.Index(r.Path[prm.Start:prm.End], "."+from+".")
			if i < 0 {
				return nil
			}
			start := rng.Start
			start.Byte += i + 1
			start.Column += i + 1
			end := start
			end.Byte += len(from)
			end.Column += len(from)
			es = append(es, edits.Replace(hcl.Range{Filename: rng.Filename, Start: start, End: end}, to))
		}
	}
	return es
}

func pathsWithAccessor(pol *world.Policy, accessor string) int {
	n := 0
	for _, r := range pol.ACL.Rules {
		for _, prm := range acl.TemplateParams(r.Path) {
			if prm.Accessor == accessor {
				n++
				break
			}
		}
	}
	return n
}
