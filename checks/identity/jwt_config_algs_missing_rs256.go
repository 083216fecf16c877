package identity

import (
	"fmt"

	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// JWTConfigAlgsMissingRS256: Vault must accept what Nomad signs with.
var JWTConfigAlgsMissingRS256 rules.Rule = jwtConfigAlgsMissingRS256{}

type jwtConfigAlgsMissingRS256 struct{}

func (jwtConfigAlgsMissingRS256) Meta() *rules.Meta { return &jwtConfigAlgsMissingRS256Meta }

var jwtConfigAlgsMissingRS256Meta = rules.Meta{
	ID: "NV222", Name: "jwt-config-algs-missing-rs256", Severity: rules.Error,
	Title: "the JWT auth config does not accept RS256, which Nomad signs with",
	Needs: []world.Kind{world.KindJWTAuthConfig},
	Doc: rules.Doc{
		Why: "Nomad 1.7 and later sign workload identities with RS256 (root keys created on 1.7+ carry an RSA key, and Nomad rotates root keys every 30 days by default, " +
			"so an older keyring gets one too). When jwt_supported_algs is set and lacks RS256, Vault refuses every such login: `token signed with unexpected algorithm`, " +
			"and Nomad kills the task. An empty or absent jwt_supported_algs accepts every algorithm.",
		Example: "{\n  \"jwks_url\": \"http://127.0.0.1:4646/.well-known/jwks.json\",\n  \"jwt_supported_algs\": [\"EdDSA\"]\n}",
		Fix:     "Set \"jwt_supported_algs\": [\"RS256\", \"EdDSA\"], as `nomad setup vault` does.",
	},
}

func (jwtConfigAlgsMissingRS256) Check(p *rules.Pass) {
	reportMissingAlg(p, "RS256", func(name, algs string) string {
		return fmt.Sprintf("JWT auth config %s limits jwt_supported_algs to [%s] without RS256, which Nomad 1.7+ signs workload identities with; Vault refuses the login: token signed with unexpected algorithm: add \"RS256\"", name, algs)
	}, "Nomad's JWKS (/.well-known/jwks.json) serves RS256 keys from 1.7 on")
}
