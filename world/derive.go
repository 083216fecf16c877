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
	// Every legacy task asks: once per run, not once per task and agent.
	r := Derived(w, legacyTokenRoleKey, func(w *World) legacyRoleFound {
		lr, ok := w.findLegacyTokenRole()
		return legacyRoleFound{lr, ok}
	})
	return r.role, r.ok
}

type legacyRoleFound struct {
	role LegacyRole
	ok   bool
}

var legacyTokenRoleKey = NewDerivedKey("the legacy token role")

func (w *World) findLegacyTokenRole() (LegacyRole, bool) {
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
// returns the policies that manage tokens at all, as candidates
// (candidates is nil when a policy grants). A server policy declared in
// .nvlint.hcl is the server's policy, whatever it grants, when the world
// has it.
func (w *World) ServerPolicies(role string) (granting, candidates []*Policy) {
	if h := w.Hints.ServerPolicy; h.IsKnown() && h.V != "" {
		if p := w.Policy(h.V); p != nil {
			return []*Policy{p}, nil
		}
	}
	ix := Derived(w, tokenCreatorsKey, indexTokenCreators)
	path := "auth/token/create/" + role
	// Only the policies with a rule that can match the path are asked,
	// in the world's order: every token role asks, and most policies
	// never mention auth/token/create.
	for _, i := range mergeSorted(ix.exact[role], ix.general) {
		caps := ix.acls[i]().Capabilities(path)
		if slices.Contains(caps, "update") || slices.Contains(caps, "root") {
			granting = append(granting, w.Policies[i])
		}
	}
	if len(granting) > 0 {
		return granting, nil
	}
	return nil, ix.candidates
}

var tokenCreatorsKey = NewDerivedKey("the policies that may create tokens")

// tokenCreators indexes the policies by the token roles whose
// auth/token/create/<role> path one of their rules can match.
type tokenCreators struct {
	// exact: the policies (indexes into World.Policies) with an exact
	// rule on auth/token/create/<role>, by role; general: those with a
	// glob, "+" or templated rule that may match any role's path.
	exact   map[string][]int
	general []int
	// acls are the policies' ACLs, each built when first asked for.
	acls map[int]func() *acl.Prepared
	// candidates are the policies with any rule under auth/token/create.
	candidates []*Policy
}

const tokenCreate = "auth/token/create/"

func indexTokenCreators(w *World) *tokenCreators {
	ix := &tokenCreators{exact: map[string][]int{}, acls: map[int]func() *acl.Prepared{}}
	for i, p := range w.Policies {
		if p.Name() == "default" || p.ACL == nil {
			continue
		}
		roles, general, candidate := map[string]bool{}, p.ACL.Name == "root", false
		for _, r := range p.ACL.Rules {
			if r == nil {
				continue
			}
			path := strings.TrimPrefix(r.Path, "/")
			if strings.HasPrefix(path, "auth/token/create") {
				candidate = true
			}
			// A glob, "+" or template can match only paths that start
			// with the text before it.
			if lit, wild := cutWild(path); wild {
				general = general || strings.HasPrefix(tokenCreate, lit) || strings.HasPrefix(lit, tokenCreate)
				continue
			}
			if strings.HasPrefix(path, tokenCreate) {
				roles[path[len(tokenCreate):]] = true
			}
		}
		if candidate {
			ix.candidates = append(ix.candidates, p)
		}
		switch {
		case general:
			ix.general = append(ix.general, i)
		case len(roles) > 0:
			for role := range roles {
				ix.exact[role] = append(ix.exact[role], i)
			}
		default:
			continue
		}
		ix.acls[i] = sync.OnceValue(func() *acl.Prepared { return acl.Options{}.Prepare([]*acl.Policy{p.ACL}, nil) })
	}
	ix.candidates = slices.Clip(ix.candidates)
	return ix
}

// cutWild cuts a policy path before its first "*", "+" or template.
func cutWild(path string) (lit string, found bool) {
	if i := strings.IndexAny(path, "*+{"); i >= 0 {
		return path[:i], true
	}
	return path, false
}

// mergeSorted merges two ascending index lists.
func mergeSorted(a, b []int) []int {
	if len(a) == 0 {
		return b
	}
	if len(b) == 0 {
		return a
	}
	out := make([]int, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if a[0] < b[0] {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return append(append(out, a...), b...)
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
	return w.PolicySetIn(Place{}, names, withDefault)
}

// PolicySetIn is PolicySet for a token of place at: of two policies of
// one name in different clusters or namespaces, the one there.
func (w *World) PolicySetIn(at Place, names []string, withDefault bool) (set []*acl.Policy, missing []string) {
	for _, n := range names {
		if n == "default" {
			continue
		}
		if p := w.PolicyIn(at, n); p != nil {
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
	return w.NomadAuthConfigIn(Place{})
}

// NomadAuthConfigIn is NomadAuthConfig for a login at place at: each
// Vault cluster, and each namespace in it, has its own auth mounts.
func (w *World) NomadAuthConfigIn(at Place) *JWTAuthConfig {
	in := w.JWTConfigs
	placed := w.Namespaced() && at.Namespace.IsKnown() || len(w.Clusters()) > 0 && at.Cluster.IsKnown()
	if placed {
		in = nil
		for _, c := range w.JWTConfigs {
			if c.In(at) {
				in = append(in, c)
			}
		}
	}
	if len(in) == 1 {
		return in[0]
	}
	if placed {
		for _, c := range in {
			if c.Mount == w.NomadJWTMount() && (c.Namespace.IsKnown() || c.Cluster.IsKnown()) {
				return c
			}
		}
	}
	for _, c := range in {
		if c.Mount == w.NomadJWTMount() {
			return c
		}
	}
	return nil
}

// NomadAuthConfigs are the JWT auth configs of Nomad's mount, one per
// Vault cluster the objects are tagged with (one in all when none is).
func (w *World) NomadAuthConfigs() []*JWTAuthConfig {
	var out []*JWTAuthConfig
	for _, at := range w.Places() {
		if c := w.NomadAuthConfigIn(at); c != nil && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// CreateFromRoles are the role names the agent configs' create_from_role
// give, in lower case as Vault looks roles up.
func (w *World) CreateFromRoles() map[string]bool {
	return Derived(w, createFromRolesKey, func(w *World) map[string]bool {
		out := map[string]bool{}
		for _, a := range w.Agents {
			for _, v := range a.Vaults {
				if v.CreateFromRole.IsKnown() {
					out[strings.ToLower(v.CreateFromRole.V)] = true
				}
			}
		}
		return out
	})
}

var createFromRolesKey = NewDerivedKey("the roles agents create tokens from")

// JWTRolesGranting lists the JWT roles whose token_policies name the
// policy, in the world's order.
func (w *World) JWTRolesGranting(policy string) []*JWTRole {
	return Derived(w, rolesByPolicyKey, func(w *World) map[string][]*JWTRole {
		out := map[string][]*JWTRole{}
		for _, r := range w.JWTRoles {
			for _, p := range r.TokenPolicies.Items {
				if l := out[p.V]; len(l) == 0 || l[len(l)-1] != r {
					out[p.V] = append(l, r)
				}
			}
		}
		for k, l := range out {
			out[k] = slices.Clip(l)
		}
		return out
	})[policy]
}

var rolesByPolicyKey = NewDerivedKey("the JWT roles granting each policy")

// ClientRole is the clients' create_from_role when it names a JWT role:
// in the workload-identity flow it is the role tasks log in with when
// their vault block names none.
func (w *World) ClientRole() string {
	// Every task without a vault.role asks.
	return Derived(w, clientRoleKey, func(w *World) string { return w.findClientRole(Place{}) })
}

var clientRoleKey = NewDerivedKey("the clients' create_from_role")

// ClientRoleIn is ClientRole for the tasks of a Vault cluster: the
// create_from_role of the clients' vault block for that cluster, when it
// names a JWT role there.
func (w *World) ClientRoleIn(at Place) string {
	if !at.Cluster.IsKnown() {
		return w.ClientRole()
	}
	// Keyed by the namespace's value: every task without a vault.role
	// asks, each with its own block's range.
	key := clientRoleIn{cluster: clusterName(at.Cluster.V), ns: at.Namespace.V, nsKnown: at.Namespace.IsKnown()}
	return Derived(w, key, func(w *World) string { return w.findClientRole(at) })
}

// clientRoleIn names the derived ClientRoleIn of a place.
type clientRoleIn struct {
	cluster, ns string
	nsKnown     bool
}

func (w *World) findClientRole(at Place) string {
	for _, a := range w.Agents {
		for _, v := range a.Vaults {
			if at.Cluster.IsKnown() && v.ClusterName() != clusterName(at.Cluster.V) {
				continue
			}
			if v.CreateFromRole.IsKnown() && w.JWTRoleIn(at, v.CreateFromRole.V) != nil {
				return v.CreateFromRole.V
			}
		}
	}
	return ""
}
