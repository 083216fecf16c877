package forecast

import (
	"testing"
	"time"

	"github.com/nvlint/nvlint/world"
)

func TestRoleCap(t *testing.T) {
	secs := func(v int64) world.Seconds { return world.Seconds{V: v, Set: true, Known: true} }
	for _, c := range []struct {
		name    string
		role    world.JWTRole
		want    time.Duration
		from    string
		assumed bool
		capped  bool
	}{
		{name: "periodic", role: world.JWTRole{TokenPeriod: secs(1800)}},
		{name: "periodic with explicit max", role: world.JWTRole{TokenPeriod: secs(1800), TokenMaxTTL: secs(60), TokenExplicitMaxTTL: secs(7200)}, want: 2 * time.Hour, from: "token_explicit_max_ttl", capped: true},
		{name: "max ttl", role: world.JWTRole{TokenMaxTTL: secs(40)}, want: 40 * time.Second, from: "token_max_ttl", capped: true},
		{name: "explicit below max", role: world.JWTRole{TokenMaxTTL: secs(3600), TokenExplicitMaxTTL: secs(60)}, want: time.Minute, from: "token_explicit_max_ttl", capped: true},
		{name: "max below explicit", role: world.JWTRole{TokenMaxTTL: secs(60), TokenExplicitMaxTTL: secs(3600)}, want: time.Minute, from: "token_max_ttl", capped: true},
		{name: "neither", role: world.JWTRole{}, want: SystemMaxTTL, from: "the auth method's max TTL", assumed: true, capped: true},
	} {
		got, from, assumed, ok := RoleCap(&c.role)
		if ok != c.capped || got != c.want || from != c.from && c.capped || (assumed != "") != c.assumed {
			t.Errorf("%s: RoleCap = %v %q %q %t", c.name, got, from, assumed, ok)
		}
	}
}
