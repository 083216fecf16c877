package live

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/nvlint/nvlint/checks"
	"github.com/nvlint/nvlint/forecast"
	"github.com/nvlint/nvlint/internal/realserver"
	"github.com/nvlint/nvlint/rules"
)

// TestServerTokenForecastMatchesVault gives a real Vault a renewable
// server token that is not periodic, with the token auth method's max
// TTL squeezed to seconds, renews it as a Nomad server does, and checks
// that the forecast made from what doctor reads is when Vault really
// stops honouring it.
func TestServerTokenForecastMatchesVault(t *testing.T) {
	v := realserver.StartVault(t)
	vc := v.Client(t)
	const mountMax = 20 * time.Second
	write(t, vc, "sys/auth/token/tune", map[string]any{"max_lease_ttl": "20s"})
	created := write(t, vc, "auth/token/create-orphan", map[string]any{"policies": []string{"default"}, "ttl": "6s", "renewable": true})
	server := created.Auth.ClientToken
	sc, err := vaultapi.NewClient(vaultConfig(v.Addr))
	if err != nil {
		t.Fatal(err)
	}
	sc.SetToken(server)

	// Renew every second, as Nomad's renewal loop keeps the token alive;
	// dead is closed when Vault refuses the token.
	dead := make(chan time.Time, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			if _, err := sc.Auth().Token().RenewSelfWithContext(ctx, 6); err != nil {
				var re *vaultapi.ResponseError
				if errors.As(err, &re) && re.StatusCode == http.StatusForbidden {
					dead <- time.Now()
					return
				}
			}
			time.Sleep(time.Second)
		}
	}()

	w, _ := Collect(context.Background(), Options{
		Vault: vaultConfig(v.Addr), VaultToken: v.RootToken, ServerToken: server, RequestTimeout: 5 * time.Second,
	})
	for _, p := range w.Live.Problems {
		t.Errorf("problem: %+v", p)
	}
	if got := w.Live.Vault.TokenMountMaxTTL; got != int64(mountMax/time.Second) {
		t.Fatalf("token mount max TTL %ds, want %v", got, mountMax)
	}
	e, ok := forecast.ServerToken(w.Live.Vault)
	if !ok || e.Assumed != "" {
		t.Fatalf("no forecast, or one on an assumption: %+v", e)
	}
	res := rules.Run(w, checks.All())
	var nv613 string
	for _, f := range res.Findings {
		if f.Rule.ID == "NV613" {
			nv613 = f.Message
			if f.Severity != rules.Error {
				t.Errorf("NV613 severity %v, want error: it dies within a day", f.Severity)
			}
		}
	}
	t.Logf("forecast %s (%s); NV613: %s", e.At.Format(time.RFC3339), e.Basis, nv613)
	if nv613 == "" {
		t.Error("no NV613 finding")
	}

	// A doctor token that may not read the tuning: the forecast assumes
	// Vault's default and says so.
	weak := write(t, vc, "auth/token/create", map[string]any{"policies": []string{"default"}, "ttl": "1m"}).Auth.ClientToken
	w2, _ := Collect(context.Background(), Options{
		Vault: vaultConfig(v.Addr), VaultToken: weak, ServerToken: server, RequestTimeout: 5 * time.Second,
	})
	if e2, ok := forecast.ServerToken(w2.Live.Vault); !ok || !strings.Contains(e2.Assumed, "768h") ||
		!strings.Contains(w2.Live.Vault.TokenMountTuneError, "sys/auth/token/tune: 403 permission denied") {
		t.Errorf("forecast with the tuning unread: %+v, %t (tune error %q)", e2, ok, w2.Live.Vault.TokenMountTuneError)
	}

	select {
	case died := <-dead:
		// creation_time has whole seconds, and the renewer notices within
		// a second.
		if diff := died.Sub(e.At); diff < -2*time.Second || diff > 3*time.Second {
			t.Errorf("Vault refused the token at %s, %v from the forecast %s", died.Format(time.RFC3339), diff, e.At.Format(time.RFC3339))
		}
	case <-time.After(mountMax + 15*time.Second):
		t.Fatalf("the token outlived its forecast %s", e.At.Format(time.RFC3339))
	}
}
