package live

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nvlint/nvlint/forecast"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// LeaseEndsRunningTasks: the database credentials or certificates
// running tasks' templates render reach their role's max TTL.
var LeaseEndsRunningTasks rules.Rule = leaseEndsRunningTasks{}

type leaseEndsRunningTasks struct{}

func (leaseEndsRunningTasks) Meta() *rules.Meta { return &leaseEndsRunningTasksMeta }

var leaseEndsRunningTasksMeta = rules.Meta{
	ID: "NV626", Name: "lease-ends-running-tasks", Severity: rules.Warning,
	Live:  true,
	Title: "database credentials or certificates that running tasks render reach their role's max TTL",
	Doc: rules.Doc{
		Why: "A template that reads database/creds/ROLE gets credentials with a lease, which consul-template renews until Vault caps it at the role's max_ttl (else the mount's max_lease_ttl, 768h unless tuned); " +
			"shortly before, it reads new credentials and renders them, and Vault revokes the old ones at the cap. A template that issues pki/issue/ROLE (or pkiCert) gets a certificate that lives the ttl asked for, else the role's ttl, else the mount's default_lease_ttl, " +
			"capped at the role's max_ttl (else the mount's max_lease_ttl); consul-template issues a new one at 90% of its life. " +
			"Then Nomad applies the template's change_mode: restart restarts the task, signal and script tell it. With change_mode \"noop\", or env = true with \"script\" (a running process's environment cannot change), " +
			"the task keeps what it had: database credentials Vault has revoked, a certificate that has expired. A vault secret block is rendered once, when the task first starts, and its lease is never renewed: it ends at its TTL. " +
			"Doctor reads the roles (<mount>/roles/ROLE) and mounts' tuning (sys/mounts/MOUNT/tune) the running tasks' templates use and forecasts, for each running allocation from its start, when that happens, grouped by role with how many within 1h, 24h and 7 days. " +
			"A task left on revoked credentials is an error within 7 days; a restart, an error within 24h and a warning within 7 days; a signal or script, a warning within 24h and advice within 7 days (forecast { error_within, warning_within } in .nvlint.hcl).",
		Example: "template {\n  data        = \"{{ with secret \\\"database/creds/app\\\" }}{{ .Data.password }}{{ end }}\"\n  destination = \"secrets/db.txt\"\n  change_mode = \"noop\"\n}\n# vault write database/roles/app max_ttl=24h ...",
		Fix: "Let Nomad pass the new credentials on: change_mode = \"restart\", or \"signal\" (or \"script\") when the task rereads the file; render a secret block's credentials with a template instead. " +
			"Raise the role's max_ttl (database) or ttl (PKI), and the mount's max_lease_ttl, where replacements come too often.",
	},
}

