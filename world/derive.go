package world

import (
	"slices"
	"strings"
	"sync"

	"github.com/nvlint/nvlint/acl"
)

// Derived facts: the joins between Nomad and Vault objects that several
// rules need. They are pure functions of the world.

// LegacyRole is the token role the legacy flow derives task tokens from,
// and where its name was found.
type LegacyRole struct {
	Name string
	// From is the agent config's create_from_role, when that named it.
	From *Str
	// Role is the role's definition, when the world has it.
	Role *TokenRole
	// Source is how Name was found when it is the role's own name (the
	// only token role given); empty when a config stated it.
	Source NameSource
}

// NameKnown reports whether Name is the role's real name, stated or
// guessed: false for a Terraform role whose name only apply knows.
func (lr LegacyRole) NameKnown() bool { return lr.Source != NameUnknown }

// LegacyTokenRole resolves the token role Nomad servers create task tokens
// from: the create_from_role of an agent config when it names a token role
// (Nomad 1.7+ clients use the same key for a JWT role), else the token
// role declared in .nvlint.hcl, else the only token role in the world.
func (w *World) LegacyTokenRole() (LegacyRole, bool) {
	for _, a := range w.Agents {
		for _, v := range a.Vaults {
			if !v.CreateFromRole.IsKnown() || v.CreateFromRole.V == "" {
				continue
			}
			name := v.CreateFromRole.V
			role := w.TokenRole(name)
			legacy := role != nil || (w.JWTRole(name) == nil && (v.Token.Set || v.TaskTokenTTL.Set || v.AllowUnauthenticated.Set || len(w.TokenRoles) > 0))
			if legacy {
				from := v.CreateFromRole
				return LegacyRole{Name: name, From: &from, Role: role}, true
			}
		}
	}
	if h := w.Hints.TokenRole; h.IsKnown() && h.V != "" {
		return LegacyRole{Name: h.V, Role: w.TokenRole(h.V)}, true
	}
	if len(w.TokenRoles) == 1 {
		r := w.TokenRoles[0]
		return LegacyRole{Name: r.Ref.Name, Role: r, Source: r.Ref.NameSource}, true
	}
	return LegacyRole{}, false
}

// LegacyVaultConfig returns the agent vault block of the legacy server,
// when one names the role (or is the only one).
func (w *World) LegacyVaultConfig(role string) *VaultConfig {
	var only *VaultConfig
	n := 0
	for _, a := range w.Agents {
		for _, v := range a.Vaults {
			if v.CreateFromRole.IsKnown() && v.CreateFromRole.V == role {
				return v
			}
			if v.Token.Set || v.AllowUnauthenticated.Set || a.Server.V {
				only = v
				n++
			}
		}
	}
	if n == 1 {
		return only
	}
	return nil
}

// ServerPolicies returns the policies that let a token create tokens from
// the role: the Nomad server's own policy. With no such policy, it
// returns the policies that manage tokens at all, as candidates. A server
// policy declared in .nvlint.hcl is the server's policy, whatever it
// grants, when the world has it.
func (w *World) ServerPolicies(role string) (granting, candidates []*Policy) {
	if h := w.Hints.ServerPolicy; h.IsKnown() && h.V != "" {
		if p := w.Policy(h.V); p != nil {
			return []*Policy{p}, nil
		}
	}
	path := "auth/token/create/" + role
	for _, p := range w.Policies {
		if p.Name() == "default" {
			continue
		}
		caps := acl.Capabilities([]*acl.Policy{p.ACL}, path, nil)
		if slices.Contains(caps, "update") || slices.Contains(caps, "root") {
			granting = append(granting, p)
			continue
		}
		for _, r := range p.ACL.Rules {
			if strings.HasPrefix(strings.TrimPrefix(r.Path, "/"), "auth/token/create") {
				candidates = append(candidates, p)
				break
			}
		}
	}
	return granting, candidates
}

// DefaultPolicy returns the default policy as the world defines it, or
// Vault's built-in default when no file defines one. assumed is true in
// the second case.
func (w *World) DefaultPolicy() (p *acl.Policy, assumed bool) {
	if d := w.Policy("default"); d != nil {
		return d.ACL, false
	}
	return BuiltinDefaultPolicy(), true
}

