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
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		out.Error = "not an http(s) URL"
		return out
	}
	client := c.fetch
	if caPEM != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(caPEM)) {
			out.Error = "jwks_ca_pem holds no PEM certificate"
			return out
		}
		client = jwksClient(&tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool})
	}
	err = c.request(nil, func(ctx context.Context) error {
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
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKS+1))
		if err != nil {
			return err
		}
		if len(body) > maxJWKS {
			return fmt.Errorf("JWKS larger than %d KiB", maxJWKS>>10)
		}
		if resp.StatusCode != http.StatusOK {
			return &statusError{code: resp.StatusCode, msg: excerpt(body)}
		}
		out.Keys, err = parseJWKS(body)
		return err
	})
	if err != nil {
		out.Error = reason(err, c.o.RequestTimeout)
	}
	return out
}
