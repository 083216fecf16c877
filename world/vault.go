package world

import (
	"slices"
	"strings"

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

// Place is where in Vault a reference is resolved: the Vault cluster a
// task logs in to (its vault block's cluster, "default" unless named) and
// the namespace in it. A part that is not known fits objects of any.
type Place struct {
	Cluster   Str
	Namespace Str
}

// InCluster is the place of Vault cluster name, in any namespace.
func InCluster(name string) Place {
	return Place{Cluster: Str{V: clusterName(name), Set: true, Known: true}}
}

// ClusterLabel names the place's cluster for messages: "" for the
// default cluster or one not known, else " (vault cluster NAME)".
func (p Place) ClusterLabel() string {
	if !p.Cluster.IsKnown() {
		return ""
	}
	return ClusterLabel(p.Cluster.V)
}

// ClusterLabel is " (vault cluster NAME)" for a cluster other than the
// default one, "" for it: messages name a cluster when it is not the
// default.
func ClusterLabel(name string) string {
	if n := clusterName(name); n != DefaultCluster {
		return " (vault cluster " + n + ")"
	}
	return ""
}

// VaultOrigin is the Origin of a Vault object read at path: "vault:PATH"
// from the default cluster, "vault[NAME]:PATH" from another.
func VaultOrigin(cluster, path string) string {
	if n := clusterName(cluster); n != DefaultCluster {
		return "vault[" + n + "]:" + path
	}
	return "vault:" + path
}

// ClusterOfOrigin is the Vault cluster a live object's Origin names
// (VaultOrigin); "" for the default one's and for anything else.
func ClusterOfOrigin(origin string) string {
	rest, ok := strings.CutPrefix(origin, "vault[")
	if !ok {
		return ""
	}
	name, _, ok := strings.Cut(rest, "]:")
	if !ok {
		return ""
	}
	return name
}

// DefaultCluster is the name Nomad gives the Vault cluster of an unnamed
// vault block.
const DefaultCluster = "default"

func clusterName(n string) string {
	if n == "" {
		return DefaultCluster
	}
	return n
}

// Namespaced reports whether any Vault object declares its namespace:
// only then can two objects of one name be different objects.
func (w *World) Namespaced() bool {
	return Derived(w, namespacedKey, func(w *World) bool {
		for _, m := range w.Metas() {
			if m.Namespace.Set {
				return true
			}
		}
		return false
	})
}

var namespacedKey = NewDerivedKey("whether objects declare Vault namespaces")

// Clusters are the Vault clusters the objects are tagged with, sorted,
// the default one first; none when no object says its cluster.
func (w *World) Clusters() []string {
	return Derived(w, clustersKey, func(w *World) []string {
		seen := map[string]bool{}
		var out []string
		for _, m := range w.Metas() {
			if m.Cluster.IsKnown() && !seen[clusterName(m.Cluster.V)] {
				seen[clusterName(m.Cluster.V)] = true
				out = append(out, clusterName(m.Cluster.V))
			}
		}
		slices.SortFunc(out, func(a, b string) int {
			switch {
			case a == b:
				return 0
			case a == DefaultCluster:
				return -1
			case b == DefaultCluster:
				return 1
			}
			return strings.Compare(a, b)
		})
		return out
	})
}

var clustersKey = NewDerivedKey("the Vault clusters objects are tagged with")

// Places are the places to look for Nomad's objects in: each cluster the
// objects are tagged with, or, when none is, one place that fits any.
func (w *World) Places() []Place {
	cs := w.Clusters()
	if len(cs) == 0 {
		return []Place{{}}
	}
	out := make([]Place, len(cs))
	for i, c := range cs {
		out[i] = InCluster(c)
	}
	return out
}

// JWTRoleIn returns the JWT role of that name a login at place at finds:
// one declared there before one whose cluster or namespace is not known.
func (w *World) JWTRoleIn(at Place, name string) *JWTRole {
	return lookupIn(w, w.JWTRoles, jwtRolesAllByName, at, name)
}

// PolicyIn returns the policy of that name a token of place at carries.
func (w *World) PolicyIn(at Place, name string) *Policy {
	return lookupIn(w, w.Policies, policiesAllByName, at, name)
}

// TokenRoleIn returns the token role of that name in place at.
func (w *World) TokenRoleIn(at Place, name string) *TokenRole {
	return lookupIn(w, w.TokenRoles, tokenRolesAllByName, at, name)
}

var (
	jwtRolesAllByName   = NewDerivedKey("every JWT role by name")
	policiesAllByName   = NewDerivedKey("every policy by name")
	tokenRolesAllByName = NewDerivedKey("every token role by name")
)

// lookupIn finds the object of a name that fits place at: of those that
// fit, the one whose cluster and namespace are both declared and match
// first, then one whose cluster is, then the first in the world's order.
// Objects whose place is not known fit any place.
func lookupIn[T interface {
	Object() ObjectRef
	meta() *Meta
}](w *World, objs []T, key *DerivedKey, at Place, name string) T {
	var candidates []T
	if w.Memoized() {
		candidates = Derived(w, key, func(*World) map[string][]T {
			m := map[string][]T{}
			for _, o := range objs {
				n := o.Object().Name
				m[n] = append(m[n], o)
			}
			return m
		})[name]
	} else {
		for _, o := range objs {
			if o.Object().Name == name {
				candidates = append(candidates, o)
			}
		}
	}
	var best T
	score := -1
	for _, o := range candidates {
		m := o.meta()
		if !m.In(at) {
			continue
		}
		s := 0
		if m.Cluster.IsKnown() && at.Cluster.IsKnown() {
			s += 2
		}
		if m.Namespace.IsKnown() && at.Namespace.IsKnown() {
			s++
		}
		if s > score {
			best, score = o, s
		}
	}
	return best
}

func (m *Meta) meta() *Meta { return m }
