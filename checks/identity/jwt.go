package identity

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nvlint/nvlint/access"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/rules/edits"
	"github.com/nvlint/nvlint/world"
)

// Helpers shared by the JWT role and JWT auth config rules.

// roleUse is what the world says about the jobs that log in with one JWT
// role: how many, and whether they are all batch jobs.
type roleUse struct {
	jobs     []*world.Job
	allBatch bool
}

// roleUses resolves, for every task with a vault block, the JWT role it
// logs in with (the job's vault.role, else the client's create_from_role,
// else the auth method's default_role), keyed by the Vault cluster it
// logs in to and the lower-case role name as Vault looks it up. Tasks
// whose role nvlint cannot read are left out.
func roleUses(w *world.World) map[roleKey]*roleUse {
	return world.Derived(w, roleUsesKey, findRoleUses)
}

// roleKey is a JWT role name in a Vault cluster ("" when the task's
// cluster is not known).
type roleKey struct{ cluster, name string }

var roleUsesKey = world.NewDerivedKey("the jobs logging in with each JWT role")

func findRoleUses(w *world.World) map[roleKey]*roleUse {
	out := map[roleKey]*roleUse{}
	type jobRole struct {
		job *world.Job
		key roleKey
	}
	seen := map[jobRole]bool{}
	for _, wl := range access.Workloads(w) {
		name, _ := access.RoleFor(w, wl.Vault)
		k := roleKey{access.ClusterOf(wl.Vault).V, strings.ToLower(name)}
		if name == "" || seen[jobRole{wl.Job, k}] {
			continue
		}
		seen[jobRole{wl.Job, k}] = true
		u := out[k]
		if u == nil {
			u = &roleUse{allBatch: true}
			out[k] = u
		}
		u.jobs = append(u.jobs, wl.Job)
		if !isBatchJob(wl.Job) {
			u.allBatch = false
		}
	}
	return out
}

// usesOf are the uses of role r: those of its name by tasks of its Vault
// cluster, or of any when either cluster is not known; nil when none.
func usesOf(w *world.World, r *world.JWTRole) *roleUse {
	name := strings.ToLower(r.Ref.Name)
	uses := roleUses(w)
	var out *roleUse
	for _, k := range world.Derived(w, roleUseKeysKey, roleUseKeys)[name] {
		u := uses[k]
		if !r.InCluster(world.Str{V: k.cluster, Set: k.cluster != "", Known: true}) {
			continue
		}
		if out == nil {
			out = &roleUse{allBatch: true}
		}
		out.jobs = append(out.jobs, u.jobs...)
		out.allBatch = out.allBatch && u.allBatch
	}
	return out
}

var roleUseKeysKey = world.NewDerivedKey("the clusters each JWT role name is used in")

// roleUseKeys are the keys of roleUses by role name, in a stable order.
func roleUseKeys(w *world.World) map[string][]roleKey {
	out := map[string][]roleKey{}
	for k := range roleUses(w) {
		out[k.name] = append(out[k.name], k)
	}
	for _, ks := range out {
		slices.SortFunc(ks, func(a, b roleKey) int { return strings.Compare(a.cluster, b.cluster) })
	}
	return out
}

// usedOnlyByBatchJobs reports whether jobs in the world log in with role
// r and every one of them is a batch or sysbatch job, which finishes
// instead of outliving its token; also whether that may be so, for a
// role whose name is a guess.
func usedOnlyByBatchJobs(w *world.World, r *world.JWTRole) bool {
	if u := usesOf(w, r); u != nil || !r.Ref.Guessed() {
		return u != nil && len(u.jobs) > 0 && u.allBatch
	}
	// A role named by a guess may be the one some jobs name under its
	// real name (a role that matches no role given): which jobs use it is
	// then unknown, and the rules that spare batch-only roles stay quiet.
	return world.Derived(w, danglingRoleUseKey, func(w *world.World) bool {
		for k := range roleUses(w) {
			at := world.Place{Cluster: world.Str{V: k.cluster, Set: k.cluster != "", Known: true}}
			if w.JWTRoleIn(at, k.name) == nil && w.LookupIn(world.KindJWTRole, at, k.name).Found == nil {
				return true
			}
		}
		return false
	})
}

