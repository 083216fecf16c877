package forecast

import (
	"strings"
	"testing"
	"time"

	"github.com/nvlint/nvlint/world"
)

func TestServerToken(t *testing.T) {
	created := time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC)
	expire := created.Add(2 * time.Hour)
	for _, c := range []struct {
		name     string
		tok      world.TokenInfo
		mountMax int64
		tuneErr  string
		want     time.Time // zero: no forecast
		assumed  string    // fragment of Assumed; "" for none
	}{
		// A renewable 2h token: Nomad renews it up to the mount's max.
		{name: "mount max", tok: world.TokenInfo{Renewable: true, TTL: 7200, ExpireTime: expire, CreationTime: created}, mountMax: 90 * 3600, want: created.Add(90 * time.Hour)},
		{name: "explicit below mount", tok: world.TokenInfo{Renewable: true, TTL: 7200, ExplicitMaxTTL: 3600 * 10, CreationTime: created}, mountMax: 90 * 3600, want: created.Add(10 * time.Hour)},
		// explicit_max_ttl above the mount's max: the mount's wins, as
		// Vault caps every renewal at the lower one.
		{name: "explicit above mount", tok: world.TokenInfo{Renewable: true, TTL: 7200, ExplicitMaxTTL: 3600 * 100, CreationTime: created}, mountMax: 90 * 3600, want: created.Add(90 * time.Hour)},
		{name: "tuning unread", tok: world.TokenInfo{Renewable: true, TTL: 7200, CreationTime: created}, tuneErr: "sys/auth/token/tune: permission denied",
			want: created.Add(768 * time.Hour), assumed: "default max TTL of 768h for the token auth method, whose tuning could not be read (sys/auth/token/tune: permission denied)"},
		{name: "periodic", tok: world.TokenInfo{Renewable: true, Period: 259200, CreationTime: created}, mountMax: 90 * 3600},
		{name: "periodic with explicit max", tok: world.TokenInfo{Renewable: true, Period: 259200, ExplicitMaxTTL: 3600 * 200, CreationTime: created}, mountMax: 90 * 3600, want: created.Add(200 * time.Hour)},
		{name: "not renewable", tok: world.TokenInfo{TTL: 7200, ExpireTime: expire, CreationTime: created}, mountMax: 90 * 3600, want: expire},
		{name: "no creation time", tok: world.TokenInfo{Renewable: true, TTL: 7200, ExpireTime: expire}, mountMax: 90 * 3600},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := &world.VaultLive{ServerToken: &c.tok, TokenMountMaxTTL: c.mountMax, TokenMountTuneError: c.tuneErr}
			e, ok := ServerToken(v)
			if ok != !c.want.IsZero() || !e.At.Equal(c.want) {
				t.Fatalf("ServerToken = %+v, %t; want %v", e, ok, c.want)
			}
			if (c.assumed == "") != (e.Assumed == "") || !strings.Contains(e.Assumed, c.assumed) {
				t.Errorf("Assumed = %q, want %q in it", e.Assumed, c.assumed)
			}
		})
	}
}

func TestTTL(t *testing.T) {
	for d, want := range map[time.Duration]string{
		768 * time.Hour: "768h", 30 * time.Minute: "30m", 40 * time.Second: "40s", 90 * time.Minute: "1h30m", 61 * time.Second: "1m1s",
	} {
		if got := TTL(d); got != want {
			t.Errorf("TTL(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestWhen(t *testing.T) {
	now := time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)
	for d, want := range map[time.Duration]string{
		5*time.Hour + 12*time.Minute + 30*time.Second: "in 5h12m (2026-11-23T08:12:30Z)",
		45 * time.Second:               "in 45s (2026-11-23T03:00:45Z)",
		12*time.Minute + 5*time.Second: "in 12m5s (2026-11-23T03:12:05Z)",
		5 * time.Hour:                  "in 5h (2026-11-23T08:00:00Z)",
		76 * time.Hour:                 "in 3d4h (2026-11-26T07:00:00Z)",
		-5 * time.Minute:               "5m ago (2026-11-23T02:55:00Z)",
	} {
		if got := When(now, now.Add(d)); got != want {
			t.Errorf("When(+%v) = %q, want %q", d, got, want)
		}
	}
}
