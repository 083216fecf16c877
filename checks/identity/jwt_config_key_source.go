package identity

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/rules/edits"
	"github.com/nvlint/nvlint/world"
)

// JWTConfigKeySource: exactly one source of signing keys.
var JWTConfigKeySource rules.Rule = jwtConfigKeySource{}

type jwtConfigKeySource struct{}

func (jwtConfigKeySource) Meta() *rules.Meta { return &jwtConfigKeySourceMeta }

var jwtConfigKeySourceMeta = rules.Meta{
	ID: "NV221", Name: "jwt-config-key-source", Severity: rules.Error,
	Title: "the JWT auth config does not set exactly one source of signing keys",
	Needs: []world.Kind{world.KindJWTAuthConfig},
	Doc: rules.Doc{
		Why: "Vault verifies each JWT against keys from exactly one source and refuses a config with none or several: " +
			"`exactly one of 'jwt_validation_pubkeys', 'jwks_url', 'jwks_pairs' or 'oidc_discovery_url' must be set`. " +
			"The auth method then has no configuration and every Nomad login fails with `could not load configuration`.",
		Example: "{\n  \"jwks_url\": \"http://nomad.service.consul:4646/.well-known/jwks.json\",\n  \"oidc_discovery_url\": \"https://nomad.example.com\"\n}",
		Fix: "Keep one: for Nomad, jwks_url pointing at the servers' /.well-known/jwks.json (what `nomad setup vault` writes), " +
			"or oidc_discovery_url when the servers set oidc_issuer.",
	},
}

// keySource is one of the four ways to give Vault signing keys.
type keySource struct {
	key   string
	set   bool
	rng   hcl.Range
	value string // for the message, when short
}

func keySources(c *world.JWTAuthConfig) []keySource {
	str := func(key string, v world.Str) keySource {
		return keySource{key: key, set: v.Set && (!v.Known || v.V != ""), rng: v.Range, value: v.V}
	}
	pairs := c.JWKSPairs
	pairsSet := pairs.Set && (!pairs.Known || pairs.V != "")
	if c.File != nil && pairs.Set && strings.ReplaceAll(string(pairs.Range.SliceBytes(c.File.Src)), " ", "") == "[]" {
		pairsSet = false
	}
	keys := c.JWTValidationPubkeys
	// In the order nvlint keeps one: what Nomad's own setup writes first.
	return []keySource{
		str("jwks_url", c.JWKSURL),
		str("oidc_discovery_url", c.OIDCDiscoveryURL),
		{key: "jwt_validation_pubkeys", set: keys.Set && (!keys.Known || len(keys.Items) > 0), rng: keys.Range},
		{key: "jwks_pairs", set: pairsSet, rng: pairs.Range},
	}
}

const setErr = "exactly one of 'jwt_validation_pubkeys', 'jwks_url', 'jwks_pairs' or 'oidc_discovery_url' must be set"

// nomadJWKS is the JWKS URL `nomad setup vault` writes by default.
const nomadJWKS = "http://localhost:4646/.well-known/jwks.json"

func (jwtConfigKeySource) Check(p *rules.Pass) {
	for _, c := range p.World.JWTConfigs {
		var set []keySource
		for _, s := range keySources(c) {
			if s.set {
				set = append(set, s)
			}
		}
		if len(set) == 0 {
			f := rules.Finding{
				Message:  fmt.Sprintf("JWT auth config %s sets none of jwks_url, oidc_discovery_url, jwt_validation_pubkeys and jwks_pairs; Vault refuses it: %s: set jwks_url to the Nomad servers' /.well-known/jwks.json", c.Ref.Name, setErr),
				Range:    c.Range,
				Object:   c.Ref,
				Evidence: []string{"no source of signing keys is set"},
				Fixes: []rules.Fix{configFix(c, fmt.Sprintf("Set jwks_url to %s (nomad setup vault's default; use your servers' address)", nomadJWKS),
					[]string{"jwks_url=" + nomadJWKS}, setKey(&c.Meta, c.JWKSURL, "jwks_url", `"`+nomadJWKS+`"`))},
			}
			if c.JWKSURL.Set {
				f.Range = c.JWKSURL.Range
			}
			p.Report(f)
			continue
		}
		keep := set[0]
		for _, extra := range set[1:] {
			f := rules.Finding{
				Message:  fmt.Sprintf("JWT auth config %s sets both %s and %s; Vault refuses it: %s: keep %s and remove %s", c.Ref.Name, keep.key, extra.key, setErr, keep.key, extra.key),
				Range:    extra.rng,
				Object:   c.Ref,
				Evidence: []string{keep.key + " is set", extra.key + " is set"},
				Related:  []rules.Related{{Message: keep.key, Range: keep.rng}},
			}
			fix := rules.Fix{Description: "Remove " + extra.key, Commands: []rules.Command{configWrite(c)}}
			if c.File != nil {
				if e, ok := edits.RemoveJSONMember(c.File, extra.rng); ok {
					fix.Edits = []rules.TextEdit{e}
				}
			}
			f.Fixes = []rules.Fix{fix}
			p.Report(f)
		}
	}
}