var danglingRoleUseKey = world.NewDerivedKey("jobs logging in with a JWT role not given")

func isBatchJob(j *world.Job) bool {
	return j.Type.IsKnown() && (j.Type.V == "batch" || j.Type.V == "sysbatch")
}

// nomadUsesRole reports whether something in the world makes Nomad log
// in with role r: the default_role of the auth method of its Vault
// cluster, a client's create_from_role or a job's vault.role.
func nomadUsesRole(w *world.World, r *world.JWTRole) bool {
	name := strings.ToLower(r.Ref.Name)
	if cfg := w.NomadAuthConfigIn(r.Place()); cfg != nil && cfg.DefaultRole.IsKnown() && strings.EqualFold(cfg.DefaultRole.V, name) {
		return true
	}
	if w.CreateFromRoles()[name] {
		return true
	}
	return usesOf(w, r) != nil
}

// isJWTType reports whether the role is, or is meant to be, a jwt role:
// role_type "jwt", or omitted (Vault then makes it "oidc", which rule
// NV211 reports).
func isJWTType(r *world.JWTRole) bool {
	if !r.RoleType.Set {
		return true
	}
	return r.RoleType.IsKnown() && strings.EqualFold(r.RoleType.V, "jwt")
}

// roleWrite is the command that writes the role again: its file, or for
// a live role the parameters given (key=value words, each one word),
// which Vault merges into the role.
func roleWrite(r *world.JWTRole, args ...string) rules.Command {
	path := "auth/" + mountOf(r) + "/role/" + r.Ref.Name
	if r.File != nil {
		return rules.Cmd("vault", "write", path, "@"+r.File.Path)
	}
	return rules.Cmd(append([]string{"vault", "write", path}, roleTyped(r, args)...)...)
}

// roleTyped adds role_type to the parameters of a live role's update: the
// JWT plugin validates an update as if role_type were the default (oidc)
// unless the request names it.
func roleTyped(r *world.JWTRole, args []string) []string {
	for _, a := range args {
		if strings.HasPrefix(a, "role_type=") {
			return args
		}
	}
	typ := "jwt"
	if r.RoleType.IsKnown() && r.RoleType.V != "" {
		typ = r.RoleType.V
	}
	return append([]string{"role_type=" + typ}, args...)
}

// roleWriteJSON is roleWrite for parameters that are maps or lists of
// maps: a live role gets them as JSON on standard input (vault write
// PATH -), each replacing the role's whole value.
func roleWriteJSON(r *world.JWTRole, params map[string]any) rules.Command {
	if r.File != nil {
		return roleWrite(r)
	}
	typ, _ := strings.CutPrefix(roleTyped(r, nil)[0], "role_type=")
	params["role_type"] = typ
	js, err := json.Marshal(params)
	if err != nil {
		return rules.Template("vault write %s <the parameters as JSON>", "auth/"+mountOf(r)+"/role/"+r.Ref.Name)
	}
	return rules.Cmd("printf", `%s\n`, string(js)).Pipe("vault", "write", "auth/"+mountOf(r)+"/role/"+r.Ref.Name, "-")
}

// roleTemplate is roleWrite for a change nvlint cannot spell out as
// parameters: a live role gets a command to complete, rest being the
// placeholder.
func roleTemplate(r *world.JWTRole, rest string) rules.Command {
	if r.File != nil {
		return roleWrite(r)
	}
	return rules.Template("vault write %s %s "+rest, "auth/"+mountOf(r)+"/role/"+r.Ref.Name, roleTyped(r, nil)[0])
}

// roleFix is a fix of a role parameter: the edit when the role is a file,
// and the command that writes it.
func roleFix(r *world.JWTRole, desc string, args []string, es ...rules.TextEdit) rules.Fix {
	f := rules.Fix{Description: desc, Commands: []rules.Command{roleWrite(r, args...)}}
	if r.File != nil {
		f.Edits = es
	}
	return f
}

