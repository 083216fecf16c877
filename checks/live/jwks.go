package live

import (
	"crypto"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// JWKSUnreachable: Vault fetches its keys (jwks_url, or the jwks_uri of
// oidc_discovery_url) to verify logins.
var JWKSUnreachable rules.Rule = jwksUnreachable{}

type jwksUnreachable struct{}

func (jwksUnreachable) Meta() *rules.Meta { return &jwksUnreachableMeta }

var jwksUnreachableMeta = rules.Meta{
	ID: "NV621", Name: "jwks-unreachable", Severity: rules.Warning,
	Live:  true,
	Title: "the JWT auth method's jwks_url or oidc_discovery_url cannot be fetched",
	Needs: []world.Kind{world.KindJWTAuthConfig},
	Doc: rules.Doc{
		Why: "Vault checks jwks_url (or oidc_discovery_url) only when the config is written and fetches the keys again to verify logins. If Nomad's JWKS endpoint is unreachable " +
			"(a server replaced, a load balancer gone), every login fails. With oidc_discovery_url, the openid-configuration document must also name exactly that URL " +
			"as its issuer (Nomad's oidc_issuer), or Vault refuses it: `oidc: issuer did not match the issuer returned by provider`. doctor fetches from where it runs, " +
			"which is not always Vault's network: a failure here is a strong hint, not proof.",
		Example: "\"jwks_url\": \"http://10.0.0.5:4646/.well-known/jwks.json\"   # that server was replaced",
		Fix:     "Point jwks_url at an address that reaches every Nomad server (a load balancer or DNS name) and rewrite the config: `vault write auth/jwt-nomad/config @config.json`.",
	},
}

func (jwksUnreachable) Check(p *rules.Pass) {
	l := p.World.Live
	if l == nil {
		return
	}
	for _, c := range p.World.JWTConfigs {
		v := l.VaultFor(&c.Meta)
		if v == nil {
			continue
		}
		got := v.JWKSOf(c)
		if got == nil || got.Error == "" {
			continue
		}
		f := liveFinding(world.KindJWTAuthConfig, c.Ref.Name, c.Ref.Origin,
			fmt.Sprintf("%s of auth method %s%s cannot be fetched from here: %s; if Vault cannot fetch it either, every Nomad login fails", got.Source(), c.Mount, v.Label(), got.Error))
		f.Range = c.JWKSURL.Range
		if got.Discovery != "" {
			f.Range = c.OIDCDiscoveryURL.Range
		}
		if strings.HasPrefix(got.Error, issuerMismatch) {
			// Not a network matter: Vault reads the same document.
			f.Severity = rules.Error
			f.Message = fmt.Sprintf("oidc_discovery_url %s of auth method %s%s serves an OpenID configuration whose issuer is not that URL, so Vault refuses it and every Nomad login fails: %s",
				got.Discovery, c.Mount, v.Label(), got.Error)
			f.Fixes = []rules.Fix{{
				Description: "Set oidc_discovery_url to exactly the issuer Nomad announces (its server oidc_issuer), or set oidc_issuer to this URL",
				Commands:    []rules.Command{rules.Template("vault write %s oidc_discovery_url=<Nomad's oidc_issuer> <the other config parameters>", "auth/"+c.Mount+"/config")},
			}}
		}
		p.Report(f)
	}
}

// issuerMismatch starts the error Vault's OIDC library gives when the
// discovery document names another issuer.
const issuerMismatch = "oidc: issuer did not match"

// JWKSStaleKeys: Vault's jwks_url must serve the keys Nomad signs with.
var JWKSStaleKeys rules.Rule = jwksStaleKeys{}

type jwksStaleKeys struct{}

func (jwksStaleKeys) Meta() *rules.Meta { return &jwksStaleKeysMeta }

var jwksStaleKeysMeta = rules.Meta{
	ID: "NV622", Name: "jwks-missing-nomad-key", Severity: rules.Error,
	Live:  true,
	Title: "the JWKS Vault trusts does not serve Nomad's current signing keys",
	Needs: []world.Kind{world.KindJWTAuthConfig},
	Doc: rules.Doc{
		Why: "After a Nomad keyring rotation, or when jwks_url points at another cluster, identities are signed with a key the JWKS behind jwks_url does not serve: " +
			"logins fail with `no known key successfully validated the token signature` or `failed to verify id token signature`. " +
			"Each region of a federation keeps its own keyring, so each region's clients must log in at a mount (their jwt_auth_backend_path) that trusts that region's keys: " +
			"a mount shared by two regions but trusting one region's JWKS fails every task of the other with `error verifying token signature: failed to verify id token signature`. " +
			"doctor reads every region's keys through one address (/.well-known/jwks.json?region=R, which any server forwards) and compares each with the mounts that region's clients use: the keys a jwks_url or oidc_discovery_url serves by key ID, jwt_validation_pubkeys by the key itself.",
		Example: "Nomad JWKS kids: [a1b2...]; jwks_url kids: [9f8e...]",
		Fix: "Point jwks_url at this Nomad cluster's /.well-known/jwks.json (through every server), or wait for the rotated key to propagate; `nomad operator root keyring list` shows the active key. " +
			"In a federation, give each region its own mount whose jwks_url serves that region's keys, and set the region's clients' jwt_auth_backend_path to it.",
	},
}

func (jwksStaleKeys) Check(p *rules.Pass) {
	l := p.World.Live
	if l == nil || l.Nomad == nil {
		return
	}
	keys := regionKeys(l.Nomad)
	users := mountRegions(p.World, keys)
	for _, c := range p.World.JWTConfigs {
		v := l.VaultFor(&c.Meta)
		if v == nil {
			continue
		}
		t := trustOf(c, v.JWKSOf(c))
		if t == nil {
			continue
		}
		regions := users[mountKey{v.Name(), c.Mount}]
		if len(regions) == 0 {
			if len(keys) != 1 || len(users) > 0 {
				// No region is known to log in here (another cluster's
				// mount, or a region not read): whose keys it must
				// serve is not known. With no agent config at all, the
				// one region read is taken to.
				continue
			}
			for r := range keys {
				regions = []string{r}
			}
		}
		for _, r := range regions {
			signing := keys[r]
			if signing == nil || len(signing.Keys) == 0 {
				continue
			}
			var missing []string
			for _, k := range signing.Keys {
				if r == l.Nomad.Region && prepublished(l.Nomad, k.Kid) {
					continue // signs nothing yet: NV625 forecasts when it will
				}
				if !t.trusts(k) {
					missing = append(missing, k.Kid)
				}
			}
			if len(missing) == 0 {
				continue
			}
			msg := fmt.Sprintf("%s of auth method %s%s %s Nomad's signing key(s) %s: logins signed with them fail signature checks", t.source, c.Mount, v.Label(), t.lacks, strings.Join(missing, ", "))
			if len(keys) > 1 {
				msg = fmt.Sprintf("region %s's clients log tasks in at auth method %s%s, whose %s %s region %s's signing key(s) %s: every task of region %s that uses Vault fails with `error verifying token signature: failed to verify id token signature`",
					r, c.Mount, v.Label(), t.source, t.lacks, r, strings.Join(missing, ", "), r)
			}
			f := liveFinding(world.KindJWTAuthConfig, c.Ref.Name, c.Ref.Origin, msg,
				signing.URL+" kids: "+strings.Join(kids(signing.Keys), ", "), t.evidence)
			if t.pubkeys {
				f.Range = c.JWTValidationPubkeys.Range
			}
			p.Report(f)
		}
	}
}

// trust is what a JWT auth method verifies signatures with.
type trust struct {
	// lacks says the keys are missing: "does not serve" for fetched keys.
	source, evidence, lacks string
	pubkeys                 bool
	trusts                  func(world.JWK) bool
}

// trustOf is the trust of a config: the keys its jwks_url or
// oidc_discovery_url served (by kid), or its jwt_validation_pubkeys (by
// the key itself); nil when neither is known.
func trustOf(c *world.JWTAuthConfig, got *world.JWKSFetch) *trust {
	switch {
	case got != nil && got.Error == "":
		return &trust{
			source: got.Source(), evidence: got.Source() + " kids: " + strings.Join(kids(got.Keys), ", "), lacks: "does not serve",
			trusts: func(k world.JWK) bool {
				return slices.ContainsFunc(got.Keys, func(g world.JWK) bool { return g.Kid == k.Kid })
			},
		}
	case got == nil && c.JWTValidationPubkeys.Known && len(c.JWTValidationPubkeys.Items) > 0:
		var pems []crypto.PublicKey
		for _, it := range c.JWTValidationPubkeys.Items {
			if !it.Known {
				return nil // a key nvlint cannot read may be the one
			}
			k, err := world.ParsePEMKey(it.V)
			if err != nil {
				return nil // Vault refuses such a config; another rule's business
			}
			pems = append(pems, k)
		}
		return &trust{
			source: "jwt_validation_pubkeys", evidence: fmt.Sprintf("jwt_validation_pubkeys: %d key(s)", len(pems)), lacks: "do not hold", pubkeys: true,
			trusts: func(k world.JWK) bool {
				pub := k.PublicKey()
				return pub != nil && slices.ContainsFunc(pems, func(p crypto.PublicKey) bool {
					e, ok := p.(interface{ Equal(crypto.PublicKey) bool })
					return ok && e.Equal(pub)
				})
			},
		}
	}
	return nil
}

// prepublished reports whether the keyring read (of the agent's region)
// shows key kid as prepublished: served in the JWKS ahead of the
// rotation that makes it the signing key.
func prepublished(n *world.NomadLive, kid string) bool {
	return slices.ContainsFunc(n.Keyring, func(k world.NomadRootKey) bool { return k.KeyID == kid && k.State == "prepublished" })
}

// regionKeys are the keys each region read signs with. A snapshot from
// before regions were read has the one region's keys alone.
func regionKeys(n *world.NomadLive) map[string]*world.JWKSFetch {
	if len(n.RegionJWKS) > 0 {
		return n.RegionJWKS
	}
	if n.JWKS == nil {
		return nil
	}
	return map[string]*world.JWKSFetch{n.Region: n.JWKS}
}

// mountKey is an auth mount of a Vault cluster.
type mountKey struct{ cluster, mount string }

// mountRegions maps each auth mount of each Vault cluster to the regions
// whose clients log tasks in there (their vault blocks' cluster and
// jwt_auth_backend_path). With one region read, every agent is taken to
// be of it.
func mountRegions(w *world.World, keys map[string]*world.JWKSFetch) map[mountKey][]string {
	out := map[mountKey][]string{}
	for _, a := range w.Agents {
		if a.Client.IsKnown() && !a.Client.V {
			continue // a server logs no task in
		}
		region := a.RegionName()
		if len(keys) == 1 {
			for r := range keys {
				region = r
			}
		}
		for _, v := range a.Vaults {
			if v.Enabled.IsKnown() && !v.Enabled.V {
				continue
			}
			m := mountKey{v.ClusterName(), strings.Trim(v.AuthPath(), "/")}
			if !slices.Contains(out[m], region) {
				out[m] = append(out[m], region)
			}
		}
	}
	for _, rs := range out {
		slices.Sort(rs)
	}
	return out
}

// JWKSAlgorithm: Vault must accept the algorithm Nomad signs with.
var JWKSAlgorithm rules.Rule = jwksAlgorithm{}

type jwksAlgorithm struct{}

func (jwksAlgorithm) Meta() *rules.Meta { return &jwksAlgorithmMeta }

var jwksAlgorithmMeta = rules.Meta{
	ID: "NV623", Name: "jwks-algorithm-not-supported", Severity: rules.Error,
	Live:  true,
	Title: "the JWT auth method does not accept the algorithm Nomad signs with",
	Needs: []world.Kind{world.KindJWTAuthConfig},
	Doc: rules.Doc{
		Why:     "Nomad signs identities with RS256 (keyrings created by 1.7+) or EdDSA (older keyrings). A jwt_supported_algs list without that algorithm makes every login fail with `token signed with unexpected algorithm`.",
		Example: "\"jwt_supported_algs\": [\"RS256\"]   # Nomad's key is EdDSA",
		Fix:     "Set jwt_supported_algs to [\"RS256\", \"EdDSA\"] as `nomad setup vault` does.",
	},
}

func (jwksAlgorithm) Check(p *rules.Pass) {
	l := p.World.Live
	if l == nil || l.Nomad == nil || l.Nomad.JWKS == nil {
		return
	}
	algs := map[string]bool{}
	for _, k := range l.Nomad.JWKS.Keys {
		if k.Alg != "" {
			algs[k.Alg] = true
		}
	}
	for _, c := range p.World.JWTConfigs {
		if !c.JWTSupportedAlgs.Known || len(c.JWTSupportedAlgs.Items) == 0 {
			continue // empty means every algorithm
		}
		var missing []string
		for a := range algs {
			if !c.JWTSupportedAlgs.Contains(a) {
				missing = append(missing, a)
			}
		}
		sort.Strings(missing)
		if len(missing) == 0 {
			continue
		}
		f := liveFinding(world.KindJWTAuthConfig, c.Ref.Name, c.Ref.Origin,
			fmt.Sprintf("auth method %s accepts %s but Nomad signs with %s: logins fail with token signed with unexpected algorithm", c.Mount, strings.Join(c.JWTSupportedAlgs.Strings(), ", "), strings.Join(missing, ", ")))
		f.Range = c.JWTSupportedAlgs.Range
		f.Fixes = []rules.Fix{{Description: "Accept RS256 and EdDSA", Commands: []rules.Command{rules.Template("vault write %s jwt_supported_algs=RS256,EdDSA <the other config parameters>", "auth/"+c.Mount+"/config")}}}
		p.Report(f)
	}
}

func kids(ks []world.JWK) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k.Kid
	}
	return out
}
