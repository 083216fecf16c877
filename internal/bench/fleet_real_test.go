package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/nvlint/nvlint/checks"
	"github.com/nvlint/nvlint/internal/corpus"
	"github.com/nvlint/nvlint/internal/realserver"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// realFleetEnv opts in to BenchmarkDoctorFleetReal, which starts real
// servers and loads them for a minute or two; its value is the number of
// jobs (1 or any other non-number: 10,000).
const realFleetEnv = "NVLINT_BENCH_REAL_FLEET"

// realFleet is the fleet of BenchmarkDoctorFleet loaded into real
// servers: two federated Nomad dev agents (regions east and west) and one
// Vault dev server.
type realFleet struct {
	vault     *realserver.Vault
	regions   []*realserver.Nomad // as fleetRegions
	vaultJobs int                 // jobs with a vault block
}

// newRealFleet starts the servers and loads the corpus of fleetPlan(jobs)
// into them, as newFakeFleet serves it: job i in fleetRegions[i%2], the
// policies, and the JWT roles on the corpus's mount, which trusts both
// regions' signing keys (as PEMs, jwt_validation_pubkeys). Two changes
// keep the dev agents light and within Nomad CE: every group has count
// 0, so nothing is placed and no job has allocations, and every vault
// block names the default cluster (CE has no other).
func newRealFleet(b *testing.B, jobs int) *realFleet {
	b.Helper()
	dir, _ := doctorCorpus(b, fleetPlan(jobs))
	f := &realFleet{vault: realserver.StartVault(b)}
	f.regions = realserver.StartFederation(b, fleetRegions, realserver.NomadOptions{
		VaultAddr: f.vault.Addr, VaultBlock: `default_identity { aud = ["vault.io"] ttl = "1h" }`,
		// Nomad's debug log of every registration slows the loading.
		// Its leader publishes a gauge per job every collection
		// interval (1s by default), which with 10,000 jobs keeps half a
		// core busy: servers of their own would not take that from
		// doctor, these share its two cores.
		Extra: "log_level = \"INFO\"\ntelemetry {\n  collection_interval = \"10m\"\n}\n",
	}, nil)
	vc := f.vault.Client(b)

	start := time.Now()
	if err := vc.Sys().EnableAuthWithOptions(corpus.Mount, &vaultapi.EnableAuthOptions{Type: "jwt"}); err != nil {
		b.Fatal(err)
	}
	if err := vc.Sys().Mount("kv", &vaultapi.MountInput{Type: "kv", Options: map[string]string{"version": "2"}}); err != nil {
		b.Fatal(err)
	}
	auths, err := vc.Sys().ListAuth()
	if err != nil {
		b.Fatal(err)
	}
	accessor := auths[corpus.Mount+"/"].Accessor

	corp := readFleetCorpus(b, dir)
	var jobBodies [][]byte
	namespaces := map[string]bool{}
	for _, job := range corp.jobs {
		namespaces[job["Namespace"].(string)] = true
		for _, g := range job["TaskGroups"].([]any) {
			g.(map[string]any)["Count"] = 0
		}
		vault := tasksWithVault(job)
		for _, v := range vault {
			v["Cluster"] = "default"
		}
		if len(vault) > 0 {
			f.vaultJobs++
		}
		body, err := json.Marshal(map[string]any{"Job": job})
		if err != nil {
			b.Fatal(err)
		}
		jobBodies = append(jobBodies, body)
	}
	policies, roles, authConfig := corp.policies, corp.roles, corp.authConfig
	for i := range policies {
		policies[i].body = bytes.ReplaceAll(policies[i].body, []byte(corpus.Accessor), []byte(accessor))
	}

	// The auth mount trusts both regions' keys.
	delete(authConfig, "jwks_url")
	delete(authConfig, "oidc_discovery_url")
	var pems []string
	for _, n := range f.regions {
		pems = append(pems, n.SigningKeyPEM(b))
	}
	authConfig["jwt_validation_pubkeys"] = pems
	if _, err := vc.Logical().Write("auth/"+corpus.Mount+"/config", authConfig); err != nil {
		b.Fatal(err)
	}
	loadEach(b, len(policies), func(i int) error {
		return vc.Sys().PutPolicy(policies[i].name, string(policies[i].body))
	})
	loadEach(b, len(roles), func(i int) error {
		_, err := vc.Logical().WriteBytes("auth/"+corpus.Mount+"/role/"+roles[i].name, roles[i].body)
		return err
	})

	// Without ACLs, Nomad does not replicate namespaces between regions
	// and writes each where it is sent.
	for _, n := range f.regions {
		for ns := range namespaces {
			if err := nomadWrite(n.Addr+"/v1/namespace/"+ns, fmt.Appendf(nil, `{"Name":%q}`, ns)); err != nil {
				b.Fatal(err)
			}
		}
	}
	var failed atomic.Int64
	loadEach(b, len(jobBodies), func(i int) error {
		// Counted, not each an error: a corpus Nomad refuses would
		// refuse thousands.
		if err := nomadWrite(f.regions[i%len(f.regions)].Addr+"/v1/jobs", jobBodies[i]); err != nil && failed.Add(1) <= 3 {
			b.Logf("register: %v", err)
		}
		return nil
	})
	for _, n := range f.regions {
		waitFor(b, 5*time.Minute, "evaluations done in "+n.Addr, func() bool {
			var pending []struct{ ID string }
			q := url.Values{"namespace": {"*"}, "filter": {`Status != "complete" and Status != "canceled" and Status != "failed"`}}
			return nomadRead(n.Addr+"/v1/evaluations?"+q.Encode(), &pending) == nil && len(pending) == 0
		})
	}
	if failed.Load() > 0 {
		b.Fatalf("%d of %d jobs were refused", failed.Load(), len(jobBodies))
	}
	b.Logf("real fleet: %d jobs (%d with a vault block) in %d regions, %d policies, %d JWT roles, loaded in %v",
		len(jobBodies), f.vaultJobs, len(f.regions), len(policies), len(roles), time.Since(start).Round(time.Second))
	return f
}

