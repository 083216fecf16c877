package identity

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nvlint/nvlint/access"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/rules/edits"
	"github.com/nvlint/nvlint/world"
)

// RoleRejectsWorkload: the JWT role a task logs in with must admit it.
var RoleRejectsWorkload rules.Rule = roleRejectsWorkload{}

type roleRejectsWorkload struct{}

func (roleRejectsWorkload) Meta() *rules.Meta { return &roleRejectsWorkloadMeta }

var roleRejectsWorkloadMeta = rules.Meta{
	ID: "NV202", Name: "jwt-role-rejects-workload", Severity: rules.Error,
	Title: "the JWT role a task logs in with does not admit it",
	Needs: []world.Kind{world.KindJobspec, world.KindJWTRole},
	Doc: rules.Doc{
		Why: "A task logs in to Vault with the role its vault.role names, else the clients' create_from_role, else the auth method's default_role. " +
			"The role's bound_claims must match the task's identity claims (nomad_namespace, nomad_job_id, nomad_task; nomad_job_id is the parent job for " +
			"periodic and dispatched jobs). Otherwise the login fails with `error validating claims: claim \"nomad_job_id\" does not match any associated bound claim values`, " +
			"and with no role at all Vault says `missing role`; Nomad kills the task at once. " +
			"A role no file gives may exist in Vault, and the rule stays silent, unless the only JWT role given is named by a guess from its file name (acl-role.json): " +
			"it is then probably the role under its real name, and a warning says so and how to tell nvlint (--name, or names in .nvlint.hcl). " +
			"Doctor lists the roles of every JWT auth method of the Vault namespace: a role none has fails the login with `role \"web\" could not be found`.",
		Example: "vault {\n  role = \"mongo-dynamic-secret\"   # bound_claims: {\"nomad_job_id\": \"mongo-query\"}\n}\n# in job \"mongo\"",
		Fix:     "Name the role meant for the job in vault.role, or add the job to the role's bound_claims.",
	},
}

func (roleRejectsWorkload) Check(p *rules.Pass) {
	for _, wl := range access.Workloads(p.World) {
		tok := access.Resolve(p.World, wl)
		if tok.Flow == access.FlowIdentity && tok.Refused == "" && tok.Role == nil && tok.RoleName != "" {
			roleNotGiven(p, wl, tok)
			continue
		}
		if tok.Flow != access.FlowIdentity || tok.Refused == "" {
			continue
		}
		claimsRefusal := strings.HasPrefix(tok.Refused, "error validating claims")
		notFound := tok.Refused == access.RoleNotFound(tok.RoleName)
		if notFound && strings.Contains(tok.RoleVia, "default_role") {
			continue // NV224 reports it at the auth config
		}
		if !claimsRefusal && !notFound && tok.Refused != "missing role" {
			// Audience, role type and user claim problems have rules of
			// their own.
			continue
		}
		f := rules.Finding{
			Range:    wl.Vault.Range,
			Object:   wl.Job.Ref,
			Evidence: tok.Steps,
			Cluster:  tok.Cluster.V,
		}
		if wl.Vault.Role.Set {
			f.Range = wl.Vault.Role.Range
		}
		if notFound {
			f.Message = fmt.Sprintf("%s logs in with JWT role %s (%s), which no JWT auth method of Vault%s has: Vault refuses the login: %s", wl, tok.RoleName, tok.RoleVia, world.ClusterLabel(tok.Cluster.V), tok.Refused)
			f.Fixes = []rules.Fix{{Description: fmt.Sprintf("Write JWT role %s on the auth method the clients log in at, or name a role that exists", tok.RoleName)}}
			p.Report(f)
			continue
		}
		if tok.Refused == "missing role" {
			f.Message = fmt.Sprintf("%s names no Vault role and the JWT auth method%s has no default_role: Vault refuses the login with \"missing role\"", wl, world.ClusterLabel(tok.Cluster.V))
			p.Report(f)
			continue
		}
		f.Message = fmt.Sprintf("JWT role %s%s (%s) does not admit %s: Vault refuses the login: %s", tok.RoleName, world.ClusterLabel(tok.Cluster.V), tok.RoleVia, wl, tok.Refused)
		f.Related = []rules.Related{{Message: "bound claim of role " + tok.RoleName, Range: tok.RefusedAt}}
		if fix, ok := admitFix(tok); ok {
			f.Fixes = []rules.Fix{fix}
		}
		p.Report(f)
	}
}

// roleNotGiven reports a role the files do not give when it is probably
// the only JWT role given, under a name guessed wrong from its file name.
// A default_role NV224 reports at the auth config; any other missing role
// may well exist in Vault, and the rule stays silent.
func roleNotGiven(p *rules.Pass, wl access.Workload, tok access.Token) {
	name := strings.ToLower(tok.RoleName)
	look := p.World.Lookup(world.KindJWTRole, tok.RoleName)
	note := look.ProbablyNote(name)
	if note == "" || strings.Contains(tok.RoleVia, "default_role") {
		p.CannotDecide("%s logs in with JWT role %s (%s), which is not given", wl, tok.RoleName, tok.RoleVia)
		return
	}
	f := rules.Finding{
		Message:  fmt.Sprintf("%s logs in with JWT role %s (%s), which no file gives; %s; if it is not, the login fails with: role %q could not be found", wl, tok.RoleName, tok.RoleVia, note, name),
		Range:    wl.Vault.Range,
		Object:   wl.Job.Ref,
		Evidence: append(append([]string(nil), tok.Steps...), look.Evidence()...),
		Assumes:  look.Assumed(),
		Fixes:    []rules.Fix{{Description: look.ProbablyAdvice(name)}},
	}
	if wl.Vault.Role.Set {
		f.Range = wl.Vault.Role.Range
	}
	p.Report(f)
}

// admitFix adds the workload's claim value to the refusing bound claim.
func admitFix(tok access.Token) (rules.Fix, bool) {
	r := tok.Role
	for name, want := range r.BoundClaims.Claims {
		if want.Range != tok.RefusedAt {
			continue
		}
		got, _ := tok.Claim(name)
		if got == "" {
			return rules.Fix{}, false
		}
		values := append(want.Strings(), got)
		quoted := make([]string, len(values))
		for i, v := range values {
			quoted[i] = strconv.Quote(v)
		}
		fix := rules.Fix{Description: fmt.Sprintf("Admit %s=%s in the bound_claims of JWT role %s", name, got, r.Ref.Name)}
		if r.File == nil && r.BoundClaims.Known {
			// Vault replaces bound_claims whole: every claim goes again.
			claims := map[string]any{}
			for n, l := range r.BoundClaims.Claims {
				claims[n] = l.Strings()
			}
			claims[name] = values
			fix.Commands = []rules.Command{roleWriteJSON(r, map[string]any{"bound_claims": claims})}
		}
		if r.File != nil {
			value := "[" + strings.Join(quoted, ", ") + "]"
			if r.Resource != nil {
				// The Terraform provider takes a comma-separated string.
				value = strconv.Quote(strings.Join(values, ","))
			}
			fix.Edits = []rules.TextEdit{edits.Replace(want.Range, value)}
			fix.Commands = []rules.Command{roleWrite(r)}
		}
		return fix, true
	}
	return rules.Fix{}, false
}
