package identity

import (
	"fmt"
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
// else the auth method's default_role), keyed by lower-case role name as
// Vault looks it up. Tasks whose role nvlint cannot read are left out.
func roleUses(w *world.World) map[string]*roleUse {
	return world.Derived(w, roleUsesKey, findRoleUses)
}

var roleUsesKey = world.NewDerivedKey("the jobs logging in with each JWT role")

func findRoleUses(w *world.World) map[string]*roleUse {
	out := map[string]*roleUse{}
	type jobRole struct {
		job  *world.Job
		role string
	}
	seen := map[jobRole]bool{}
	for _, wl := range access.Workloads(w) {
		name, _ := access.RoleFor(w, wl.Vault)
		name = strings.ToLower(name)
		if name == "" || seen[jobRole{wl.Job, name}] {
			continue
		}
		seen[jobRole{wl.Job, name}] = true
		u := out[name]
		if u == nil {
			u = &roleUse{allBatch: true}
			out[name] = u
		}
		u.jobs = append(u.jobs, wl.Job)
		if !isBatchJob(wl.Job) {
			u.allBatch = false
		}
	}
	return out
}

// usedOnlyByBatchJobs reports whether jobs in the world log in with role
// r and every one of them is a batch or sysbatch job, which finishes
// instead of outliving its token.
func usedOnlyByBatchJobs(w *world.World, r *world.JWTRole) bool {
	u := roleUses(w)[strings.ToLower(r.Ref.Name)]
	return u != nil && len(u.jobs) > 0 && u.allBatch
}

func isBatchJob(j *world.Job) bool {
	return j.Type.IsKnown() && (j.Type.V == "batch" || j.Type.V == "sysbatch")
}

// nomadUsesRole reports whether something in the world makes Nomad log
// in with role r: the auth method's default_role, a client's
// create_from_role or a job's vault.role.
func nomadUsesRole(w *world.World, r *world.JWTRole) bool {
	name := strings.ToLower(r.Ref.Name)
	if cfg := w.NomadAuthConfig(); cfg != nil && cfg.DefaultRole.IsKnown() && strings.EqualFold(cfg.DefaultRole.V, name) {
		return true
	}
	if w.CreateFromRoles()[name] {
		return true
	}
	_, ok := roleUses(w)[name]
	return ok
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

// roleWrite is the command that writes the role again.
func roleWrite(r *world.JWTRole, args string) string {
	if r.File != nil {
		return fmt.Sprintf("vault write auth/%s/role/%s @%s", mountOf(r), r.Ref.Name, r.File.Path)
	}
	// The JWT plugin validates an update as if role_type were the
	// default (oidc) unless the request names it: say it every time.
	if !strings.Contains(args, "role_type=") {
		typ := "jwt"
		if r.RoleType.IsKnown() && r.RoleType.V != "" {
			typ = r.RoleType.V
		}
		args = "role_type=" + typ + " " + args
	}
	return fmt.Sprintf("vault write auth/%s/role/%s %s", mountOf(r), r.Ref.Name, args)
}

// roleFix is a fix of a role parameter: the edit when the role is a file,
// and the command that writes it.
func roleFix(r *world.JWTRole, desc, args string, es ...rules.TextEdit) rules.Fix {
	f := rules.Fix{Description: desc, Commands: []string{roleWrite(r, args)}}
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

// configWrite is the command that writes the auth method's config again.
func configWrite(c *world.JWTAuthConfig, args string) string {
	mount := c.Mount
	if mount == "" {
		mount = "jwt-nomad"
	}
	if c.File != nil {
		return fmt.Sprintf("vault write auth/%s/config @%s", mount, c.File.Path)
	}
	return fmt.Sprintf("vault write auth/%s/config %s", mount, args)
}

// configFix is a fix of the auth method's config.
func configFix(c *world.JWTAuthConfig, desc, args string, es ...rules.TextEdit) rules.Fix {
	f := rules.Fix{Description: desc, Commands: []string{configWrite(c, args)}}
	if c.File != nil {
		f.Edits = es
	}
	return f
}

// nomadConfigs are the JWT auth configs Nomad logs in to: the one
// authConfig picks, else every one given.
func nomadConfigs(w *world.World) []*world.JWTAuthConfig {
	if c := w.NomadAuthConfig(); c != nil {
		return []*world.JWTAuthConfig{c}
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
		fix := configFix(c, fmt.Sprintf("Add %q to jwt_supported_algs", alg), "jwt_supported_algs=RS256,EdDSA")
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
