package live

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"
	vaultapi "github.com/hashicorp/vault/api"

	"github.com/nvlint/nvlint/internal/realserver"
)

// TestOIDCDiscovery: a JWT auth method configured with Nomad's
// oidc_discovery_url (Nomad's oidc_issuer set) has its keys fetched
// through the openid-configuration document. Vault itself validates the
// discovery URL when the config is written.
func TestOIDCDiscovery(t *testing.T) {
	v := realserver.StartVault(t)
	n := realserver.StartNomad(t, realserver.NomadOptions{
		VaultAddr:  v.Addr,
		VaultBlock: `default_identity { aud = ["vault.io"] }`,
		OIDCIssuer: true,
	})
	vc := v.Client(t)
	if err := vc.Sys().EnableAuthWithOptions("jwt-nomad", &vaultapi.EnableAuthOptions{Type: "jwt"}); err != nil {
		t.Fatal(err)
	}
	write(t, vc, "auth/jwt-nomad/config", map[string]any{"oidc_discovery_url": n.Addr, "jwt_supported_algs": []string{"RS256", "EdDSA"}})

	w, _ := Collect(context.Background(), Options{
		Vault: vaultConfig(v.Addr), VaultToken: v.RootToken,
		Nomad:          &nomadapi.Config{Address: n.Addr},
		RequestTimeout: 5 * time.Second,
	})
	for _, p := range w.Live.Problems {
		t.Errorf("problem: %+v", p)
	}
	got := w.Live.Vault.JWKS["jwt-nomad"]
	if got == nil || got.Error != "" || got.Discovery != n.Addr || got.URL != n.Addr+"/.well-known/jwks.json" {
		t.Fatalf("keys through discovery: %+v", got)
	}
	if nomad := w.Live.Nomad.JWKS; nomad == nil || !slices.Equal(got.Keys, nomad.Keys) {
		t.Errorf("discovery served %+v, Nomad %+v", got.Keys, nomad)
	}
	if s := got.Source(); s != "oidc_discovery_url "+n.Addr+" (jwks_uri "+n.Addr+"/.well-known/jwks.json)" {
		t.Errorf("source %q", s)
	}
}

// TestOIDCDiscoveryFaults covers what a real Nomad does not serve: an
// issuer that is not the URL (Nomad's oidc_issuer changed after Vault's
// config was written), a document without jwks_uri, garbage.
func TestOIDCDiscoveryFaults(t *testing.T) {
	cases := []struct {
		name, doc, want string
	}{
		{"issuer mismatch", `{"issuer": "https://nomad.example.com", "jwks_uri": "%s/.well-known/jwks.json"}`,
			`oidc: issuer did not match the issuer returned by provider, expected "%s" got "https://nomad.example.com"`},
		{"no jwks_uri", `{"issuer": "%s"}`, "the OpenID configuration has no jwks_uri"},
		{"not JSON", `<html>`, "not an OpenID configuration"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var srv *httptest.Server
			srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/.well-known/openid-configuration" {
					_, _ = w.Write([]byte(strings.ReplaceAll(tc.doc, "%s", srv.URL)))
					return
				}
				_, _ = w.Write([]byte(`{"keys": [{"kid": "k", "alg": "RS256", "kty": "RSA"}]}`))
			}))
			defer srv.Close()
			c := &collector{ctx: context.Background(), sem: make(chan struct{}, 1), o: Options{RequestTimeout: 2 * time.Second}, fetch: jwksClient(nil)}
			got := c.fetchDiscovery(srv.URL, "")
			if want := strings.ReplaceAll(tc.want, "%s", srv.URL); !strings.Contains(got.Error, want) || len(got.Keys) != 0 {
				t.Errorf("got %+v, want error %q", got, want)
			}
		})
	}
}
