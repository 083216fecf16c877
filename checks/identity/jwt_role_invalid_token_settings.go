package identity

import (
	"fmt"

	"github.com/nvlint/nvlint/internal/suggest"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/rules/edits"
	"github.com/nvlint/nvlint/world"
)

// JWTRoleInvalidTokenSettings: token parameters Vault refuses.
var JWTRoleInvalidTokenSettings rules.Rule = jwtRoleInvalidTokenSettings{}

type jwtRoleInvalidTokenSettings struct{}

func (jwtRoleInvalidTokenSettings) Meta() *rules.Meta { return &jwtRoleInvalidTokenSettingsMeta }

var jwtRoleInvalidTokenSettingsMeta = rules.Meta{
	ID: "NV217", Name: "jwt-role-invalid-token-settings", Severity: rules.Error,
	Title: "the JWT role's token settings are ones Vault refuses",
	Needs: []world.Kind{world.KindJWTRole},
	Doc: rules.Doc{
		Why: "Vault checks a role's token parameters when the role is written and refuses it, so the role does not exist and every login naming it fails: " +
			"`invalid 'token_type' value \"x\"` (a role takes default, service or batch), " +
			"`'token_type' cannot be 'batch' or 'default_batch' when set to generate periodic tokens`, and `'token_ttl' cannot be greater than 'token_max_ttl'`.",
		Example: "{\n  \"role_type\": \"jwt\",\n  \"token_type\": \"batch\",\n  \"token_period\": \"30m\"\n}",
		Fix:     "Use \"token_type\": \"service\" with token_period (what Nomad needs for long-running tasks), and keep token_ttl at or below token_max_ttl.",
	},
}

func (jwtRoleInvalidTokenSettings) Check(p *rules.Pass) {
	for _, r := range p.World.JWTRoles {
		tt := r.TokenType
		switch {
		case !tt.IsKnown():
		case tt.V != "" && tt.V != "default" && tt.V != "service" && tt.V != "batch":
			want := "service"
			if best, ok := suggest.Closest(tt.V, []string{"service", "batch", "default"}, 2); ok {
				want = best
			}
			p.Report(rules.Finding{
				Message:  fmt.Sprintf("JWT role %s has token_type %q; Vault refuses to write it: invalid 'token_type' value %q: use %q", r.Ref.Name, tt.V, tt.V, want),
				Range:    tt.Range,
				Object:   r.Ref,
				Evidence: []string{"a role's token_type is default, service or batch"},
				Fixes:    []rules.Fix{roleFix(r, fmt.Sprintf("Set token_type to %q", want), []string{"token_type=" + want}, edits.Replace(tt.Range, edits.LiteralIn(tt.Range.Filename, want)))},
			})
		case tt.V == "batch" && r.TokenPeriod.IsKnown() && r.TokenPeriod.V > 0:
			p.Report(rules.Finding{
				Message: fmt.Sprintf("JWT role %s makes batch tokens with token_period %s; Vault refuses to write it: 'token_type' cannot be 'batch' or 'default_batch' when set to generate periodic tokens: use token_type \"service\"", r.Ref.Name, duration(r.TokenPeriod.V)),
				Range:   tt.Range,
				Object:  r.Ref,
				Evidence: []string{"token_type: \"batch\"", fmt.Sprintf("token_period: %ds", r.TokenPeriod.V),
					"batch tokens cannot be renewed, so they cannot be periodic"},
				Fixes: []rules.Fix{roleFix(r, `Set token_type to "service"`, []string{"token_type=service"}, edits.Replace(tt.Range, `"service"`))},
			})
		}
		ttl, maxTTL := r.TokenTTL, r.TokenMaxTTL
		if ttl.IsKnown() && maxTTL.IsKnown() && maxTTL.V > 0 && ttl.V > maxTTL.V {
			p.Report(rules.Finding{
				Message:  fmt.Sprintf("JWT role %s sets token_ttl %s above token_max_ttl %s; Vault refuses to write it: 'token_ttl' cannot be greater than 'token_max_ttl': lower token_ttl to %s", r.Ref.Name, duration(ttl.V), duration(maxTTL.V), duration(maxTTL.V)),
				Range:    ttl.Range,
				Object:   r.Ref,
				Evidence: []string{fmt.Sprintf("token_ttl: %ds", ttl.V), fmt.Sprintf("token_max_ttl: %ds", maxTTL.V)},
				Fixes:    []rules.Fix{roleFix(r, "Set token_ttl to token_max_ttl", []string{"token_ttl=" + duration(maxTTL.V)}, edits.Replace(ttl.Range, edits.LiteralIn(ttl.Range.Filename, duration(maxTTL.V))))},
			})
		}
	}
}
