package live

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/nvlint/nvlint/access"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/templates"
	"github.com/nvlint/nvlint/world"
)

// FailingAllocation maps each failing allocation's Vault or template
// event to what explains it.
var FailingAllocation rules.Rule = failingAllocation{}

type failingAllocation struct{}

func (failingAllocation) Meta() *rules.Meta { return &failingAllocationMeta }

var failingAllocationMeta = rules.Meta{
	ID: "NV661", Name: "failing-allocation", Severity: rules.Error,
	Live:  true,
	Title: "an allocation is failing on Vault, and why",
	Doc: rules.Doc{
		Why: "A task that cannot get its Vault token or render its secrets says little: `Missing: vault.read(kv/data/x)`, `invalid audience`, `permission denied`. " +
			"doctor reads recent allocations' task events and follows each back to its cause: the policy trace that denies the path, the role and identity " +
			"whose audiences differ, the bound claim that refuses the login, the role that does not exist, a sealed Vault, the token role that lets the server " +
			"give only its own policies (child policies must be subset of parent: the role has neither allowed_policies nor disallowed_policies). A periodic or dispatched " +
			"child runs its parent's tasks, so its allocations are explained with the parent's job. A vault `secret` block (Nomad 1.11+) is rendered as a template, " +
			"so its denied read shows `Template: Missing: vault.read(<path>)` although the job has no template, and, once the template's Vault retries " +
			"run out (about 5 minutes with the default vault_retry; seen on Nomad 1.11.3), `Killing: Template failed: vault.read(<path>): ... Code: 403 ... permission denied`: " +
			"the explanation names the block.",
		Example: "Template: Missing: vault.read(kv/data/default/web/config)",
		Fix:     "Apply the fix of the finding the allocation points to, then restart the allocation (`nomad alloc restart <id>`).",
	},
}

var (
	missingRead = regexp.MustCompile(`vault\.(read|list|write)\(([^)]+)\)`)
	roleMissing = regexp.MustCompile(`role "?([^" ]+)"? could not be found`)
	// Vault's JWT login: `error validating claims: claim "k" does not match
	// any associated bound claim values` (or `... is missing`).
	boundClaim = regexp.MustCompile(`error validating claims: claim "([^"]+)"`)
)

// triage is one known event pattern and how to explain it.
type triage struct {
	match   func(msg string) bool
	explain func(p *rules.Pass, a world.NomadAlloc, msg string) (string, []string)
	// fixes, when set, fix the cause.
	fixes func(p *rules.Pass, a world.NomadAlloc) []rules.Fix
}

