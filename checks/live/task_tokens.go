package live

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/nvlint/nvlint/forecast"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// RoleCapsRunningTasks: running tasks whose tokens reach their role's
// max TTL.
var RoleCapsRunningTasks rules.Rule = roleCapsRunningTasks{}

type roleCapsRunningTasks struct{}

func (roleCapsRunningTasks) Meta() *rules.Meta { return &roleCapsRunningTasksMeta }

var roleCapsRunningTasksMeta = rules.Meta{
	ID: "NV624", Name: "role-caps-running-tasks", Severity: rules.Warning,
	Live:  true,
	Title: "running tasks' Vault tokens reach their JWT role's max TTL",
	Doc: rules.Doc{
		Why: "A task logs in to Vault with its workload identity when it starts, and Nomad renews the token while the task runs. A role that is not periodic caps that token's life " +
			"at token_explicit_max_ttl, else token_max_ttl, else the auth method's max TTL (768h unless tuned): past it the renewal fails and Nomad restarts the task with a new token. " +
			"Doctor forecasts that moment for every running allocation from its start time, and groups them by role with how many reach it within 1h, 24h and 7 days. " +
			"It is an error when the first is within 24h and a warning within 7 days (forecast { error_within, warning_within } in .nvlint.hcl).",
		Example: `vault write auth/jwt-nomad/role/nomad-workloads token_max_ttl=24h ...   # no token_period`,
		Fix:     "Make the role's tokens periodic (token_period, with token_max_ttl and token_explicit_max_ttl unset) so Nomad renews them for as long as the task runs.",
	},
}

func (roleCapsRunningTasks) Check(p *rules.Pass) {
	tasks := forecast.TaskTokens(p.World)
	if len(tasks) == 0 {
		return
	}
	now, th := forecast.Now(p.World), forecast.ThresholdsOf(p.World)
	byRole := map[*world.JWTRole][]forecast.TaskToken{}
	for _, t := range tasks {
		byRole[t.Role] = append(byRole[t.Role], t)
	}
	roles := make([]*world.JWTRole, 0, len(byRole))
	for r := range byRole {
		roles = append(roles, r)
	}
	slices.SortFunc(roles, func(a, b *world.JWTRole) int {
		return cmp.Or(cmp.Compare(a.Mount, b.Mount), cmp.Compare(a.Ref.Name, b.Ref.Name))
	})
	for _, r := range roles {
		ts := byRole[r]
		slices.SortFunc(ts, func(a, b forecast.TaskToken) int { return a.At.Compare(b.At) })
		first := ts[0]
		left := first.At.Sub(now)
		if left >= th.Warning {
			continue
		}
		at := make([]time.Time, len(ts))
		for i, t := range ts {
			at[i] = t.At
		}
		bands := forecast.BandsOf(now, at)
		sev := rules.Warning
		if left < th.Error {
			sev = rules.Error
		}
		msg := fmt.Sprintf("JWT role %s (auth/%s) caps task tokens at %s (%s): %s; "+
			"the first, task %s of allocation %s (job %s), %s: then its renewal fails and Nomad restarts it with a new token",
			r.Ref.Name, r.Mount, forecast.TTL(first.Cap), first.From, bands,
			first.Task.Task, shortID(first.Task.AllocID), first.Task.SpecJobID(), forecast.When(now, first.At))
		var evidence []string
		for i, t := range ts {
			if i == 20 {
				evidence = append(evidence, fmt.Sprintf("... and %d more", len(ts)-i))
				break
			}
			evidence = append(evidence, fmt.Sprintf("allocation %s job %s group %s task %s: %s, token ends %s", t.Task.AllocID, t.Task.JobID, t.Task.TaskGroup, t.Task.Task,
				t.Basis, forecast.When(now, t.At)))
		}
		if first.Assumed != "" {
			evidence = append(evidence, first.Assumed)
		}
		f := liveFinding(world.KindJWTRole, r.Ref.Name, r.Ref.Origin, msg, evidence...)
		f.Severity = sev
		p.Report(f)
	}
}

// shortID is an allocation ID as Nomad's CLI shows it.
func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}
