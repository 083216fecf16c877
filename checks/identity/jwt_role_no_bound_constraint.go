package identity

import (
	"fmt"

	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/rules/edits"
	"github.com/nvlint/nvlint/world"
)

// JWTRoleNoBoundConstraint: Vault refuses a jwt role that binds nothing.
var JWTRoleNoBoundConstraint rules.Rule = jwtRoleNoBoundConstraint{}

type jwtRoleNoBoundConstraint struct{}

func (jwtRoleNoBoundConstraint) Meta() *rules.Meta { return &jwtRoleNoBoundConstraintMeta }

var jwtRoleNoBoundConstraintMeta = rules.Meta{
	ID: "NV212", Name: "jwt-role-no-bound-constraint", Severity: rules.Error,
	Title: "the JWT role binds no audience, subject, claim or CIDR",
	Needs: []world.Kind{world.KindJWTRole},
	Doc: rules.Doc{
		Why: "A jwt role must restrict which tokens it accepts. Vault refuses to write one with none of bound_audiences, bound_subject, bound_claims and " +
			"token_bound_cidrs: `must have at least one bound constraint when creating/updating a role`. The role then does not exist and every login naming it fails.",
		Example: "{\n  \"role_type\": \"jwt\",\n  \"user_claim\": \"/nomad_job_id\",\n  \"user_claim_json_pointer\": true\n}",
		Fix: "Bind the audience of Nomad's workload identities: \"bound_audiences\": [\"vault.io\"] (the aud of the servers' default_identity), " +
			"and narrow further with bound_claims such as nomad_namespace or nomad_job_id.",
	},
}

func (jwtRoleNoBoundConstraint) Check(p *rules.Pass) {
	for _, r := range p.World.JWTRoles {
		// Vault checks bound constraints of jwt roles only; a role without
		// role_type is an oidc role, which NV211 reports.
		if !r.RoleType.IsKnown() || r.RoleType.V != "jwt" {
			continue
		}
		if (r.BoundAudiences.Set && !r.BoundAudiences.Known) || (r.BoundSubject.Set && !r.BoundSubject.Known) ||
			(r.BoundClaims.Set && !r.BoundClaims.Known) || (r.TokenBoundCIDRs.Set && !r.TokenBoundCIDRs.Known) {
			continue
		}
		if len(r.BoundAudiences.Items) > 0 || r.BoundSubject.V != "" || len(r.BoundClaims.Claims) > 0 || len(r.TokenBoundCIDRs.Items) > 0 {
			continue
		}
		aud := defaultAud(p.World)
		f := rules.Finding{
			Message: fmt.Sprintf("JWT role %s binds no audience, subject, claim or CIDR; Vault refuses to write it: must have at least one bound constraint when creating/updating a role: bind audience %q", r.Ref.Name, aud),
			Range:   r.Range,
			Object:  r.Ref,
			Evidence: []string{"bound_audiences, bound_subject, bound_claims and token_bound_cidrs are all empty or unset",
				fmt.Sprintf("Nomad's workload identities carry aud %q", aud)},
		}
		var e rules.TextEdit
		if r.BoundAudiences.Set {
			f.Range = r.BoundAudiences.Range
			if r.File != nil {
				e = edits.AppendToList(r.File, r.BoundAudiences, aud)
			}
		} else if r.File != nil {
			e = edits.InsertKey(&r.Meta, "bound_audiences", "["+edits.Literal(r.File, aud)+"]")
		}
		f.Fixes = []rules.Fix{roleFix(r, fmt.Sprintf("Bind audience %q", aud), []string{"bound_audiences=" + aud}, e)}
		p.Report(f)
	}
}
