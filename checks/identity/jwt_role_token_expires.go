package identity

import (
	"fmt"
	"strings"

	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// JWTRoleTokenExpires: task tokens that cannot live as long as a service.
var JWTRoleTokenExpires rules.Rule = jwtRoleTokenExpires{}

type jwtRoleTokenExpires struct{}

func (jwtRoleTokenExpires) Meta() *rules.Meta { return &jwtRoleTokenExpiresMeta }

var jwtRoleTokenExpiresMeta = rules.Meta{
	ID: "NV216", Name: "jwt-role-token-expires", Severity: rules.Warning,
	Title: "the JWT role's tokens expire under long-running tasks",
	Needs: []world.Kind{world.KindJWTRole},
	Doc: rules.Doc{
		Why: "A task token must live as long as the task. Without token_period a token renews only up to token_max_ttl, or the auth mount's max TTL " +
			"(768h unless tuned); then renew-self fails, Nomad logs in again and applies the vault block's change_mode, restarting the task by default. " +
			"A batch token (token_type batch) is never renewed: Nomad lets it expire after its TTL and the task loses Vault access, its templates included. " +
			"This is a warning, not an error, because what breaks depends on how long tasks run: batch jobs may finish first (and may set vault.allow_token_expiration), " +
			"so roles that only batch jobs use are not reported.",
		Example: "{\n  \"role_type\": \"jwt\",\n  \"token_type\": \"service\",\n  \"token_ttl\": \"1h\",\n  \"token_max_ttl\": \"24h\"\n}",
		Fix:     "Make tokens periodic: \"token_type\": \"service\" and \"token_period\": \"30m\", as `nomad setup vault` does; Nomad renews them for as long as the task runs.",
	},
}

func (jwtRoleTokenExpires) Check(p *rules.Pass) {
	for _, r := range p.World.JWTRoles {
		if !isJWTType(r) || (r.TokenPeriod.Set && !r.TokenPeriod.Known) || (r.TokenType.Set && !r.TokenType.Known) {
			continue
		}
		if usedOnlyByBatchJobs(p.World, r) {
			continue
		}
		periodic := r.TokenPeriod.V > 0
		batch := strings.EqualFold(r.TokenType.V, "batch")
		f := rules.Finding{Object: r.Ref, Range: r.Range}
		switch {
		case batch && periodic:
			continue // Vault refuses the role; NV217 says so
		case batch:
			ttl := "the auth mount's default TTL (768h unless tuned)"
			if r.TokenTTL.IsKnown() && r.TokenTTL.V > 0 {
				ttl = "token_ttl (" + duration(r.TokenTTL.V) + ")"
			}
			f.Message = fmt.Sprintf("JWT role %s makes batch tokens, which Vault never renews: a long-running task loses Vault access when its token expires after %s: use token_type \"service\" with token_period", r.Ref.Name, ttl)
			f.Range = r.TokenType.Range
			f.Evidence = []string{"token_type: \"batch\"", "Nomad skips renewal of non-renewable tokens and lets them expire"}
			f.Fixes = []rules.Fix{roleFix(r, `Make periodic service tokens: token_type "service", token_period "30m"`, []string{"token_type=service", "token_period=30m"},
				setKey(&r.Meta, r.TokenType, "token_type", `"service"`), setKey(&r.Meta, r.TokenPeriod, "token_period", `"30m"`))}
		case !periodic:
			limit := "the auth mount's max TTL (768h unless tuned)"
			if r.TokenMaxTTL.IsKnown() && r.TokenMaxTTL.V > 0 {
				limit = "token_max_ttl (" + duration(r.TokenMaxTTL.V) + ")"
				f.Range = r.TokenMaxTTL.Range
			}
			f.Message = fmt.Sprintf("JWT role %s has no token_period, so task tokens renew only up to %s; then Nomad logs in again and restarts long-running tasks: set token_period (nomad setup vault uses 30m)", r.Ref.Name, limit)
			if r.TokenPeriod.Set {
				f.Range = r.TokenPeriod.Range
			}
			period := "token_period: unset"
			if r.TokenPeriod.Set {
				period = fmt.Sprintf("token_period: %ds", r.TokenPeriod.V)
			}
			f.Evidence = []string{period, "a token without a period cannot be renewed past its max TTL"}
			f.Fixes = []rules.Fix{roleFix(r, `Set token_period to "30m"`, []string{"token_period=30m"}, setKey(&r.Meta, r.TokenPeriod, "token_period", `"30m"`))}
		default:
			continue
		}
		p.Report(f)
	}
}
