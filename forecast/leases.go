package forecast

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nvlint/nvlint/access"
	"github.com/nvlint/nvlint/templates"
	"github.com/nvlint/nvlint/world"
)

// Kinds of the forecasts of rendered leases, as the nvlint_expiry_seconds
// metric labels them: when consul-template replaces a role's credentials
// and Nomad passes the new ones on, and when Vault revokes credentials a
// task keeps.
const (
	KindLease        = "lease"
	KindLeaseRevoked = "lease_revoked"
)

// Engines whose roles the lease forecasts read.
const (
	EngineDatabase = "database"
	EnginePKI      = "pki"
)

// PKIRenewalFraction is the share of a certificate's life after which
// consul-template issues a new one: its default lease_renewal_threshold,
// which Nomad does not set (dependency/vault_common.go leaseCheckWait for
// secret, vault_pki.go goodFor for pkiCert; consul-template 0.41 to
// 0.42).
const PKIRenewalFraction = 0.9

// LeaseUse is one call of a running task to a database or PKI role whose
// answer carries a lease: a template's read of <mount>/creds/<role> on a
// database engine, its issue of <mount>/issue/<role> on a PKI engine
// (secret with data arguments, or pkiCert), or the read a vault secret
// block makes.
type LeaseUse struct {
	Task world.NomadTask
	Job  *world.Job
	Spec *world.Task
	Read access.TaskRead
	// Vault is the live Vault cluster the task logs in to.
	Vault *world.VaultLive
	// Mount is the engine's mount path, Engine its type (EngineDatabase
	// or EnginePKI), Role the role's name.
	Mount, Engine, Role string
	// TTL is the certificate TTL a PKI call asks for (a constant ttl=
	// argument); 0 for none.
	TTL time.Duration
}

// LeaseUses are the calls of running tasks to database and PKI roles, in
// the order of the running tasks. Only tasks of a Vault cluster doctor
// read, in the namespace it read there, are looked at (the mount table is
// that namespace's), and calls whose path is built at render time are
// left out. Doctor reads the roles and mounts these name, and the
// forecasts rest on them: both ask here, so they name the same roles.
func LeaseUses(w *world.World) []LeaseUse {
	if w.Live == nil || w.Live.Nomad == nil {
		return nil
	}
	jobs := jobsByID(w)
	var out []LeaseUse
	for _, rt := range w.Live.Nomad.RunningTasks {
		j, g, t := specOf(jobs, rt)
		if t == nil {
			continue
		}
		vb := j.EffectiveVault(g, t)
		if vb == nil {
			continue
		}
		v := w.Live.VaultOf(vb.ClusterName())
		if v == nil || len(v.EngineMounts) == 0 {
			continue
		}
		if ns := access.NamespaceFor(w, vb); !ns.IsKnown() && ns.Set || strings.Trim(ns.V, "/") != strings.Trim(v.Namespace, "/") {
			continue
		}
		for _, r := range access.TaskReads(t) {
			u, ok := leaseCall(v, r)
			if !ok {
				continue
			}
			u.Task, u.Job, u.Spec, u.Vault = rt, j, t, v
			out = append(out, u)
		}
	}
	return out
}

// leaseCall matches a call against the mount table: a database engine's
// creds/<role> read, a PKI engine's issue/<role> write.
func leaseCall(v *world.VaultLive, r access.TaskRead) (LeaseUse, bool) {
	a := r.Call
	if a.Dynamic || strings.ContainsAny(a.Path, "?#") {
		return LeaseUse{}, false
	}
	path := strings.Trim(strings.TrimSpace(a.Path), "/")
	var mount *world.EngineMount
	for i, m := range v.EngineMounts {
		if strings.HasPrefix(path, m.Path+"/") && (mount == nil || len(m.Path) > len(mount.Path)) {
			mount = &v.EngineMounts[i]
		}
	}
	if mount == nil {
		return LeaseUse{}, false
	}
	endpoint, role, ok := strings.Cut(path[len(mount.Path)+1:], "/")
	if !ok || role == "" || strings.Contains(role, "/") {
		return LeaseUse{}, false
	}
	u := LeaseUse{Read: r, Mount: mount.Path, Engine: mount.Type, Role: role}
	switch {
	case mount.Type == EngineDatabase && endpoint == "creds" && a.Op == templates.OpRead:
	case mount.Type == EnginePKI && endpoint == "issue" && a.Op == templates.OpWrite && r.Template != nil:
		for _, arg := range a.Args {
			if s, ok := strings.CutPrefix(arg, "ttl="); ok {
				u.TTL, _ = parseTTL(s)
			}
		}
	default:
		return LeaseUse{}, false
	}
	return u, true
}