func (leaseEndsRunningTasks) Check(p *rules.Pass) {
	leases := forecast.Leases(p.World)
	if len(leases) == 0 {
		return
	}
	now, th := forecast.Now(p.World), forecast.ThresholdsOf(p.World)
	type task struct{ alloc, task string }
	byRole := map[*world.LeaseRole]map[task]forecast.Lease{}
	for _, l := range leases {
		sev := leaseSeverity(l, l.At.Sub(now), th)
		if sev == 0 {
			continue
		}
		if byRole[l.Role] == nil {
			byRole[l.Role] = map[task]forecast.Lease{}
		}
		k := task{l.Use.Task.AllocID, l.Use.Task.Task}
		// One forecast per task: its most pressing call to the role.
		if prev, ok := byRole[l.Role][k]; !ok || morePressing(l, prev, now, th) {
			byRole[l.Role][k] = l
		}
	}
	roles := make([]*world.LeaseRole, 0, len(byRole))
	for r := range byRole {
		roles = append(roles, r)
	}
	slices.SortFunc(roles, func(a, b *world.LeaseRole) int {
		return cmp.Or(cmp.Compare(a.Mount, b.Mount), cmp.Compare(a.Name, b.Name))
	})
	for _, r := range roles {
		ls := make([]forecast.Lease, 0, len(byRole[r]))
		for _, l := range byRole[r] {
			ls = append(ls, l)
		}
		slices.SortFunc(ls, func(a, b forecast.Lease) int {
			if morePressing(a, b, now, th) {
				return -1
			}
			if morePressing(b, a, now, th) {
				return 1
			}
			return cmp.Or(cmp.Compare(a.Use.Task.AllocID, b.Use.Task.AllocID), cmp.Compare(a.Use.Task.Task, b.Use.Task.Task))
		})
		at := make([]time.Time, len(ls))
		stale := 0
		for i, l := range ls {
			at[i] = l.At
			if l.Stale {
				stale++
			}
		}
		first := ls[0]
		msg := fmt.Sprintf("%s %s: %s", roleName(r), lifeOf(first), forecast.BandsOf(now, at))
		if stale > 0 {
			left := "left on credentials Vault revokes"
			if r.Type == forecast.EnginePKI {
				left = "left with an expired certificate"
			}
			msg += fmt.Sprintf(", %d of them %s", stale, left)
		}
		msg += fmt.Sprintf("; the first, task %s of allocation %s (job %s), %s", first.Use.Task.Task, shortID(first.Use.Task.AllocID), first.Use.Task.SpecJobID(), consequence(first, now))
		evidence := []string{roleSettings(r)}
		for i, l := range ls {
			if i == 20 {
				evidence = append(evidence, fmt.Sprintf("... and %d more", len(ls)-i))
				break
			}
			end := "replaced"
			if l.Stale {
				end = "ends"
			}
			evidence = append(evidence, fmt.Sprintf("allocation %s job %s group %s task %s: %s (%s): %s, %s %s", l.Use.Task.AllocID, l.Use.Task.JobID, l.Use.Task.TaskGroup, l.Use.Task.Task,
				l.Use.Read.Source(), modeName(l), l.Basis, end, forecast.When(now, l.At)))
		}
		for _, l := range ls {
			if l.Assumed != "" {
				evidence = append(evidence, l.Assumed)
				break
			}
		}
		path := r.Mount + "/roles/" + r.Name
		f := liveFinding(world.Kind("vault"), path, world.VaultOrigin(first.Use.Vault.Cluster, path), msg, evidence...)
		f.Severity = leaseSeverity(first, first.At.Sub(now), th)
		f.Cluster = first.Use.Vault.Cluster
		p.Report(f)
	}
}

// leaseSeverity is how pressing a forecast is, 0 when it is beyond the
// warning window. A task left with revoked credentials is broken from
// then; a restart interrupts it; a signal or script is routine.
func leaseSeverity(l forecast.Lease, left time.Duration, th forecast.Thresholds) rules.Severity {
	switch {
	case left >= th.Warning:
		return 0
	case l.Stale:
		return rules.Error
	case l.Mode == "signal" || l.Mode == "script":
		if left < th.Error {
			return rules.Warning
		}
		return rules.Info
	case left < th.Error:
		return rules.Error
	}
	return rules.Warning
}

// morePressing orders forecasts: the more severe first, then a task
// left with what Vault revokes before one Nomad restarts, then the
// earlier.
func morePressing(a, b forecast.Lease, now time.Time, th forecast.Thresholds) bool {
	sa, sb := leaseSeverity(a, a.At.Sub(now), th), leaseSeverity(b, b.At.Sub(now), th)
	switch {
	case sa != sb:
		return sa > sb
	case a.Stale != b.Stale:
		return a.Stale
	}
	return a.At.Before(b.At)
}

func roleName(r *world.LeaseRole) string {
	if r.Type == forecast.EnginePKI {
		return fmt.Sprintf("PKI role %s (mount %s)", r.Name, r.Mount)
	}
	return fmt.Sprintf("database role %s (mount %s)", r.Name, r.Mount)
}

// lifeOf says how long what the role gives the first task lives.
func lifeOf(l forecast.Lease) string {
	switch {
	case l.Use.Engine == forecast.EnginePKI:
		return fmt.Sprintf("issues certificates for %s (%s)", forecast.TTL(l.Life), l.From)
	case l.Use.Read.Secret != nil:
		return fmt.Sprintf("leases credentials for %s (%s), which a secret block never renews", forecast.TTL(l.Life), l.From)
	}
	return fmt.Sprintf("renews credentials up to %s (%s)", forecast.TTL(l.Life), l.From)
}

