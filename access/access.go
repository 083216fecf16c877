// Package access follows a Nomad workload to its secrets: which Vault
// token it gets (flow, role choice, audience and bound claims, token
// policies, entity alias metadata from claim mappings) and what that
// token may do. It is the offline `vault token capabilities` for a
// workload that does not exist yet, and what rules about template reads
// and role admission are built on.
package access

import (
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/acl"
	"github.com/nvlint/nvlint/internal/crash"
	"github.com/nvlint/nvlint/world"
)

// Workload is a task that uses Vault, with the vault block that applies
// to it after inheritance.
type Workload struct {
	Job   *world.Job
	Group *world.Group
	Task  *world.Task
	Vault *world.VaultBlock
}

func (wl Workload) String() string {
	return fmt.Sprintf("task %s of job %s", wl.Task.Name.V, wl.Job.Ref.Name)
}

// Workloads lists every task of the world that has a vault block. Within
// a rules run the list is made once and shared: callers must not change
// it.
func Workloads(w *world.World) []Workload {
	return world.Derived(w, workloadsKey, workloads)
}

var workloadsKey = world.NewDerivedKey("the workloads")

func workloads(w *world.World) []Workload {
	var out []Workload
	for _, j := range w.Jobs {
		for _, g := range j.Groups {
			for _, t := range g.Tasks {
				if v := j.EffectiveVault(g, t); v != nil {
					out = append(out, Workload{Job: j, Group: g, Task: t, Vault: v})
				}
			}
		}
	}
	return slices.Clip(out) // an append of a caller's must not write into another's
}

// Flow is how a workload gets its Vault token.
type Flow string

// The integration flows.
const (
	FlowIdentity Flow = "workload identity"
	FlowLegacy   Flow = "legacy token role"
)

// Token is the Vault token a workload would get, and how it was worked
// out.
type Token struct {
	Workload
	Flow Flow

	// Workload identity.
	Aud      []string
	AudFrom  string
	AudRange hcl.Range
	Claims   map[string]string
	// ExtraClaims are the identity's extra_claims object (Nomad 1.8.3+),
	// a value unknownValue when only the allocation knows it; ExtraKnown
	// is false when the world cannot say which extra claims there are.
	ExtraClaims map[string]string
	ExtraKnown  bool
	RoleName    string
	RoleVia     string
	Role        *world.JWTRole
	Accessor    string

	// Refused is Vault's (or Nomad's) error when no token would be issued;
	// RefusedAt points at what causes it.
	Refused   string
	RefusedAt hcl.Range

	// Policies are the token's policy names, default included when the
	// token gets it; Missing are those the world does not define, so
	// decisions involving them are unknown.
	Policies []string
	Missing  []string
	// Unknown says why the token's powers cannot be known offline, when
	// they cannot (unresolved expressions, missing role).
	Unknown string
	// Namespace is the Vault namespace the task logs in to: its vault
	// block's, else the agents'; unset when neither says.
	Namespace world.Str
	// Cluster is the Vault cluster the task logs in to: its vault block's
	// cluster, "default" unless named.
	Cluster world.Str

	Set    []*acl.Policy
	Entity *acl.Entity
	// prepared is the token's ACL, built on first use by Can.
	prepared *preparedACL
	// Steps explains each link of the chain, for explain-access.
	Steps []string
}

// unknownValue fills entity fields nvlint cannot know offline; a path
// filled with it matches nothing real, which Decide treats as unknown.
const unknownValue = "\x00unknown"

// Resolve works out the token a workload would get. Within a rules run
// it is worked out once per workload, however many rules ask.
func Resolve(w *world.World, wl Workload) Token {
	var t Token
	if w.Memoized() {
		// Several rules ask for every workload's token: work them all out
		// once, on every core, the first time one is asked for.
		var ok bool
		if t, ok = world.Derived(w, tokensKey, resolveAll)[wl]; !ok {
			t = resolve(w, wl)
		}
	} else {
		t = resolve(w, wl)
	}
	// The ACL is built when first asked, and kept only as long as the
	// caller keeps this copy: a run over thousands of workloads would
	// otherwise hold every task's ACL at once.
	t.prepared = &preparedACL{set: t.Set, entity: t.Entity}
	if w.Memoized() {
		t.prepared.recent = world.Derived(w, recentACLsKey, newRecentACLs)
	}
	return t
}