// loadEach runs load(i) for i in [0, n) with fleetWorkers in flight.
func loadEach(b *testing.B, n int, load func(int) error) {
	b.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range fleetWorkers {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				if err := load(i); err != nil {
					b.Errorf("load %d: %v", i, err)
				}
			}
		})
	}
	wg.Wait()
}

func nomadWrite(u string, body []byte) error {
	resp, err := http.Post(u, "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s: %s", u, resp.Status, msg)
	}
	return nil
}

func nomadRead(u string, v any) error {
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", u, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

func waitFor(b *testing.B, timeout time.Duration, what string, done func() bool) {
	b.Helper()
	deadline := time.Now().Add(timeout)
	for !done() {
		if time.Now().After(deadline) {
			b.Fatalf("waited %v for %s", timeout, what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// requestRecorder keeps a copy of every request that goes through it,
// for the floor to send again.
type requestRecorder struct {
	mu   sync.Mutex
	reqs []*http.Request
	next http.RoundTripper
}

func (r *requestRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req.Clone(context.Background()))
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

// collect runs doctor's collection against the real fleet through east,
// with every request to Nomad and Vault sent through rt.
func (f *realFleet) collect(rt http.RoundTripper) *world.World {
	return collectFleetAt(f.regions[0].Addr, f.vault.Addr, f.vault.RootToken, rt)
}

// BenchmarkDoctorFleetReal is BenchmarkDoctorFleet against real
// servers: the same fleet (10,000 jobs in 20 namespaces and 2 regions,
// 1,000 policies, 200 JWT roles) loaded into two federated Nomad dev
// agents and a Vault dev server on loopback (newRealFleet), all on the
// machine that runs doctor. Each iteration runs, side by side, doctor in
// process (collection and rules, cold), the floor (the requests doctor
// made, sent again with as many in flight, bodies read and dropped; the
// few JWKS fetches doctor makes on a client of its own are not in it),
// the floor decoding every body, and the nvlint binary. It reports what
// BenchmarkDoctorFleet does but the heap. The fleet is loaded again for
// the benchmark's first, one-iteration run.
//
//	NVLINT_BENCH_REAL_FLEET=1 go test ./internal/bench -run '^$' -bench DoctorFleetReal -benchtime 5x -timeout 30m
func BenchmarkDoctorFleetReal(b *testing.B) {
	v := os.Getenv(realFleetEnv)
	if v == "" {
		b.Skipf("set %s=1 to run (starts real servers and loads 10,000 jobs into them)", realFleetEnv)
	}
	jobs, err := strconv.Atoi(v)
	if err != nil || jobs < 100 {
		jobs = 10000
	}
	f := newRealFleet(b, jobs)
	bin := buildNvlint(b)
	env := fleetEnvFor(b, f.regions[0].Addr, f.vault.Addr, f.vault.RootToken)
	var runs fleetRuns
	b.ResetTimer()
	for range b.N {
		runtime.GC()
		world.ForgetParsedTemplates()
		rec := &requestRecorder{next: fleetTransport()}
		t0 := time.Now()
		w := f.collect(rec)
		c := time.Since(t0)
		rr := rules.Run(w, checks.All())
		d := time.Since(t0)
		if len(w.Live.Problems) > 0 {
			b.Errorf("doctor recorded %d problems: %+v", len(w.Live.Problems), w.Live.Problems[0])
		}
		if got := len(w.Jobs); got != f.vaultJobs {
			b.Errorf("doctor read %d jobs, want the %d with a vault block", got, f.vaultJobs)
		}
		r := fleetRun{collect: c, doctor: d, requests: len(rec.reqs), findings: len(rr.Findings)}
		r.floor = sendAgain(b, rec.reqs, fleetWorkers, false)
		r.floorDecode = sendAgain(b, rec.reqs, fleetWorkers, true)
		r.binWall, r.rss = runNvlintDoctorEnv(b, bin, env)
		runs.add(r)
	}
	runs.report(b)
}