func modeName(l forecast.Lease) string {
	switch {
	case l.Use.Read.Secret != nil:
		return "rendered once, never renewed"
	case l.Mode == "":
		return "change_mode not known"
	}
	s := fmt.Sprintf("change_mode %q", l.Mode)
	if t := l.Use.Read.Template; t.Env.IsKnown() && t.Env.V {
		s += ", env = true"
	}
	return s
}

// consequence says what happens to the task, when, and what to do.
func consequence(l forecast.Lease, now time.Time) string {
	when := forecast.When(now, l.At)
	what, new := "credentials", "new credentials"
	if l.Use.Engine == forecast.EnginePKI {
		what, new = "certificate", "a new certificate"
	}
	raise := "raise max_ttl (and the mount's max_lease_ttl)"
	if l.Use.Engine == forecast.EnginePKI {
		raise = "raise the role's ttl or the template's ttl= (within max_ttl)"
	}
	if l.Stale {
		lost := "keeps its credentials when Vault revokes them " + when
		switch past := !l.At.After(now); {
		case past && l.Use.Engine == forecast.EnginePKI:
			lost = "has kept its certificate since it expired " + when
		case past:
			lost = "has kept its credentials since Vault revoked them " + when
		case l.Use.Engine == forecast.EnginePKI:
			lost = "keeps its certificate when it expires " + when
		}
		switch {
		case l.Use.Read.Secret != nil:
			return fmt.Sprintf("%s: its secret block %s rendered them once when the task started, and nothing renews them; render them with a template block instead, whose lease consul-template renews, or raise default_ttl",
				lost, l.Use.Read.Secret.Name.V)
		case l.Mode == "script":
			return fmt.Sprintf("%s: its template has env = true, and change_mode \"script\" cannot change a running task's environment; set change_mode = \"restart\", or render the %s to a file the task rereads",
				lost, what)
		}
		return fmt.Sprintf("%s: its template's change_mode \"noop\" does not pass on the %s consul-template renders; set change_mode = \"restart\", or \"signal\" if the task rereads the file, or %s",
			lost, what, raise)
	}
	// Only forecasts still to come are made for tasks Nomad passes new
	// credentials on to: When says "in ...".
	in := strings.TrimPrefix(when, "in ")
	at := "in under " + in + ": consul-template renders them shortly before the lease's max"
	switch {
	case l.Use.Engine == forecast.EnginePKI:
		at = "in about " + in + ": consul-template issues it at 90% of the certificate's life"
	case l.Cycles > 0:
		at = "in under about " + in + ": consul-template renders them shortly before the lease's max"
	}
	switch l.Mode {
	case "signal":
		return fmt.Sprintf("gets %s %s and Nomad signals the task (change_mode \"signal\"); %s for fewer replacements", new, at, raise)
	case "script":
		return fmt.Sprintf("gets %s %s and Nomad runs its change script (change_mode \"script\"); %s for fewer replacements", new, at, raise)
	}
	return fmt.Sprintf("gets %s %s and Nomad restarts the task (change_mode %q); %s for fewer restarts, or use change_mode = \"signal\" if the task rereads the file",
		new, at, cmp.Or(l.Mode, "restart"), raise)
}

// roleSettings is the role as read, for the evidence.
func roleSettings(r *world.LeaseRole) string {
	ttl := "default_ttl"
	if r.Type == forecast.EnginePKI {
		ttl = "ttl"
	}
	s := fmt.Sprintf("%s/roles/%s: %s %s, max_ttl %s", r.Mount, r.Name, ttl, ttlOrUnset(r.TTL), ttlOrUnset(r.MaxTTL))
	if r.Type == forecast.EnginePKI {
		s += fmt.Sprintf(", generate_lease %t", r.GenerateLease)
	}
	return s
}

func ttlOrUnset(s int64) string {
	if s <= 0 {
		return "unset"
	}
	return forecast.TTL(time.Duration(s) * time.Second)
}
