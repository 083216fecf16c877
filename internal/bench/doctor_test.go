package bench

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nvlint/nvlint/checks"
	"github.com/nvlint/nvlint/inputs"
	"github.com/nvlint/nvlint/internal/corpus"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// doctorWorld fills a world from a corpus the way doctor fills it from
// live clusters (live.Collect): every object parsed from its API form
// through inputs.LiveObject and inputs.LivePolicy, without files or
// ranges, JWT roles and config on their mount, and one agent config, the
// server doctor talks to. Jobs written as HCL are left out (generate
// with Plan.JSONShare = 1).
func doctorWorld(tb testing.TB, dir string) *world.World {
	w := &world.World{Live: &world.Live{
		CollectedAt: time.Unix(0, 0),
		Vault:       &world.VaultLive{Addr: "https://vault.service.consul:8200"},
		Nomad:       &world.NomadLive{Addr: "https://nomad.service.consul:4646", LegacyTokens: -1},
	}}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		base := filepath.Base(p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		switch {
		case strings.HasSuffix(rel, ".nomad.json"):
			id := strings.TrimSuffix(base, ".nomad.json")
			return inputs.LiveObject(w, world.KindJobspec, id, "nomad:/v1/job/"+id, inputs.TrimAPIJob(data))
		case strings.HasPrefix(rel, "vault/policies/"):
			name := strings.TrimPrefix(strings.TrimSuffix(strings.TrimSuffix(base, ".hcl"), "-policy"), "vault-policy-")
			return inputs.LivePolicy(w, name, "vault:sys/policies/acl/"+name, string(data))
		case strings.HasPrefix(rel, "vault/token-roles/"):
			name := strings.TrimSuffix(base, "-role.json")
			return inputs.LiveObject(w, world.KindTokenRole, name, "vault:auth/token/roles/"+name, data)
		case strings.HasPrefix(rel, "vault/jwt-roles/"):
			name := strings.TrimPrefix(strings.TrimSuffix(base, ".json"), "vault-role-")
			if err := inputs.LiveObject(w, world.KindJWTRole, name, "vault:auth/"+corpus.Mount+"/role/"+name, data); err != nil {
				return err
			}
			w.JWTRoles[len(w.JWTRoles)-1].Mount = corpus.Mount
		case strings.HasPrefix(rel, "vault/auth/"):
			if err := inputs.LiveObject(w, world.KindJWTAuthConfig, corpus.Mount, "vault:auth/"+corpus.Mount+"/config", data); err != nil {
				return err
			}
			c := w.JWTConfigs[len(w.JWTConfigs)-1]
			c.Mount, c.Accessor = corpus.Mount, corpus.Accessor
		case rel == "nomad/agents/server.hcl":
			aw, _, err := inputs.Load([]string{p}, inputs.Options{Kind: world.KindAgentConfig})
			if err != nil {
				return err
			}
			w.Agents = append(w.Agents, aw.Agents...)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return w
}

// doctorPlan is a platform's clusters: 10,000 jobs of 250 teams, 500
// roles (250 token roles, 250 JWT roles), a policy per role and per
// fourth app.
func doctorPlan() corpus.Plan {
	return corpus.Plan{Teams: 125, SpareJWTRoles: 124, Jobs: 10000, AppPolicies: 2500, TokenRoles: 250, RolePolicies: true, JSONShare: 1}
}

var doctorGrowths = []growth{
	{"jobs", func(p *corpus.Plan, k float64) { p.Jobs = scaled(p.Jobs, k) }, func(st corpus.Stats) int { return st.Jobs }},
	{"roles", func(p *corpus.Plan, k float64) {
		p.TokenRoles, p.SpareJWTRoles = scaled(p.TokenRoles, k), scaled(p.SpareJWTRoles, k)
	}, func(st corpus.Stats) int { return st.TokenRoles + st.JWTRoles }},
}

func doctorCorpus(tb testing.TB, p corpus.Plan) (string, corpus.Stats) {
	corporaMu.Lock()
	defer corporaMu.Unlock()
	key := fmt.Sprintf("doctor %+v", p)
	if c, ok := grown[grownKey{kind: key}]; ok {
		return c.dir, c.stats
	}
	d, err := os.MkdirTemp("", "nvlint-doctor-")
	if err != nil {
		tb.Fatal(err)
	}
	st, err := corpus.Generate(d, corpus.Options{Seed: 1, Plan: &p})
	if err != nil {
		tb.Fatal(err)
	}
	grown[grownKey{kind: key}] = struct {
		dir   string
		stats corpus.Stats
	}{d, st}
	corpora[corpusKey{files: -len(grown)}] = d
	return d, st
}

// BenchmarkDoctor is doctor's work after the fetch, every rule over a
// world filled as live.Collect fills it, at 10,000 jobs and 500 roles
// (x1/16, x1/4 and x1 of each, the other held), with what each added
// object costs as in BenchmarkKinds.
//
//	go test ./internal/bench -run '^$' -bench 'Doctor$' -benchtime 3x
func BenchmarkDoctor(b *testing.B) {
	all := checks.All()
	for _, g := range doctorGrowths {
		p := doctorPlan()
		g.grow(&p, 1.0/64)
		dir, st := doctorCorpus(b, p)
		ref, nref := doctorWorld(b, dir), g.count(st)
		for _, k := range []float64{1.0 / 16, 1.0 / 4, 1} {
			b.Run(fmt.Sprintf("grow=%s/scale=x1/%d", g.kind, int(1/k)), func(b *testing.B) {
				p := doctorPlan()
				g.grow(&p, k)
				dir, st := doctorCorpus(b, p)
				w, n := doctorWorld(b, dir), g.count(st)
				reportAdded(b, all, ref, w, n-nref, g.kind)
				b.ReportMetric(float64(len(w.Jobs)), "jobs")
				b.ReportMetric(float64(len(w.TokenRoles)+len(w.JWTRoles)), "roles")
			})
		}
	}
}

// TestDoctorLinearCost is TestLinearCost for doctor's worlds, at a
// tenth of BenchmarkDoctor's size: what an added job or role costs in
// allocations must not grow with their number.
func TestDoctorLinearCost(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("generates and loads several corpora (and counts allocations, which -race changes)")
	}
	all := checks.All()
	allocs := func(w *world.World) float64 {
		return testing.AllocsPerRun(1, func() { rules.Run(w, all) })
	}
	for _, g := range doctorGrowths {
		t.Run(g.kind, func(t *testing.T) {
			var a, n [3]float64
			for i, k := range []float64{1.0 / 40, 1.0 / 10, 4.0 / 10} {
				p := doctorPlan()
				p.Jobs, p.TokenRoles, p.SpareJWTRoles, p.Teams, p.AppPolicies = p.Jobs/10, p.TokenRoles/10, p.SpareJWTRoles/10, p.Teams/10, p.AppPolicies/10
				g.grow(&p, k*10)
				dir, st := doctorCorpus(t, p)
				w := doctorWorld(t, dir)
				a[i], n[i] = allocs(w), float64(g.count(st))
			}
			m1 := (a[1] - a[0]) / (n[1] - n[0])
			m4 := (a[2] - a[1]) / (n[2] - n[1])
			t.Logf("%s: %v objects: %v allocations; %.1f then %.1f per added object", g.kind, n, a, m1, m4)
			if m4 > 1.25*m1+20 {
				t.Errorf("each added %s costs %.1f allocations from x1 to x4 but %.1f from x1/4 to x1: the cost per object grows with their number", g.kind, m4, m1)
			}
		})
	}
}
