package forecast

import (
	"fmt"
	"time"

	"github.com/nvlint/nvlint/access"
	"github.com/nvlint/nvlint/world"
)

// KindRole is the kind of a JWT role's forecast: the earliest of its
// running tasks' tokens to reach the role's max TTL.
const KindRole = "role"

// TaskToken is a running task whose Vault token reaches its max TTL.
type TaskToken struct {
	Expiry
	Role *world.JWTRole
	Task world.NomadTask
	// Cap is the token's max TTL and From what set it.
	Cap  time.Duration
	From string
}

// RoleCap is the longest life a token of role r may have, and what sets
// it; ok is false for a periodic role without an explicit max TTL, whose
// tokens Nomad renews for ever. Vault caps a login's token at the lowest
// of token_explicit_max_ttl, token_max_ttl and the mount's
// max_lease_ttl, which doctor does not read for JWT mounts: without
// either role setting it assumes Vault's default, and says so.
func RoleCap(r *world.JWTRole) (cap time.Duration, from, assumed string, ok bool) {
	explicit, maxTTL := seconds(r.TokenExplicitMaxTTL), seconds(r.TokenMaxTTL)
	switch {
	case seconds(r.TokenPeriod) > 0:
		// A periodic token escapes every max TTL but an explicit one.
		return explicit, "token_explicit_max_ttl", "", explicit > 0
	case explicit > 0 && (maxTTL <= 0 || explicit <= maxTTL):
		return explicit, "token_explicit_max_ttl", "", true
	case maxTTL > 0:
		return maxTTL, "token_max_ttl", "", true
	}
	return SystemMaxTTL, "the auth method's max TTL", "assumed Vault's default max TTL of 768h for the auth method: the role sets no token_max_ttl and no token_period", true
}

func seconds(v world.Seconds) time.Duration {
	if !v.IsKnown() {
		return 0
	}
	return time.Duration(v.V) * time.Second
}

// TaskTokens are the running tasks of jobs whose tokens come from a JWT
// role that caps their life, with when each token reaches the cap: a
// task logs in when it starts, and Nomad stops it when the renewal
// fails. Tasks of the legacy flow, and of a role doctor did not read, are
// left out.
func TaskTokens(w *world.World) []TaskToken {
	if w.Live == nil || w.Live.Nomad == nil {
		return nil
	}
	var out []TaskToken
	jobs := jobsByID(w)
	for _, rt := range w.Live.Nomad.RunningTasks {
		v := vaultOf(jobs, rt)
		if v == nil {
			continue
		}
		name, _ := access.RoleFor(w, v)
		if name == "" {
			continue
		}
		role := w.JWTRoleIn(access.PlaceFor(w, v), name)
		if role == nil {
			continue
		}
		cap, from, assumed, ok := RoleCap(role)
		if !ok {
			continue
		}
		out = append(out, TaskToken{
			Expiry: Expiry{
				Kind: KindRole, Name: role.Mount + "/" + role.Ref.Name, At: rt.StartedAt.Add(cap), Assumed: assumed,
				Basis: fmt.Sprintf("started %s + %s %s", rt.StartedAt.Format(time.RFC3339), from, TTL(cap)),
			},
			Role: role, Task: rt, Cap: cap, From: from,
		})
	}
	return out
}

type jobKey struct{ namespace, id string }

// jobsByID are the world's jobs by namespace and ID, in the world's
// order: a fleet runs a task per job, and looking each task's job up in
// the whole list would cost jobs x tasks.
func jobsByID(w *world.World) map[jobKey][]*world.Job {
	out := make(map[jobKey][]*world.Job, len(w.Jobs))
	for _, j := range w.Jobs {
		k := jobKey{j.NamespaceName(), j.ID.V}
		out[k] = append(out[k], j)
	}
	return out
}

// vaultOf is the vault block of the running task's spec, or nil.
func vaultOf(jobs map[jobKey][]*world.Job, rt world.NomadTask) *world.VaultBlock {
	if j, g, t := specOf(jobs, rt); t != nil {
		return j.EffectiveVault(g, t)
	}
	return nil
}

// specOf is the job, group and task the running task runs; t is nil
// when the world has no such task.
func specOf(jobs map[jobKey][]*world.Job, rt world.NomadTask) (j *world.Job, g *world.Group, t *world.Task) {
	for _, j := range jobs[jobKey{rt.Namespace, rt.SpecJobID()}] {
		for _, g := range j.Groups {
			if g.Name.V != rt.TaskGroup {
				continue
			}
			for _, t := range g.Tasks {
				if t.Name.V == rt.Task {
					return j, g, t
				}
			}
		}
	}
	return nil, nil, nil
}
