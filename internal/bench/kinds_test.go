package bench

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/nvlint/nvlint/checks"
	"github.com/nvlint/nvlint/inputs"
	"github.com/nvlint/nvlint/internal/corpus"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// growth is one kind of object grown while the others stay as they are.
type growth struct {
	kind  string
	grow  func(p *corpus.Plan, k float64)
	count func(st corpus.Stats) int
}

// mostPerObject is the most allocations the rule stage may spend per
// added object of a kind, where linearity alone is not bound enough. A
// job of basePlan costs about 475; 2,500 when each job's token compiled
// its policies whole again.
var mostPerObject = map[string]float64{"jobs": 600}

// basePlan is the setup every kind grows from: 256 jobs of 16 teams (a
// JWT role each), 128 app policies and 128 of apps not deployed, 16 token roles and 16 JWT roles of
// teams without jobs, each role with a policy of its own, 16 agent
// configs, two templates per task. As in the named mixes, no agent
// config says which token role is Nomad's, so every one is checked.
func basePlan() corpus.Plan {
	return corpus.Plan{Teams: 16, Jobs: 256, AppPolicies: 128, SparePolicies: 128, TokenRoles: 16, SpareJWTRoles: 16, Servers: 4, Clients: 12, RolePolicies: true, ReadsPerTask: 2, NoLegacyServer: true}
}

func scaled(n int, k float64) int { return max(1, int(float64(n)*k)) }

var growths = []growth{
	{"jobs", func(p *corpus.Plan, k float64) { p.Jobs = scaled(p.Jobs, k) }, func(st corpus.Stats) int { return st.Jobs }},
	// Policies of apps not deployed: the deployed apps' policies change
	// what their jobs read and are granted, so growing those would
	// change the jobs too.
	{"policies", func(p *corpus.Plan, k float64) { p.SparePolicies = scaled(p.SparePolicies, k) }, func(st corpus.Stats) int { return st.Policies }},
	{"token-roles", func(p *corpus.Plan, k float64) { p.TokenRoles = scaled(p.TokenRoles, k) }, func(st corpus.Stats) int { return st.TokenRoles }},
	// Roles of teams without jobs: more teams for the same jobs would
	// change the jobs' token policies.
	{"jwt-roles", func(p *corpus.Plan, k float64) { p.SpareJWTRoles = scaled(p.SpareJWTRoles, k) }, func(st corpus.Stats) int { return st.JWTRoles }},
	{"agents", func(p *corpus.Plan, k float64) {
		p.Servers, p.Clients = scaled(p.Servers, k), scaled(p.Clients, k)
	}, func(st corpus.Stats) int { return st.Agents }},
	{"reads", func(p *corpus.Plan, k float64) { p.ReadsPerTask = scaled(p.ReadsPerTask, k) }, func(st corpus.Stats) int { return st.VaultReads }},
}

type grownKey struct {
	kind string
	k    float64
}

var grown = map[grownKey]struct {
	dir   string
	stats corpus.Stats
}{}

