package live

import (
	"fmt"
	"slices"
	"strings"

	"github.com/nvlint/nvlint/access"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// NomadVersionQuirk: known Nomad releases whose clients mishandle task
// tokens.
var NomadVersionQuirk rules.Rule = nomadVersionQuirk{}

type nomadVersionQuirk struct{}

func (nomadVersionQuirk) Meta() *rules.Meta { return &nomadVersionQuirkMeta }

var nomadVersionQuirkMeta = rules.Meta{
	ID: "NV652", Name: "nomad-version-quirk", Severity: rules.Warning,
	Title: "this Nomad release has a bug in how its clients handle Vault tokens",
	Doc: rules.Doc{
		Why: "Nomad clients renew each task's Vault token; some releases get that wrong. Each entry names the upstream issue and the releases read in Nomad's CHANGELOG.md and source at their tags:\n\n" +
			"- Before 1.9.4 (Enterprise 1.8.8), a renewal that fails with `lease expired` is retried for ever instead of logging in again, so a task whose token expired (a Vault outage longer than its TTL) keeps a dead token " +
			"(nomad#23859, fixed by #24409; client/vaultclient/vaultclient.go at v1.9.3 lacks the `lease expired` case that v1.9.4 has).\n" +
			"- From 1.7 (workload identity) to before 1.10.3 (Enterprise 1.9.11, 1.8.15), tokens are renewed with a fixed 30-second increment; a token without a period then lives 30 seconds at a time and expires in any Vault outage longer than that " +
			"(nomad#25812, fixed by #26041 in client/allocrunner/taskrunner/vault_hook.go). Periodic tokens (JWT role token_period) ignore the increment and are not affected.\n" +
			"- 2.0.5 applies the vault block's change_mode after every successful renewal: with the default change_mode \"restart\" every task that uses Vault restarts each time its token is renewed " +
			"(nomad#28407, brought in by the client refactor #28315, absent from 2.0.4; fixed by #28409, backported to the 2.0 branch as #28413 after 2.0.5). The release that ships the fix was not tagged in the source read, so only 2.0.5 is reported.\n" +
			"- 2.0.5 keeps renewing a task's token after the task stopped, until the client restarts, so tokens of finished tasks stay valid " +
			"(nomad#28502, reported on 2.0.5; its vault hook's Stop no longer ends the renewal that 2.0.4's did). Which release fixes it could not be verified, so only 2.0.5 is reported.\n\n" +
			"Also known, and reported by NV405 rather than here: from 1.10 (still so in 2.0.5, nomad/job_endpoint_hooks.go validateVaultIdentity), a job whose task has a vault block but no vault_<cluster> identity, on servers without default_identity, is accepted and its task waits in prestart for ever (`failed to retrieve signed workload identity`); no upstream issue or fix for it was found.\n\n" +
			"doctor reads the version of every client node (/v1/nodes); lint the nomad_version declared in .nvlint.hcl. Enterprise builds (+ent) use the Enterprise fix releases.",
		Example: "nomad node status -verbose   # Version 2.0.5\n# or, offline, in .nvlint.hcl:\nnomad_version = \"2.0.5\"",
		Fix:     "Upgrade the Nomad clients past the affected release. Until then: set token_period on the JWT role (#25812); set change_mode = \"noop\" in vault blocks of tasks that do not read VAULT_TOKEN themselves (#28407).",
	},
}

// nomadQuirk is one client bug: which releases have it, and what in the
// world it hits.
type nomadQuirk struct {
	issue    string
	affected func(v string) bool
	check    func(w *world.World, v string) []quirkHit
}

// quirkHit is one finding's worth of a quirk.
type quirkHit struct {
	severity rules.Severity
	msg      string
	related  []rules.Related
}

var nomadQuirks = []nomadQuirk{
	{issue: "nomad#23859", affected: func(v string) bool {
		if enterprise(v) && line(v, "1.8") {
			return before(v, "1.8.8")
		}
		return before(v, "1.9.4")
	}, check: expiredLeaseRetried},
	{issue: "nomad#25812", affected: func(v string) bool {
		switch {
		case before(v, "1.7"):
			return false // no workload identity, and legacy tokens are periodic
		case enterprise(v) && line(v, "1.9"):
			return before(v, "1.9.11")
		case enterprise(v) && line(v, "1.8"):
			return before(v, "1.8.15")
		}
		return before(v, "1.10.3")
	}, check: renewIncrement},
	{issue: "nomad#28407", affected: func(v string) bool { return release(v) == "2.0.5" }, check: changeModeOnRenewal},
	{issue: "nomad#28502", affected: func(v string) bool { return release(v) == "2.0.5" }, check: renewedAfterStop},
}

// nomadTarget is one Nomad release the setup runs, and where a finding
// about it points.
type nomadTarget struct {
	version string
	at      func(msg string) rules.Finding
}

func (nomadVersionQuirk) Check(p *rules.Pass) {
	targets := nomadTargets(p.World)
	if len(targets) == 0 {
		p.CannotDecide("the Nomad clients' version is not known (nvlint doctor with node:read, lint --snapshot, or nomad_version in .nvlint.hcl)")
		return
	}
	for _, t := range targets {
		for _, q := range nomadQuirks {
			if !q.affected(t.version) {
				continue
			}
			for _, h := range q.check(p.World, t.version) {
				f := t.at(h.msg)
				f.Severity = h.severity
				f.Related = append(f.Related, h.related...)
				p.Report(f)
			}
		}
	}
}

// nomadTargets are the client releases to judge: the live nodes',
// grouped by version, else the declared nomad_version.
func nomadTargets(w *world.World) []nomadTarget {
	if l := w.Live; l != nil && l.Nomad != nil {
		byVersion := map[string][]string{}
		var versions []string
		for _, n := range l.Nomad.Nodes {
			if n.Version == "" || n.Status == "down" {
				continue
			}
			if _, ok := byVersion[n.Version]; !ok {
				versions = append(versions, n.Version)
			}
			byVersion[n.Version] = append(byVersion[n.Version], n.Name)
		}
		slices.Sort(versions)
		var out []nomadTarget
		for _, v := range versions {
			names := strings.Join(byVersion[v], ", ")
			out = append(out, nomadTarget{version: v, at: func(msg string) rules.Finding {
				return liveFinding("node", names, "nomad:/v1/nodes", msg, fmt.Sprintf("client node(s) %s run Nomad %s", names, v))
			}})
		}
		if len(out) > 0 {
			return out
		}
	}
	if h := w.Hints.NomadVersion; h.IsKnown() {
		return []nomadTarget{{version: h.V, at: func(msg string) rules.Finding {
			return rules.Finding{Message: msg, Range: h.Range, Object: world.ObjectRef{Kind: "nomad", Name: "nomad_version " + h.V},
				Evidence: []string{"nomad_version = " + h.V + " in .nvlint.hcl"}}
		}}}
	}
	return nil
}

func expiredLeaseRetried(w *world.World, v string) []quirkHit {
	tasks := renewedTasks(w, func(access.Workload) bool { return true })
	if len(tasks.names) == 0 {
		return nil
	}
	return []quirkHit{{severity: rules.Warning, related: tasks.related,
		msg: fmt.Sprintf("Nomad %s retries the renewal of an expired task token for ever instead of logging in again (nomad#23859, fixed in 1.9.4): a task whose token expires, as in a Vault outage longer than its TTL, is left with a dead token; upgrade the clients to 1.9.4+ (%s)",
			v, tasks)}}
}

func renewIncrement(w *world.World, v string) []quirkHit {
	var hits []quirkHit
	seen := map[string]bool{}
	for _, wl := range access.Workloads(w) {
		if !wl.Vault.Renews() {
			continue
		}
		name, _ := access.RoleFor(w, wl.Vault)
		r := w.JWTRoleIn(access.PlaceFor(w, wl.Vault), name)
		if r == nil || seen[r.Ref.Name+"\x00"+r.Cluster.V] || !nonPeriodic(r) {
			continue
		}
		seen[r.Ref.Name+"\x00"+r.Cluster.V] = true
		h := quirkHit{severity: rules.Warning,
			msg: fmt.Sprintf("Nomad %s renews task tokens with a fixed 30-second increment, and JWT role %s%s has no token_period, so its tokens live 30 seconds at a time and expire in any Vault outage longer than that (nomad#25812, fixed in 1.10.3): set token_period on the role, or upgrade the clients to 1.10.3+",
				v, r.Ref.Name, world.ClusterLabel(r.Cluster.V))}
		if r.File != nil {
			h.related = append(h.related, rules.Related{Message: "JWT role " + r.Ref.Name, Range: r.Range})
		}
		hits = append(hits, h)
	}
	return hits
}

// nonPeriodic reports whether a JWT role certainly makes renewable
// tokens without a period.
func nonPeriodic(r *world.JWTRole) bool {
	if (r.TokenPeriod.Set && !r.TokenPeriod.Known) || r.TokenPeriod.V > 0 {
		return false
	}
	if r.RoleType.IsKnown() && !strings.EqualFold(r.RoleType.V, "jwt") {
		return false
	}
	// Batch tokens are never renewed: NV216 covers them.
	return !r.TokenType.Set || (r.TokenType.Known && !strings.EqualFold(r.TokenType.V, "batch"))
}

func changeModeOnRenewal(w *world.World, v string) []quirkHit {
	var hits []quirkHit
	for _, mode := range []string{"restart", "signal"} {
		tasks := renewedTasks(w, func(wl access.Workload) bool { return wl.Vault.ChangeModeName() == mode })
		if len(tasks.names) == 0 {
			continue
		}
		h := quirkHit{severity: rules.Error, related: tasks.related,
			msg: fmt.Sprintf("Nomad %s applies the vault block's change_mode on every token renewal (nomad#28407, fixed by #28409 after 2.0.5): every renewal restarts %s; set change_mode = \"noop\" in their vault blocks unless they read VAULT_TOKEN themselves, or move the clients off 2.0.5",
				v, tasks)}
		if mode == "signal" {
			h.severity = rules.Warning
			h.msg = fmt.Sprintf("Nomad %s applies the vault block's change_mode on every token renewal (nomad#28407, fixed by #28409 after 2.0.5): every renewal sends its change_signal to %s; move the clients off 2.0.5",
				v, tasks)
		}
		hits = append(hits, h)
	}
	return hits
}

func renewedAfterStop(w *world.World, v string) []quirkHit {
	tasks := renewedTasks(w, func(access.Workload) bool { return true })
	if len(tasks.names) == 0 {
		return nil
	}
	return []quirkHit{{severity: rules.Warning, related: tasks.related,
		msg: fmt.Sprintf("Nomad %s clients keep renewing a task's Vault token after the task stops, until the client restarts (nomad#28502): tokens of finished tasks stay valid; move the clients off 2.0.5 (%s)",
			v, tasks)}}
}

// taskList names the tasks a quirk hits, for a message.
type taskList struct {
	names   []string
	related []rules.Related
}

func (t taskList) String() string {
	const shown = 3
	s := strings.Join(t.names[:min(len(t.names), shown)], ", ")
	if len(t.names) > shown {
		s += fmt.Sprintf(" and %d more", len(t.names)-shown)
	}
	if len(t.names) == 1 {
		return "task " + s
	}
	return fmt.Sprintf("%d tasks: %s", len(t.names), s)
}

// renewedTasks lists the tasks whose token Nomad renews (no
// allow_token_expiration) and that match.
func renewedTasks(w *world.World, match func(access.Workload) bool) taskList {
	var out taskList
	for _, wl := range access.Workloads(w) {
		if !wl.Vault.Renews() || !match(wl) {
			continue
		}
		out.names = append(out.names, wl.Job.Ref.Name+"/"+wl.Task.Name.V)
		if wl.Job.File != nil {
			out.related = append(out.related, rules.Related{Message: "vault block of " + wl.String(), Range: wl.Vault.Range})
		}
	}
	return out
}

// release is a version without a leading v or a +ent or -dev suffix.
func release(v string) string {
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	v, _, _ = strings.Cut(v, "+")
	v, _, _ = strings.Cut(v, "-")
	return v
}

func enterprise(v string) bool { return strings.Contains(v, "+ent") }

// line reports whether v is a release of the minor line l ("1.9").
func line(v, l string) bool { return strings.HasPrefix(release(v)+".", l+".") }

func before(v, fixed string) bool { return world.CompareVersions(v, fixed) < 0 }
