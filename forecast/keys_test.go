package forecast

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/nvlint/nvlint/world"
)

func TestSigningKeys(t *testing.T) {
	now := time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)
	type key struct {
		jwk world.JWK
		pem string
	}
	gen := func(kid string) key {
		pub, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		return key{
			jwk: world.JWK{Kid: kid, Alg: "EdDSA", Kty: "OKP", Crv: "Ed25519", X: base64.RawURLEncoding.EncodeToString(pub)},
			pem: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
		}
	}
	k1, k2 := gen("k1"), gen("k2")
	active := world.NomadRootKey{KeyID: "k1", State: "active", CreateTime: now.Add(-20 * 24 * time.Hour)}
	prepub := world.NomadRootKey{KeyID: "k2", State: "prepublished", CreateTime: now.Add(-5 * 24 * time.Hour), PublishTime: now.Add(10 * time.Hour)}
	worldOf := func(keyring []world.NomadRootKey, fetched []world.JWK, pems ...string) *world.World {
		l := world.List{Set: true, Known: true}
		for _, p := range pems {
			l.Items = append(l.Items, world.Str{V: p, Set: true, Known: true})
		}
		v := &world.VaultLive{}
		if fetched != nil {
			v.JWKS = map[string]*world.JWKSFetch{"jwt-nomad": {URL: "https://static.example/jwks.json", Keys: fetched}}
		}
		return &world.World{
			JWTConfigs: []*world.JWTAuthConfig{{Mount: "jwt-nomad", JWTValidationPubkeys: l}},
			Live: &world.Live{CollectedAt: now, Vault: v, Nomad: &world.NomadLive{
				Keyring: keyring, JWKS: &world.JWKSFetch{Keys: []world.JWK{k1.jwk, k2.jwk}},
			}},
		}
	}
	withServer := func(w *world.World, rotation time.Duration) *world.World {
		a := &world.AgentConfig{Server: world.Bool{V: true, Set: true, Known: true}}
		if rotation > 0 {
			a.RootKeyRotation = world.Seconds{V: int64(rotation / time.Second), Set: true, Known: true}
		}
		w.Agents = append(w.Agents, a)
		return w
	}
	for _, c := range []struct {
		name    string
		w       *world.World
		at      time.Time
		next    string
		assumed bool
	}{
		{name: "prepublished key not held", w: worldOf([]world.NomadRootKey{active, prepub}, nil, k1.pem), at: prepub.PublishTime, next: "k2"},
		{name: "prepublished key held", w: worldOf([]world.NomadRootKey{active, prepub}, nil, k1.pem, k2.pem)},
		{name: "no prepublished key", w: worldOf([]world.NomadRootKey{active}, nil, k1.pem), at: active.CreateTime.Add(DefaultRootKeyRotation), assumed: true},
		{name: "active key not held: another cluster's method", w: worldOf([]world.NomadRootKey{active, prepub}, nil, k2.pem)},
		{name: "a URL serving the prepublished key", w: worldOf([]world.NomadRootKey{active, prepub}, []world.JWK{k1.jwk, k2.jwk})},
		{name: "a URL without the prepublished key", w: worldOf([]world.NomadRootKey{active, prepub}, []world.JWK{k1.jwk}), at: prepub.PublishTime, next: "k2"},
		{name: "a URL, no key prepublished yet: Vault refetches", w: worldOf([]world.NomadRootKey{active}, []world.JWK{k1.jwk})},
		{name: "keyring unread", w: worldOf(nil, nil, k1.pem)},
		{name: "a server's rotation threshold", w: withServer(worldOf([]world.NomadRootKey{active}, nil, k1.pem), 96*time.Hour), at: active.CreateTime.Add(96 * time.Hour)},
		{name: "a server config without a threshold", w: withServer(worldOf([]world.NomadRootKey{active}, nil, k1.pem), 0), at: active.CreateTime.Add(DefaultRootKeyRotation)},
	} {
		got := SigningKeys(c.w)
		if c.at.IsZero() {
			if len(got) != 0 {
				t.Errorf("%s: forecast %+v, want none", c.name, got)
			}
			continue
		}
		if len(got) != 1 || !got[0].At.Equal(c.at) || got[0].Next != c.next || got[0].Name != "jwt-nomad" || got[0].Kind != KindSigningKey || (got[0].Assumed != "") != c.assumed {
			t.Errorf("%s: forecast %+v, want at %s next %q", c.name, got, c.at, c.next)
			continue
		}
		if c.assumed && !strings.Contains(got[0].Assumed, "720h") {
			t.Errorf("%s: assumption %q does not name the default", c.name, got[0].Assumed)
		}
	}
}