// setKey sets a top-level key of an object: the value replaced where it
// is written, or the key added to its JSON file or Terraform resource.
func setKey[T any](m *world.Meta, v world.Value[T], key, valueJSON string) rules.TextEdit {
	if v.Set {
		return edits.Replace(v.Range, valueJSON)
	}
	return edits.InsertKey(m, key, valueJSON)
}

// configWrite is the command that writes the auth method's config again:
// its file, or for a live config a command to complete. Vault replaces the
// whole config on a write, so the parameters that change are not enough:
// the others must be given too, and only the user knows the secret ones.
func configWrite(c *world.JWTAuthConfig, args ...string) rules.Command {
	mount := c.Mount
	if mount == "" {
		mount = "jwt-nomad"
	}
	if c.File != nil {
		return rules.Cmd("vault", "write", "auth/"+mount+"/config", "@"+c.File.Path)
	}
	format := "vault write %s"
	for range args {
		format += " %s"
	}
	return rules.Template(format+" <the other config parameters>", append([]string{"auth/" + mount + "/config"}, args...)...)
}

// configFix is a fix of the auth method's config.
func configFix(c *world.JWTAuthConfig, desc string, args []string, es ...rules.TextEdit) rules.Fix {
	f := rules.Fix{Description: desc, Commands: []rules.Command{configWrite(c, args...)}}
	if c.File != nil {
		f.Edits = es
	}
	return f
}

// nomadConfigs are the JWT auth configs Nomad logs in to: the one
// authConfig picks, else every one given.
func nomadConfigs(w *world.World) []*world.JWTAuthConfig {
	// Nomad's mount of each Vault cluster read.
	if cs := w.NomadAuthConfigs(); len(cs) > 0 {
		return cs
	}
	if len(w.JWTConfigs) > 1 {
		// Several mounts and none is jwt-nomad: the one a client names.
		var out []*world.JWTAuthConfig
		for _, c := range w.JWTConfigs {
			for _, a := range w.Agents {
				for _, v := range a.Vaults {
					if v.JWTAuthBackendPath.IsKnown() && strings.Trim(v.JWTAuthBackendPath.V, "/") == c.Mount {
						out = append(out, c)
					}
				}
			}
		}
		return out
	}
	return w.JWTConfigs
}

// duration renders seconds the way people write them: "30m", "1h", "72h".
func duration(s int64) string {
	d := (time.Duration(s) * time.Second).String()
	if strings.HasSuffix(d, "m0s") {
		d = strings.TrimSuffix(d, "0s")
	}
	if strings.HasSuffix(d, "h0m") {
		d = strings.TrimSuffix(d, "0m")
	}
	return d
}

// defaultAud is the audience the servers' default_identity gives task
// identities, or the one `nomad setup vault` uses.
func defaultAud(w *world.World) string {
	for _, a := range w.Agents {
		for _, v := range a.Vaults {
			if v.DefaultIdentity != nil && v.DefaultIdentity.Aud.Known && len(v.DefaultIdentity.Aud.Items) > 0 {
				return v.DefaultIdentity.Aud.Items[0].V
			}
		}
	}
	return "vault.io"
}

// reportMissingAlg reports each of Nomad's JWT auth configs whose
// jwt_supported_algs is set and lacks alg, with the fix that adds it.
func reportMissingAlg(p *rules.Pass, alg string, message func(name, algs string) string, evidence ...string) {
	for _, c := range nomadConfigs(p.World) {
		algs := c.JWTSupportedAlgs
		if !algs.Known || len(algs.Items) == 0 || algs.Contains(alg) {
			continue
		}
		fix := configFix(c, fmt.Sprintf("Add %q to jwt_supported_algs", alg), []string{"jwt_supported_algs=RS256,EdDSA"})
		if c.File != nil {
			fix.Edits = []rules.TextEdit{edits.AppendToList(c.File, algs, alg)}
		}
		list := strings.Join(quoted(algs.Strings()), ", ")
		p.Report(rules.Finding{
			Message:  message(c.Ref.Name, list),
			Range:    algs.Range,
			Object:   c.Ref,
			Evidence: append([]string{"jwt_supported_algs: [" + list + "]"}, evidence...),
			Fixes:    []rules.Fix{fix},
		})
	}
}
