package live

import (
	"fmt"

	"github.com/nvlint/nvlint/forecast"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// SigningKeyRotation: a JWT auth method that will not hold the key
// Nomad signs with after its next rotation.
var SigningKeyRotation rules.Rule = signingKeyRotation{}

type signingKeyRotation struct{}

func (signingKeyRotation) Meta() *rules.Meta { return &signingKeyRotationMeta }

var signingKeyRotationMeta = rules.Meta{
	ID: "NV625", Name: "signing-key-rotation-breaks-auth", Severity: rules.Warning,
	Live:  true,
	Title: "a JWT auth method will not hold Nomad's next signing key",
	Needs: []world.Kind{world.KindJWTAuthConfig},
	Doc: rules.Doc{
		Why: "Nomad rotates the key that signs workload identities every root_key_rotation_threshold (720h by default): it prepublishes the next key in its JWKS halfway there, and makes it the signing key at its publish time. " +
			"An auth method with jwks_url or oidc_discovery_url follows, as Vault fetches the JWKS again when a token names a key it has not cached. " +
			"An auth method with jwt_validation_pubkeys does not, nor one whose jwks_url serves a copy without the prepublished key: from the rotation on, every login fails with `no known key successfully validated the token signature`. " +
			"Doctor reads the keyring (which takes a management token) and forecasts that moment for each method that holds the active key but not the next. " +
			"It is an error within 24h and a warning within 7 days (forecast { error_within, warning_within } in .nvlint.hcl).",
		Example: `vault write auth/jwt-nomad/config jwt_validation_pubkeys=@active-key.pem`,
		Fix:     "Point the auth method's jwks_url at Nomad's own JWKS (https://NOMAD:4646/.well-known/jwks.json, which serves prepublished keys), or add the prepublished key (`nomad operator root keyring list -verbose`, its PEM from the JWKS) to jwt_validation_pubkeys before its publish time.",
	},
}

func (signingKeyRotation) Check(p *rules.Pass) {
	now, th := forecast.Now(p.World), forecast.ThresholdsOf(p.World)
	for _, k := range forecast.SigningKeys(p.World) {
		left := k.At.Sub(now)
		if left >= th.Warning {
			continue
		}
		next := "a key Nomad has not made yet"
		if k.Next != "" {
			next = "prepublished key " + k.Next
		}
		msg := fmt.Sprintf("auth method %s verifies with %s, whose keys include Nomad's active signing key but not the next: Nomad signs identities with %s %s, and from then every task's Vault login fails",
			k.Config.Mount, k.Source, next, forecast.When(now, k.At))
		evidence := []string{k.Basis}
		if k.Assumed != "" {
			evidence = append(evidence, k.Assumed)
		}
		f := liveFinding(world.KindJWTAuthConfig, k.Config.Ref.Name, k.Config.Ref.Origin, msg, evidence...)
		if k.Source == "jwt_validation_pubkeys" {
			f.Range = k.Config.JWTValidationPubkeys.Range
		}
		f.Severity = rules.Warning
		if left < th.Error {
			f.Severity = rules.Error
		}
		p.Report(f)
	}
}
