package identity

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/rules/edits"
	"github.com/nvlint/nvlint/world"
)

// JWTConfigJWKSURLPath: jwks_url should be Nomad's JWKS endpoint.
var JWTConfigJWKSURLPath rules.Rule = jwtConfigJWKSURLPath{}

type jwtConfigJWKSURLPath struct{}

func (jwtConfigJWKSURLPath) Meta() *rules.Meta { return &jwtConfigJWKSURLPathMeta }

var jwtConfigJWKSURLPathMeta = rules.Meta{
	ID: "NV225", Name: "jwt-config-jwks-url-path", Severity: rules.Warning,
	Title: "the JWT auth config's jwks_url is not Nomad's JWKS endpoint",
	Needs: []world.Kind{world.KindJWTAuthConfig},
	Doc: rules.Doc{
		Why: "Nomad serves the public keys of its workload identities at /.well-known/jwks.json on every agent's HTTP address. " +
			"Vault fetches jwks_url when the config is written (`error checking jwks URL ...`) and again to verify logins; any other path is an API route or a page " +
			"that holds no key set, and every login fails. This is a warning because a proxy may serve Nomad's keys under another path.",
		Example: "{\n  \"jwks_url\": \"http://nomad.service.consul:4646/v1/jwks\"\n}",
		Fix:     "Point jwks_url at http(s)://<nomad address>:4646/.well-known/jwks.json.",
	},
}

const jwksPath = "/.well-known/jwks.json"

func (jwtConfigJWKSURLPath) Check(p *rules.Pass) {
	for _, c := range nomadConfigs(p.World) {
		v := c.JWKSURL
		if !v.IsKnown() || v.V == "" {
			continue
		}
		u, err := url.Parse(v.V)
		if err != nil || u.Host == "" || strings.HasSuffix(u.Path, jwksPath) {
			continue
		}
		fixed := (&url.URL{Scheme: u.Scheme, User: u.User, Host: u.Host, Path: jwksPath}).String()
		p.Report(rules.Finding{
			Message:  fmt.Sprintf("JWT auth config %s has jwks_url %q, which is not Nomad's JWKS endpoint (%s); Vault fetches the keys that verify every workload identity from it: use %q", c.Ref.Name, v.V, jwksPath, fixed),
			Range:    v.Range,
			Object:   c.Ref,
			Evidence: []string{"jwks_url path: " + strconv.Quote(u.Path), "Nomad serves its JWKS at " + jwksPath},
			Fixes:    []rules.Fix{configFix(c, "Set jwks_url to "+fixed, []string{"jwks_url=" + fixed}, edits.Replace(v.Range, edits.LiteralIn(v.Range.Filename, fixed)))},
		})
	}
}