var triages = []triage{
	{
		match:   func(m string) bool { return strings.Contains(m, childPoliciesMsg) },
		explain: explainChildPolicies,
		fixes:   childPoliciesFixes,
	},
	{
		match: func(m string) bool {
			return strings.Contains(m, "invalid audience") || strings.Contains(m, "no audiences bound")
		},
		explain: func(p *rules.Pass, a world.NomadAlloc, msg string) (string, []string) {
			tok, ok := tokenFor(p.World, a)
			if !ok {
				return "Vault refused the workload identity's audience", nil
			}
			return fmt.Sprintf("Vault refused the login: the identity's aud [%s] (from %s) is not among JWT role %s's bound_audiences", strings.Join(tok.Aud, ", "), tok.AudFrom, tok.RoleName), tok.Steps
		},
	},
	{
		match: func(m string) bool { return boundClaim.MatchString(m) },
		explain: func(p *rules.Pass, a world.NomadAlloc, msg string) (string, []string) {
			claim := boundClaim.FindStringSubmatch(msg)[1]
			tok, ok := tokenFor(p.World, a)
			if !ok || tok.Role == nil {
				return fmt.Sprintf("Vault refused the login: claim %s does not satisfy the JWT role's bound_claims", claim), nil
			}
			why := fmt.Sprintf("Vault refused the login: JWT role %s (%s) binds %s to [%s]", tok.RoleName, tok.RoleVia, claim,
				strings.Join(tok.Role.BoundClaims.Claims[claim].Strings(), ", "))
			if got, ok := tok.Claim(claim); ok {
				why += fmt.Sprintf(" but the task's identity carries %q", got)
			}
			if a.ParentJobID != "" && claim == "nomad_job_id" {
				why += fmt.Sprintf(" (a periodic or dispatched child logs in with its parent's job ID, %s)", a.ParentJobID)
			}
			return why, tok.Steps
		},
	},
	{
		match: func(m string) bool { return roleMissing.MatchString(m) },
		explain: func(_ *rules.Pass, _ world.NomadAlloc, msg string) (string, []string) {
			return fmt.Sprintf("the JWT role %s does not exist in Vault: create it or fix vault.role / default_role", roleMissing.FindStringSubmatch(msg)[1]), nil
		},
	},
	{
		match: func(m string) bool { return strings.Contains(m, "missing role") },
		explain: func(_ *rules.Pass, _ world.NomadAlloc, _ string) (string, []string) {
			return "the task names no vault.role and the JWT auth method has no default_role", nil
		},
	},
	{
		match: func(m string) bool { return strings.Contains(m, "Vault is sealed") },
		explain: func(_ *rules.Pass, _ world.NomadAlloc, _ string) (string, []string) {
			return "Vault was sealed when the task asked for its token", nil
		},
	},
	{
		match: func(m string) bool { return missingRead.MatchString(m) },
		explain: func(p *rules.Pass, a world.NomadAlloc, msg string) (string, []string) {
			sm := missingRead.FindStringSubmatch(msg)
			op, path := sm[1], strings.TrimSpace(sm[2])
			call := access.CallFromEvent(op, path)
			tok, ok := tokenFor(p.World, a)
			if !ok {
				if t := allocTask(p.World, a); t != nil {
					if s := secretBlockReading(t, call); s != nil {
						return fmt.Sprintf("the task's secret block %s reads %s from Vault, but no vault block covers the task, so it has no Vault token (NV407)", s.Name.V, path), nil
					}
				}
				return fmt.Sprintf("the task's token cannot %s %s", op, path), nil
			}
			// A vault secret block (Nomad 1.11+) is rendered as a template
			// too, so its denied read shows a template's event although
			// the job may have no template: name the block.
			what, secret := "the task's template", secretBlockReading(tok.Task, call)
			if secret != nil {
				what = fmt.Sprintf("the task's secret block %s (path %q, which Nomad renders as a template)", secret.Name.V, secret.Path.V)
			}
			rd := tok.Read(p.World, call)
			ans := rd.Answer
			switch {
			case tok.Refused != "":
				return "the task gets no token: " + tok.Refused, tok.Steps
			case !ans.Known:
				return fmt.Sprintf("%s waits for %s %s; whether its token may is unknown here: %s", what, op, path, ans.Why), tok.Steps
			case ans.Allowed:
				return fmt.Sprintf("the policies allow %s %s; the secret may not exist yet, or the policies changed since the task started", op, rd.Path), tok.Steps
			}
			path = rd.Path
			why := "no rule of its policies matches"
			for _, d := range ans.Dropped {
				if access.LeadsTo(d.Rule.Path, path) {
					why = fmt.Sprintf("policy %s would grant it with %q but Vault drops that path (%s)", d.Policy, d.Rule.Path, d.Reason)
					break
				}
			}
			if ans.Winner != nil && why == "no rule of its policies matches" {
				why = fmt.Sprintf("%q of policy %s decides, granting %v", ans.Winner.Path, ans.Winner.Sources[0].Policy, ans.Capabilities)
			}
			if secret != nil {
				return fmt.Sprintf("%s cannot be read: its token (policies %s) is denied %s on %s: %s", what, strings.Join(tok.Policies, ", "), op, path, why), tok.Steps
			}
			return fmt.Sprintf("its token (policies %s) is denied %s on %s: %s", strings.Join(tok.Policies, ", "), op, path, why), tok.Steps
		},
	},
	{
		match: func(m string) bool { return strings.Contains(m, "permission denied") },
		explain: func(_ *rules.Pass, _ world.NomadAlloc, _ string) (string, []string) {
			return "Vault answered permission denied", nil
		},
	},
}

