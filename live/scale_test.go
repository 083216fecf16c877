package live

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"
	vaultapi "github.com/hashicorp/vault/api"

	"github.com/nvlint/nvlint/checks"
	"github.com/nvlint/nvlint/inputs"
	"github.com/nvlint/nvlint/internal/corpus"
	"github.com/nvlint/nvlint/internal/realserver"
	"github.com/nvlint/nvlint/rules"
)

// scaleEnv opts in to TestDoctorScale: setting up the clusters takes a
// minute or two.
const scaleEnv = "NVLINT_DOCTOR_SCALE"

// TestDoctorScale measures Collect on a real Vault and Nomad holding 500
// jobs with vault blocks, 200 policies, 50 JWT roles and 20 token roles
// (taken from a generated corpus): the number of HTTP requests, which must
// grow by exactly one per object (a job's allocations are read only
// when it has failing or starting ones, and these jobs have none), and
// the wall time, which must stay within 2x of the
// floor (the same requests replayed with the same concurrency and no
// other work, not even waiting for the lists) and under 5 s on loopback.
// The objects are loaded in two steps, a fifth and then the rest, so the
// growth of the request count is measured, not assumed.
//
//	NVLINT_DOCTOR_SCALE=1 go test ./live -run TestDoctorScale -v
func TestDoctorScale(t *testing.T) {
	if os.Getenv(scaleEnv) == "" {
		t.Skipf("set %s=1 to run (starts real servers and loads ~800 objects into them)", scaleEnv)
	}
	const (
		jobs, policies, jwtRoles, tokenRoles = 500, 200, 50, 20
		steps                                = 5 // the first step loads a fifth
		rounds                               = 7
	)
	src := t.TempDir()
	if _, err := corpus.Generate(src, corpus.Options{Files: 5000, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	objs := scaleObjects(t, src, jobs, policies, jwtRoles)

	start := time.Now()
	v := realserver.StartVault(t)
	n := realserver.StartNomad(t, realserver.NomadOptions{
		VaultAddr:  v.Addr,
		VaultBlock: `default_identity { aud = ["vault.io"] ttl = "1h" }`,
	})
	vc, nc := v.Client(t), n.Client(t)
	if err := vc.Sys().EnableAuthWithOptions(corpus.Mount, &vaultapi.EnableAuthOptions{Type: "jwt"}); err != nil {
		t.Fatal(err)
	}
	auths, err := vc.Sys().ListAuth()
	if err != nil {
		t.Fatal(err)
	}
	accessor := auths[corpus.Mount+"/"].Accessor
	write(t, vc, "auth/"+corpus.Mount+"/config", map[string]any{
		"jwks_url": n.Addr + "/.well-known/jwks.json", "jwt_supported_algs": []string{"RS256", "EdDSA"}, "default_role": corpus.DefaultRole,
	})
	t.Logf("servers up after %v", time.Since(start))

	type result struct {
		objects, jobs, policies, jwtRoles, tokenRoles int
		requests                                      int64
		byKind                                        map[string]int
		collect, floor, rulesTime, clientCPU          time.Duration
		ratio                                         float64
		findings                                      int
	}
	var results []result
	for step := 1; step <= 2; step++ {
		frac := func(total int) int {
			if step == 1 {
				return total / steps
			}
			return total
		}
		loadStart := time.Now()
		load(t, func(i int) {
			j := objs.jobs[i]
			if _, err := nc.Namespaces().Register(&nomadapi.Namespace{Name: *j.Namespace}, nil); err != nil {
				t.Errorf("namespace %s: %v", *j.Namespace, err)
			}
			if _, _, err := nc.Jobs().Register(j, nil); err != nil {
				t.Errorf("register %s: %v", *j.ID, err)
			}
		}, len(results)*jobs/steps, frac(jobs))
		load(t, func(i int) {
			p := objs.policies[i]
			if err := vc.Sys().PutPolicy(p.name, strings.ReplaceAll(p.text, corpus.Accessor, accessor)); err != nil {
				t.Errorf("policy %s: %v", p.name, err)
			}
		}, len(results)*policies/steps, frac(policies))
		load(t, func(i int) {
			r := objs.jwtRoles[i]
			writeJSON(t, vc, "auth/"+corpus.Mount+"/role/"+r.name, []byte(r.text))
		}, len(results)*jwtRoles/steps, frac(jwtRoles))
		load(t, func(i int) {
			write(t, vc, fmt.Sprintf("auth/token/roles/role-%02d", i), map[string]any{
				"allowed_policies": []string{"p"}, "orphan": true, "period": "72h", "renewable": true,
			})
		}, len(results)*tokenRoles/steps, frac(tokenRoles))
		t.Logf("step %d: loaded in %v", step, time.Since(loadStart))

		// Nomad evaluates every job registered; measure once it is done.
		settle(t, n.Addr)

		// One recorded collection: what was read, and the request list
		// the floor replays. Then rounds alternating a collection and
		// the floor; the medians count.
		var res result
		rec := &requestLog{}
		o := Options{
			Vault:          vaultConfig(v.Addr),
			VaultToken:     v.RootToken,
			Nomad:          &nomadapi.Config{Address: n.Addr, HttpClient: &http.Client{Transport: rec.wrap(pooled())}},
			RequestTimeout: 5 * time.Second,
		}
		o.Vault.HttpClient = &http.Client{Transport: rec.wrap(pooled())}
		w, _ := Collect(context.Background(), o)
		o.Vault.HttpClient.CloseIdleConnections()
		o.Nomad.HttpClient.CloseIdleConnections()
		for _, p := range w.Live.Problems {
			t.Errorf("problem: %+v", p)
		}
		if len(w.Jobs) != frac(jobs) || len(w.JWTRoles) != frac(jwtRoles) || len(w.TokenRoles) != frac(tokenRoles) {
			t.Errorf("collected %d jobs, %d JWT roles, %d token roles; want %d, %d, %d",
				len(w.Jobs), len(w.JWTRoles), len(w.TokenRoles), frac(jobs), frac(jwtRoles), frac(tokenRoles))
		}
		r0 := time.Now()
		rr := rules.Run(w, checks.All())
		res.rulesTime, res.findings = time.Since(r0), len(rr.Findings)
		res.requests, res.byKind = rec.n.Load(), rec.kinds()

		var collects, floors, ratios, cpus []time.Duration
		for range rounds {
			o := Options{Vault: vaultConfig(v.Addr), VaultToken: v.RootToken, Nomad: &nomadapi.Config{Address: n.Addr}, RequestTimeout: 5 * time.Second}
			t0, c0 := time.Now(), cpuTime()
			Collect(context.Background(), o)
			c, cpu := time.Since(t0), cpuTime()-c0
			f := rec.replay(t, workers)
			collects, floors, cpus = append(collects, c), append(floors, f), append(cpus, cpu)
			ratios = append(ratios, time.Duration(float64(c)/float64(f)*1000))
		}
		res.collect, res.floor, res.clientCPU, res.ratio = median(collects), median(floors), median(cpus), float64(median(ratios))/1000
		res.jobs, res.policies, res.jwtRoles, res.tokenRoles = frac(jobs), frac(policies), frac(jwtRoles), frac(tokenRoles)
		res.objects = res.jobs + res.policies + res.jwtRoles + res.tokenRoles
		results = append(results, res)
		t.Logf("step %d: %d jobs, %d policies, %d JWT roles, %d token roles: %d requests %v; Collect %v (%v CPU in nvlint), floor %v, ratio %.2fx (medians of %d alternating rounds); rules over the result %v, %d findings",
			step, res.jobs, res.policies, res.jwtRoles, res.tokenRoles, res.requests, res.byKind, res.collect.Round(time.Millisecond), res.clientCPU.Round(time.Millisecond),
			res.floor.Round(time.Millisecond), res.ratio, rounds, res.rulesTime.Round(time.Millisecond), res.findings)
	}

	if path := os.Getenv(scaleEnv + "_CPUPROFILE"); path != "" {
		// Profile ten more collections of the full set, and nothing else.
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			t.Fatal(err)
		}
		for range 10 {
			o := Options{Vault: vaultConfig(v.Addr), VaultToken: v.RootToken, Nomad: &nomadapi.Config{Address: n.Addr}, RequestTimeout: 5 * time.Second}
			Collect(context.Background(), o)
		}
		pprof.StopCPUProfile()
		f.Close()
	}

	a, b := results[0], results[1]
	// Each policy, token role, JWT role and job is one read: the jobs
	// run no allocation, so none of theirs is read. Nothing else may grow.
	want := int64((b.policies - a.policies) + (b.tokenRoles - a.tokenRoles) + (b.jwtRoles - a.jwtRoles) + (b.jobs - a.jobs))
	if got := b.requests - a.requests; got != want {
		t.Errorf("requests grew by %d from %d to %d objects; want %d (one per object)", got, a.objects, b.objects, want)
	}
	if b.ratio > 2 {
		t.Errorf("Collect took %v, %.2f times the floor of %v (median ratio), over 2", b.collect, b.ratio, b.floor)
	}
	if b.collect > 5*time.Second {
		t.Errorf("Collect took %v, over 5s", b.collect)
	}
}

type scaleJob = *nomadapi.Job

type namedText struct{ name, text string }

type scaleSet struct {
	jobs               []scaleJob
	policies, jwtRoles []namedText
}

// scaleObjects picks the first jobs, policies and JWT roles of a corpus,
// in path order. Jobs are read with nvlint's loader and rebuilt as API
// jobs with what doctor reads (groups, tasks, vault blocks, identities,
// templates; Nomad's own jobspec parser is not a dependency); every group
// gets count 0, so the dev agent runs nothing and the allocation lists
// doctor reads are empty.
func scaleObjects(t *testing.T, dir string, jobs, policies, jwtRoles int) scaleSet {
	t.Helper()
	var set scaleSet
	var jobFiles, polFiles, roleFiles []string
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		switch {
		case err != nil:
			return err
		case strings.HasSuffix(p, ".nomad.hcl"):
			jobFiles = append(jobFiles, p)
		case strings.Contains(p, "/vault/policies/") && strings.HasSuffix(p, ".hcl"):
			polFiles = append(polFiles, p)
		case strings.Contains(p, "/vault/jwt-roles/"):
			roleFiles = append(roleFiles, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(jobFiles)
	sort.Strings(polFiles)
	sort.Strings(roleFiles)
	if len(jobFiles) < jobs || len(polFiles) < policies || len(roleFiles) < jwtRoles {
		t.Fatalf("corpus too small: %d jobs, %d policies, %d roles", len(jobFiles), len(polFiles), len(roleFiles))
	}
	for _, p := range jobFiles[:jobs] {
		set.jobs = append(set.jobs, apiJob(t, p))
	}
	for _, p := range polFiles[:policies] {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(p), ".hcl"), "-policy")
		set.policies = append(set.policies, namedText{strings.TrimPrefix(name, "vault-policy-"), string(b)})
	}
	for _, p := range roleFiles[:jwtRoles] {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimPrefix(strings.TrimSuffix(filepath.Base(p), ".json"), "vault-role-")
		set.jwtRoles = append(set.jwtRoles, namedText{name, string(b)})
	}
	return set
}

// apiJob reads a corpus jobspec into an API job through nvlint's own
// loader (the shape doctor reads back: groups, tasks, vault blocks,
// identities, templates).
func apiJob(t *testing.T, path string) *nomadapi.Job {
	t.Helper()
	w, _, err := inputs.Load([]string{path}, inputs.Options{})
	if err != nil || len(w.Jobs) != 1 {
		t.Fatalf("%s: %v (%d jobs)", path, err, len(w.Jobs))
	}
	j := w.Jobs[0]
	ns, id := j.NamespaceName(), j.ID.V
	job := &nomadapi.Job{ID: &id, Name: &id, Namespace: &ns, Type: ptr(j.Type.V), Datacenters: []string{"dc1"}}
	for _, g := range j.Groups {
		tg := &nomadapi.TaskGroup{Name: ptr(g.Name.V), Count: ptr(0)}
		for _, tk := range g.Tasks {
			task := &nomadapi.Task{Name: tk.Name.V, Driver: "raw_exec", Config: map[string]any{"command": "/bin/true"}}
			if vb := j.EffectiveVault(g, tk); vb != nil {
				if vb.ClusterName() != "default" {
					continue // the dev agent has one Vault cluster
				}
				task.Vault = &nomadapi.Vault{Role: vb.Role.V}
			}
			for _, id := range tk.Identities {
				task.Identities = append(task.Identities, &nomadapi.WorkloadIdentity{Name: id.Name.V, Audience: id.Aud.Strings(), TTL: time.Hour})
			}
			for _, tp := range tk.Templates {
				task.Templates = append(task.Templates, &nomadapi.Template{EmbeddedTmpl: ptr(tp.Data.V), DestPath: ptr(tp.Destination.V)})
			}
			tg.Tasks = append(tg.Tasks, task)
		}
		if len(tg.Tasks) > 0 {
			job.TaskGroups = append(job.TaskGroups, tg)
		}
	}
	if len(job.TaskGroups) == 0 || !slices.ContainsFunc(job.TaskGroups, func(g *nomadapi.TaskGroup) bool {
		return slices.ContainsFunc(g.Tasks, func(t *nomadapi.Task) bool { return t.Vault != nil })
	}) {
		// Every job of the scale set must use Vault; give the first task
		// the team's role.
		if len(job.TaskGroups) == 0 {
			job.TaskGroups = []*nomadapi.TaskGroup{{Name: ptr("app"), Count: ptr(0), Tasks: []*nomadapi.Task{{Name: "main", Driver: "raw_exec", Config: map[string]any{"command": "/bin/true"}}}}}
		}
		job.TaskGroups[0].Tasks[0].Vault = &nomadapi.Vault{Role: ns}
	}
	return job
}

func ptr[T any](v T) *T { return &v }

// load runs f(i) for i in [from, to) on 4 goroutines.
func load(t *testing.T, f func(int), from, to int) {
	t.Helper()
	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	next.Store(int64(from))
	for range 4 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= to {
					return
				}
				f(i)
			}
		})
	}
	wg.Wait()
}