var tokensKey = world.NewDerivedKey("the token of every workload")

// resolveAll resolves every workload of w concurrently.
func resolveAll(w *world.World) map[Workload]Token {
	steps := &interned{m: map[string]string{}}
	return eachWorkload(w, func(wl Workload) Token {
		t := resolveOne(w, wl)
		// Most steps read alike for every task of a role or job: tens of
		// thousands of tasks keep one copy of each.
		for j, s := range t.Steps {
			t.Steps[j] = steps.of(s)
		}
		// Callers share the answer: an append of theirs must not write
		// into another's copy.
		t.Steps, t.Policies, t.Missing, t.Set = slices.Clip(t.Steps), slices.Clip(t.Policies), slices.Clip(t.Missing), slices.Clip(t.Set)
		return t
	}, nil)
}

// eachWorkload works out f for every workload of w, on every core, and
// keeps the answers keep takes (all, when keep is nil).
func eachWorkload[T any](w *world.World, f func(Workload) T, keep func(T) bool) map[Workload]T {
	wls := Workloads(w)
	found := make([]T, len(wls))
	onEveryCore(len(wls), func(i int) { found[i] = f(wls[i]) })
	out := make(map[Workload]T, len(wls))
	for i, v := range found {
		if keep == nil || keep(v) {
			out[wls[i]] = v
		}
	}
	return out
}

// onEveryCore calls f(i) for every i below n, on as many goroutines as
// there are cores. A bug in f must reach the rule that asked, which
// reports it, not end the process from a worker: the first panic is
// panicked again once the workers are done.
func onEveryCore(n int, f func(i int)) {
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		relay crash.Relay
	)
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Go(func() {
			defer relay.Catch()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || relay.Panicked() {
					return
				}
				f(i)
			}
		})
	}
	wg.Wait()
	relay.Repanic()
}

// resolveOne is resolve; a test replaces it to make a worker panic.
var resolveOne = resolve

func resolve(w *world.World, wl Workload) Token {
	t := Token{Workload: wl}
	if wl.Task.VaultIdentity(wl.Vault.ClusterName()) == nil && serversDisagree(w, wl.Vault.ClusterName()) {
		t.Unknown = "the server agent configs disagree on default_identity, so the flow depends on which server leads"
		return t
	}
	t.Flow = flowOf(w, wl)
	t.step("flow: %s", t.Flow)
	t.Namespace = namespaceOf(w, wl)
	t.Cluster = ClusterOf(wl.Vault)
	if t.Cluster.IsKnown() && t.Cluster.V != world.DefaultCluster {
		t.step("vault cluster: %s", t.Cluster.V)
	}
	if t.Namespace.IsKnown() && t.Namespace.V != "" && w.Namespaced() {
		t.step("vault namespace: %s", t.Namespace.V)
	}
	if t.Flow == FlowLegacy {
		resolveLegacy(w, &t)
	} else {
		resolveIdentity(w, &t)
	}
	if t.Unknown != "" || t.Refused != "" {
		return t
	}
	g := grantOf(w, t.Place(), t.Policies)
	t.Policies, t.Set, t.Missing = g.policies, g.set, g.missing
	t.Steps = append(t.Steps, g.steps...)
	return t
}

// interned keeps one copy of each string.
type interned struct {
	mu sync.Mutex
	m  map[string]string
}

func (in *interned) of(s string) string {
	in.mu.Lock()
	defer in.mu.Unlock()
	if v, ok := in.m[s]; ok {
		return v
	}
	in.m[s] = s
	return s
}

// A grant is what a list of policy names gives a token in one Vault
// namespace. Every task of a role, and every job naming the same
// policies, shares one: on a fleet the per-task copies were most of the
// rule stage's memory.
type grant struct {
	policies []string
	set      []*acl.Policy
	missing  []string
	steps    []string
}

