package live

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"

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
