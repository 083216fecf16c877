package identity

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/nvlint/nvlint/access"
	"github.com/nvlint/nvlint/acl"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// SharedEntityAlias: a user_claim that jobs of several namespaces share
// gives them one entity alias, whose metadata templated policies read.
var SharedEntityAlias rules.Rule = sharedEntityAlias{}

type sharedEntityAlias struct{}

func (sharedEntityAlias) Meta() *rules.Meta { return &sharedEntityAliasMeta }

// uniqueClaimName is the extra claim the fix adds.
const uniqueClaimName = "nomad_workload_id"

var sharedEntityAliasMeta = rules.Meta{
	ID: "NV235", Name: "shared-entity-alias", Severity: rules.Warning,
	Title: "jobs of different namespaces share one entity alias whose metadata a templated policy reads",
	Needs: []world.Kind{world.KindJWTRole, world.KindPolicy},
	// Whoever may submit a job in one namespace can read another's
	// secrets (confidentiality across a boundary), by timing logins.
	Security: 7.1,
	Doc: rules.Doc{
		Why: "Vault keeps one entity alias per JWT auth mount and user_claim value, and overwrites the alias's metadata at every login " +
			"(hashicorp/vault#27586); templated policies are resolved against the current metadata on every request. With `nomad setup vault`'s " +
			"defaults, `user_claim = \"/nomad_job_id\"` and a policy templated on `nomad_namespace`, jobs with the same ID in two Nomad namespaces " +
			"share one alias. Once the second logs in, the first task's still-valid token gets 403 on its own secret and 200 on the other namespace's: " +
			"whoever may submit a job in one namespace can read another's secrets by timing the logins, and the failures look like the occasional " +
			"403s of hashicorp/nomad#20099 and #20104 (discussed in PR #23745). Nomad shows nothing; tasks keep what they rendered at start.\n\n" +
			"An error when the files (or, in nvlint doctor, the live jobs of every namespace read) show two jobs sharing an alias; a warning otherwise, " +
			"as a namespace can be added at any time. Applies to every Nomad release with workload identity (1.7 and later) and every Vault release " +
			"checked (1.15 to 1.21). The fix's extra_claims need Nomad 1.8.3 or later (nomad/structs/config/workload_id.go).",
		Example: "# role nomad-workloads:  \"user_claim\": \"/nomad_job_id\"\n" +
			"# policy nomad-workloads:\n" +
			"path \"kv/data/{{identity.entity.aliases.auth_jwt_x.metadata.nomad_namespace}}/{{identity.entity.aliases.auth_jwt_x.metadata.nomad_job_id}}/*\" {\n" +
			"  capabilities = [\"read\"]\n}\n" +
			"# jobs: \"app\" in namespace default, \"app\" in namespace staging",
		Fix: "Name aliases by a claim unique per namespace and job. On Nomad 1.8.3 or later, add an extra claim to the servers' vault block and " +
			"restart them:\n\n" +
			"    vault {\n      default_identity {\n        aud = [\"vault.io\"]\n        ttl = \"1h\"\n" +
			"        extra_claims = {\n          " + uniqueClaimName + " = \"${job.namespace}:${job.id}\"\n        }\n      }\n    }\n\n" +
			"then point the role at it (every JWT role of the mount whose user_claim is not unique):\n\n" +
			"    \"user_claim\": \"/extra_claims/" + uniqueClaimName + "\",\n    \"user_claim_json_pointer\": true,\n" +
			"    \"claim_mappings\": {\n      \"/extra_claims/" + uniqueClaimName + "\": \"" + uniqueClaimName + "\",\n" +
			"      \"nomad_namespace\": \"nomad_namespace\",\n      \"nomad_job_id\": \"nomad_job_id\",\n      \"nomad_task\": \"nomad_task\"\n    }\n\n" +
			"Change the servers first: a role naming a claim the identities lack refuses every login. Tasks get new entities at their next login. " +
			"On older Nomad, \"sub\" (region:namespace:job:group:task:identity) is unique too.",
	},
}

func (sharedEntityAlias) Check(p *rules.Pass) {
	w := p.World
	var shares map[*world.JWTRole][]aliasGroup
	for _, r := range w.JWTRoles {
		if !isJWTType(r) || !r.UserClaim.IsKnown() || r.UserClaim.V == "" {
			continue
		}
		unique, why := userClaimUnique(w, r)
		switch {
		case unique:
			continue
		case why != "":
			p.CannotDecide("JWT role %s: %s", r.Ref.Name, why)
			continue
		}
		reads := metadataReads(w, r)
		if len(reads) == 0 {
			continue
		}
		if shares == nil {
			shares = sharedAliases(w)
		}
		p.Report(sharedAliasFinding(w, r, reads, shares[r]))
	}
}