type grantKey struct {
	cluster, ns           string
	clusterKnown, nsKnown bool
	policies              string
}

func grantOf(w *world.World, at world.Place, policies []string) *grant {
	key := grantKey{at.Cluster.V, at.Namespace.V, at.Cluster.IsKnown(), at.Namespace.IsKnown(), strings.Join(policies, "\x00")}
	return world.Derived(w, key, func(w *world.World) *grant {
		g := &grant{policies: slices.Clip(slices.Clone(policies))}
		g.set, g.missing = w.PolicySetIn(at, policies, false)
		if slices.Contains(policies, "default") {
			d, assumed := w.DefaultPolicy()
			g.set = append(g.set, d)
			if assumed {
				g.steps = append(g.steps, "policy default: Vault's built-in default policy (no default policy file given)")
			}
		}
		if len(g.missing) > 0 {
			g.steps = append(g.steps, "policies not given, so their grants are unknown: "+strings.Join(g.missing, ", "))
		}
		g.set, g.missing = slices.Clip(g.set), slices.Clip(g.missing)
		return g
	})
}

func (t *Token) step(format string, args ...any) {
	// Most steps read alike for every task of a role or job: interned,
	// tens of thousands of tasks keep one copy of each.
	t.Steps = append(t.Steps, fmt.Sprintf(format, args...))
}

// serversDisagree reports whether some server configs give the cluster a
// default_identity and others do not: the leader's config decides, and
// nvlint cannot know which leads. It happens when several setups are
// linted together.
func serversDisagree(w *world.World, cluster string) bool {
	// Every workload asks; the answer depends on its cluster alone.
	return world.Derived(w, clusterKey{"servers disagree", cluster}, func(w *world.World) bool { return findServersDisagree(w, cluster) })
}

// clusterKey names a derived fact about one Vault cluster's agents.
type clusterKey struct{ fact, cluster string }

func findServersDisagree(w *world.World, cluster string) bool {
	var with, without int
	for _, a := range w.Agents {
		v := a.Vault(cluster)
		if v == nil {
			continue
		}
		switch {
		case v.DefaultIdentity != nil:
			with++
		case a.Server.V || v.Token.Set || v.AllowUnauthenticated.Set || v.TaskTokenTTL.Set:
			without++
		}
	}
	return with > 0 && without > 0
}

// Place is where the token lives: its Vault cluster and namespace.
func (t *Token) Place() world.Place {
	return world.Place{Cluster: t.Cluster, Namespace: t.Namespace}
}

// ClusterOf is the Vault cluster a task with vault block v logs in to:
// the block's cluster, "default" unless named; not known when the block
// names it with an expression.
func ClusterOf(v *world.VaultBlock) world.Str {
	if v.Cluster.Set && !v.Cluster.Known {
		return v.Cluster
	}
	return world.Str{V: v.ClusterName(), Set: true, Known: true, Range: v.Cluster.Range}
}

// PlaceFor is where a task with vault block v logs in: its cluster and
// namespace (see ClusterOf, NamespaceFor).
func PlaceFor(w *world.World, v *world.VaultBlock) world.Place {
	return world.Place{Cluster: ClusterOf(v), Namespace: NamespaceFor(w, v)}
}

// namespaceOf is the Vault namespace a workload's token lives in: the
// vault block's namespace, else the agents' vault namespace for its
// cluster. Nomad logs in and derives tokens there.
func namespaceOf(w *world.World, wl Workload) world.Str {
	return NamespaceFor(w, wl.Vault)
}

// NamespaceFor is the Vault namespace a task with vault block v logs in
// to: the block's namespace, else the agents' for its cluster; unset when
// neither says.
func NamespaceFor(w *world.World, v *world.VaultBlock) world.Str {
	if v.Namespace.Set {
		return v.Namespace
	}
	return world.Derived(w, clusterKey{"vault namespace", v.ClusterName()}, func(w *world.World) world.Str {
		for _, a := range w.Agents {
			if c := a.Vault(v.ClusterName()); c != nil && c.Namespace.Set {
				return c.Namespace
			}
		}
		return world.Str{}
	})
}

