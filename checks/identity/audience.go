// Package identity holds the rules of the workload-identity flow (Nomad
// 1.7+): identities and their audiences, JWT roles and the JWT auth
// method's config.
package identity

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/access"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/rules/edits"
	"github.com/nvlint/nvlint/world"
)

// AudienceMismatch: the identity's aud must be one the JWT role accepts.
var AudienceMismatch rules.Rule = audienceMismatch{}

type audienceMismatch struct{}

func (audienceMismatch) Meta() *rules.Meta { return &audienceMismatchMeta }

var audienceMismatchMeta = rules.Meta{
	ID: "NV201", Name: "audience-mismatch", Severity: rules.Error,
	Title: "the workload identity's audience is not one the JWT role accepts",
	Needs: []world.Kind{world.KindJWTRole},
	Doc: rules.Doc{
		Why: "Vault accepts a Nomad workload identity only if its aud claim matches one of the JWT role's bound_audiences. Otherwise the login fails with " +
			"`error validating token: invalid audience (aud) claim: audience claim does not match any expected audience` and Nomad kills the task at once. " +
			"Since Vault 1.16.3 an identity with an aud is also refused by a role that binds no audience (`audience claim found in JWT but no audiences bound to the role`). " +
			"The aud comes from the task's identity \"vault_<cluster>\" block, else from the servers' vault.default_identity.",
		Example: "# nomad.hcl\nvault {\n  default_identity { aud = [\"vault.io\"] }\n}\n# role: \"bound_audiences\": [\"nomad.io\"]",
		Fix:     "Make the JWT role's bound_audiences include the identity's aud (`nomad setup vault` uses \"vault.io\"), or change the aud to one the role binds.",
	},
}

// identitySource is an audience and where it is written.
type identitySource struct {
	aud   world.List
	what  string // "default_identity of nomad.hcl", "identity vault_default of task x"
	agent *world.AgentConfig
	job   *world.Job
	// at is where its logins go: the Vault cluster of the vault block
	// (and the task's namespace, for a task's identity).
	at world.Place
}