var builtinDefault = sync.OnceValue(func() *acl.Policy {
	p, diags := acl.Parse([]byte(builtinDefaultPolicy), "builtin:default")
	if diags.HasErrors() {
		panic("builtin default policy: " + diags.Error())
	}
	p.Name = "default"
	return p
})

// BuiltinDefaultPolicy is the default policy a current Vault writes at
// initialisation. Vault never upgrades it afterwards, so a real cluster
// may hold an older text.
func BuiltinDefaultPolicy() *acl.Policy { return builtinDefault() }

const builtinDefaultPolicy = `
path "auth/token/lookup-self" { capabilities = ["read"] }
path "auth/token/renew-self" { capabilities = ["update"] }
path "auth/token/revoke-self" { capabilities = ["update"] }
path "sys/capabilities-self" { capabilities = ["update"] }
path "identity/entity/id/{{identity.entity.id}}" { capabilities = ["read"] }
path "identity/entity/name/{{identity.entity.name}}" { capabilities = ["read"] }
path "sys/internal/ui/resultant-acl" { capabilities = ["read"] }
path "sys/renew" { capabilities = ["update"] }
path "sys/leases/renew" { capabilities = ["update"] }
path "sys/leases/lookup" { capabilities = ["update"] }
path "cubbyhole/*" { capabilities = ["create", "read", "update", "delete", "list"] }
path "sys/wrapping/wrap" { capabilities = ["update"] }
path "sys/wrapping/lookup" { capabilities = ["update"] }
path "sys/wrapping/unwrap" { capabilities = ["update"] }
path "sys/tools/hash" { capabilities = ["update"] }
path "sys/tools/hash/*" { capabilities = ["update"] }
path "sys/control-group/request" { capabilities = ["update"] }
path "identity/oidc/provider/+/authorize" { capabilities = ["read", "update"] }
`

// PolicySet resolves policy names to their ACLs. Names without a definition
// in the world are returned in missing.
func (w *World) PolicySet(names []string, withDefault bool) (set []*acl.Policy, missing []string) {
	return w.PolicySetIn(Str{}, names, withDefault)
}

// PolicySetIn is PolicySet for a token of Vault namespace ns: of two
// policies of one name in different namespaces, the one in ns.
func (w *World) PolicySetIn(ns Str, names []string, withDefault bool) (set []*acl.Policy, missing []string) {
	for _, n := range names {
		if n == "default" {
			continue
		}
		if p := w.PolicyIn(ns, n); p != nil {
			set = append(set, p.ACL)
		} else {
			missing = append(missing, n)
		}
	}
	if withDefault {
		d, _ := w.DefaultPolicy()
		set = append(set, d)
	}
	return set, missing
}

// NomadAuthConfig is the JWT auth config of Nomad's mount: the only one,
// or the one mounted at jwt-nomad, Nomad's default path (or the jwt_mount
// declared in .nvlint.hcl).
func (w *World) NomadAuthConfig() *JWTAuthConfig {
	return w.NomadAuthConfigIn(Str{})
}

// NomadAuthConfigIn is NomadAuthConfig for a login in Vault namespace ns:
// each namespace has its own auth mounts.
func (w *World) NomadAuthConfigIn(ns Str) *JWTAuthConfig {
	if w.Namespaced() && ns.IsKnown() {
		var in []*JWTAuthConfig
		for _, c := range w.JWTConfigs {
			if c.InNamespace(ns) {
				in = append(in, c)
			}
		}
		if len(in) == 1 {
			return in[0]
		}
		for _, c := range in {
			if c.Mount == w.NomadJWTMount() && c.Namespace.IsKnown() {
				return c
			}
		}
		for _, c := range in {
			if c.Mount == w.NomadJWTMount() {
				return c
			}
		}
		return nil
	}
	if len(w.JWTConfigs) == 1 {
		return w.JWTConfigs[0]
	}
	for _, c := range w.JWTConfigs {
		if c.Mount == w.NomadJWTMount() {
			return c
		}
	}
	return nil
}

// ClientRole is the clients' create_from_role when it names a JWT role:
// in the workload-identity flow it is the role tasks log in with when
// their vault block names none.
func (w *World) ClientRole() string {
	for _, a := range w.Agents {
		for _, v := range a.Vaults {
			if v.CreateFromRole.IsKnown() && w.JWTRole(v.CreateFromRole.V) != nil {
				return v.CreateFromRole.V
			}
		}
	}
	return ""
}