func (failingAllocation) Check(p *rules.Pass) {
	l := p.World.Live
	if l == nil || l.Nomad == nil {
		return
	}
	for _, a := range l.Nomad.FailingAllocs {
		// Only events since the task last started explain its state now.
		for i := len(a.Events) - 1; i >= 0; i-- {
			ev := a.Events[i]
			if ev.Type == "Started" {
				break
			}
			msg := ev.Message
			var why string
			var steps []string
			var fixes []rules.Fix
			for _, t := range triages {
				if t.match(msg) {
					why, steps = t.explain(p, a, msg)
					if t.fixes != nil {
						fixes = t.fixes(p, a)
					}
					break
				}
			}
			if why == "" {
				continue
			}
			short := a.ID
			if len(short) > 8 {
				short = short[:8]
			}
			f := liveFinding(world.KindJobspec, a.JobID, "nomad:/v1/allocation/"+a.ID,
				fmt.Sprintf("allocation %s of job %s%s: task %s fails (%s): %s", short, a.JobID, inRegion(a.Region), a.Task, ev.Type, why),
				append([]string{fmt.Sprintf("task event %s: %s", ev.Type, msg)}, steps...)...)
			f.Fixes = fixes
			p.Report(f)
			break
		}
	}
}

// inRegion names a Nomad region for messages: "" when the run read one.
func inRegion(r string) string {
	if r == "" {
		return ""
	}
	return " in region " + r
}

// secretBlockReading is the task's vault secret block whose read the
// event names, when no template of the task makes that call: the event
// spells the path as written, so written paths are compared.
func secretBlockReading(t *world.Task, call templates.Access) *world.Secret {
	var secret *world.Secret
	for _, r := range access.TaskReads(t) {
		if r.Call.Dynamic || r.Call.Op != call.Op || templates.KVv2Path(r.Call.Path, "", r.Call.Op) != templates.KVv2Path(call.Path, "", call.Op) {
			continue
		}
		if r.Template != nil {
			return nil
		}
		if secret == nil {
			secret = r.Secret
		}
	}
	return secret
}

// allocTask is the jobspec's task an allocation runs, or nil.
func allocTask(w *world.World, a world.NomadAlloc) *world.Task {
	for _, j := range w.Jobs {
		if !a.Runs(j) {
			continue
		}
		for _, g := range j.Groups {
			for _, t := range g.Tasks {
				if g.Name.V == a.TaskGroup && t.Name.V == a.Task {
					return t
				}
			}
		}
	}
	return nil
}

// tokenFor resolves the token of an allocation's task.
func tokenFor(w *world.World, a world.NomadAlloc) (access.Token, bool) {
	for _, wl := range world.Derived(w, workloadsByJobKey, workloadsByJob)[a.SpecJobID()] {
		if a.Runs(wl.Job) && wl.Group.Name.V == a.TaskGroup && wl.Task.Name.V == a.Task {
			return access.Resolve(w, wl), true
		}
	}
	return access.Token{}, false
}

var workloadsByJobKey = world.NewDerivedKey("workloads by job name")

// workloadsByJob are the workloads by the name of their job, in the
// world's order: a fleet has failing allocations of many jobs, and
// going through every workload for each would cost allocations x tasks.
func workloadsByJob(w *world.World) map[string][]access.Workload {
	out := map[string][]access.Workload{}
	for _, wl := range access.Workloads(w) {
		out[wl.Job.Ref.Name] = append(out[wl.Job.Ref.Name], wl)
	}
	return out
}
