package world

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/acl"
)

// Policy is a Vault ACL policy.
type Policy struct {
	Meta
	ACL *acl.Policy
}

// Name returns the policy name.
func (p *Policy) Name() string { return p.Ref.Name }

// TokenRole is a token auth role (auth/token/roles/<name>).
type TokenRole struct {
	Meta
	Name                   Str
	AllowedPolicies        List
	DisallowedPolicies     List
	AllowedPoliciesGlob    List
	DisallowedPoliciesGlob List
	Orphan                 Bool
	Renewable              Bool // Vault's default is true
	Period                 Seconds
	TokenPeriod            Seconds
	ExplicitMaxTTL         Seconds
	TokenExplicitMaxTTL    Seconds
	TokenNoDefaultPolicy   Bool
	TokenType              Str
}

// IsRenewable reports the role's effective renewable setting.
func (r *TokenRole) IsRenewable() bool {
	if r.Renewable.IsKnown() {
		return r.Renewable.V
	}
	return true
}

// JWTAuthConfig is the config of a JWT auth mount (auth/<mount>/config).
type JWTAuthConfig struct {
	Meta
	// Mount is the auth mount path without "auth/" or slashes, when known
	// (live, or from the file name or an override); Accessor likewise.
	Mount, Accessor      string
	JWKSURL              Str
	JWTValidationPubkeys List
	JWKSPairs            Str
	OIDCDiscoveryURL     Str
	JWTSupportedAlgs     List
	DefaultRole          Str
	BoundIssuer          Str
}

// JWTRole is a JWT auth role (auth/<mount>/role/<name>).
type JWTRole struct {
	Meta
	Mount                string
	RoleType             Str // Vault's default is "oidc"
	BoundAudiences       List
	BoundSubject         Str
	BoundClaims          BoundClaims
	BoundClaimsType      Str
	UserClaim            Str
	UserClaimJSONPointer Bool
	ClaimMappings        Map
	TokenPolicies        List
	TokenPeriod          Seconds
	TokenTTL             Seconds
	TokenMaxTTL          Seconds
	TokenExplicitMaxTTL  Seconds
	TokenType            Str
	TokenNoDefaultPolicy Bool
	TokenBoundCIDRs      List
}

// BoundClaims maps a claim name to the values it may take.
type BoundClaims struct {
	Claims map[string]List
	Set    bool
	Known  bool
	Range  hcl.Range
}

// JWTRole returns the JWT role of that name, or nil.
func (w *World) JWTRole(name string) *JWTRole {
	for _, r := range w.JWTRoles {
		if r.Ref.Name == name {
			return r
		}
	}
	return nil
}

// TokenRole returns the token role of that name, or nil.
func (w *World) TokenRole(name string) *TokenRole {
	for _, r := range w.TokenRoles {
		if r.Ref.Name == name {
			return r
		}
	}
	return nil
}

// Policy returns the policy of that name, or nil.
func (w *World) Policy(name string) *Policy {
	for _, p := range w.Policies {
		if p.Ref.Name == name {
			return p
		}
	}
	return nil
}
