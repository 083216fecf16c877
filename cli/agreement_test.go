package cli_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/nvlint/nvlint/access"
	"github.com/nvlint/nvlint/checks"
	"github.com/nvlint/nvlint/checks/live"
	"github.com/nvlint/nvlint/config"
	"github.com/nvlint/nvlint/impact"
	"github.com/nvlint/nvlint/inputs"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/templates"
	"github.com/nvlint/nvlint/world"
)

// TestReadsAgree runs lint (NV411), access, impact and doctor (NV661's
// triage of a `Missing: vault.read(...)` event) over the same setups and
// compares their decisions read by read: one evaluation of a task's
// reads serves all three, so they must never disagree.
func TestReadsAgree(t *testing.T) {
	var dirs []string
	for _, pattern := range []string{"../fixtures/examples/*", "../fixtures/cases/*/*"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range m {
			if fi, err := os.Stat(d); err == nil && fi.IsDir() {
				dirs = append(dirs, d)
			}
		}
	}
	if len(dirs) < 10 {
		t.Fatalf("found only %d setups", len(dirs))
	}
	compared := 0
	for _, dir := range dirs {
		t.Run(strings.TrimPrefix(dir, "../fixtures/"), func(t *testing.T) {
			if _, cfg := loadSetup(t, dir); cfg != nil && len(cfg.Setups) > 0 {
				// A monorepo is several setups: each is judged apart,
				// and access picks one (TestAccessInASetup).
				t.Skip("a monorepo case")
			}
			n := compareReads(t, dir)
			t.Logf("%d reads compared", n)
			compared += n
		})
	}
	if compared < 20 {
		t.Errorf("compared only %d reads", compared)
	}
}

// call is one Vault read of a task: a template's call or a secret
// block's.
type call struct {
	wl access.Workload
	r  access.TaskRead
	a  templates.Access
}

func loadSetup(t *testing.T, dir string) (*world.World, *config.Config) {
	t.Helper()
	var cfg *config.Config
	if _, err := os.Stat(filepath.Join(dir, config.FileName)); err == nil {
		c, err := config.Load(filepath.Join(dir, config.FileName), checks.All())
		if err != nil {
			t.Fatal(err)
		}
		cfg = c
	}
	opts := inputs.Options{}
	if cfg != nil {
		opts.Ignore = cfg.Ignored
	}
	w, _, err := inputs.Load([]string{dir}, opts)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Apply(w)
	return w, cfg
}

var accessVerdict = regexp.MustCompile(`(?m)^(ALLOWED|DENIED|UNKNOWN) (\S+) (\S+)$`)

