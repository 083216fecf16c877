package live

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"slices"
	"strings"
	"testing"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"
	vaultapi "github.com/hashicorp/vault/api"

	"github.com/nvlint/nvlint/forecast"
	"github.com/nvlint/nvlint/internal/realserver"
	"github.com/nvlint/nvlint/world"
)

// TestKeyringRead reads a real Nomad's keyring with a management token,
// and checks that a token without one leaves the keyring unread but
// nothing unchecked.
func TestKeyringRead(t *testing.T) {
	n := realserver.StartNomad(t, realserver.NomadOptions{ACL: true})
	collect := func(token string) *world.World {
		w, _ := Collect(context.Background(), Options{
			Nomad: &nomadapi.Config{Address: n.Addr, SecretID: token}, RequestTimeout: 5 * time.Second,
		})
		return w
	}

	// The leader makes the first key shortly after it is elected.
	var w *world.World
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		w = collect(n.Token)
		if len(w.Live.Nomad.Keyring) > 0 || time.Now().After(deadline) {
			break
		}
	}
	nl := w.Live.Nomad
	if nl.KeyringError != "" || nl.JWKS == nil {
		t.Fatalf("keyring error %q, JWKS %+v", nl.KeyringError, nl.JWKS)
	}
	i := slices.IndexFunc(nl.Keyring, func(k world.NomadRootKey) bool { return k.State == "active" })
	if i < 0 {
		t.Fatalf("no active key in %+v", nl.Keyring)
	}
	active := nl.Keyring[i]
	if active.CreateTime.IsZero() || time.Since(active.CreateTime) > time.Hour {
		t.Errorf("active key created %s", active.CreateTime)
	}
	if !slices.ContainsFunc(nl.JWKS.Keys, func(k world.JWK) bool { return k.Kid == active.KeyID }) {
		t.Errorf("active key %s not in the JWKS %+v", active.KeyID, nl.JWKS.Keys)
	}

	w = collect("")
	if len(w.Live.Nomad.Keyring) != 0 || !strings.Contains(w.Live.Nomad.KeyringError, "403") {
		t.Errorf("anonymous keyring read: %+v, error %q", w.Live.Nomad.Keyring, w.Live.Nomad.KeyringError)
	}
	for _, p := range w.Live.Problems {
		if strings.Contains(p.What, keyringPath) {
			t.Errorf("a denied keyring read is a problem: %+v", p)
		}
	}
}

// TestSigningKeyForecastRealServers gives a real Vault JWT auth method
// the real Nomad's active key as its only jwt_validation_pubkeys, and
// checks the forecast of the key change: first from the servers'
// root_key_rotation_threshold, then from the publish time of a key
// Nomad prepublishes.
func TestSigningKeyForecastRealServers(t *testing.T) {
	v := realserver.StartVault(t)
	n := realserver.StartNomad(t, realserver.NomadOptions{ACL: true, Extra: `server {
  root_key_rotation_threshold = "96h"
}`})
	vc, nc := v.Client(t), n.Client(t)
	collect := func() *world.World {
		w, _ := Collect(context.Background(), Options{
			Vault: vaultConfig(v.Addr), VaultToken: v.RootToken,
			Nomad: &nomadapi.Config{Address: n.Addr, SecretID: n.Token}, RequestTimeout: 5 * time.Second,
		})
		return w
	}
	var w *world.World
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		w = collect()
		if len(w.Live.Nomad.Keyring) > 0 || time.Now().After(deadline) {
			break
		}
	}
	i := slices.IndexFunc(w.Live.Nomad.Keyring, func(k world.NomadRootKey) bool { return k.State == "active" })
	if i < 0 || w.Live.Nomad.JWKS == nil {
		t.Fatalf("no active key: %+v", w.Live.Nomad.Keyring)
	}
	active := w.Live.Nomad.Keyring[i]
	j := slices.IndexFunc(w.Live.Nomad.JWKS.Keys, func(k world.JWK) bool { return k.Kid == active.KeyID })
	if j < 0 {
		t.Fatalf("active key %s not in the JWKS", active.KeyID)
	}
	der, err := x509.MarshalPKIXPublicKey(w.Live.Nomad.JWKS.Keys[j].PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	if err := vc.Sys().EnableAuthWithOptions("jwt-nomad", &vaultapi.EnableAuthOptions{Type: "jwt"}); err != nil {
		t.Fatal(err)
	}
	write(t, vc, "auth/jwt-nomad/config", map[string]any{
		"jwt_validation_pubkeys": []string{string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))},
		"jwt_supported_algs":     []string{"RS256", "EdDSA"},
	})

	got := forecast.SigningKeys(collect())
	if len(got) != 1 || !got[0].At.Equal(active.CreateTime.Add(96*time.Hour)) || got[0].Assumed != "" || got[0].Name != "jwt-nomad" {
		t.Fatalf("forecast from the rotation threshold: %+v, want %s", got, active.CreateTime.Add(96*time.Hour))
	}

	publish := time.Now().Add(time.Hour).Truncate(time.Second)
	next, _, err := nc.Keyring().Rotate(&nomadapi.KeyringRotateOptions{PublishTime: publish.UnixNano()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got = forecast.SigningKeys(collect())
	if len(got) != 1 || !got[0].At.Equal(publish) || got[0].Next != next.KeyID {
		t.Fatalf("forecast from the prepublished key: %+v, want %s at %s", got, next.KeyID, publish)
	}
}