// serversDefaultIdentity is the first default_identity an agent config
// gives cluster, or nil.
func serversDefaultIdentity(w *world.World, cluster string) *world.DefaultIdentity {
	return world.Derived(w, clusterKey{"default identity", cluster}, func(w *world.World) *world.DefaultIdentity {
		for _, a := range w.Agents {
			if v := a.Vault(cluster); v != nil && v.DefaultIdentity != nil {
				return v.DefaultIdentity
			}
		}
		return nil
	})
}

// flowOf decides which flow a workload uses: an identity for its Vault
// cluster or the servers' default_identity mean workload identity; token
// roles without either mean the legacy flow.
func flowOf(w *world.World, wl Workload) Flow {
	cluster := wl.Vault.ClusterName()
	if wl.Task.VaultIdentity(cluster) != nil {
		return FlowIdentity
	}
	if serversDefaultIdentity(w, cluster) != nil {
		return FlowIdentity
	}
	if has(w, "token roles", cluster) || (wl.Vault.Policies.Set && !has(w, "JWT roles", cluster) && !has(w, "JWT auth configs", cluster)) {
		return FlowLegacy
	}
	return FlowIdentity
}

// has reports whether the world has objects of a kind ("token roles",
// "JWT roles", "JWT auth configs") that may be in the Vault cluster.
func has(w *world.World, kind, cluster string) bool {
	return world.Derived(w, clusterKey{"has " + kind, cluster}, func(w *world.World) bool {
		at := world.InCluster(cluster)
		var metas []*world.Meta
		switch kind {
		case "token roles":
			for _, o := range w.TokenRoles {
				metas = append(metas, &o.Meta)
			}
		case "JWT roles":
			for _, o := range w.JWTRoles {
				metas = append(metas, &o.Meta)
			}
		case "JWT auth configs":
			for _, o := range w.JWTConfigs {
				metas = append(metas, &o.Meta)
			}
		}
		return slices.ContainsFunc(metas, func(m *world.Meta) bool { return m.In(at) })
	})
}

func resolveLegacy(w *world.World, t *Token) {
	if !t.Vault.Policies.Known {
		t.Unknown = "vault.policies is not a literal list"
		return
	}
	t.Policies = t.Vault.Policies.Strings()
	withDefault := true
	if lr, ok := w.LegacyTokenRole(); ok && lr.Role != nil {
		r := lr.Role
		t.step("token role %s creates the token", lr.Name)
		if (r.TokenNoDefaultPolicy.IsKnown() && r.TokenNoDefaultPolicy.V) || r.DisallowedPolicies.Contains("default") {
			withDefault = false
			t.step("token role %s gives no default policy", lr.Name)
		}
	}
	if withDefault && !slices.Contains(t.Policies, "default") {
		t.Policies = append(t.Policies, "default")
	}
	t.step("token policies: %s (from vault.policies)", strings.Join(t.Policies, ", "))
}

// RoleFor names the JWT role a task with vault block v logs in with, and
// what chose it: vault.role, else the create_from_role of the clients'
// vault block for its cluster, else the default_role of the auth method
// in its cluster and namespace. It returns "" when vault.role is not a
// literal or nothing names a role.
func RoleFor(w *world.World, v *world.VaultBlock) (name, via string) {
	at := PlaceFor(w, v)
	switch {
	case v.Role.Set && !v.Role.Known:
		return "", ""
	case v.Role.V != "":
		return v.Role.V, "vault.role"
	case w.ClientRoleIn(at) != "":
		return w.ClientRoleIn(at), "the clients' create_from_role"
	}
	if cfg := w.NomadAuthConfigIn(at); cfg != nil && cfg.DefaultRole.IsKnown() && cfg.DefaultRole.V != "" {
		return cfg.DefaultRole.V, "the auth method's default_role"
	}
	return "", ""
}

// RoleNotFound is Vault's answer to a JWT login with a role its auth
// method does not have; it keeps role names in lower case.
func RoleNotFound(role string) string {
	return fmt.Sprintf("role %q could not be found", strings.ToLower(role))
}