// userClaimUnique reports whether the role's user_claim differs between
// any two jobs (of any namespace); why says what is not known when that
// cannot be told. A claim Nomad does not issue fails every login, which
// is not this rule's business: it counts as unique.
func userClaimUnique(w *world.World, r *world.JWTRole) (unique bool, why string) {
	uc := r.UserClaim.V
	pointer := r.UserClaimJSONPointer.IsKnown() && r.UserClaimJSONPointer.V
	if strings.HasPrefix(uc, "/") {
		if !pointer {
			return true, "" // NV214: no login succeeds
		}
		uc = strings.TrimPrefix(uc, "/")
		if name, ok := strings.CutPrefix(uc, "extra_claims/"); ok {
			return extraClaimUnique(w, name)
		}
	}
	switch uc {
	case "nomad_job_id", "nomad_namespace", "nomad_task", "vault_role", "vault_namespace", "nomad_service", "aud", "iss":
		return false, ""
	}
	// sub (region:namespace:job:group:task:identity), jti and
	// nomad_allocation_id are unique; any other claim is not issued.
	return true, ""
}

// extraClaimUnique says whether the servers' extra claim name holds both
// the namespace and the job, or the allocation.
func extraClaimUnique(w *world.World, name string) (bool, string) {
	seen := false
	for _, a := range w.Agents {
		for _, v := range a.Vaults {
			di := v.DefaultIdentity
			if di == nil || !di.ExtraClaims.Set {
				continue
			}
			if !di.ExtraClaims.Known {
				return false, "the servers' extra_claims are not literal"
			}
			c, ok := di.ExtraClaims.Entries[name]
			if !ok {
				continue
			}
			seen = true
			t := c.V
			perAlloc := strings.Contains(t, "${alloc.id}")
			perJob := strings.Contains(t, "${job.namespace}") && strings.Contains(t, "${job.id}")
			if !perAlloc && !perJob {
				return false, ""
			}
		}
	}
	if !seen && len(w.Agents) == 0 {
		return false, fmt.Sprintf("its user_claim is extra claim %q and no server agent config is given", name)
	}
	return true, ""
}

// metadataRead is one alias metadata key a templated policy of the role
// reads.
type metadataRead struct {
	policy *world.Policy
	rule   *acl.PathRule
	param  acl.Param
}

// metadataReads lists, once per key, the alias metadata the role's
// policies are templated on, less what all logins sharing an alias agree
// on: the metadata mapped from the user claim itself.
func metadataReads(w *world.World, r *world.JWTRole) []metadataRead {
	same := map[string]bool{}
	for src, target := range r.ClaimMappings.Entries {
		if strings.TrimPrefix(src, "/") == strings.TrimPrefix(r.UserClaim.V, "/") {
			same[target.V] = true
		}
	}
	var out []metadataRead
	seen := map[string]bool{}
	for _, name := range r.TokenPolicies.Strings() {
		pol := w.PolicyIn(r.Place(), name)
		if pol == nil || pol.ACL == nil {
			continue
		}
		for _, rule := range pol.ACL.Rules {
			for _, prm := range acl.TemplateParams(rule.Path) {
				// "role" differs only between roles, which share aliases
				// only when their jobs do.
				if prm.Kind != "alias-metadata" || prm.Key == "role" || same[prm.Key] || seen[prm.Key] {
					continue
				}
				seen[prm.Key] = true
				out = append(out, metadataRead{policy: pol, rule: rule, param: prm})
			}
		}
	}
	return out
}

// aliasGroup is the workloads that log in with one alias name.
type aliasGroup struct {
	alias, accessor string
	wls             []access.Workload
}

// sharedAliases groups, for each JWT role, the workloads that log in with
// it by alias name (the user claim's value), keeping only the names that
// several jobs (by namespace and ID) share.
func sharedAliases(w *world.World) map[*world.JWTRole][]aliasGroup {
	type key struct {
		role  *world.JWTRole
		alias string
	}
	groups := map[key][]access.Workload{}
	accessors := map[key]string{}
	var order []key
	for _, wl := range access.Workloads(w) {
		tok := access.Resolve(w, wl)
		if tok.Flow != access.FlowIdentity || tok.Role == nil || tok.Refused != "" || !tok.Role.UserClaim.IsKnown() {
			continue
		}
		alias, ok := tok.Claim(tok.Role.UserClaim.V)
		if !ok {
			continue
		}
		k := key{tok.Role, alias}
		if _, seen := groups[k]; !seen {
			order = append(order, k)
		}
		groups[k] = append(groups[k], wl)
		if tok.Accessor != "" {
			accessors[k] = tok.Accessor
		}
	}
	out := map[*world.JWTRole][]aliasGroup{}
	for _, k := range order {
		jobs := map[string]bool{}
		for _, wl := range groups[k] {
			jobs[wl.Job.NamespaceName()+"\x00"+wl.Job.WorkloadID()] = true
		}
		if len(jobs) > 1 {
			out[k.role] = append(out[k.role], aliasGroup{k.alias, accessors[k], groups[k]})
		}
	}
	return out
}

