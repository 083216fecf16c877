package bench

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"
	vaultapi "github.com/hashicorp/vault/api"

	"github.com/nvlint/nvlint/checks"
	"github.com/nvlint/nvlint/internal/corpus"
	"github.com/nvlint/nvlint/live"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// fleetRegions are the regions of the fake federation; job i lives in
// fleetRegions[i%2].
var fleetRegions = []string{"east", "west"}

// fleetWorkers is live's pool size: the floor fetches with as many
// requests in flight as doctor.
const fleetWorkers = 8

// fleetPlan is a fleet of jobs jobs in 20 namespaces (one per team),
// with about jobs/10 policies and jobs/50 JWT roles: at 10,000 jobs,
// 1,000 policies and 200 roles.
func fleetPlan(jobs int) corpus.Plan {
	roles := jobs / 50
	teams := 20
	spare := roles - teams - 1 // the default role and one per team
	// Policies: the default role's, one shared per team, one per spare
	// role, and the apps' policies for the rest.
	return corpus.Plan{Teams: teams, Jobs: jobs, SpareJWTRoles: spare, AppPolicies: jobs/10 - 1 - teams - spare, NoLegacyServer: true, JSONShare: 1}
}

// fleetJob is one job as the fake Nomad serves it.
type fleetJob struct {
	ns, id, region string
	vault, failing bool
	body           []byte // GET /v1/job/:id
}

// fakeFleet answers the reads doctor makes as a federation of two Nomad
// regions and one Vault would, from a generated corpus:
//   - Nomad: agent/self, regions, members, the upgrade check, two ready
//     nodes per region, each region's JWKS (one key each, both trusted by
//     the auth mount), /v1/jobs (namespace "*" or one, region, per_page
//     and next_token honoured; any filter is taken as the vault-jobs
//     filter doctor sends and answered with the jobs that have a task
//     with a vault block, which is what Nomad's constraint-based filter
//     selects; a filter is not evaluated), /v1/job/:id (namespace and
//     region honoured), /v1/job/:id/allocations (two allocations with a
//     template failure event for every hundredth job, which the list
//     shows failing), and /v1/allocations (one running allocation per
//     job, paged; the filter is taken as ClientStatus == "running").
//   - Vault: sys/health, sys/auth (the corpus's JWT mount and token),
//     sys/mounts (kv v2), the ACL policies, no token roles, no entity
//     aliases, the JWT mount's config (jwks_url: this server's JWKS of
//     the first region) and roles.
//
// Every request is counted and, while recording, kept for the floor.
type fakeFleet struct {
	srv      *httptest.Server
	jobs     map[string][]*fleetJob // by region, sorted by namespace and ID
	byKey    map[string]*fleetJob   // region/ns/id
	policies map[string][]byte      // name -> answer
	roles    map[string][]byte      // name -> answer
	lists    map[string][]byte      // Vault LIST and fixed answers, by path
	jwks     map[string][]byte      // by region
	objects  int                    // policies + JWT roles + jobs with a vault block

	n         atomic.Int64
	recording atomic.Bool
	mu        sync.Mutex
	uris      []string
}

