package identity

import (
	"fmt"

	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// JWTRoleNoUserClaim: Vault refuses a role without user_claim.
var JWTRoleNoUserClaim rules.Rule = jwtRoleNoUserClaim{}

type jwtRoleNoUserClaim struct{}

func (jwtRoleNoUserClaim) Meta() *rules.Meta { return &jwtRoleNoUserClaimMeta }

var jwtRoleNoUserClaimMeta = rules.Meta{
	ID: "NV213", Name: "jwt-role-no-user-claim", Severity: rules.Error,
	Title: "the JWT role has no user_claim",
	Needs: []world.Kind{world.KindJWTRole},
	Doc: rules.Doc{
		Why: "user_claim names the claim Vault uses as the entity alias name of every login. Vault refuses to write a role without one: " +
			"`a user claim must be defined on the role`, so the role does not exist and every login naming it fails.",
		Example: "{\n  \"role_type\": \"jwt\",\n  \"bound_audiences\": [\"vault.io\"]\n}",
		Fix: "Set \"user_claim\": \"nomad_job_id\" (or \"/nomad_job_id\" with \"user_claim_json_pointer\": true, as `nomad setup vault` does): " +
			"one entity per job, which templated policies can use.",
	},
}

func (jwtRoleNoUserClaim) Check(p *rules.Pass) {
	for _, r := range p.World.JWTRoles {
		uc := r.UserClaim
		if uc.Set && (!uc.Known || uc.V != "") {
			continue
		}
		f := rules.Finding{
			Message:  fmt.Sprintf("JWT role %s has no user_claim; Vault refuses to write it: a user claim must be defined on the role: set user_claim to \"nomad_job_id\"", r.Ref.Name),
			Range:    r.Range,
			Object:   r.Ref,
			Evidence: []string{"user_claim: unset or empty"},
			Fixes:    []rules.Fix{roleFix(r, `Set user_claim to "nomad_job_id"`, []string{"user_claim=nomad_job_id"}, setKey(&r.Meta, uc, "user_claim", `"nomad_job_id"`))},
		}
		if uc.Set {
			f.Range = uc.Range
		}
		p.Report(f)
	}
}
