package live

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/nvlint/nvlint/world"
)

// maxJWKS bounds a JWKS document: a few keys are a few KiB.
const maxJWKS = 1 << 20

// jwksClient is the read-only client JWKS URLs are fetched with.
func jwksClient(tlsConfig *tls.Config) *http.Client {
	return guard(&http.Client{
		Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, TLSHandshakeTimeout: 10 * time.Second, TLSClientConfig: tlsConfig},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 {
				return errors.New("too many redirects")
			}
			return nil
		},
	}, false)
}

// parseJWKS decodes a JWKS document.
func parseJWKS(body []byte) ([]world.JWK, error) {
	var d struct {
		Keys *[]world.JWK `json:"keys"`
	}
	if err := json.Unmarshal(body, &d); err != nil {
		return nil, fmt.Errorf("not a JWKS document (not JSON: %s)", excerpt(body))
	}
	if d.Keys == nil {
		return nil, fmt.Errorf("not a JWKS document (no \"keys\")")
	}
	return *d.Keys, nil
}

// fetchJWKS GETs a jwks_url from here, as Vault would from its side:
// with the config's jwks_ca_pem as the only roots when it has one.
func (c *collector) fetchJWKS(raw, caPEM string) *world.JWKSFetch {
	out := &world.JWKSFetch{URL: raw}
	client, err := c.keyClient(caPEM, "jwks_ca_pem")
	if err == nil {
		out.Keys, err = c.fetchKeys(client, raw)
	}
	if err != nil {
		out.Error = reason(err, c.o.RequestTimeout)
	}
	return out
}

// fetchDiscovery follows an oidc_discovery_url as Vault's OIDC library
// does: the openid-configuration document, whose issuer must be the URL
// exactly, then its jwks_uri, both with oidc_discovery_ca_pem as roots.
func (c *collector) fetchDiscovery(discovery, caPEM string) *world.JWKSFetch {
	out := &world.JWKSFetch{Discovery: discovery}
	err := func() error {
		client, err := c.keyClient(caPEM, "oidc_discovery_ca_pem")
		if err != nil {
			return err
		}
		body, err := c.get(client, strings.TrimSuffix(discovery, "/")+"/.well-known/openid-configuration")
		if err != nil {
			return err
		}
		var doc struct {
			Issuer  string `json:"issuer"`
			JWKSURI string `json:"jwks_uri"`
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			return fmt.Errorf("not an OpenID configuration (not JSON: %s)", excerpt(body))
		}
		if doc.Issuer != discovery {
			return fmt.Errorf("oidc: issuer did not match the issuer returned by provider, expected %q got %q", discovery, doc.Issuer)
		}
		if doc.JWKSURI == "" {
			return errors.New("the OpenID configuration has no jwks_uri")
		}
		out.URL = doc.JWKSURI
		out.Keys, err = c.fetchKeys(client, doc.JWKSURI)
		return err
	}()
	if err != nil {
		out.Error = reason(err, c.o.RequestTimeout)
	}
	return out
}

// keyClient returns the client to fetch keys with: the shared one, or one
// trusting only caPEM (named by its config key, for the error) when given.
func (c *collector) keyClient(caPEM, caKey string) (*http.Client, error) {
	if caPEM == "" {
		return c.fetch, nil
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(caPEM)) {
		return nil, fmt.Errorf("%s holds no PEM certificate", caKey)
	}
	return jwksClient(&tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}), nil
}

func (c *collector) fetchKeys(client *http.Client, raw string) ([]world.JWK, error) {
	body, err := c.get(client, raw)
	if err != nil {
		return nil, err
	}
	return parseJWKS(body)
}

// get GETs an http(s) URL outside the clusters within the request
// timeout, and returns the body of a 200 answer.
func (c *collector) get(client *http.Client, raw string) ([]byte, error) {
	if u, err := url.Parse(raw); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("not an http(s) URL")
	}
	var body []byte
	err := c.request(nil, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Accept", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err = io.ReadAll(io.LimitReader(resp.Body, maxJWKS+1))
		if err != nil {
			return err
		}
		if len(body) > maxJWKS {
			return fmt.Errorf("answer larger than %d KiB", maxJWKS>>10)
		}
		if resp.StatusCode != http.StatusOK {
			return &statusError{code: resp.StatusCode, msg: excerpt(body)}
		}
		return nil
	})
	return body, err
}
