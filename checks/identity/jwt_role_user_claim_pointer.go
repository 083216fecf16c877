package identity

import (
	"fmt"
	"strings"

	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/rules/edits"
	"github.com/nvlint/nvlint/world"
)

// JWTRoleUserClaimPointer: a JSON pointer user_claim needs
// user_claim_json_pointer.
var JWTRoleUserClaimPointer rules.Rule = jwtRoleUserClaimPointer{}

type jwtRoleUserClaimPointer struct{}

func (jwtRoleUserClaimPointer) Meta() *rules.Meta { return &jwtRoleUserClaimPointerMeta }

var jwtRoleUserClaimPointerMeta = rules.Meta{
	ID: "NV214", Name: "jwt-role-user-claim-pointer", Severity: rules.Error,
	Title: "the JWT role's user_claim is a JSON pointer but user_claim_json_pointer is off",
	Needs: []world.Kind{world.KindJWTRole},
	Doc: rules.Doc{
		Why: "Vault reads user_claim as a JSON pointer only when user_claim_json_pointer is true. Otherwise \"/nomad_job_id\" is the name of a claim, " +
			"which no workload identity has: every login fails with `claim \"/nomad_job_id\" not found in token` and Nomad kills the task.",
		Example: "{\n  \"role_type\": \"jwt\",\n  \"user_claim\": \"/nomad_job_id\"\n}",
		Fix:     "Set \"user_claim_json_pointer\": true, or name the claim without the slash: \"user_claim\": \"nomad_job_id\".",
	},
}

func (jwtRoleUserClaimPointer) Check(p *rules.Pass) {
	for _, r := range p.World.JWTRoles {
		uc, ptr := r.UserClaim, r.UserClaimJSONPointer
		if !uc.IsKnown() || !strings.HasPrefix(uc.V, "/") || (ptr.Set && (!ptr.Known || ptr.V)) {
			continue
		}
		f := rules.Finding{
			Message: fmt.Sprintf("JWT role %s has user_claim %q without user_claim_json_pointer, so Vault looks for a claim named %q and every login fails with: claim %q not found in token: set user_claim_json_pointer to true", r.Ref.Name, uc.V, uc.V, uc.V),
			Range:   uc.Range,
			Object:  r.Ref,
			Evidence: []string{fmt.Sprintf("user_claim: %q", uc.V),
				"user_claim_json_pointer: " + map[bool]string{true: "false", false: "unset (false)"}[ptr.Set]},
			Fixes: []rules.Fix{roleFix(r, "Set user_claim_json_pointer to true", []string{"user_claim_json_pointer=true"}, setKey(&r.Meta, ptr, "user_claim_json_pointer", "true"))},
		}
		if name := strings.TrimPrefix(uc.V, "/"); name != "" && !strings.Contains(name, "/") {
			f.Fixes = append(f.Fixes, roleFix(r, fmt.Sprintf("Name the claim without the slash: %q", name), []string{"user_claim=" + name}, edits.Replace(uc.Range, edits.LiteralIn(uc.Range.Filename, name))))
		}
		p.Report(f)
	}
}
