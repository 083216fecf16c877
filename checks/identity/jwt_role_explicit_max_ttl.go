package identity

import (
	"fmt"

	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/rules/edits"
	"github.com/nvlint/nvlint/world"
)

// JWTRoleExplicitMaxTTL: a hard cap on task tokens.
var JWTRoleExplicitMaxTTL rules.Rule = jwtRoleExplicitMaxTTL{}

type jwtRoleExplicitMaxTTL struct{}

func (jwtRoleExplicitMaxTTL) Meta() *rules.Meta { return &jwtRoleExplicitMaxTTLMeta }

var jwtRoleExplicitMaxTTLMeta = rules.Meta{
	ID: "NV215", Name: "jwt-role-explicit-max-ttl", Severity: rules.Error,
	Title: "the JWT role caps task tokens with an explicit max TTL",
	Needs: []world.Kind{world.KindJWTRole},
	Doc: rules.Doc{
		Why: "token_explicit_max_ttl is a hard limit that neither renewal nor token_period can lift. A task that runs longer than it loses its token: " +
			"renew-self fails with 403 permission denied, Nomad logs in again for a new token and applies the vault block's change_mode, which restarts the task by default. " +
			"Roles that only batch jobs use are not reported: they may finish first.",
		Example: "{\n  \"role_type\": \"jwt\",\n  \"token_period\": \"30m\",\n  \"token_explicit_max_ttl\": \"24h\"\n}",
		Fix:     "Set \"token_explicit_max_ttl\": 0 and keep tokens alive with token_period (`nomad setup vault` uses 30m).",
	},
}

func (jwtRoleExplicitMaxTTL) Check(p *rules.Pass) {
	for _, r := range p.World.JWTRoles {
		v := r.TokenExplicitMaxTTL
		if !v.IsKnown() || v.V <= 0 || usedOnlyByBatchJobs(p.World, r) {
			continue
		}
		p.Report(rules.Finding{
			Message: fmt.Sprintf("JWT role %s sets token_explicit_max_ttl = %s; a task that runs longer cannot renew its token (renew-self: 403 permission denied) and Nomad restarts it with a new one: set token_explicit_max_ttl to 0", r.Ref.Name, duration(v.V)),
			Range:   v.Range,
			Object:  r.Ref,
			Evidence: []string{fmt.Sprintf("token_explicit_max_ttl: %ds", v.V),
				"an explicit max TTL is fixed when the token is created; renewals and token_period cannot extend it"},
			Fixes: []rules.Fix{roleFix(r, "Set token_explicit_max_ttl to 0", []string{"token_explicit_max_ttl=0"}, edits.Replace(v.Range, "0"))},
		})
	}
}