func (audienceMismatch) Check(p *rules.Pass) {
	w := p.World
	// The servers' default identity applies to every task without its own.
	// Servers with the same audiences are one source: check reports the
	// same audiences against the same role once.
	// Each Vault cluster has its own default_identity, in the servers'
	// vault block of that name.
	defaults := map[string][]identitySource{}
	seenAud := map[string]bool{}
	for _, a := range w.Agents {
		for _, v := range a.Vaults {
			cluster := v.ClusterName()
			if v.DefaultIdentity != nil && v.DefaultIdentity.Aud.Known && !seenAud[fmt.Sprint(cluster, v.DefaultIdentity.Aud.Strings())] {
				seenAud[fmt.Sprint(cluster, v.DefaultIdentity.Aud.Strings())] = true
				defaults[cluster] = append(defaults[cluster], identitySource{aud: v.DefaultIdentity.Aud, what: "the servers' default_identity", agent: a, at: world.InCluster(cluster)})
			}
		}
	}
	checked := map[string]bool{}
	check := func(src identitySource, roleName string, via string) {
		role := w.JWTRoleIn(src.at, roleName)
		if role == nil || !role.BoundAudiences.Known && role.BoundAudiences.Set {
			return
		}
		// The same audiences against the same role is one problem, however
		// many identities carry them (servers inject default_identity into
		// every job).
		key := fmt.Sprint(src.aud.Strings(), roleName, role.Cluster.V)
		if checked[key] {
			return
		}
		checked[key] = true
		if intersects(src.aud, role.BoundAudiences) {
			return
		}
		f := rules.Finding{
			Range:   src.aud.Range,
			Related: []rules.Related{{Message: "JWT role " + roleName + " bound_audiences", Range: boundRange(role)}},
			Cluster: role.Cluster.V,
		}
		if src.job != nil {
			f.Object = src.job.Ref
		} else {
			f.Object = src.agent.Ref
		}
		auds := strings.Join(quoted(src.aud.Strings()), ", ")
		if len(role.BoundAudiences.Items) == 0 {
			if len(src.aud.Items) == 0 {
				return
			}
			f.Message = fmt.Sprintf("%s has aud %s but JWT role %s (%s) binds no audience; Vault 1.16.3+ refuses the login: audience claim found in JWT but no audiences bound to the role", src.what, auds, roleName, via)
		} else {
			if len(src.aud.Items) == 0 {
				f.Range = rangeOr(src.aud.Range, boundRange(role))
			}
			f.Message = fmt.Sprintf("%s has aud [%s] but JWT role %s (%s) only accepts %s; Vault refuses the login: invalid audience (aud) claim", src.what, auds, roleName, via, strings.Join(quoted(role.BoundAudiences.Strings()), ", "))
		}
		f.Evidence = []string{
			fmt.Sprintf("identity aud: [%s]", auds),
			fmt.Sprintf("role %s bound_audiences: [%s]", roleName, strings.Join(quoted(role.BoundAudiences.Strings()), ", ")),
		}
		if len(src.aud.Items) > 0 {
			add := src.aud.Items[0].V
			fix := rules.Fix{
				Description: fmt.Sprintf("Add %q to the bound_audiences of JWT role %s", add, roleName),
				Commands:    []rules.Command{roleCommand(role, add)},
			}
			if role.File != nil {
				if role.BoundAudiences.Set {
					fix.Edits = []rules.TextEdit{edits.AppendToList(role.File, role.BoundAudiences, add)}
				} else {
					fix.Edits = []rules.TextEdit{edits.InsertKey(&role.Meta, "bound_audiences", "["+edits.Literal(role.File, add)+"]")}
				}
			}
			f.Fixes = append(f.Fixes, fix)
		}
		if len(role.BoundAudiences.Items) > 0 && src.aud.Range.Filename != "" {
			file := fileOf(src)
			if file != nil && len(src.aud.Items) > 0 {
				f.Fixes = append(f.Fixes, rules.Fix{
					Description: fmt.Sprintf("Use aud %q, which the role accepts", role.BoundAudiences.Items[0].V),
					Edits:       []rules.TextEdit{edits.Replace(src.aud.Range, "["+edits.Literal(file, role.BoundAudiences.Items[0].V)+"]")},
				})
			}
		}
		p.Report(f)
	}

	clusters := make([]string, 0, len(defaults))
	for c := range defaults {
		clusters = append(clusters, c)
	}
	slices.Sort(clusters)
	for _, c := range clusters {
		cfg := w.NomadAuthConfigIn(world.InCluster(c))
		if cfg == nil || !cfg.DefaultRole.IsKnown() || cfg.DefaultRole.V == "" {
			continue
		}
		for _, d := range defaults[c] {
			check(d, cfg.DefaultRole.V, "the auth method's default_role")
		}
	}
	for _, wl := range access.Workloads(w) {
		roleName, via := access.RoleFor(w, wl.Vault)
		if roleName == "" {
			continue
		}
		at := access.PlaceFor(w, wl.Vault)
		if id := wl.Task.VaultIdentity(wl.Vault.ClusterName()); id != nil {
			check(identitySource{aud: id.Aud, what: fmt.Sprintf("identity %s of task %s in job %s", id.Name.V, wl.Task.Name.V, wl.Job.Ref.Name), job: wl.Job, at: at}, roleName, via)
			continue
		}
		for _, d := range defaults[wl.Vault.ClusterName()] {
			d.at = at
			check(d, roleName, via+" of job "+wl.Job.Ref.Name)
		}
	}
}

func intersects(a, b world.List) bool {
	if len(a.Items) == 0 && len(b.Items) == 0 {
		return true
	}
	for _, x := range a.Items {
		if b.Contains(x.V) {
			return true
		}
	}
	return false
}

func boundRange(r *world.JWTRole) hcl.Range {
	if r.BoundAudiences.Set {
		return r.BoundAudiences.Range
	}
	return r.Range
}

func rangeOr(r, alt hcl.Range) hcl.Range {
	if r.Filename != "" {
		return r
	}
	return alt
}

func fileOf(s identitySource) *world.File {
	if s.job != nil {
		return s.job.File
	}
	return s.agent.File
}

func roleCommand(r *world.JWTRole, aud string) rules.Command {
	auds := append(r.BoundAudiences.Strings(), aud)
	return roleWrite(r, "bound_audiences="+strings.Join(auds, ","))
}

func mountOf(r *world.JWTRole) string {
	if r.Mount != "" {
		return r.Mount
	}
	return "jwt-nomad"
}

func quoted(xs []string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = fmt.Sprintf("%q", x)
	}
	return out
}
