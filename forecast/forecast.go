// Package forecast works out, from what doctor read, when something of
// the Nomad–Vault integration will break if nobody acts: the time a
// token reaches its max TTL, however often it is renewed. The rules
// report these as findings and doctor --watch exports them as metrics;
// both compute them here, so the two never disagree.
//
// Times count from the world's collection time (World.Live.CollectedAt),
// never from the clock, so a replayed snapshot forecasts as it did live.
package forecast

import (
	"fmt"
	"strings"
	"time"

	"github.com/nvlint/nvlint/world"
)

// Defaults of the thresholds .nvlint.hcl may set (forecast { ... }).
const (
	DefaultErrorWithin   = 24 * time.Hour
	DefaultWarningWithin = 7 * 24 * time.Hour
)

// SystemMaxTTL is Vault's max_lease_ttl when neither the mount nor the
// server config sets one (768h, 32 days).
const SystemMaxTTL = 768 * time.Hour

// Kinds of expiry, as the nvlint_expiry_seconds metric labels them.
const (
	KindServerToken = "server_token"
)

// Expiry is one forecast: a thing that stops working at At.
type Expiry struct {
	Kind string
	// Name is bounded (a role, a key ID, "nomad-server"): it becomes a
	// metric label.
	Name string
	At   time.Time
	// Basis says how At was worked out, for the evidence.
	Basis string
	// Assumed names the default a forecast assumed for a value doctor
	// could not read; empty when it rests on what was read.
	Assumed string
}

// Thresholds are the windows within which a forecast is an error or a
// warning.
type Thresholds struct{ Error, Warning time.Duration }

// ThresholdsOf are the world's thresholds, the defaults where
// .nvlint.hcl sets none.
func ThresholdsOf(w *world.World) Thresholds {
	t := Thresholds{Error: w.Hints.ForecastError, Warning: w.Hints.ForecastWarning}
	if t.Error <= 0 {
		t.Error = DefaultErrorWithin
	}
	if t.Warning <= 0 {
		t.Warning = DefaultWarningWithin
	}
	return t
}

// Now is the time forecasts count from: when the world was read.
func Now(w *world.World) time.Time {
	if w.Live != nil && !w.Live.CollectedAt.IsZero() {
		return w.Live.CollectedAt
	}
	return time.Now().UTC()
}

// ServerTokenName names the Nomad servers' token in forecasts.
const ServerTokenName = "nomad-server"

// ServerToken forecasts when the Nomad servers' Vault token (legacy
// flow) stops working. Nomad renews it, so a renewable token dies at its
// max TTL counted from its creation, as Vault's TTL calculation caps
// every renewal (sdk/framework CalculateTTL): the token auth method's
// max_lease_ttl (which is the system's when the mount sets none),
// lowered by explicit_max_ttl. A periodic token escapes the mount's max
// and ends only at an explicit_max_ttl. A token that is not renewable
// ends at its current expire_time. ok is false for a token that never
// expires, or one whose lookup lacks creation_time (an old snapshot).
func ServerToken(v *world.VaultLive) (e Expiry, ok bool) {
	if v == nil || v.ServerToken == nil {
		return Expiry{}, false
	}
	tok := v.ServerToken
	e = Expiry{Kind: KindServerToken, Name: ServerTokenName}
	explicit := time.Duration(tok.ExplicitMaxTTL) * time.Second
	switch {
	case !tok.Renewable:
		if tok.ExpireTime.IsZero() {
			return Expiry{}, false
		}
		e.At, e.Basis = tok.ExpireTime, "not renewable: expire_time "+tok.ExpireTime.Format(time.RFC3339)
		return e, true
	case tok.CreationTime.IsZero():
		return Expiry{}, false
	case tok.Period > 0:
		if explicit <= 0 {
			return Expiry{}, false
		}
		e.At = tok.CreationTime.Add(explicit)
		e.Basis = fmt.Sprintf("periodic, but creation_time %s + explicit_max_ttl %s", tok.CreationTime.Format(time.RFC3339), TTL(explicit))
		return e, true
	}
	max, from := time.Duration(v.TokenMountMaxTTL)*time.Second, "the token auth method's max_lease_ttl"
	if max <= 0 {
		max = SystemMaxTTL
		from = "Vault's default max_lease_ttl, assumed"
		e.Assumed = "assumed Vault's default max TTL of 768h for the token auth method, whose tuning could not be read"
		if v.TokenMountTuneError != "" {
			e.Assumed += " (" + v.TokenMountTuneError + ")"
		}
	}
	if explicit > 0 && explicit < max {
		max, from = explicit, "explicit_max_ttl"
	}
	e.At = tok.CreationTime.Add(max)
	e.Basis = fmt.Sprintf("creation_time %s + max TTL %s (%s)", tok.CreationTime.Format(time.RFC3339), TTL(max), from)
	return e, true
}

