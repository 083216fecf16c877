package identity

import (
	"fmt"

	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// JWTRoleTypeNotJWT: Nomad logs in with jwt roles only.
var JWTRoleTypeNotJWT rules.Rule = jwtRoleTypeNotJWT{}

type jwtRoleTypeNotJWT struct{}

func (jwtRoleTypeNotJWT) Meta() *rules.Meta { return &jwtRoleTypeNotJWTMeta }

var jwtRoleTypeNotJWTMeta = rules.Meta{
	ID: "NV211", Name: "jwt-role-type-not-jwt", Severity: rules.Error,
	Title: "the JWT role is not of role_type jwt",
	Needs: []world.Kind{world.KindJWTRole},
	Doc: rules.Doc{
		Why: "Vault's JWT auth method makes a role without role_type an oidc role. Nomad logs in with a signed workload identity, which only a jwt role accepts: " +
			"the login fails with `role with oidc role_type is not allowed` and Nomad kills the task. Vault even refuses to write such a role without " +
			"allowed_redirect_uris (`'allowed_redirect_uris' must be set if 'role_type' is 'oidc' or unspecified.`), and any other value with `invalid 'role_type'`.",
		Example: "{\n  \"bound_audiences\": [\"vault.io\"],\n  \"user_claim\": \"/nomad_job_id\",\n  \"user_claim_json_pointer\": true\n}",
		Fix:     "Set \"role_type\": \"jwt\" and write the role again with `vault write auth/jwt-nomad/role/NAME @file.json`.",
	},
}

func (jwtRoleTypeNotJWT) Check(p *rules.Pass) {
	for _, r := range p.World.JWTRoles {
		rt := r.RoleType
		if rt.Set && !rt.Known || rt.V == "jwt" {
			continue
		}
		f := rules.Finding{
			Range:  r.Range,
			Object: r.Ref,
			Fixes:  []rules.Fix{roleFix(r, `Set role_type to "jwt"`, []string{"role_type=jwt"}, setKey(&r.Meta, rt, "role_type", `"jwt"`))},
		}
		if rt.Set {
			f.Range = rt.Range
		}
		switch rt.V {
		case "":
			f.Message = fmt.Sprintf("JWT role %s has no role_type, so Vault makes it an oidc role and Nomad's login fails with: role with oidc role_type is not allowed: set role_type to \"jwt\"", r.Ref.Name)
			f.Evidence = []string{"role_type: unset (Vault's default is \"oidc\")",
				"Vault also refuses to write an oidc role without redirect URIs: 'allowed_redirect_uris' must be set if 'role_type' is 'oidc' or unspecified."}
		case "oidc":
			if !nomadUsesRole(p.World, r) {
				p.CannotDecide("JWT role %s is an oidc role and nothing given makes Nomad log in with it", r.Ref.Name)
				continue
			}
			f.Message = fmt.Sprintf("JWT role %s has role_type \"oidc\" but Nomad logs in with it, which fails with: role with oidc role_type is not allowed: set role_type to \"jwt\"", r.Ref.Name)
			f.Evidence = []string{"role_type: \"oidc\"", "Nomad logs in with a signed workload identity (a JWT), which only jwt roles accept"}
		default:
			f.Message = fmt.Sprintf("JWT role %s has role_type %q; Vault refuses to write it: invalid 'role_type': %s: set role_type to \"jwt\"", r.Ref.Name, rt.V, rt.V)
			f.Evidence = []string{fmt.Sprintf("role_type: %q (Vault accepts \"jwt\" and \"oidc\", in lower case)", rt.V)}
		}
		p.Report(f)
	}
}
