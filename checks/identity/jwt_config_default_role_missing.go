package identity

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nvlint/nvlint/internal/suggest"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/rules/edits"
	"github.com/nvlint/nvlint/world"
)

// JWTConfigDefaultRoleMissing: default_role must name a role that exists.
var JWTConfigDefaultRoleMissing rules.Rule = jwtConfigDefaultRoleMissing{}

type jwtConfigDefaultRoleMissing struct{}

func (jwtConfigDefaultRoleMissing) Meta() *rules.Meta { return &jwtConfigDefaultRoleMissingMeta }

var jwtConfigDefaultRoleMissingMeta = rules.Meta{
	ID: "NV224", Name: "jwt-config-default-role-missing", Severity: rules.Error,
	Title: "the JWT auth config's default_role names no JWT role given",
	Needs: []world.Kind{world.KindJWTAuthConfig},
	Doc: rules.Doc{
		Why: "Nomad logs a task in with its job's vault.role, else the client's create_from_role, else no role at all, and Vault then uses the auth method's default_role. " +
			"When that role does not exist the login fails with `role \"nomad-workloads\" could not be found` and Nomad kills the task. " +
			"nvlint checks the name against the JWT roles given; with none given it cannot tell and stays silent (--verbose says so).",
		Example: "{\n  \"jwks_url\": \"http://127.0.0.1:4646/.well-known/jwks.json\",\n  \"default_role\": \"nomad-workload\"\n}\n# role file: vault-role-nomad-workloads.json",
		Fix:     "Name the role that exists in default_role, or write the role: `vault write auth/jwt-nomad/role/NAME @role.json`.",
	},
}

func (jwtConfigDefaultRoleMissing) Check(p *rules.Pass) {
	w := p.World
	for _, c := range nomadConfigs(w) {
		dr := c.DefaultRole
		if !dr.IsKnown() || dr.V == "" {
			continue
		}
		if len(w.JWTRoles) == 0 {
			p.CannotDecide("JWT auth config %s names default_role %s but no JWT role was given", c.Ref.Name, dr.V)
			continue
		}
		var names []string
		found := false
		for _, r := range w.JWTRoles {
			names = append(names, r.Ref.Name)
			// Vault looks roles up in lower case.
			if strings.EqualFold(r.Ref.Name, dr.V) {
				found = true
			}
		}
		if found {
			continue
		}
		f := rules.Finding{
			Message:  fmt.Sprintf("JWT auth config %s names default_role %q, but no JWT role of that name is given; Nomad logins without a role fail with: role %q could not be found: name one of %s", c.Ref.Name, dr.V, strings.ToLower(dr.V), strings.Join(quoted(names), ", ")),
			Range:    dr.Range,
			Object:   c.Ref,
			Evidence: []string{"default_role: " + strconv.Quote(dr.V), "JWT roles given: " + strings.Join(names, ", ")},
		}
		best, ok := suggest.Closest(dr.V, names, 3)
		if !ok && len(names) == 1 {
			best, ok = names[0], true
		}
		if ok {
			f.Fixes = append(f.Fixes, configFix(c, fmt.Sprintf("Set default_role to %q", best), []string{"default_role=" + best}, edits.Replace(dr.Range, strconv.Quote(best))))
		}
		f.Fixes = append(f.Fixes, rules.Fix{Description: fmt.Sprintf("Write JWT role %s: vault write auth/%s/role/%s @FILE.json", strings.ToLower(dr.V), mountName(c), strings.ToLower(dr.V))})
		p.Report(f)
	}
}

func mountName(c *world.JWTAuthConfig) string {
	if c.Mount != "" {
		return c.Mount
	}
	return "jwt-nomad"
}