// All are every forecast the world allows: the server token's, one per
// running task whose role caps its token, one per JWT auth method that
// will not hold Nomad's next signing key, and one per running task's
// call to a database or PKI role.
func All(w *world.World) []Expiry {
	var out []Expiry
	if w.Live != nil {
		if e, ok := ServerToken(w.Live.Vault); ok {
			out = append(out, e)
		}
	}
	for _, t := range TaskTokens(w) {
		out = append(out, t.Expiry)
	}
	for _, k := range SigningKeys(w) {
		out = append(out, k.Expiry)
	}
	for _, l := range Leases(w) {
		out = append(out, l.Expiry)
	}
	return out
}

// In says when t comes, seen from now: "in 5h12m", "in 3d4h", or
// "5m ago" once passed.
func In(now, t time.Time) string {
	d := t.Sub(now)
	if d < 0 {
		return Duration(-d) + " ago"
	}
	return "in " + Duration(d)
}

// When is In with the absolute time in UTC: "in 5h12m (2026-11-23T21:00:00Z)".
func When(now, t time.Time) string {
	return In(now, t) + " (" + t.UTC().Format(time.RFC3339) + ")"
}

// Duration writes d as people read it, to the two largest units: 45s,
// 12m30s, 5h12m, 3d4h.
func Duration(d time.Duration) string {
	d = d.Truncate(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return trimZero(fmt.Sprintf("%dm%ds", int(d.Minutes()), int(d.Seconds())%60), "0s")
	case d < 48*time.Hour:
		return trimZero(fmt.Sprintf("%dh%dm", int(d.Hours()), int(d.Minutes())%60), "0m")
	}
	return trimZero(fmt.Sprintf("%dd%dh", int(d.Hours())/24, int(d.Hours())%24), "0h")
}

// TTL writes a TTL as Vault's settings do: 768h, 30m, 40s, 1h30m.
func TTL(d time.Duration) string {
	s := d.Truncate(time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// trimZero drops a zero second unit: "5h0m" is "5h".
func trimZero(s, zero string) string {
	if len(s) > len(zero) && s[len(s)-len(zero):] == zero && (s[len(s)-len(zero)-1] < '0' || s[len(s)-len(zero)-1] > '9') {
		return s[:len(s)-len(zero)]
	}
	return s
}

// Bands counts forecast times by how soon they come: under an hour
// (passed ones too), under a day, under a week.
type Bands struct{ Hour, Day, Week int }

// BandsOf sorts the times at into bands from now; later ones count in
// none.
func BandsOf(now time.Time, at []time.Time) Bands {
	var b Bands
	for _, t := range at {
		switch d := t.Sub(now); {
		case d < time.Hour:
			b.Hour++
		case d < 24*time.Hour:
			b.Day++
		case d < 7*24*time.Hour:
			b.Week++
		}
	}
	return b
}

// String says how many running tasks reach a forecast, by band.
func (b Bands) String() string {
	return fmt.Sprintf("%d running task(s) reach it within 7 days (under 1h: %d, under 24h: %d, under 7d: %d)", b.Hour+b.Day+b.Week, b.Hour, b.Day, b.Week)
}