// pooled is a transport like Collect's own (keep-alive, as many idle
// connections per host as workers).
func pooled() *http.Transport {
	return &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        100,
		MaxIdleConnsPerHost: workers,
		IdleConnTimeout:     90 * time.Second,
	}
}

// requestLog counts and records every request that goes through it.
type requestLog struct {
	n    atomic.Int64
	mu   sync.Mutex
	reqs []*http.Request
}

func (r *requestLog) wrap(next http.RoundTripper) http.RoundTripper {
	return scaleRoundTrip(func(req *http.Request) (*http.Response, error) {
		r.n.Add(1)
		clone := req.Clone(context.Background())
		clone.Body = nil
		r.mu.Lock()
		r.reqs = append(r.reqs, clone)
		r.mu.Unlock()
		return next.RoundTrip(req)
	})
}

type scaleRoundTrip func(*http.Request) (*http.Response, error)

func (f scaleRoundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// kinds counts the recorded requests by what they read.
func (r *requestLog) kinds() map[string]int {
	out := map[string]int{}
	for _, q := range r.reqs {
		p := q.URL.Path
		switch {
		case strings.HasPrefix(p, "/v1/sys/policies/acl/"):
			p = "policy"
		case strings.HasPrefix(p, "/v1/auth/token/roles/"):
			p = "token role"
		case strings.HasPrefix(p, "/v1/auth/"+corpus.Mount+"/role/"):
			p = "JWT role"
		case strings.HasPrefix(p, "/v1/job/") && strings.HasSuffix(p, "/allocations"):
			p = "job allocations"
		case strings.HasPrefix(p, "/v1/job/"):
			p = "job"
		case strings.HasPrefix(p, "/v1/node/"):
			p = "node"
		default:
			p = "other"
		}
		out[p]++
	}
	return out
}

// replay is the floor: the recorded requests, all at once on n workers
// (no waiting for lists, no decoding), on fresh connections like a
// collection's; it returns the wall time.
func (r *requestLog) replay(t *testing.T, n int) time.Duration {
	t.Helper()
	hc := &http.Client{Transport: pooled()}
	defer hc.CloseIdleConnections()
	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	t0 := time.Now()
	for range n {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(r.reqs) {
					return
				}
				req := r.reqs[i].Clone(context.Background())
				resp, err := hc.Do(req)
				if err != nil {
					t.Errorf("replay %s: %v", req.URL, err)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	return time.Since(t0)
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// settle waits until Nomad has no evaluation left to process.
func settle(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := http.Get(addr + "/v1/evaluations?namespace=*&filter=" + url.QueryEscape(`Status != "complete" and Status != "canceled" and Status != "failed"`))
		if err != nil {
			t.Fatal(err)
		}
		var evals []struct{ ID, Status string }
		err = json.NewDecoder(resp.Body).Decode(&evals)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(evals) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d evaluations still pending", len(evals))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// cpuTime is the CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