func sharedAliasFinding(w *world.World, r *world.JWTRole, reads []metadataRead, shared []aliasGroup) rules.Finding {
	keys := make([]string, len(reads))
	for i, rd := range reads {
		keys[i] = rd.param.Key
	}
	pols := map[string]bool{}
	for _, rd := range reads {
		pols[rd.policy.Name()] = true
	}
	polNames := make([]string, 0, len(pols))
	for n := range pols {
		polNames = append(polNames, n)
	}
	sort.Strings(polNames)
	f := rules.Finding{
		Range:  r.UserClaim.Range,
		Object: r.Ref,
		Evidence: []string{
			fmt.Sprintf("user_claim: %q names the entity alias; it does not identify both the namespace and the job", r.UserClaim.V),
			fmt.Sprintf("polic%s %s read%s alias metadata %s", map[bool]string{true: "y", false: "ies"}[len(polNames) == 1], strings.Join(polNames, ", "),
				map[bool]string{true: "s", false: ""}[len(polNames) == 1], strings.Join(quoted(keys), ", ")),
			"Vault overwrites an alias's metadata at every login (hashicorp/vault#27586)",
		},
		Fixes: []rules.Fix{sharedAliasFix(r)},
	}
	for _, rd := range reads {
		f.Related = append(f.Related, rules.Related{Message: fmt.Sprintf("policy %s reads alias metadata %s", rd.policy.Name(), rd.param.Key), Range: paramRange(rd.rule, rd.param)})
	}
	tail := fmt.Sprintf("its policies read alias metadata %s, which Vault overwrites at every login: a task's token follows whichever job logged in last, losing its own secrets and reading the other's",
		strings.Join(keys, ", "))
	if len(shared) == 0 {
		f.Message = fmt.Sprintf("JWT role %s names entity aliases by user_claim %q, which a job with the same ID in another Nomad namespace would share, and %s",
			r.Ref.Name, r.UserClaim.V, tail)
		return f
	}
	f.Severity = rules.Error
	var groups []string
	for _, g := range shared {
		alias := g.alias
		var names []string
		for _, wl := range g.wls {
			n := fmt.Sprintf("task %s of job %s in namespace %s", wl.Task.Name.V, wl.Job.WorkloadID(), wl.Job.NamespaceName())
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
		sort.Strings(names)
		groups = append(groups, fmt.Sprintf("%s and %s share alias %q", strings.Join(names[:len(names)-1], ", "), names[len(names)-1], alias))
		if ev := liveAlias(w, g, keys); ev != "" {
			f.Evidence = append(f.Evidence, ev)
		}
		for _, wl := range g.wls {
			f.Related = append(f.Related, rules.Related{Message: fmt.Sprintf("job %s in namespace %s logs in with alias %q", wl.Job.WorkloadID(), wl.Job.NamespaceName(), alias), Range: wl.Vault.Range})
		}
	}
	f.Message = fmt.Sprintf("JWT role %s names entity aliases by user_claim %q, so %s; %s",
		r.Ref.Name, r.UserClaim.V, strings.Join(groups, "; "), tail)
	return f
}

// liveAlias describes Vault's entity alias of a group, as doctor read it:
// its metadata is the latest login's.
func liveAlias(w *world.World, g aliasGroup, keys []string) string {
	if len(g.wls) == 0 {
		return ""
	}
	// The aliases of the Vault cluster the group logs in to.
	v := w.Live.VaultOf(access.ClusterOf(g.wls[0].Vault).V)
	if v == nil {
		return ""
	}
	for _, a := range v.EntityAliases {
		if a.Name != g.alias || (g.accessor != "" && a.MountAccessor != g.accessor) {
			continue
		}
		var meta []string
		for _, k := range keys {
			if v, ok := a.Metadata[k]; ok {
				meta = append(meta, k+"="+v)
			}
		}
		if len(meta) == 0 {
			return fmt.Sprintf("Vault holds entity alias %q (%s) on mount %s, one for all these jobs", a.Name, a.ID, a.MountAccessor)
		}
		return fmt.Sprintf("Vault holds entity alias %q (%s) on mount %s, one for all these jobs, with the latest login's metadata %s: every other job's token now reads with it",
			a.Name, a.ID, a.MountAccessor, strings.Join(meta, " "))
	}
	return ""
}

// sharedAliasFix names aliases by an extra claim of the namespace and the
// job. It is manual: the servers' config must change first, and tasks
// get new entities.
func sharedAliasFix(r *world.JWTRole) rules.Fix {
	pointer := "/extra_claims/" + uniqueClaimName
	mappings := map[string]any{pointer: uniqueClaimName}
	for k, v := range r.ClaimMappings.Entries {
		mappings[k] = v.V
	}
	fix := rules.Fix{
		Description: fmt.Sprintf("Add extra_claims = { %s = \"${job.namespace}:${job.id}\" } to the servers' vault default_identity (Nomad 1.8.3+) and restart them, then set user_claim %q (user_claim_json_pointer true) and map it in JWT role %s",
			uniqueClaimName, pointer, r.Ref.Name),
		Manual: true,
	}
	if r.ClaimMappings.Known || !r.ClaimMappings.Set {
		fix.Commands = []rules.Command{roleWriteJSON(r, map[string]any{"user_claim": pointer, "user_claim_json_pointer": true, "claim_mappings": mappings})}
	}
	return fix
}