func resolveIdentity(w *world.World, t *Token) {
	cluster := t.Vault.ClusterName()
	// Audience: the task's own vault_<cluster> identity, else the servers'
	// default_identity.
	if id := t.Task.VaultIdentity(cluster); id != nil {
		t.Aud, t.AudFrom, t.AudRange = id.Aud.Strings(), "identity "+id.Name.V+" of the task", id.Aud.Range
	} else if id := serversDefaultIdentity(w, cluster); id != nil {
		t.Aud, t.AudFrom, t.AudRange = id.Aud.Strings(), "the servers' default_identity", id.Aud.Range
	}
	if t.AudFrom != "" {
		t.step("identity: aud [%s] from %s", strings.Join(t.Aud, ", "), t.AudFrom)
	}
	t.Claims = claimsOf(t.Workload)
	t.step("claims: %s", formatClaims(t.Claims))
	var extraFrom string
	t.ExtraClaims, t.ExtraKnown, extraFrom = extraClaimsOf(w, t.Workload)
	switch {
	case len(t.ExtraClaims) > 0:
		t.step("extra_claims (from %s): %s", extraFrom, formatClaims(t.ExtraClaims))
	case !t.ExtraKnown:
		t.step("extra_claims: not known (no server agent config for the cluster is given, or its extra_claims are not literal)")
	}

	cfg := w.NomadAuthConfigIn(t.Place())
	role, via := RoleFor(w, t.Vault)
	switch {
	case t.Vault.Role.Set && !t.Vault.Role.Known:
		t.Unknown = "vault.role is not a literal"
		return
	case role != "":
		t.RoleName, t.RoleVia = role, via
	case cfg != nil && cfg.DefaultRole.Set && !cfg.DefaultRole.Known:
		// A default_role only Terraform knows (an unset variable) may
		// well name a role: undecided, not missing.
		t.Unknown = "the JWT auth method's default_role is known only to Terraform"
		return
	case cfg != nil:
		t.Refused = "missing role"
		t.RefusedAt = t.Vault.Range
		return
	default:
		t.Unknown = "no JWT auth config or vault.role says which role logs the task in"
		return
	}
	t.Role = w.JWTRoleIn(t.Place(), t.RoleName)
	t.step("role: %s (%s)", t.RoleName, t.RoleVia)
	if t.Role == nil && w.JWTRoleAbsent(t.Place(), t.RoleName) {
		// Doctor listed every JWT mount's roles: none has it.
		t.Refused = RoleNotFound(t.RoleName)
		t.RefusedAt = t.Vault.Range
		if t.Vault.Role.Set {
			t.RefusedAt = t.Vault.Role.Range
		}
		t.step("role %s: no JWT auth method of the Vault read has it", t.RoleName)
		return
	}
	if t.Role == nil {
		t.Unknown = fmt.Sprintf("JWT role %s is not given", t.RoleName)
		look := w.Lookup(world.KindJWTRole, t.RoleName)
		if note := look.ProbablyNote(strings.ToLower(t.RoleName)); note != "" {
			// A role file named by a wrong guess: say which, and how to
			// tell nvlint.
			t.Unknown += "; " + note + ". " + look.ProbablyAdvice(strings.ToLower(t.RoleName))
		}
		return
	}
	admit(t)
	if t.Refused != "" || t.Unknown != "" {
		return
	}
	r := t.Role
	if !r.TokenPolicies.Known {
		t.Unknown = "the role's token_policies are not a literal list"
		return
	}
	t.Policies = r.TokenPolicies.Strings()
	if (!r.TokenNoDefaultPolicy.IsKnown() || !r.TokenNoDefaultPolicy.V) && !slices.Contains(t.Policies, "default") {
		t.Policies = append(t.Policies, "default")
	}
	t.step("token policies: %s", strings.Join(t.Policies, ", "))
	t.Accessor = accessorOf(w, cfg)
	t.Entity = entityOf(t)
	if t.Accessor != "" {
		t.step("entity alias on %s with metadata %s", t.Accessor, formatClaims(t.Entity.Aliases[t.Accessor].Metadata))
	}
}