// parseTTL reads a duration as Vault's API does (parseutil
// ParseDurationSecond): whole seconds, a Go duration, or whole days
// with a d suffix.
func parseTTL(s string) (time.Duration, bool) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Duration(n) * time.Second, n >= 0
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseInt(d, 10, 64)
		return time.Duration(n) * 24 * time.Hour, err == nil && n >= 0
	}
	d, err := time.ParseDuration(s)
	return d, err == nil && d >= 0
}

// Lease is the forecast of one running task's rendered credentials or
// certificate from a role.
type Lease struct {
	Expiry
	Use  LeaseUse
	Role *world.LeaseRole
	// Life is how long what the task holds lives: the max TTL up to
	// which consul-template renews a database lease, the TTL of a
	// certificate, the TTL of a lease nothing renews. From says what
	// sets it.
	Life time.Duration
	From string
	// Mode is what Nomad does when the template renders new credentials
	// (its change_mode), or "secret block".
	Mode string
	// Stale is set when the task keeps what it has past At: Vault
	// revokes the credentials (or the certificate expires) while the
	// task still uses them. Otherwise At is when consul-template renders
	// new ones and Nomad passes them on (change_mode restart, signal,
	// script).
	Stale bool
	// Cycles counts the replacements already past at the time counted
	// from: At is then later ones, counted from the task's start, and
	// only approximate.
	Cycles int
}

// Leases forecast, for every running task's call to a database or PKI
// role doctor read, when what the task holds ends.
//
// A database lease is renewed by consul-template (the Vault API's
// LifetimeWatcher) until Vault caps it at the role's max_ttl, else the
// mount's max_lease_ttl, counted from its issue (sdk framework
// CalculateTTL, which also lowers a role's max_ttl above the mount's);
// shortly before, when the remaining lease falls within the watcher's
// grace (10 to 20% of the lease's TTL, and at most 80% after its last
// renewal), consul-template reads new credentials and renders them.
// Vault revokes the old lease at its max. A PKI certificate lives its
// ttl (the call's ttl=, else the role's ttl, else the mount's
// default_lease_ttl), capped at the role's max_ttl, else the mount's
// max_lease_ttl (builtin/logical/pki issuing.GetCertificateNotAfter);
// its lease, if generate_lease, cannot be renewed, and consul-template
// issues a new certificate at 90% of its life (85 to 95% for secret).
//
// The template renders before the task starts, so the first credentials
// are counted from the task's start. A template whose change_mode is
// "noop", or an env template with change_mode "script", leaves the task
// with the first credentials: they end at start + Life. A vault secret
// block is rendered once when the task first starts, and its lease is
// not renewed (Nomad's secrets hook stops its template runner): it ends
// at its TTL. With change_mode "restart" the task restarts with the new
// credentials, and its start time moves with it; with "signal" and
// "script" the task goes on, so replacements after the first are counted
// from its start and only approximately.
func Leases(w *world.World) []Lease {
	uses := LeaseUses(w)
	if len(uses) == 0 {
		return nil
	}
	now := Now(w)
	var out []Lease
	for _, u := range uses {
		v := u.Vault
		role := v.LeaseRole(u.Mount, u.Role)
		if role == nil || role.Type != u.Engine {
			continue
		}
		l := Lease{Use: u, Role: role}
		l.Life, l.From, l.Assumed = leaseLife(v, u, role)
		l.Mode, l.Stale = leaseMode(u)
		name := u.Mount + "/" + u.Role
		if v.Cluster != "" {
			// Another cluster's role of the same name is another series.
			name = v.Cluster + ":" + name
		}
		start := u.Task.StartedAt
		switch {
		case l.Stale:
			l.Expiry = Expiry{Kind: KindLeaseRevoked, Name: name, At: start.Add(l.Life), Assumed: l.Assumed,
				Basis: fmt.Sprintf("started %s + %s %s", start.Format(time.RFC3339), l.From, TTL(l.Life))}
		default:
			period, what := l.Life, l.From+" "+TTL(l.Life)
			if u.Engine == EnginePKI {
				period = time.Duration(float64(l.Life) * PKIRenewalFraction)
				what = fmt.Sprintf("90%% of %s %s", l.From, TTL(l.Life))
			}
			if period <= 0 {
				continue
			}
			at := start.Add(period)
			if !at.After(now) {
				l.Cycles = int(now.Sub(start) / period)
				at = start.Add(time.Duration(l.Cycles+1) * period)
			}
			basis := fmt.Sprintf("started %s + %s", start.Format(time.RFC3339), what)
			if l.Cycles > 0 {
				basis = fmt.Sprintf("started %s + %d x (%s), about: each replacement comes a little early", start.Format(time.RFC3339), l.Cycles+1, what)
			}
			l.Expiry = Expiry{Kind: KindLease, Name: name, At: at, Assumed: l.Assumed, Basis: basis}
		}
		out = append(out, l)
	}
	return out
}

