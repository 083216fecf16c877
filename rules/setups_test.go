package rules_test

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// roleless reports each job whose world has no JWT role, at the job.
type roleless struct{}

var rolelessMeta = rules.Meta{ID: "NV998", Name: "roleless", Title: "no role", Severity: rules.Error,
	Doc: rules.Doc{Why: "test", Example: "test", Fix: "test"}}

func (roleless) Meta() *rules.Meta { return &rolelessMeta }

func (roleless) Check(p *rules.Pass) {
	if len(p.World.JWTRoles) > 0 {
		return
	}
	for _, j := range p.World.Jobs {
		p.Report(rules.Finding{Message: "job " + j.Ref.Name + " has no role", Range: j.Range, Object: j.Ref})
	}
}

func TestRunSetupsKeepsWorldsApart(t *testing.T) {
	file := func(path string) *world.File { return &world.File{Path: path} }
	prodJob, stagingJob, stagingRole, shared, loose := file("prod/web.nomad.hcl"), file("staging/web.nomad.hcl"), file("staging/role.json"), file("shared/web.nomad.hcl"), file("loose.nomad.hcl")
	job := func(f *world.File) *world.Job {
		return &world.Job{Meta: world.Meta{File: f, Ref: world.ObjectRef{Kind: world.KindJobspec, Name: "web"},
			Range: hcl.Range{Filename: f.Path, Start: hcl.InitialPos, End: hcl.InitialPos}}}
	}
	w := &world.World{
		Files:    []*world.File{prodJob, stagingJob, stagingRole, shared, loose},
		Jobs:     []*world.Job{job(prodJob), job(stagingJob), job(shared), job(loose)},
		JWTRoles: []*world.JWTRole{{Meta: world.Meta{File: stagingRole, Ref: world.ObjectRef{Kind: world.KindJWTRole, Name: "web"}}}},
	}
	under := func(dirs ...string) func(*world.File) bool {
		return func(f *world.File) bool {
			for _, d := range dirs {
				if strings.HasPrefix(f.Path, d+"/") {
					return true
				}
			}
			return false
		}
	}
	setups := rules.SplitSetups(w, []rules.SetupSpec{
		{Name: "prod", Has: under("prod", "shared")},
		{Name: "staging", Has: under("staging", "shared")},
		{Name: "qa", Has: under("qa")}, // no file: left out
	}, nil)
	var names []string
	for _, s := range setups {
		names = append(names, s.Name)
	}
	if strings.Join(names, ",") != "prod,staging,"+rules.OtherSetup {
		t.Fatalf("setups %q", names)
	}
	// The shared file's job is one object in two worlds.
	if setups[0].World.Jobs[1] != setups[1].World.Jobs[1] || len(setups[2].World.Jobs) != 1 {
		t.Errorf("jobs: prod %v, staging %v, other %v", setups[0].World.Jobs, setups[1].World.Jobs, setups[2].World.Jobs)
	}

	res := rules.RunSetups(setups, []rules.Rule{roleless{}}, rules.Settings{})
	var got []string
	for _, f := range res.Findings {
		got = append(got, f.Setup+" "+f.Range.Filename)
	}
	// staging's role counts in staging only; the shared job is reported
	// once for the setup that finds it.
	want := []string{rules.OtherSetup + " loose.nomad.hcl", "prod prod/web.nomad.hcl", "prod shared/web.nomad.hcl"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if strings.Join(res.Setups, ",") != "prod,staging,"+rules.OtherSetup || !res.Ran["NV998"] {
		t.Errorf("setups %q, ran %v", res.Setups, res.Ran)
	}
}