// claimsOf builds the claims Nomad puts in a task's workload identity.
func claimsOf(wl Workload) map[string]string {
	c := map[string]string{
		"nomad_namespace": wl.Job.NamespaceName(),
		"nomad_job_id":    wl.Job.WorkloadID(),
		"nomad_task":      wl.Task.Name.V,
	}
	if wl.Vault.Role.IsKnown() && wl.Vault.Role.V != "" {
		c["vault_role"] = wl.Vault.Role.V
	}
	if wl.Vault.Namespace.IsKnown() && wl.Vault.Namespace.V != "" {
		c["vault_namespace"] = wl.Vault.Namespace.V
	}
	return c
}

// extraClaimsOf builds the extra_claims object of a task's Vault
// identity: the servers' default_identity extra_claims, interpolated as
// Nomad 1.11 does (nomad/structs/workload_id.go), with unknownValue for a
// value that depends on what only the allocation knows. known is false
// when the world cannot say which extra claims there are: no server
// config for the cluster is given, or its extra_claims are not literal.
func extraClaimsOf(w *world.World, wl Workload) (claims map[string]string, known bool, from string) {
	cluster := wl.Vault.ClusterName()
	di := serversDefaultIdentity(w, cluster)
	if di == nil {
		// Without a default_identity Nomad adds none; without a server
		// config nvlint cannot tell.
		return nil, hasServerConfig(w, cluster), ""
	}
	if !di.ExtraClaims.Set {
		return nil, true, ""
	}
	if nv := w.NomadVersion(); nv != "" && !world.VersionAtLeast(nv, "1.8.3") {
		// Earlier releases ignore the key.
		return nil, true, ""
	}
	if !di.ExtraClaims.Known {
		return nil, false, ""
	}
	claims = make(map[string]string, len(di.ExtraClaims.Entries))
	for k, v := range di.ExtraClaims.Entries {
		claims[k] = InterpolateExtraClaim(v.V, wl)
	}
	return claims, true, "the servers' default_identity"
}

// hasServerConfig reports whether some agent config given is a server's
// that configures the Vault cluster: it says whether default_identity,
// and so extra_claims, are set.
func hasServerConfig(w *world.World, cluster string) bool {
	return world.Derived(w, clusterKey{"server config", cluster}, func(w *world.World) bool {
		for _, a := range w.Agents {
			if a.Server.IsKnown() && a.Server.V && a.Vault(cluster) != nil {
				return true
			}
		}
		return false
	})
}

// InterpolateExtraClaim fills an extra claim's ${...} placeholders as
// Nomad 1.11 does (WorkloadIdentityClaimsBuilder.interpolate): a literal
// replacement of each name it knows, ${job.id} being the parent job's ID
// for periodic and dispatched children. A value with a placeholder only
// the allocation or the submitting agent fills (region, node, alloc) is
// unknownValue; other ${...} stay as written, as in Nomad.
func InterpolateExtraClaim(tmpl string, wl Workload) string {
	if !strings.Contains(tmpl, "${") {
		return tmpl
	}
	for _, p := range []string{"${job.region}", "${job.node_pool}", "${alloc.id}", "${node.id}", "${node.datacenter}", "${node.pool}", "${node.class}"} {
		if strings.Contains(tmpl, p) {
			return unknownValue
		}
	}
	known := []struct {
		name string
		v    world.Str
	}{
		{"${job.namespace}", world.Str{V: wl.Job.NamespaceName(), Set: true, Known: true}},
		{"${job.id}", world.Str{V: wl.Job.WorkloadID(), Set: true, Known: wl.Job.ID.Known}},
		{"${group.name}", wl.Group.Name},
		{"${task.name}", wl.Task.Name},
		{"${vault.cluster}", world.Str{V: wl.Vault.ClusterName(), Set: true, Known: !wl.Vault.Cluster.Set || wl.Vault.Cluster.Known}},
		{"${vault.namespace}", orEmpty(wl.Vault.Namespace)},
		{"${vault.role}", orEmpty(wl.Vault.Role)},
	}
	pairs := make([]string, 0, 2*len(known))
	for _, k := range known {
		if !strings.Contains(tmpl, k.name) {
			continue
		}
		if !k.v.Known {
			return unknownValue
		}
		pairs = append(pairs, k.name, k.v.V)
	}
	return strings.NewReplacer(pairs...).Replace(tmpl)
}

