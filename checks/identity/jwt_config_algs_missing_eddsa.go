package identity

import (
	"fmt"

	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// JWTConfigAlgsMissingEdDSA: keyrings from before Nomad 1.7 sign with EdDSA.
var JWTConfigAlgsMissingEdDSA rules.Rule = jwtConfigAlgsMissingEdDSA{}

type jwtConfigAlgsMissingEdDSA struct{}

func (jwtConfigAlgsMissingEdDSA) Meta() *rules.Meta { return &jwtConfigAlgsMissingEdDSAMeta }

var jwtConfigAlgsMissingEdDSAMeta = rules.Meta{
	ID: "NV223", Name: "jwt-config-algs-missing-eddsa", Severity: rules.Warning,
	Title: "the JWT auth config does not accept EdDSA, which older Nomad keyrings sign with",
	Needs: []world.Kind{world.KindJWTAuthConfig},
	Doc: rules.Doc{
		Why: "A Nomad cluster whose root key was created before 1.7 signs workload identities with EdDSA until that key is rotated. " +
			"When jwt_supported_algs lacks EdDSA, Vault refuses those logins (`token signed with unexpected algorithm`). " +
			"This is a warning: a cluster created on 1.7 or later, or whose keys have all been rotated since, signs with RS256 only, which nvlint cannot tell from files.",
		Example: "{\n  \"jwks_url\": \"http://127.0.0.1:4646/.well-known/jwks.json\",\n  \"jwt_supported_algs\": [\"RS256\"]\n}",
		Fix:     "Set \"jwt_supported_algs\": [\"RS256\", \"EdDSA\"], as `nomad setup vault` does.",
	},
}

func (jwtConfigAlgsMissingEdDSA) Check(p *rules.Pass) {
	reportMissingAlg(p, "EdDSA", func(name, algs string) string {
		return fmt.Sprintf("JWT auth config %s limits jwt_supported_algs to [%s] without EdDSA; a Nomad keyring created before 1.7 signs with EdDSA and Vault refuses those logins: token signed with unexpected algorithm: add \"EdDSA\"", name, algs)
	})
}