func compareReads(t *testing.T, dir string) int {
	w, cfg := loadSetup(t, dir)
	var calls []call
	for _, wl := range access.Workloads(w) {
		for _, r := range access.TaskReads(wl.Task) {
			calls = append(calls, call{wl, r, r.Call})
		}
	}
	if len(calls) == 0 {
		return 0
	}

	// lint: an NV411 finding at the call is a denial, an undecided note
	// about its path an unknown, silence an allowance.
	set := rules.Settings{}
	if cfg != nil {
		set = cfg.Settings
	}
	res := rules.RunWith(w, checks.All(), set)

	// doctor: one failing allocation per call, waiting for it.
	live0 := &world.Live{Nomad: &world.NomadLive{}}
	for i, c := range calls {
		op := map[string]string{templates.OpRead: "read", templates.OpList: "list", templates.OpWrite: "write"}[c.a.Op]
		path := c.a.Path
		if c.a.Op == templates.OpWrite {
			path += " -> 0123abcd"
		}
		live0.Nomad.FailingAllocs = append(live0.Nomad.FailingAllocs, world.NomadAlloc{
			ID: fmt.Sprintf("%08d", i), JobID: c.wl.Job.Ref.Name, Namespace: c.wl.Job.NamespaceName(), TaskGroup: c.wl.Group.Name.V, Task: c.wl.Task.Name.V,
			Events: []world.NomadEvent{{Type: "Template", Message: fmt.Sprintf("Missing: vault.%s(%s)", op, path)}},
		})
	}
	dw, _ := loadSetup(t, dir)
	dw.Live = live0
	doctor := rules.Run(dw, []rules.Rule{live.FailingAllocation}).Findings

	// access: the task's reads, in access.TaskReads order.
	byTask := map[string][]int{}
	var order []string
	for i, c := range calls {
		k := c.wl.Group.Name.V + "\x00" + c.wl.Task.Name.V + "\x00" + c.wl.Job.Ref.Name + "\x00" + c.wl.Job.NamespaceName()
		if _, ok := byTask[k]; !ok {
			order = append(order, k)
		}
		byTask[k] = append(byTask[k], i)
	}
	accessV := make([]string, len(calls))
	accessPath := make([]string, len(calls))
	for _, k := range order {
		parts := strings.Split(k, "\x00")
		args := []string{"access", "--job", parts[2], "--namespace", parts[3], "--group", parts[0], "--task", parts[1]}
		if cfg != nil {
			args = append(args, "--config", filepath.Join(dir, config.FileName))
		}
		r := nvlint(t, "", nil, append(args, dir)...)
		idx := byTask[k]
		if strings.Contains(r.stdout, "login refused") {
			for _, i := range idx {
				accessV[i] = "refused"
			}
			continue
		}
		ms := accessVerdict.FindAllStringSubmatch(r.stdout, -1)
		if len(ms) != len(idx) {
			t.Fatalf("access printed %d decisions for %d calls of %s:\n%s%s", len(ms), len(idx), calls[idx[0]].wl, r.stdout, r.stderr)
		}
		for j, i := range idx {
			accessV[i] = strings.ToLower(ms[j][1])
			accessPath[i] = ms[j][3]
		}
	}

	// impact: the decision of each read, and nothing changed when the
	// setup is compared with itself.
	impactV := make([]string, len(calls))
	for i, c := range calls {
		reads, _ := impact.Reads(w, c.wl, access.Resolve(w, c.wl))
		for _, r := range reads {
			if r.Call.Func == c.a.Func && r.Call.Op == c.a.Op && r.Call.Path == c.a.Path {
				impactV[i] = map[bool]string{true: "allowed", false: "denied"}[r.Allowed]
				if !r.Known {
					impactV[i] = "unknown"
				}
			}
		}
	}
	if again, _ := loadSetup(t, dir); len(impact.Compare(w, again, impact.Options{}).Changes) != 0 {
		t.Errorf("impact of the setup on itself: %+v", impact.Compare(w, again, impact.Options{}).Changes)
	}

	compared := 0
	for i, c := range calls {
		if c.a.Dynamic {
			// A dynamic path is only known once rendered: lint and access
			// are undecided, doctor sees the rendered path.
			if accessV[i] != "unknown" && accessV[i] != "refused" {
				t.Errorf("%s: dynamic call %s: access says %s", c.wl, c.a.Prefix, accessV[i])
			}
			continue
		}
		lintV := "allowed"
		if !res.Ran["NV411"] {
			// The rule could not run (no policy given): lint decides
			// nothing.
			lintV = "unknown"
		}
		rng := c.r.Range(c.wl.Job.File)
		for _, f := range res.Findings {
			if f.Rule.ID == "NV411" && f.Range == rng {
				lintV = "denied"
			}
		}
		for _, s := range res.Skipped {
			if s.Rule.ID == "NV411" && strings.HasPrefix(s.Reason, fmt.Sprintf("%s reading %s: ", c.wl, accessPath[i])) {
				lintV = "unknown"
			}
		}
		doctorV := "none"
		for _, f := range doctor {
			if !strings.HasPrefix(f.Message, fmt.Sprintf("allocation %08d ", i)) {
				continue
			}
			switch {
			case strings.Contains(f.Message, "gets no token"):
				doctorV = "refused"
			case strings.Contains(f.Message, "the policies allow"):
				doctorV = "allowed"
			case strings.Contains(f.Message, "is unknown here"):
				doctorV = "unknown"
			case strings.Contains(f.Message, "is denied"):
				doctorV = "denied"
			}
		}
		if want := map[string]string{"refused": "denied"}[accessV[i]]; impactV[i] != accessV[i] && impactV[i] != want {
			t.Errorf("%s %s %s: impact %s, access %s", c.wl, c.a.Op, c.a.Path, impactV[i], accessV[i])
		}
		if accessV[i] == "refused" {
			// lint leaves a refused login to the role rules.
			if lintV != "allowed" || doctorV != "refused" {
				t.Errorf("%s %s %s: login refused, but lint says %s and doctor %s", c.wl, c.a.Op, c.a.Path, lintV, doctorV)
			}
			compared++
			continue
		}
		if lintV != accessV[i] || doctorV != accessV[i] {
			t.Errorf("%s %s %s: lint %s, access %s (%s), doctor %s", c.wl, c.a.Op, c.a.Path, lintV, accessV[i], accessPath[i], doctorV)
		}
		compared++
	}
	return compared
}