// grownWorld loads the base setup with one kind grown k times (k = 0.25
// is the reference the cost of the added objects is measured from).
func grownWorld(tb testing.TB, g growth, k float64) (*world.World, int) {
	corporaMu.Lock()
	c, ok := grown[grownKey{g.kind, k}]
	if !ok {
		p := basePlan()
		g.grow(&p, k)
		d, err := os.MkdirTemp("", "nvlint-kinds-")
		if err != nil {
			tb.Fatal(err)
		}
		st, err := corpus.Generate(d, corpus.Options{Seed: 1, Plan: &p})
		if err != nil {
			tb.Fatal(err)
		}
		c.dir, c.stats = d, st
		grown[grownKey{g.kind, k}] = c
		corpora[corpusKey{files: -len(grown)}] = d // removed by TestMain
	}
	corporaMu.Unlock()
	w, _, err := inputs.Load([]string{c.dir}, inputs.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return w, g.count(c.stats)
}

// refScale is the size of the kind the added objects are counted from.
const refScale = 0.25

// BenchmarkKinds grows one kind at a time (x1, x4, x16 of basePlan, the
// others held) and reports what each object of that kind adds to the
// rule stage: (time - time at x1/4) / (objects - objects at x1/4), and
// the same in allocations, which a loaded machine does not blur. A kind
// whose per-object cost rises with its own count is joined with itself
// somewhere.
//
//	go test ./internal/bench -run '^$' -bench Kinds
func BenchmarkKinds(b *testing.B) {
	all := checks.All()
	for _, g := range growths {
		ref, nref := grownWorld(b, g, refScale)
		for _, k := range []float64{1, 4, 16} {
			b.Run(fmt.Sprintf("kind=%s/scale=x%d", g.kind, int(k)), func(b *testing.B) {
				w, n := grownWorld(b, g, k)
				reportAdded(b, all, ref, w, n-nref, g.kind)
				b.ReportMetric(float64(n), g.kind)
			})
		}
	}
}

// TestLinearCost guards that no kind of object costs more per object as
// the setup grows, counting allocations (which follow the work done and,
// unlike time, do not depend on what else the machine runs). For each
// kind, what an object adds to the rule stage from x1 to x4 of basePlan
// must stay within 25% of what it adds from x1/4 to x1; and over every
// named mix, the rule stage's allocations per file at 1,200 files within
// 15% of those at 300, which catches a join of two kinds that grow
// together (token roles with policies, tasks with agent configs: each
// was 18-21% over before the joins were indexed). A kind with a bound
// (mostPerObject) must also stay under it per added object.
func TestLinearCost(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("generates and loads a dozen corpora (and counts allocations, which -race changes)")
	}
	all := checks.All()
	allocs := func(w *world.World) float64 {
		return testing.AllocsPerRun(1, func() { rules.Run(w, all) })
	}
	for _, g := range growths {
		t.Run(g.kind, func(t *testing.T) {
			ref, nref := grownWorld(t, g, refScale)
			w1, n1 := grownWorld(t, g, 1)
			w4, n4 := grownWorld(t, g, 4)
			aref, a1, a4 := allocs(ref), allocs(w1), allocs(w4)
			m1 := (a1 - aref) / float64(n1-nref)
			m4 := (a4 - a1) / float64(n4-n1)
			t.Logf("%s: %d, %d, %d objects: %.0f, %.0f, %.0f allocations; %.1f then %.1f per added object", g.kind, nref, n1, n4, aref, a1, a4, m1, m4)
			if m4 > 1.25*m1+20 {
				t.Errorf("each added %s costs %.1f allocations from x1 to x4 but %.1f from x1/4 to x1: the cost per object grows with their number", g.kind, m4, m1)
			}
			if most, ok := mostPerObject[g.kind]; ok && max(m1, m4) > most {
				t.Errorf("each added %s costs %.1f allocations, more than the %.0f it should", g.kind, max(m1, m4), most)
			}
		})
	}
	for _, name := range corpus.MixNames() {
		t.Run("mix="+name, func(t *testing.T) {
			m := corpus.Mixes[name]
			var per [2]float64
			for i, n := range []int{300, 1200} {
				w, _, err := inputs.Load([]string{mixedCorpusDir(t, n, m)}, inputs.Options{})
				if err != nil {
					t.Fatal(err)
				}
				per[i] = allocs(w) / float64(len(w.Files))
			}
			t.Logf("mix %s: %.1f allocations per file at 300 files, %.1f at 1,200", name, per[0], per[1])
			if per[1] > 1.15*per[0] {
				t.Errorf("mix %s: %.1f allocations per file at 1,200 files against %.1f at 300: the rule stage grows faster than the setup", name, per[1], per[0])
			}
		})
	}
}

// reportAdded times the rule stage on w and reports what each of the
// added objects of kind costs over ref, in time and in allocations.
func reportAdded(b *testing.B, all []rules.Rule, ref, w *world.World, added int, kind string) {
	b.Helper()
	// The reference, best of three, timed next to the grown world.
	tref := time.Duration(1 << 62)
	for range 3 {
		start := time.Now()
		rules.Run(ref, all)
		tref = min(tref, time.Since(start))
	}
	// Allocations follow the work whatever else runs.
	aref := testing.AllocsPerRun(1, func() { rules.Run(ref, all) })
	a := testing.AllocsPerRun(1, func() { rules.Run(w, all) })
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rules.Run(w, all)
	}
	per := float64(b.Elapsed())/float64(b.N) - float64(tref)
	b.ReportMetric(per/float64(added), "ns/added-"+kind)
	b.ReportMetric((a-aref)/float64(added), "allocs/added-"+kind)
}