// leaseLife is how long what a call gets from role lives, what sets it,
// and the default assumed for a mount TTL doctor could not read ("" when
// none was needed).
func leaseLife(v *world.VaultLive, u LeaseUse, role *world.LeaseRole) (life time.Duration, from, assumed string) {
	m := mountTTLs(v, u.Mount)
	max, maxFrom := m.max, "the mount's max_lease_ttl"
	maxGuessed := m.maxGuessed
	switch roleMax := time.Duration(role.MaxTTL) * time.Second; {
	case roleMax <= 0:
	case u.Engine == EnginePKI:
		// A PKI role's max_ttl replaces the mount's.
		max, maxFrom, maxGuessed = roleMax, "max_ttl", false
	case roleMax < max:
		// A database role's max_ttl only lowers the mount's, which
		// still counts when it was not read.
		max, maxFrom = roleMax, "max_ttl"
	}
	if u.Engine == EngineDatabase && u.Read.Secret == nil {
		// consul-template renews the lease up to its max.
		return max, maxFrom, m.assumed(maxGuessed, false)
	}
	ttl, ttlFrom, ttlGuessed := m.def, "the mount's default_lease_ttl", m.defGuessed
	switch {
	case u.TTL > 0:
		ttl, ttlFrom, ttlGuessed = u.TTL, "the template's ttl", false
	case role.TTL > 0 && u.Engine == EnginePKI:
		ttl, ttlFrom, ttlGuessed = time.Duration(role.TTL)*time.Second, "ttl", false
	case role.TTL > 0:
		ttl, ttlFrom, ttlGuessed = time.Duration(role.TTL)*time.Second, "default_ttl", false
	}
	if ttl > max {
		return max, maxFrom, m.assumed(maxGuessed, ttlGuessed)
	}
	return ttl, ttlFrom, m.assumed(maxGuessed, ttlGuessed)
}

// leaseMountTTLs are a mount's default and max lease TTLs: its tuning
// as read, else what the mount table says the mount sets itself, else
// Vault's defaults of 768h (a server's config may set others), with
// which were guessed so.
type leaseMountTTLs struct {
	path                   string
	def, max               time.Duration
	defGuessed, maxGuessed bool
	tuneError              string
}

func mountTTLs(v *world.VaultLive, path string) leaseMountTTLs {
	out := leaseMountTTLs{path: path, def: SystemMaxTTL, max: SystemMaxTTL}
	tuned := v.LeaseMount(path)
	if tuned != nil && tuned.MaxLeaseTTL > 0 && tuned.DefaultLeaseTTL > 0 {
		out.def, out.max = time.Duration(tuned.DefaultLeaseTTL)*time.Second, time.Duration(tuned.MaxLeaseTTL)*time.Second
		return out
	}
	if tuned != nil {
		out.tuneError = tuned.TuneError
	}
	e := v.EngineMount(path)
	if e != nil && e.DefaultLeaseTTL > 0 {
		out.def = time.Duration(e.DefaultLeaseTTL) * time.Second
	} else {
		out.defGuessed = true
	}
	if e != nil && e.MaxLeaseTTL > 0 {
		out.max = time.Duration(e.MaxLeaseTTL) * time.Second
	} else {
		out.maxGuessed = true
	}
	return out
}

// assumed says which of the mount's TTLs a forecast took as Vault's
// default, "" for none.
func (m leaseMountTTLs) assumed(max, def bool) string {
	var guessed []string
	if def {
		guessed = append(guessed, "default_lease_ttl")
	}
	if max {
		guessed = append(guessed, "max_lease_ttl")
	}
	if len(guessed) == 0 {
		return ""
	}
	s := fmt.Sprintf("assumed Vault's default %s of 768h for mount %s, whose tuning could not be read", strings.Join(guessed, " and "), m.path)
	if m.tuneError != "" {
		s += " (" + m.tuneError + ")"
	}
	return s
}

// leaseMode is what Nomad does with new credentials for the call, and
// whether the task keeps the old ones.
func leaseMode(u LeaseUse) (mode string, stale bool) {
	if u.Read.Secret != nil {
		return "secret block", true
	}
	t := u.Read.Template
	mode = t.ChangeModeName()
	env := t.Env.IsKnown() && t.Env.V
	return mode, mode == "noop" || env && mode == "script"
}
