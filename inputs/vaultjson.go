package inputs

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/world"
)

// Vault objects are the JSON payloads of `vault write PATH @file.json`.
// Each reader accepts both the current token_* parameter names and the
// legacy ones Vault still upgrades.

func loadTokenRole(f *world.File, top hcl.Attributes, ref world.ObjectRef, w *world.World) {
	f.Diags = append(f.Diags, typeCheck(top, tokenRoleTypes)...)
	r := &world.TokenRole{
		Meta:                   world.Meta{File: f, Ref: ref},
		Name:                   strAttr(top, "name"),
		AllowedPolicies:        listAttr(top, "allowed_policies"),
		DisallowedPolicies:     listAttr(top, "disallowed_policies"),
		AllowedPoliciesGlob:    listAttr(top, "allowed_policies_glob"),
		DisallowedPoliciesGlob: listAttr(top, "disallowed_policies_glob"),
		Orphan:                 boolAttr(top, "orphan"),
		Renewable:              boolAttr(top, "renewable"),
		Period:                 secondsAttr(top, "period"),
		TokenPeriod:            secondsAttr(top, "token_period"),
		ExplicitMaxTTL:         secondsAttr(top, "explicit_max_ttl"),
		TokenExplicitMaxTTL:    secondsAttr(top, "token_explicit_max_ttl"),
		TokenNoDefaultPolicy:   boolAttr(top, "token_no_default_policy"),
		TokenType:              strAttr(top, "token_type"),
	}
	r.Range = objectRange(f)
	w.TokenRoles = append(w.TokenRoles, r)
}

func loadJWTConfig(f *world.File, top hcl.Attributes, ref world.ObjectRef, w *world.World) {
	f.Diags = append(f.Diags, typeCheck(top, jwtConfigTypes)...)
	c := &world.JWTAuthConfig{
		Meta:                 world.Meta{File: f, Ref: ref},
		Mount:                ref.Name,
		JWKSURL:              strAttr(top, "jwks_url"),
		JWTValidationPubkeys: listAttr(top, "jwt_validation_pubkeys"),
		JWKSPairs:            nonEmptyAttr(top, "jwks_pairs"),
		OIDCDiscoveryURL:     strAttr(top, "oidc_discovery_url"),
		JWTSupportedAlgs:     listAttr(top, "jwt_supported_algs"),
		DefaultRole:          strAttr(top, "default_role"),
		BoundIssuer:          strAttr(top, "bound_issuer"),
	}
	c.Range = objectRange(f)
	w.JWTConfigs = append(w.JWTConfigs, c)
}

func loadJWTRole(f *world.File, top hcl.Attributes, ref world.ObjectRef, w *world.World) {
	f.Diags = append(f.Diags, typeCheck(top, jwtRoleTypes)...)
	r := &world.JWTRole{
		Meta:                 world.Meta{File: f, Ref: ref},
		RoleType:             strAttr(top, "role_type"),
		BoundAudiences:       listAttr(top, "bound_audiences"),
		BoundSubject:         strAttr(top, "bound_subject"),
		BoundClaimsType:      strAttr(top, "bound_claims_type"),
		UserClaim:            strAttr(top, "user_claim"),
		UserClaimJSONPointer: boolAttr(top, "user_claim_json_pointer"),
		ClaimMappings:        mapAttr(top, "claim_mappings"),
		TokenPolicies:        firstList(top, "token_policies", "policies"),
		TokenPeriod:          firstSeconds(top, "token_period", "period"),
		TokenTTL:             firstSeconds(top, "token_ttl", "ttl"),
		TokenMaxTTL:          firstSeconds(top, "token_max_ttl", "max_ttl"),
		TokenExplicitMaxTTL:  secondsAttr(top, "token_explicit_max_ttl"),
		TokenType:            strAttr(top, "token_type"),
		TokenNoDefaultPolicy: boolAttr(top, "token_no_default_policy"),
		TokenBoundCIDRs:      firstList(top, "token_bound_cidrs", "bound_cidrs"),
	}
	if a, ok := top["bound_claims"]; ok && !isNull(a.Expr) {
		r.BoundClaims = boundClaims(a)
	}
	r.Range = objectRange(f)
	w.JWTRoles = append(w.JWTRoles, r)
}

func boundClaims(a *hcl.Attribute) world.BoundClaims {
	out := world.BoundClaims{Set: true, Range: a.Expr.Range(), Claims: map[string]world.List{}}
	attrs, ok := objectAttrs(a.Expr)
	if !ok {
		return out
	}
	out.Known = true
	for k, v := range attrs {
		l := listValue(v.Expr)
		if !l.Known {
			out.Known = false
		}
		out.Claims[k] = l
	}
	return out
}

func mapAttr(attrs hcl.Attributes, name string) world.Map {
	if a, ok := attrs[name]; ok {
		return mapValue(a.Expr)
	}
	return world.Map{}
}

func firstList(attrs hcl.Attributes, names ...string) world.List {
	for _, n := range names {
		if l := listAttr(attrs, n); l.Set {
			return l
		}
	}
	return world.List{}
}

func firstSeconds(attrs hcl.Attributes, names ...string) world.Seconds {
	for _, n := range names {
		if s := secondsAttr(attrs, n); s.Set {
			return s
		}
	}
	return world.Seconds{}
}

// objectRange is the range a finding about the whole object points at:
// the opening brace of the JSON document.
func objectRange(f *world.File) hcl.Range {
	pos := hcl.InitialPos
	for i, c := range f.Src {
		if c == '{' {
			pos = positionAt(f.Src, i)
			break
		}
	}
	end := pos
	end.Byte++
	end.Column++
	return hcl.Range{Filename: f.Path, Start: pos, End: end}
}

// positionAt converts a byte offset to a position (columns counted in
// bytes; only used for ASCII punctuation).
func positionAt(src []byte, offset int) hcl.Pos {
	pos := hcl.InitialPos
	for _, c := range src[:offset] {
		if c == '\n' {
			pos.Line++
			pos.Column = 1
		} else {
			pos.Column++
		}
	}
	pos.Byte = offset
	return pos
}

// isNull reports a literal null, which Vault returns for unset maps.
func isNull(expr hcl.Expression) bool {
	v, ok := literal(expr)
	return ok && v.IsNull()
}

// nonEmptyAttr reads a parameter that only matters when it holds
// something (Vault returns [] or "" for unset lists): Set only then, with
// the source text as the value.
func nonEmptyAttr(attrs hcl.Attributes, name string) world.Str {
	a, ok := attrs[name]
	if !ok || isNull(a.Expr) {
		return world.Str{}
	}
	if elems, diags := hcl.ExprList(a.Expr); !diags.HasErrors() {
		if len(elems) == 0 {
			return world.Str{}
		}
		return world.Str{V: fmt.Sprintf("%d entries", len(elems)), Set: true, Known: true, Range: a.Expr.Range()}
	}
	s := strValue(a.Expr)
	if s.Known && s.V == "" {
		return world.Str{}
	}
	return s
}