func newFakeFleet(tb testing.TB, jobs int) *fakeFleet {
	tb.Helper()
	dir, _ := doctorCorpus(tb, fleetPlan(jobs))
	f := &fakeFleet{jobs: map[string][]*fleetJob{}, byKey: map[string]*fleetJob{}, policies: map[string][]byte{},
		roles: map[string][]byte{}, lists: map[string][]byte{}, jwks: map[string][]byte{}}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	f.srv.Start()
	tb.Cleanup(f.srv.Close)

	vaultData := func(v any) []byte {
		b, err := json.Marshal(map[string]any{"data": v})
		if err != nil {
			tb.Fatal(err)
		}
		return b
	}
	corp := readFleetCorpus(tb, dir)
	for i, job := range corp.jobs {
		region := job["Region"].(string)
		j := &fleetJob{ns: job["Namespace"].(string), id: job["ID"].(string), region: region, failing: i%100 == 7, vault: tasksWithVault(job) != nil}
		var err error
		if j.body, err = json.Marshal(job); err != nil {
			tb.Fatal(err)
		}
		f.jobs[region] = append(f.jobs[region], j)
		f.byKey[region+"/"+j.ns+"/"+j.id] = j
		if j.vault {
			f.objects++
		}
	}
	var policyNames, roleNames []string
	for _, p := range corp.policies {
		f.policies[p.name] = vaultData(map[string]string{"name": p.name, "policy": string(p.body)})
		policyNames = append(policyNames, p.name)
	}
	for _, r := range corp.roles {
		f.roles[r.name] = []byte(`{"data":` + string(r.body) + `}`)
		roleNames = append(roleNames, r.name)
	}
	f.objects += len(f.policies) + len(f.roles)
	for _, js := range f.jobs {
		slices.SortFunc(js, func(a, b *fleetJob) int { return strings.Compare(a.ns+"\x00"+a.id, b.ns+"\x00"+b.id) })
	}

	// The auth config, with its keys fetched from here.
	cfg := corp.authConfig
	delete(cfg, "oidc_discovery_url")
	delete(cfg, "jwt_validation_pubkeys")
	cfg["jwks_url"] = f.srv.URL + "/.well-known/jwks.json"
	f.lists["/v1/auth/"+corpus.Mount+"/config"] = vaultData(cfg)
	slices.Sort(policyNames)
	slices.Sort(roleNames)
	f.lists["/v1/sys/policies/acl"] = vaultData(map[string]any{"keys": append(policyNames, "root")})
	f.lists["/v1/auth/"+corpus.Mount+"/role"] = vaultData(map[string]any{"keys": roleNames})
	f.lists["/v1/sys/auth"] = vaultData(map[string]any{
		corpus.Mount + "/": map[string]string{"type": "jwt", "accessor": corpus.Accessor},
		"token/":           map[string]string{"type": "token", "accessor": "auth_token_0a1b2c3d"},
	})
	f.lists["/v1/sys/mounts"] = vaultData(map[string]any{
		"kv/":     map[string]any{"type": "kv", "options": map[string]string{"version": "2"}},
		"secret/": map[string]any{"type": "kv", "options": map[string]string{"version": "2"}},
	})
	f.lists["/v1/sys/health"] = []byte(`{"initialized":true,"sealed":false,"standby":false,"version":"1.19.0","cluster_name":"vault-fleet"}`)

	// One signing key per region; the mount trusts the first region's
	// JWKS URL, which lists both (as a JWKS URL behind a load balancer
	// over both regions would).
	var keys []map[string]string
	for _, r := range fleetRegions {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			tb.Fatal(err)
		}
		keys = append(keys, map[string]string{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "key-" + r,
			"n": base64.RawURLEncoding.EncodeToString(k.N.Bytes()), "e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes())})
	}
	for i, r := range fleetRegions {
		own, _ := json.Marshal(map[string]any{"keys": keys[i : i+1]})
		f.jwks[r] = own
	}
	all, _ := json.Marshal(map[string]any{"keys": keys})
	f.jwks[""] = all
	return f
}

// fleetCorpus is a generated fleet corpus as both fleets load it.
type fleetCorpus struct {
	jobs            []map[string]any // as `nomad job inspect` prints them, unwrapped; job i in region fleetRegions[i%2]
	policies, roles []namedBody      // named as the corpus names their files
	authConfig      map[string]any   // the JWT mount's
}

type namedBody struct {
	name string
	body []byte
}

func readFleetCorpus(tb testing.TB, dir string) fleetCorpus {
	tb.Helper()
	var c fleetCorpus
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel, base := filepath.ToSlash(rel), filepath.Base(p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		switch {
		case strings.HasSuffix(rel, ".nomad.json"):
			var wrapped struct{ Job map[string]any }
			if err := json.Unmarshal(data, &wrapped); err != nil {
				return err
			}
			wrapped.Job["Region"] = fleetRegions[len(c.jobs)%len(fleetRegions)]
			c.jobs = append(c.jobs, wrapped.Job)
		case strings.HasPrefix(rel, "vault/policies/"):
			name := strings.TrimPrefix(strings.TrimSuffix(strings.TrimSuffix(base, ".hcl"), "-policy"), "vault-policy-")
			c.policies = append(c.policies, namedBody{name, data})
		case strings.HasPrefix(rel, "vault/jwt-roles/"):
			c.roles = append(c.roles, namedBody{strings.TrimPrefix(strings.TrimSuffix(base, ".json"), "vault-role-"), data})
		case strings.HasPrefix(rel, "vault/auth/"):
			return json.Unmarshal(data, &c.authConfig)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// tasksWithVault returns the vault blocks of a job's tasks.
func tasksWithVault(job map[string]any) []map[string]any {
	var out []map[string]any
	groups, _ := job["TaskGroups"].([]any)
	for _, g := range groups {
		g, _ := g.(map[string]any)
		tasks, _ := g["Tasks"].([]any)
		for _, t := range tasks {
			t, _ := t.(map[string]any)
			if v, ok := t["Vault"].(map[string]any); ok {
				out = append(out, v)
			}
		}
	}
	return out
}

// record starts or stops keeping the requests for the floor.
func (f *fakeFleet) record(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if on {
		f.uris = nil
	}
	f.recording.Store(on)
}

func (f *fakeFleet) serve(w http.ResponseWriter, r *http.Request) {
	f.n.Add(1)
	if f.recording.Load() {
		f.mu.Lock()
		f.uris = append(f.uris, r.URL.RequestURI())
		f.mu.Unlock()
	}
	if r.Method != http.MethodGet {
		http.Error(w, `{"errors":["read only"]}`, http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	region := q.Get("region")
	if region == "" {
		region = fleetRegions[0]
	}
	p := r.URL.Path
	h := w.Header()
	h.Set("Content-Type", "application/json")
	// Nomad's query metadata, which its client needs to read a page's
	// next token.
	h.Set("X-Nomad-Index", "1")
	h.Set("X-Nomad-LastContact", "0")
	h.Set("X-Nomad-KnownLeader", "true")
	writeJSON := func(v any) {
		_ = json.NewEncoder(w).Encode(v)
	}
	switch {
	case f.lists[p] != nil:
		_, _ = w.Write(f.lists[p])
	case strings.HasPrefix(p, "/v1/sys/policies/acl/"):
		f.write(w, f.policies[strings.TrimPrefix(p, "/v1/sys/policies/acl/")])
	case strings.HasPrefix(p, "/v1/auth/"+corpus.Mount+"/role/"):
		f.write(w, f.roles[strings.TrimPrefix(p, "/v1/auth/"+corpus.Mount+"/role/")])
	case strings.HasPrefix(p, "/v1/auth/token/roles"), strings.HasPrefix(p, "/v1/identity/"):
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"errors":[]}`)
	case p == "/v1/agent/self":
		writeJSON(map[string]any{
			"config": map[string]any{
				"Region": fleetRegions[0], "Server": map[string]any{"Enabled": true}, "Client": map[string]any{"Enabled": false},
				"Version": map[string]any{"Version": "1.10.0"},
				"Vaults": []map[string]any{{"Name": "default", "Enabled": true, "Addr": f.srv.URL, "JWTAuthBackendPath": corpus.Mount,
					"DefaultIdentity": map[string]any{"Audience": []string{"vault.io"}, "TTL": int64(time.Hour)}}},
			},
			"member": map[string]any{"Name": "server-1." + fleetRegions[0], "Tags": map[string]string{"region": fleetRegions[0], "build": "1.10.0"}},
		})
	case p == "/v1/regions":
		writeJSON(fleetRegions)
	case p == "/v1/agent/members":
		var ms []map[string]any
		for _, r := range fleetRegions {
			ms = append(ms, map[string]any{"Name": "server-1." + r, "Status": "alive", "Tags": map[string]string{"region": r, "build": "1.10.0"}})
		}
		writeJSON(map[string]any{"Members": ms})
	case p == "/v1/operator/upgrade-check/vault-workload-identity":
		writeJSON(map[string]any{"VaultTokens": []any{}})
	case p == "/v1/nodes":
		host := strings.TrimPrefix(f.srv.URL, "http://")
		writeJSON([]map[string]string{
			{"ID": region + "-node-1", "Name": region + "-node-1", "Status": "ready", "Version": "1.10.0", "Datacenter": "dc1", "HTTPAddr": host},
			{"ID": region + "-node-2", "Name": region + "-node-2", "Status": "ready", "Version": "1.10.0", "Datacenter": "dc1", "HTTPAddr": host},
		})
	case strings.HasPrefix(p, "/v1/node/"):
		writeJSON(map[string]any{"HTTPAddr": strings.TrimPrefix(f.srv.URL, "http://"),
			"Attributes": map[string]string{"nomad.version": "1.10.0", "vault.default.version": "1.19.0", "vault.default.accessible": "true"}})
	case p == "/.well-known/jwks.json":
		if q.Has("region") {
			_, _ = w.Write(f.jwks[region])
		} else {
			_, _ = w.Write(f.jwks[""])
		}
	case p == "/v1/jobs":
		f.page(w, q, f.jobs[region], q.Get("filter") != "", func(j *fleetJob) any {
			st := map[string]int{"Failed": 0, "Lost": 0, "Starting": 0, "Unknown": 0, "Running": 1}
			if j.failing {
				st["Failed"] = 2
			}
			return map[string]any{"ID": j.id, "Name": j.id, "Namespace": j.ns, "ParentID": "", "Type": "service", "Status": "running",
				"SubmitTime": 1, "JobSummary": map[string]any{"Summary": map[string]any{"app": st}}}
		})
	case p == "/v1/allocations":
		f.page(w, q, f.jobs[region], false, func(j *fleetJob) any {
			return map[string]any{"ID": j.region + "-" + j.ns + "-" + j.id + "-alloc", "JobID": j.id, "Namespace": j.ns, "TaskGroup": "app", "ClientStatus": "running",
				"TaskStates": map[string]any{"main": map[string]any{"State": "running", "StartedAt": "2026-12-01T00:00:00Z"}}}
		})
	case strings.HasPrefix(p, "/v1/job/") && strings.HasSuffix(p, "/allocations"):
		id := strings.TrimSuffix(strings.TrimPrefix(p, "/v1/job/"), "/allocations")
		j := f.byKey[region+"/"+q.Get("namespace")+"/"+id]
		if j == nil {
			http.NotFound(w, r)
			return
		}
		var out []any
		for k := range 2 {
			out = append(out, map[string]any{"ID": fmt.Sprintf("%s-%s-%d", j.ns, j.id, k), "JobID": j.id, "Namespace": j.ns, "TaskGroup": "app", "ModifyTime": k,
				"TaskStates": map[string]any{"main": map[string]any{"State": "pending", "Events": []map[string]any{{"Type": "Template", "Time": 1,
					"DisplayMessage": `Missing: vault.read(kv/data/` + j.ns + `/` + j.id + `/config)`}}}}})
		}
		writeJSON(out)
	case strings.HasPrefix(p, "/v1/job/"):
		j := f.byKey[region+"/"+q.Get("namespace")+"/"+strings.TrimPrefix(p, "/v1/job/")]
		if j == nil {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(j.body)
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeFleet) write(w http.ResponseWriter, b []byte) {
	if b == nil {
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"errors":[]}`)
		return
	}
	_, _ = w.Write(b)
}

// page answers a Nomad list: the namespace ("*" or one), from
// next_token (the namespace and ID of the first entry, as Nomad's token
// for a list over namespaces), per_page entries, with X-Nomad-NextToken
// when more are left. vaultOnly keeps the jobs with a vault block.
func (f *fakeFleet) page(w http.ResponseWriter, q map[string][]string, jobs []*fleetJob, vaultOnly bool, entry func(*fleetJob) any) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	ns, next := get("namespace"), get("next_token")
	perPage, _ := strconv.Atoi(get("per_page"))
	out := []any{}
	for _, j := range jobs {
		if (ns != "*" && ns != "" && j.ns != ns) || (vaultOnly && !j.vault) || (next != "" && j.ns+"."+j.id < next) {
			continue
		}
		if perPage > 0 && len(out) == perPage {
			w.Header().Set("X-Nomad-NextToken", j.ns+"."+j.id)
			break
		}
		out = append(out, entry(j))
	}
	_ = json.NewEncoder(w).Encode(out)
}

// collectFleet is what doctor does in one run, in process: collect every
// region and namespace, and run every rule.
func collectFleet(f *fakeFleet) (collect, total time.Duration, findings, problems int) {
	t0 := time.Now()
	w := f.collect()
	collect = time.Since(t0)
	rr := rules.Run(w, checks.All())
	return collect, time.Since(t0), len(rr.Findings), len(w.Live.Problems)
}

// collect runs doctor's collection over the fake.
func (f *fakeFleet) collect() *world.World {
	return collectFleetAt(f.srv.URL, f.srv.URL, "fleet-token", nil)
}

// collectFleetAt runs doctor's collection against Nomad at nomadAddr and
// Vault at vaultAddr, with every request sent through rt if not nil.
func collectFleetAt(nomadAddr, vaultAddr, vaultToken string, rt http.RoundTripper) *world.World {
	vc := vaultapi.DefaultConfig()
	vc.Address = vaultAddr
	nc := &nomadapi.Config{Address: nomadAddr}
	if rt != nil {
		vc.HttpClient = &http.Client{Transport: rt}
		nc.HttpClient = &http.Client{Transport: rt}
	}
	w, _ := live.Collect(context.Background(), live.Options{
		Vault: vc, VaultToken: vaultToken, Nomad: nc, RequestTimeout: 30 * time.Second,
	})
	return w
}

// BenchmarkDoctorFleetRules times the rules alone over the world one
// collection of the fake fleet of BenchmarkDoctorFleet gives, for
// changes to the rules, whose time the collection's noise hides there.
//
//	go test ./internal/bench -run '^$' -bench DoctorFleetRules -benchtime 5x
func BenchmarkDoctorFleetRules(b *testing.B) {
	w := newFakeFleet(b, 10000).collect()
	var findings int
	b.ResetTimer()
	for range b.N {
		findings = len(rules.Run(w, checks.All()).Findings)
	}
	b.ReportMetric(float64(findings), "findings")
}

// floor fetches uris from the fake as sendAgain does.
func (f *fakeFleet) floor(tb testing.TB, uris []string, n int, decode bool) time.Duration {
	reqs := make([]*http.Request, len(uris))
	for i, u := range uris {
		req, err := http.NewRequest(http.MethodGet, f.srv.URL+u, nil)
		if err != nil {
			tb.Fatal(err)
		}
		reqs[i] = req
	}
	return sendAgain(tb, reqs, n, decode)
}

// fleetTransport is a transport like live's own: keep-alive, as many
// idle connections per host as doctor has requests in flight.
func fleetTransport() *http.Transport {
	return &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        100,
		MaxIdleConnsPerHost: fleetWorkers,
	}
}

// sendAgain is a floor: it sends reqs with n in flight on a plain client,
// on fresh connections, reading and dropping every body; with decode,
// decoding each body's JSON first, as any client that reads the objects
// must. It returns the wall time.
func sendAgain(tb testing.TB, reqs []*http.Request, n int, decode bool) time.Duration {
	hc := &http.Client{Transport: fleetTransport()}
	defer hc.CloseIdleConnections()
	var next atomic.Int64
	var wg sync.WaitGroup
	t0 := time.Now()
	for range n {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(reqs) {
					return
				}
				resp, err := hc.Do(reqs[i].Clone(context.Background()))
				if err != nil {
					tb.Errorf("floor: %v", err)
					continue
				}
				if decode {
					// A request that asked for gzip itself gets the
					// body as sent.
					var body io.Reader = resp.Body
					if resp.Header.Get("Content-Encoding") == "gzip" {
						zr, err := gzip.NewReader(resp.Body)
						if err != nil {
							tb.Errorf("floor: %s: %v", reqs[i].URL, err)
							resp.Body.Close()
							continue
						}
						body = zr
					}
					var v any
					if err := json.NewDecoder(body).Decode(&v); err != nil {
						tb.Errorf("floor: %s: %v", reqs[i].URL, err)
					}
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	return time.Since(t0)
}

// heapPeak samples the heap's live and unswept objects every few
// milliseconds (runtime/metrics does not stop the world) until stop is
// called, which returns the largest sample.
func heapPeak() (stop func() uint64) {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak uint64
	done, out := make(chan struct{}), make(chan uint64)
	go func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(s)
			peak = max(peak, s[0].Value.Uint64())
			select {
			case <-done:
				out <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 { close(done); return <-out }
}

// BenchmarkDoctorFleet is doctor over a fleet: 10,000 jobs in 20
// namespaces and 2 regions, 1,000 policies and 200 JWT roles, served on
// loopback by a fake federation and Vault (fakeFleet). Each iteration
// runs, side by side:
//   - doctor in process (live.Collect over every region and namespace,
//     then every rule), recording the requests it made, cold (no
//     template parses kept from the iteration before);
//   - the floor: the same requests, fetched by a plain client with as
//     many in flight as doctor (8), bodies read and dropped;
//   - the same floor decoding each body's JSON (into any), which any
//     client that reads the objects pays;
//   - the nvlint binary (`nvlint doctor`, built once) against the same
//     fake, for its wall time and peak RSS (peakRSS).
//
// It reports doctor's wall time (doctor-s; collect-s of it is the
// collection), the floors', the ratios of doctor and the binary to the
// floors (means of the per-iteration ratios, and medians of those to the
// floor), the requests, the peak heap of the in-process run over what the
// fake holds (heap-MB), and the binary's wall time and peak RSS. Each
// iteration's figures go to stderr.
//
//	go test ./internal/bench -run '^$' -bench 'DoctorFleet$' -benchtime 3x
func BenchmarkDoctorFleet(b *testing.B) {
	f := newFakeFleet(b, 10000)
	bin := buildNvlint(b)
	b.Logf("fleet: %d jobs (%d with a vault block) in %d regions, %d policies, %d JWT roles",
		len(f.byKey), f.objects-len(f.policies)-len(f.roles), len(fleetRegions), len(f.policies), len(f.roles))
	var runs fleetRuns
	var heap uint64
	b.ResetTimer()
	for range b.N {
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		world.ForgetParsedTemplates() // a cold run, as the binary's
		f.record(true)
		n0 := f.n.Load()
		stop := heapPeak()
		c, d, nf, np := collectFleet(f)
		peak := stop()
		f.record(false)
		if np > 0 {
			b.Errorf("doctor recorded %d problems", np)
		}
		r := fleetRun{collect: c, doctor: d, requests: int(f.n.Load() - n0), findings: nf}
		r.floor = f.floor(b, slices.Clone(f.uris), fleetWorkers, false)
		r.floorDecode = f.floor(b, slices.Clone(f.uris), fleetWorkers, true)
		r.binWall, r.rss = runNvlintDoctor(b, bin, f.srv.URL)
		runs.add(r)
		heap = max(heap, peak-min(peak, base.HeapAlloc))
	}
	runs.report(b)
	b.ReportMetric(float64(heap>>20), "heap-MB")
}

// fleetRun is one iteration of a fleet benchmark.
type fleetRun struct {
	collect, doctor, floor, floorDecode, binWall time.Duration
	rss                                          uint64
	requests, findings                           int
}

// fleetRuns gathers a fleet benchmark's iterations and reports their
// means, the medians of the ratios to the floor and the largest RSS.
type fleetRuns []fleetRun

// add keeps r and prints it: benchmark logs are cut after a few lines.
func (rs *fleetRuns) add(r fleetRun) {
	*rs = append(*rs, r)
	fmt.Fprintf(os.Stderr, "run: doctor %v (collect %v), floor %v, %.2fx, decoding %v, %.2fx; nvlint doctor %v, %.2fx, %d MB RSS; %d requests, %d findings\n",
		r.doctor.Round(time.Millisecond), r.collect.Round(time.Millisecond), r.floor.Round(time.Millisecond), ratio(r.doctor, r.floor),
		r.floorDecode.Round(time.Millisecond), ratio(r.doctor, r.floorDecode),
		r.binWall.Round(time.Millisecond), ratio(r.binWall, r.floor), r.rss>>20, r.requests, r.findings)
}

func ratio(a, b time.Duration) float64 { return float64(a) / float64(b) }

func (rs fleetRuns) report(b *testing.B) {
	values := func(f func(fleetRun) float64) []float64 {
		var xs []float64
		for _, r := range rs {
			xs = append(xs, f(r))
		}
		return xs
	}
	mean := func(f func(fleetRun) float64) float64 {
		var sum float64
		for _, x := range values(f) {
			sum += x
		}
		return sum / float64(len(rs))
	}
	median := func(f func(fleetRun) float64) float64 {
		xs := slices.Sorted(slices.Values(values(f)))
		return xs[len(xs)/2]
	}
	doctorRatio := func(r fleetRun) float64 { return ratio(r.doctor, r.floor) }
	binRatio := func(r fleetRun) float64 { return ratio(r.binWall, r.floor) }
	b.ReportMetric(mean(func(r fleetRun) float64 { return r.doctor.Seconds() }), "doctor-s")
	b.ReportMetric(mean(func(r fleetRun) float64 { return r.collect.Seconds() }), "collect-s")
	b.ReportMetric(mean(func(r fleetRun) float64 { return r.floor.Seconds() }), "floor-s")
	b.ReportMetric(mean(doctorRatio), "doctor/floor")
	b.ReportMetric(median(doctorRatio), "doctor/floor-median")
	b.ReportMetric(mean(func(r fleetRun) float64 { return ratio(r.collect, r.floor) }), "collect/floor")
	b.ReportMetric(mean(func(r fleetRun) float64 { return r.floorDecode.Seconds() }), "floor-decode-s")
	b.ReportMetric(mean(func(r fleetRun) float64 { return ratio(r.doctor, r.floorDecode) }), "doctor/floor-decode")
	b.ReportMetric(mean(binRatio), "nvlint/floor")
	b.ReportMetric(median(binRatio), "nvlint/floor-median")
	b.ReportMetric(float64(rs[len(rs)-1].requests), "requests")
	b.ReportMetric(mean(func(r fleetRun) float64 { return r.binWall.Seconds() }), "nvlint-s")
	b.ReportMetric(slices.Max(values(func(r fleetRun) float64 { return float64(r.rss >> 20) })), "nvlint-RSS-MB")
}

// peakRSS follows a child's peak resident set (VmHWM) in /proc until it
// exits, polling every 5 ms; 0 without /proc. The kernel's maxrss of a
// child is no use here: Go starts children with vfork, and exec counts
// the parent's peak into the child's, so the benchmark's own gigabyte
// showed as nvlint's.
func peakRSS(pid int) uint64 {
	var peak uint64
	for {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			return peak
		}
		_, rest, found := strings.Cut(string(data), "VmHWM:")
		if !found {
			return peak // exited: a zombie has no memory
		}
		fields := strings.Fields(rest)
		if kb, err := strconv.ParseUint(fields[0], 10, 64); err == nil {
			peak = max(peak, kb<<10)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// buildNvlint builds the nvlint binary into a temporary directory.
func buildNvlint(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "nvlint")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/nvlint/nvlint/cmd/nvlint")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// fleetEnv is the environment of an nvlint run against the fake at
// addr, with the runtime's settings of this process, to try them.
func fleetEnv(b *testing.B, addr string) []string {
	return fleetEnvFor(b, addr, addr, "fleet-token")
}

// fleetEnvFor is the environment of an nvlint run against Nomad at
// nomadAddr and Vault at vaultAddr, with the runtime's settings of this
// process.
func fleetEnvFor(b *testing.B, nomadAddr, vaultAddr, vaultToken string) []string {
	env := []string{"HOME=" + b.TempDir(), "PATH=" + os.Getenv("PATH"), "NOMAD_ADDR=" + nomadAddr, "VAULT_ADDR=" + vaultAddr, "VAULT_TOKEN=" + vaultToken}
	for _, k := range []string{"GOGC", "GOMEMLIMIT", "GOMAXPROCS"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// runNvlintDoctor runs `nvlint doctor` against the fake and returns its
// wall time and peak RSS (peakRSS). Findings (exit 1) are expected.
func runNvlintDoctor(b *testing.B, bin, addr string) (time.Duration, uint64) {
	return runNvlintDoctorEnv(b, bin, fleetEnv(b, addr))
}

// runNvlintDoctorEnv runs `nvlint doctor` with env (see fleetEnv) and
// returns its wall time and peak RSS (peakRSS).
func runNvlintDoctorEnv(b *testing.B, bin string, env []string) (time.Duration, uint64) {
	b.Helper()
	cmd := exec.Command(bin, "doctor", "--format", "json", "--timeout", "30s")
	cmd.Env = env
	cmd.Stdout = io.Discard
	var stderr strings.Builder
	cmd.Stderr = &stderr
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	hwm := make(chan uint64)
	go func() { hwm <- peakRSS(cmd.Process.Pid) }()
	err := cmd.Wait()
	wall := time.Since(t0)
	if code := cmd.ProcessState.ExitCode(); err != nil && code != 1 {
		b.Fatalf("nvlint doctor: %v\n%s", err, stderr.String())
	}
	rss := <-hwm
	if rss == 0 {
		// No /proc: the kernel's count, which may include this
		// process's peak (see peakRSS).
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			rss = uint64(ru.Maxrss) << 10 // kilobytes on Linux
		}
	}
	return wall, rss
}

// TestDoctorFleetRequestsLinear counts the requests of one doctor
// collection over the fake fleet at 1,000 and 2,000 jobs (with 100 and
// 200 policies, 20 and 40 JWT roles): what doubling the objects adds
// must be one request per added object, plus the pages and the
// allocation reads of the failing jobs, which grow with the jobs too —
// never more than 10% over one per object. Counts, not times.
func TestDoctorFleetRequestsLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("generates two corpora")
	}
	var objects, requests [2]int
	for i, jobs := range []int{1000, 2000} {
		f := newFakeFleet(t, jobs)
		n0 := f.n.Load()
		_, _, _, problems := collectFleet(f)
		if problems > 0 {
			t.Errorf("%d jobs: doctor recorded %d problems", jobs, problems)
		}
		objects[i], requests[i] = f.objects, int(f.n.Load()-n0)
		t.Logf("%d jobs: %d objects (policies, JWT roles, jobs with a vault block): %d requests", jobs, objects[i], requests[i])
	}
	added, grew := objects[1]-objects[0], requests[1]-requests[0]
	if grew < added || float64(grew) > 1.1*float64(added) {
		t.Errorf("requests grew by %d for %d added objects; want one per object, at most 10%% more", grew, added)
	}
}

// BenchmarkDoctorWatchFleet runs `nvlint doctor --watch` over the fake
// fleet of BenchmarkDoctorFleet for watchRuns runs back to back and
// reports the binary's peak RSS over all of them (watch-RSS-MB) beside
// one `nvlint doctor` run's (nvlint-RSS-MB): each run of a watch is
// bounded as a single run is, so the two should be close.
//
//	go test ./internal/bench -run '^$' -bench DoctorWatchFleet -benchtime 1x
func BenchmarkDoctorWatchFleet(b *testing.B) {
	const watchRuns = 4
	f := newFakeFleet(b, 10000)
	bin := buildNvlint(b)
	var once, watched uint64
	b.ResetTimer()
	for range b.N {
		_, rss := runNvlintDoctor(b, bin, f.srv.URL)
		once = max(once, rss)
		watched = max(watched, runNvlintWatch(b, bin, f.srv.URL, watchRuns))
		b.Logf("nvlint doctor %d MB RSS; nvlint doctor --watch, %d runs: %d MB RSS", once>>20, watchRuns, watched>>20)
	}
	b.ReportMetric(float64(once>>20), "nvlint-RSS-MB")
	b.ReportMetric(float64(watched>>20), "watch-RSS-MB")
}

// runNvlintWatch runs `nvlint doctor --watch` against the fake until it
// has logged runs runs, then stops it, and returns its peak RSS.
func runNvlintWatch(b *testing.B, bin, addr string, runs int) uint64 {
	b.Helper()
	cmd := exec.Command(bin, "doctor", "--watch", "--interval", "1s", "--listen", "127.0.0.1:0", "--timeout", "30s")
	cmd.Env = fleetEnv(b, addr)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	hwm := make(chan uint64)
	go func() { hwm <- peakRSS(cmd.Process.Pid) }()
	lines := bufio.NewScanner(stderr)
	lines.Buffer(nil, 64<<20)
	var logged []string
	for n := 0; n < runs && lines.Scan(); {
		// The first line says where the metrics are served; each run
		// logs one more.
		if logged = append(logged, lines.Text()); !strings.Contains(lines.Text(), "serving metrics") {
			n++
		}
	}
	_ = cmd.Process.Signal(os.Interrupt)
	go func() { _, _ = io.Copy(io.Discard, stderr) }()
	_ = cmd.Wait()
	if len(logged) < runs+1 {
		b.Fatalf("nvlint doctor --watch logged %d lines, want %d runs:\n%s", len(logged), runs, strings.Join(logged, "\n"))
	}
	return <-hwm
}
