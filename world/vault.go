package world

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/acl"
)

// Policy is a Vault ACL policy.
type Policy struct {
	Meta
	ACL *acl.Policy
	// Diags are the diagnostics of the policy's own text when it is
	// embedded in a larger file (a Terraform vault_policy), which may
	// hold other policies, or read from Vault; see Diagnostics.
	Diags hcl.Diagnostics
}

// Diagnostics are the parse diagnostics of the policy's text: its own
// for a policy declared in Terraform or read from Vault, else those of
// its file.
func (p *Policy) Diagnostics() hcl.Diagnostics {
	if p.Resource != nil || p.File == nil {
		return p.Diags
	}
	if p.File != nil {
		return p.File.Diags
	}
	return nil
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
	Mount, Accessor string
	// MountUnnamed is set for a file whose name names no mount
	// (auth-method.json, jwt-config.json): its mount is a guess from the
	// clients' jwt_auth_backend_path, or Nomad's default (NameMounts).
	MountUnnamed         bool
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
	return lookup(w, w.JWTRoles, jwtRolesByName, name)
}

// TokenRole returns the token role of that name, or nil.
func (w *World) TokenRole(name string) *TokenRole {
	return lookup(w, w.TokenRoles, tokenRolesByName, name)
}

// Policy returns the policy of that name, or nil.
func (w *World) Policy(name string) *Policy {
	return lookup(w, w.Policies, policiesByName, name)
}

var (
	jwtRolesByName   = NewDerivedKey("JWT roles by name")
	tokenRolesByName = NewDerivedKey("token roles by name")
	policiesByName   = NewDerivedKey("policies by name")
)

// lookup finds the first object of a name: in an index built once per
// run during one, by a scan otherwise.
func lookup[T interface{ Object() ObjectRef }](w *World, objs []T, key *DerivedKey, name string) T {
	if w.Memoized() {
		return Derived(w, key, func(*World) map[string]T {
			m := make(map[string]T, len(objs))
			for _, o := range objs {
				if _, dup := m[o.Object().Name]; !dup {
					m[o.Object().Name] = o
				}
			}
			return m
		})[name]
	}
	for _, o := range objs {
		if o.Object().Name == name {
			return o
		}
	}
	var none T
	return none
}

// SecretMount is a secrets engine mount (sys/mounts/<path>), as far as
// the KV version of its reads matters: consul-template reads a KV
// version 2 mount's secrets under <path>/data/.
type SecretMount struct {
	Meta
	// Path is the mount path without slashes.
	Path string
	// Type is the engine: "kv", "kv-v2", "pki"...; Version is
	// options.version ("1" or "2" for kv).
	Type    Str
	Version Str
}

// KVVersion is the mount's KV version: 2 or 1 for a kv mount whose
// version is known, 0 otherwise (not kv, or not known). As Vault does,
// type kv-v2 is kv with version 2, and kv without a version is 1.
func (m *SecretMount) KVVersion() int {
	if !m.Type.IsKnown() {
		return 0
	}
	switch m.Type.V {
	case "kv-v2":
		return 2
	case "kv", "generic":
		switch {
		case !m.Version.Set:
			return 1
		case !m.Version.Known:
			return 0
		case m.Version.V == "2":
			return 2
		}
		return 1
	}
	return 0
}

// Namespaced reports whether any Vault object declares its namespace:
// only then can two objects of one name be different objects.
func (w *World) Namespaced() bool {
	return Derived(w, namespacedKey, func(w *World) bool {
		for _, p := range w.Policies {
			if p.Namespace.Set {
				return true
			}
		}
		for _, r := range w.JWTRoles {
			if r.Namespace.Set {
				return true
			}
		}
		for _, r := range w.TokenRoles {
			if r.Namespace.Set {
				return true
			}
		}
		for _, c := range w.JWTConfigs {
			if c.Namespace.Set {
				return true
			}
		}
		return false
	})
}

var namespacedKey = NewDerivedKey("whether objects declare Vault namespaces")

// JWTRoleIn returns the JWT role of that name a login in Vault namespace
// ns finds: one declared in ns before one whose namespace is not known.
func (w *World) JWTRoleIn(ns Str, name string) *JWTRole {
	if !w.Namespaced() {
		return w.JWTRole(name)
	}
	return inNamespace(w.JWTRoles, ns, name)
}

// PolicyIn returns the policy of that name a token of Vault namespace ns
// carries.
func (w *World) PolicyIn(ns Str, name string) *Policy {
	if !w.Namespaced() {
		return w.Policy(name)
	}
	return inNamespace(w.Policies, ns, name)
}

func inNamespace[T interface {
	Object() ObjectRef
	meta() *Meta
}](objs []T, ns Str, name string) T {
	var loose T
	found := false
	for _, o := range objs {
		m := o.meta()
		if o.Object().Name != name || !m.InNamespace(ns) {
			continue
		}
		if m.Namespace.IsKnown() && ns.IsKnown() {
			return o
		}
		if !found {
			loose, found = o, true
		}
	}
	return loose
}

func (m *Meta) meta() *Meta { return m }