// orEmpty is a vault block value as Nomad interpolates it: empty when
// unset.
func orEmpty(s world.Str) world.Str {
	if !s.Set {
		return world.Str{Set: true, Known: true}
	}
	return s
}

// claimState is what nvlint knows of one claim of a task's identity.
type claimState int

const (
	claimAbsent  claimState = iota // Nomad does not issue it
	claimUnknown                   // issued, or may be, with a value not known offline
	claimKnown
)

// lookupClaim looks a claim up as Vault does: a key starting with "/" is
// a JSON pointer, into the extra_claims object for /extra_claims/NAME;
// any other key names a top-level claim.
// pointerEscapes undoes a JSON pointer segment's escapes (RFC 6901).
var pointerEscapes = strings.NewReplacer("~1", "/", "~0", "~")

func (t *Token) lookupClaim(key string) (string, claimState) {
	name, pointer := strings.CutPrefix(key, "/")
	if pointer {
		segs := strings.Split(name, "/")
		for i, s := range segs {
			if strings.Contains(s, "~") {
				segs[i] = pointerEscapes.Replace(s)
			}
		}
		switch {
		case len(segs) == 2 && segs[0] == "extra_claims":
			if !t.ExtraKnown {
				return "", claimUnknown
			}
			v, ok := t.ExtraClaims[segs[1]]
			switch {
			case !ok:
				return "", claimAbsent
			case v == unknownValue:
				return "", claimUnknown
			}
			return v, claimKnown
		case len(segs) != 1:
			if segs[0] == "aud" {
				return "", claimUnknown
			}
			return "", claimAbsent
		}
		name = segs[0]
	}
	if v, ok := t.Claims[name]; ok {
		return v, claimKnown
	}
	switch name {
	case "nomad_allocation_id", "sub", "iat", "nbf", "exp", "jti", "iss", "aud":
		// Issued, but not known before the allocation exists.
		return "", claimUnknown
	case "extra_claims":
		if !t.ExtraKnown || len(t.ExtraClaims) > 0 {
			return "", claimUnknown
		}
	}
	return "", claimAbsent
}

// Claim returns the value of a claim of the task's identity, looked up as
// Vault looks up bound_claims and claim_mappings keys, when it is known.
func (t *Token) Claim(key string) (string, bool) {
	v, st := t.lookupClaim(key)
	return v, st == claimKnown
}

// admit checks the role's bound constraints against the identity, with
// Vault's login error messages.
func admit(t *Token) {
	r := t.Role
	if r.RoleType.IsKnown() && r.RoleType.V != "jwt" || !r.RoleType.Set {
		t.Refused = "role with oidc role_type is not allowed"
		t.RefusedAt = r.Range
		if r.RoleType.Set {
			t.RefusedAt = r.RoleType.Range
		}
		return
	}
	if r.BoundAudiences.Known {
		bound := r.BoundAudiences.Strings()
		switch {
		case len(bound) == 0 && len(t.Aud) > 0:
			t.Refused = "audience claim found in JWT but no audiences bound to the role"
			t.RefusedAt = r.Range
		case len(bound) > 0 && !intersects(bound, t.Aud):
			t.Refused = "error validating token: invalid audience (aud) claim: audience claim does not match any expected audience"
			t.RefusedAt = r.BoundAudiences.Range
		}
		if t.Refused != "" {
			return
		}
	}
	if r.BoundClaims.Set {
		if !r.BoundClaims.Known {
			t.Unknown = "bound_claims is not a literal"
			return
		}
		glob := r.BoundClaimsType.IsKnown() && r.BoundClaimsType.V == "glob"
		keys := make([]string, 0, len(r.BoundClaims.Claims))
		for k := range r.BoundClaims.Claims {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			want := r.BoundClaims.Claims[k]
			got, st := t.lookupClaim(k)
			switch st {
			case claimUnknown:
				t.step("bound claim %s: value not known before the allocation exists", k)
				continue
			case claimAbsent:
				t.Refused = fmt.Sprintf("error validating claims: claim %q is missing", k)
				t.RefusedAt = want.Range
				return
			}
			if !matchesAny(want.Strings(), got, glob) {
				t.Refused = fmt.Sprintf("error validating claims: claim %q does not match any associated bound claim values", k)
				t.RefusedAt = want.Range
				t.step("bound claim %s: %q is not one of [%s]", k, got, strings.Join(want.Strings(), ", "))
				return
			}
			t.step("bound claim %s: %q matches", k, got)
		}
	}
	if r.UserClaim.IsKnown() {
		uc := r.UserClaim.V
		jsonPointer := r.UserClaimJSONPointer.IsKnown() && r.UserClaimJSONPointer.V
		if strings.HasPrefix(uc, "/") && !jsonPointer {
			t.Refused = fmt.Sprintf("claim %q not found in token", uc)
			t.RefusedAt = r.UserClaim.Range
			return
		}
	}
}

