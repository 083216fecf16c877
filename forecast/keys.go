package forecast

import (
	"crypto"
	"fmt"
	"slices"
	"time"

	"github.com/nvlint/nvlint/world"
)

// KindSigningKey is the kind of a JWT auth method's forecast: the moment
// Nomad starts signing identities with a key the method does not hold.
const KindSigningKey = "signing_key"

// DefaultRootKeyRotation is Nomad's root_key_rotation_threshold when the
// server config sets none (30 days).
const DefaultRootKeyRotation = 720 * time.Hour

// SigningKey is a JWT auth method that will not verify the identities
// Nomad signs after its next key change.
type SigningKey struct {
	Expiry
	Config *world.JWTAuthConfig
	// Next is the key Nomad signs with from At: the prepublished key, or
	// "" for one Nomad has not made yet.
	Next string
	// Source is what the method verifies with: jwt_validation_pubkeys,
	// or the jwks_url (oidc_discovery_url) that does not serve Next.
	Source string
}

// SigningKeys forecast the next change of Nomad's signing key for the JWT
// auth methods that will not verify identities signed with the next key:
// those with fixed jwt_validation_pubkeys without it, and those whose
// jwks_url does not serve a key Nomad has already prepublished.
//
// Nomad's core scheduler (nomad/core_sched.go, rootKeyRotate) prepublishes
// a new key once the active one is half root_key_rotation_threshold old,
// with a publish time of the active key's create time plus the threshold,
// and makes it the active key, which signs every new identity, then. Its
// JWKS serves prepublished keys, and a jwks_url or oidc_discovery_url
// method refetches the JWKS whenever a token names a key it has not
// cached (go-oidc's RemoteKeySet, which Vault's JWT plugin uses through
// hashicorp/cap), so those methods follow a rotation, and no age of
// Vault's cached keys predicts a failure; only a URL that does not serve
// the prepublished key (a copy, another cluster's) does. Inactive keys are garbage-collected only once older than the
// rotation and GC thresholds together and no longer in use (rootKeyGC),
// so a key never leaves the JWKS while identities it signed are live.
//
// Fixed keys do not follow: from the change, every login with an
// identity signed by the new key fails. Only methods that hold the
// active key today are forecast: they are the ones this cluster's tasks
// log in at (one that does not is NV622's).
func SigningKeys(w *world.World) []SigningKey {
	if w.Live == nil || w.Live.Nomad == nil || len(w.Live.Vaults()) == 0 {
		return nil
	}
	n := w.Live.Nomad
	var active, next *world.NomadRootKey
	for i, k := range n.Keyring {
		switch k.State {
		case "active":
			active = &n.Keyring[i]
		case "prepublished":
			if next == nil || k.PublishTime.Before(next.PublishTime) {
				next = &n.Keyring[i]
			}
		}
	}
	if active == nil || n.JWKS == nil {
		return nil
	}
	activeJWK, ok := jwkOf(n.JWKS, active.KeyID)
	if !ok {
		return nil
	}
	e := Expiry{Kind: KindSigningKey}
	var nextJWK *world.JWK
	if next != nil && !next.PublishTime.IsZero() {
		e.At = next.PublishTime
		e.Basis = fmt.Sprintf("prepublished key %s becomes the active signing key at its publish time %s", next.KeyID, next.PublishTime.Format(time.RFC3339))
		if k, ok := jwkOf(n.JWKS, next.KeyID); ok {
			nextJWK = &k
		}
	} else {
		rotation, known := rootKeyRotation(w)
		e.At = active.CreateTime.Add(rotation)
		e.Basis = fmt.Sprintf("active key %s created %s + root_key_rotation_threshold %s: then a new key signs", active.KeyID, active.CreateTime.Format(time.RFC3339), TTL(rotation))
		if !known {
			e.Assumed = "assumed Nomad's default root_key_rotation_threshold of 720h: no server's config was read"
		}
	}
	var out []SigningKey
	for _, c := range w.JWTConfigs {
		source := "jwt_validation_pubkeys"
		v := w.Live.VaultFor(&c.Meta) // the keys its own cluster fetched
		if v == nil {
			continue
		}
		if got := v.JWKS[c.Mount]; got != nil {
			// Vault fetches the URL again for a key it has not seen: the
			// method breaks only if the URL does not serve the key Nomad
			// has already prepublished.
			if got.Error != "" || nextJWK == nil || !served(got, activeJWK.Kid) || served(got, nextJWK.Kid) {
				continue
			}
			source = got.Source()
		} else {
			pems, ok := pubkeys(c)
			if !ok || !holds(pems, activeJWK) {
				continue
			}
			if nextJWK != nil && holds(pems, *nextJWK) {
				continue
			}
		}
		f := SigningKey{Expiry: e, Config: c, Source: source}
		f.Name = c.Mount
		if next != nil {
			f.Next = next.KeyID
		}
		out = append(out, f)
	}
	return out
}

// rootKeyRotation is the servers' root_key_rotation_threshold, from the
// config of a server of the agent's region (agent/self, or a file given):
// Nomad's default where it sets none. known is false when no server's
// config was read.
func rootKeyRotation(w *world.World) (d time.Duration, known bool) {
	region := w.Live.Nomad.Region
	for _, a := range w.Agents {
		if !a.Server.V || region != "" && a.Region.IsKnown() && a.Region.V != region {
			continue
		}
		if a.RootKeyRotation.Set && !a.RootKeyRotation.IsKnown() {
			continue // an expression nvlint cannot read
		}
		if s := seconds(a.RootKeyRotation); s > 0 {
			return s, true
		}
		return DefaultRootKeyRotation, true
	}
	return DefaultRootKeyRotation, false
}

func served(f *world.JWKSFetch, kid string) bool {
	_, ok := jwkOf(f, kid)
	return ok
}

func jwkOf(f *world.JWKSFetch, kid string) (world.JWK, bool) {
	i := slices.IndexFunc(f.Keys, func(k world.JWK) bool { return k.Kid == kid })
	if i < 0 {
		return world.JWK{}, false
	}
	return f.Keys[i], true
}

// pubkeys are a method's jwt_validation_pubkeys; ok is false when it has
// none, or one nvlint cannot read (which may be any key).
func pubkeys(c *world.JWTAuthConfig) ([]crypto.PublicKey, bool) {
	if !c.JWTValidationPubkeys.Known || len(c.JWTValidationPubkeys.Items) == 0 {
		return nil, false
	}
	var out []crypto.PublicKey
	for _, it := range c.JWTValidationPubkeys.Items {
		if !it.Known {
			return nil, false
		}
		k, err := world.ParsePEMKey(it.V)
		if err != nil {
			return nil, false
		}
		out = append(out, k)
	}
	return out, true
}

func holds(pems []crypto.PublicKey, k world.JWK) bool {
	pub := k.PublicKey()
	return pub != nil && slices.ContainsFunc(pems, func(p crypto.PublicKey) bool {
		e, ok := p.(interface{ Equal(crypto.PublicKey) bool })
		return ok && e.Equal(pub)
	})
}
