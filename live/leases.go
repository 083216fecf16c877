package live

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nvlint/nvlint/forecast"
	"github.com/nvlint/nvlint/world"
)

// vaultLeaseRoles reads the database and PKI roles the templates of
// running tasks read (forecast.LeaseUses, from the jobs, running tasks
// and mount table phase 2 read), and their mounts' tuning, for the
// forecasts of when what the tasks hold ends. A role that cannot be read
// is a problem (its forecast is not made); tuning that cannot be read is
// kept for the forecast, which then says what it assumed. uses are
// every cluster's; those of s's are read.
func (c *collector) vaultLeaseRoles(s *vaultScope, uses []forecast.LeaseUse) {
	type roleKey struct{ mount, engine, name string }
	roles := map[roleKey]bool{}
	mounts := map[string]bool{}
	for _, u := range uses {
		if u.Vault != s.vc.live {
			continue // another cluster's
		}
		roles[roleKey{u.Mount, u.Engine, u.Role}] = true
		mounts[u.Mount] = true
	}
	for k := range roles {
		path := k.mount + "/roles/" + k.name
		c.spawn("vault", path, func() { c.vaultLeaseRole(s, k.mount, k.engine, k.name, path) })
	}
	for m := range mounts {
		path := "sys/mounts/" + m + "/tune"
		c.spawn("vault", path, func() { c.vaultMountTune(s, m, path) })
	}
}

// vaultLeaseRole reads a database role (default_ttl, max_ttl) or a PKI
// role (ttl, max_ttl, generate_lease).
func (c *collector) vaultLeaseRole(s *vaultScope, mount, engine, name, path string) {
	// No such role: the template fails to render, which the task's
	// events show; there is nothing to forecast.
	data, ok := c.vaultReadSome(s, path)
	if !ok {
		return
	}
	var d struct {
		DefaultTTL    ttlValue `json:"default_ttl"`
		TTL           ttlValue `json:"ttl"`
		MaxTTL        ttlValue `json:"max_ttl"`
		GenerateLease bool     `json:"generate_lease"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		c.problem("vault", s.at(path), "unexpected answer: "+err.Error())
		return
	}
	r := world.LeaseRole{Mount: mount, Type: engine, Name: name, MaxTTL: int64(d.MaxTTL)}
	if engine == forecast.EnginePKI {
		r.TTL, r.GenerateLease = int64(d.TTL), d.GenerateLease
	} else {
		r.TTL = int64(d.DefaultTTL)
	}
	c.update(func(*world.Live) { s.vc.live.LeaseRoles = append(s.vc.live.LeaseRoles, r) })
}

// vaultMountTune reads a secrets engine's lease TTLs, which its tune
// endpoint gives as the system's when the mount sets none. A failure is
// kept for the forecast, which then falls back on the mount table and
// Vault's defaults and says so; it leaves nothing unchecked.
func (c *collector) vaultMountTune(s *vaultScope, mount, path string) {
	m := world.LeaseMount{Path: mount}
	data, found, err := c.vaultRead(s, path, false)
	if err == nil && (!found || data == nil) {
		err = errors.New("empty answer")
	}
	if err == nil {
		var t struct {
			DefaultLeaseTTL ttlValue `json:"default_lease_ttl"`
			MaxLeaseTTL     ttlValue `json:"max_lease_ttl"`
		}
		if err = json.Unmarshal(data, &t); err == nil && t.MaxLeaseTTL <= 0 {
			err = errors.New("no max_lease_ttl in the answer")
		}
		m.DefaultLeaseTTL, m.MaxLeaseTTL = int64(t.DefaultLeaseTTL), int64(t.MaxLeaseTTL)
	}
	if errors.Is(err, errSkipped) {
		return
	}
	if err != nil {
		m = world.LeaseMount{Path: mount, TuneError: fmt.Sprintf("%s: %s", path, reason(err, c.o.VaultRequestTimeout))}
	}
	c.update(func(*world.Live) { s.vc.live.LeaseMounts = append(s.vc.live.LeaseMounts, m) })
}

// ttlValue is a TTL in seconds as Vault answers it: a number of seconds,
// or (older releases, some engines) a duration string such as "72h".
// Anything else reads as 0, not as an error: one odd field must not
// lose the rest of the answer.
type ttlValue int64

func (t *ttlValue) UnmarshalJSON(b []byte) error {
	*t = 0
	s := strings.TrimSpace(string(b))
	if s == "null" {
		return nil
	}
	if unq, err := strconv.Unquote(s); err == nil {
		s = unq
	}
	if n, err := strconv.ParseFloat(s, 64); err == nil && n > 0 {
		*t = ttlValue(n)
		return nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		*t = ttlValue(d / time.Second)
	}
	return nil
}

// sortLeases puts the lease roles and mounts in a stable order and
// redacts the tuning errors.
func (c *collector) sortLeases(v *world.VaultLive) {
	slices.SortFunc(v.LeaseRoles, func(a, b world.LeaseRole) int {
		if a.Mount != b.Mount {
			return strings.Compare(a.Mount, b.Mount)
		}
		return strings.Compare(a.Name, b.Name)
	})
	slices.SortFunc(v.LeaseMounts, func(a, b world.LeaseMount) int { return strings.Compare(a.Path, b.Path) })
	for i := range v.LeaseMounts {
		v.LeaseMounts[i].TuneError = c.secrets.String(v.LeaseMounts[i].TuneError)
	}
}