func matchesAny(values []string, got string, glob bool) bool {
	for _, v := range values {
		if v == got || glob && acl.GlobMatch(v, got) {
			return true
		}
	}
	return false
}

func intersects(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

// entityOf builds the entity Vault creates at login: one alias on the JWT
// mount, named after the user claim, with the claim mappings and the role
// as metadata.
func entityOf(t *Token) *acl.Entity {
	r := t.Role
	meta := map[string]string{"role": r.Ref.Name}
	for src, target := range r.ClaimMappings.Entries {
		switch v, st := t.lookupClaim(src); st {
		case claimKnown:
			meta[target.V] = v
		case claimUnknown:
			meta[target.V] = unknownValue
		}
	}
	alias := acl.Alias{ID: unknownValue, Name: unknownValue, Metadata: meta}
	if r.UserClaim.IsKnown() {
		if v, ok := t.Claim(r.UserClaim.V); ok {
			alias.Name = v
		}
	}
	ent := &acl.Entity{ID: unknownValue, Name: unknownValue, Aliases: map[string]acl.Alias{}}
	if t.Accessor != "" {
		ent.Aliases[t.Accessor] = alias
	}
	return ent
}

// AccessorPlaceholder is what HashiCorp's guides write where the JWT
// mount's accessor belongs.
const AccessorPlaceholder = "AUTH_METHOD_ACCESSOR"

// accessorOf is the JWT mount's accessor: known from a live cluster, or
// declared in .nvlint.hcl (jwt_accessor), or else the one accessor the
// world's templated policies agree on.
func accessorOf(w *world.World, cfg *world.JWTAuthConfig) string {
	if cfg != nil && cfg.Accessor != "" {
		return cfg.Accessor
	}
	if h := w.Hints.JWTAccessor; h.IsKnown() && h.V != "" {
		return h.V
	}
	return world.Derived(w, policyAccessorKey, policyAccessor)
}

var policyAccessorKey = world.NewDerivedKey("the accessor templated policies name")

// policyAccessor is the one mount accessor the templated policies name,
// or "" when they name none or several.
func policyAccessor(w *world.World) string {
	seen := map[string]bool{}
	for _, p := range w.Policies {
		for _, r := range p.ACL.Rules {
			if !strings.Contains(r.Path, "{{") {
				continue
			}
			for _, prm := range acl.TemplateParams(r.Path) {
				if prm.Accessor != "" && prm.Accessor != AccessorPlaceholder {
					seen[prm.Accessor] = true
				}
			}
		}
	}
	if len(seen) == 1 {
		for a := range seen {
			return a
		}
	}
	return ""
}

func formatClaims(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	// Every token's steps show its claims: built without fmt.
	var b strings.Builder
	for i, k := range keys {
		v := m[k]
		if v == unknownValue {
			v = "(known only at run time)"
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(v)
	}
	return b.String()
}
