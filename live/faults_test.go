package live

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"
	vaultapi "github.com/hashicorp/vault/api"

	"github.com/nvlint/nvlint/world"
)

// closedAddr is an address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "http://" + l.Addr().String()
	l.Close()
	return addr
}

func options(vaultAddr, nomadAddr string) Options {
	vcfg := vaultapi.DefaultConfig()
	vcfg.Address = vaultAddr
	return Options{
		Vault:          vcfg,
		VaultToken:     "hvs.vault-token-for-tests",
		ServerToken:    "hvs.server-token-for-tests",
		Nomad:          &nomadapi.Config{Address: nomadAddr, SecretID: "nomad-secret-id-for-tests"},
		RequestTimeout: 500 * time.Millisecond,
	}
}

// collectWithin runs Collect and fails if it takes longer than max.
func collectWithin(t *testing.T, o Options, max time.Duration) *world.World {
	t.Helper()
	start := time.Now()
	w, _ := Collect(context.Background(), o)
	if d := time.Since(start); d > max {
		t.Errorf("Collect took %v, want < %v", d, max)
	} else {
		t.Logf("Collect took %v", d)
	}
	if w.Live == nil {
		t.Fatal("World.Live is nil")
	}
	return w
}

// wantFatalOnly checks that each side gave exactly one fatal problem whose
// reason contains want.
func wantFatalOnly(t *testing.T, w *world.World, want string) {
	t.Helper()
	got := map[string]int{}
	for _, p := range w.Live.Problems {
		if !p.Fatal {
			t.Errorf("unexpected non-fatal problem %+v", p)
			continue
		}
		got[p.Area]++
		if !strings.Contains(p.Reason, want) {
			t.Errorf("problem %+v: reason does not contain %q", p, want)
		}
	}
	if got["vault"] != 1 || got["nomad"] != 1 {
		t.Errorf("fatal problems by area %v, want one each for vault and nomad: %+v", got, w.Live.Problems)
	}
	if len(w.Policies)+len(w.Jobs)+len(w.Agents) > 0 {
		t.Errorf("objects collected from unreachable clusters")
	}
}

func TestConnectionRefused(t *testing.T) {
	w := collectWithin(t, options(closedAddr(t), closedAddr(t)), 3*time.Second)
	wantFatalOnly(t, w, "connection refused")
	if w.Live.Vault == nil || w.Live.Nomad == nil || w.Live.Nomad.LegacyTokens != -1 {
		t.Errorf("live sides not set up: %+v %+v", w.Live.Vault, w.Live.Nomad)
	}
}

func TestHangingServer(t *testing.T) {
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer hang.Close()
	defer close(release)
	o := options(hang.URL, hang.URL)
	o.RequestTimeout = 300 * time.Millisecond
	w := collectWithin(t, o, 2*time.Second)
	wantFatalOnly(t, w, "no answer within 300ms")
}

// TestHangingMidway: a cluster that answers the first request and hangs
// on everything else still returns within a few timeouts.
func TestHangingMidway(t *testing.T) {
	release := make(chan struct{})
	// Requests open on the servers. A counter, not a WaitGroup: a
	// request the client gave up on may reach its handler only after
	// Collect returned, and a WaitGroup must not be added to while it is
	// waited on.
	var active atomic.Int64
	v, n := fakeVault(), fakeNomad()
	hang := func(w http.ResponseWriter, r *http.Request) {
		active.Add(1)
		defer active.Add(-1)
		// Read the body, or the server never notices the client leave.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}
	for p := range v.routes {
		if p != "GET /v1/sys/health" {
			v.routes[p] = hang
		}
	}
	for p := range n.routes {
		if p != "GET /v1/agent/self" {
			n.routes[p] = hang
		}
	}
	// Reads the fakes do not know hang too: a 404 would be an answer.
	v.fallback, n.fallback = hang, hang
	// Many objects: one timeout each would take 200 x 200ms / 8 workers.
	var policies []string
	var jobs []any
	for i := range 200 {
		name := fmt.Sprintf("p%d", i)
		policies = append(policies, name)
		v.routes["GET /v1/sys/policies/acl/"+name] = hang
		jobs = append(jobs, map[string]any{"ID": name, "Namespace": "default"})
		n.routes["GET /v1/job/"+name] = hang
	}
	v.routes["LIST /v1/sys/policies/acl"] = vaultData(map[string]any{"keys": policies})
	n.routes["GET /v1/jobs"] = jsonBody(jobs)
	vs, ns := httptest.NewServer(v), httptest.NewServer(n)
	defer vs.Close()
	defer ns.Close()
	defer close(release)
	o := options(vs.URL, ns.URL)
	o.RequestTimeout = 200 * time.Millisecond
	w := collectWithin(t, o, 1500*time.Millisecond)
	for deadline := time.Now().Add(2 * time.Second); active.Load() > 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Errorf("%d requests still open on the server 2s after Collect returned", active.Load())
			break
		}
	}
	stopped := map[string]int{}
	for _, p := range w.Live.Problems {
		switch {
		case strings.Contains(p.Reason, "stopped answering"):
			stopped[p.Area]++
		case p.Fatal || !strings.Contains(p.Reason, "no answer within 200ms"):
			t.Errorf("problem %+v, want a non-fatal timeout", p)
		}
	}
	if stopped["vault"] != 1 || stopped["nomad"] != 1 {
		t.Errorf("'stopped answering' problems by side: %v, want one each", stopped)
	}
	if len(w.Live.Problems) > 2*(workers+tripAfter)+2 {
		t.Errorf("%d problems for two hanging clusters", len(w.Live.Problems))
	}
	t.Logf("%d problems", len(w.Live.Problems))
}

func TestServerErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"errors":["internal error"]}`, http.StatusInternalServerError)
	}))
	defer srv.Close()
	w := collectWithin(t, options(srv.URL, srv.URL), 3*time.Second)
	wantFatalOnly(t, w, "500")
}

func TestGarbage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "<html>this is not the API you are looking for</html>")
	}))
	defer srv.Close()
	w := collectWithin(t, options(srv.URL, srv.URL), 3*time.Second)
	wantFatalOnly(t, w, "not")
	for _, p := range w.Live.Problems {
		t.Logf("%+v", p)
	}
}

// TestNotTheAPI: JSON, but not what Vault or Nomad would answer.
func TestNotTheAPI(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"hello":"world"}`)
	}))
	defer srv.Close()
	w := collectWithin(t, options(srv.URL, srv.URL), 3*time.Second)
	wantFatalOnly(t, w, "not a")
}

func TestCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	srv := httptest.NewServer(fakeVault())
	defer srv.Close()
	start := time.Now()
	w, _ := Collect(ctx, options(srv.URL, srv.URL))
	if time.Since(start) > time.Second {
		t.Errorf("Collect with a cancelled context took %v", time.Since(start))
	}
	if len(w.Live.Problems) == 0 {
		t.Errorf("no problems with a cancelled context")
	}
}

// fake is a minimal API server with a handler per "METHOD /path".
type fake struct {
	mu     sync.Mutex
	routes map[string]http.HandlerFunc
	// fallback answers what no route does; nil: 404.
	fallback http.HandlerFunc
	seen     []string
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	method := r.Method
	if r.URL.Query().Get("list") == "true" {
		method = "LIST"
	}
	key := method + " " + r.URL.Path
	f.mu.Lock()
	f.seen = append(f.seen, key)
	h := f.routes[key]
	if h == nil {
		h = f.fallback
	}
	f.mu.Unlock()
	if h == nil {
		status(http.StatusNotFound, `{"errors":[]}`)(w, r)
		return
	}
	h(w, r)
}

func jsonBody(v any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
}

func vaultData(data any) http.HandlerFunc { return jsonBody(map[string]any{"data": data}) }

// status answers as the APIs do: Vault's errors are JSON, Nomad's plain
// text.
func status(code int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(body, "{") {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			_, _ = io.WriteString(w, body)
			return
		}
		http.Error(w, body, code)
	}
}

func garbage(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "\x00\x01garbage{") }

func fakeVault() *fake {
	return &fake{routes: map[string]http.HandlerFunc{
		"GET /v1/sys/health": jsonBody(map[string]any{"initialized": true, "sealed": false, "standby": false, "version": "1.21.4"}),
		"GET /v1/sys/auth": vaultData(map[string]any{
			"token/":     map[string]any{"type": "token", "accessor": "auth_token_1"},
			"jwt-nomad/": map[string]any{"type": "jwt", "accessor": "auth_jwt_2"},
		}),
		"LIST /v1/sys/policies/acl":          vaultData(map[string]any{"keys": []string{"default", "root", "good", "broken", "garbage", "forbidden"}}),
		"GET /v1/sys/policies/acl/good":      vaultData(map[string]any{"name": "good", "policy": `path "kv/*" { capabilities = ["read"] }`}),
		"GET /v1/sys/policies/acl/broken":    status(500, `{"errors":["internal error"]}`),
		"GET /v1/sys/policies/acl/garbage":   garbage,
		"GET /v1/sys/policies/acl/forbidden": status(403, `{"errors":["permission denied for hvs.vault-token-for-tests"]}`),
		"GET /v1/sys/policies/acl/default":   vaultData(map[string]any{"name": "default", "policy": `path "auth/token/lookup-self" { capabilities = ["read"] }`}),
		"LIST /v1/auth/token/roles":          status(403, `{"errors":["permission denied"]}`),
		"GET /v1/auth/jwt-nomad/config":      garbage,
		"LIST /v1/auth/jwt-nomad/role":       vaultData(map[string]any{"keys": []string{"r1"}}),
		"GET /v1/auth/jwt-nomad/role/r1":     vaultData(map[string]any{"role_type": "jwt", "bound_audiences": []string{"vault.io"}}),
		"GET /v1/auth/token/lookup-self":     vaultData(map[string]any{"id": "hvs.server-token-for-tests", "policies": []string{"nomad-server"}, "ttl": 100, "renewable": true}),
		"POST /v1/sys/capabilities-self":     jsonBody(map[string]any{"data": map[string]any{}}),
	}}
}

func fakeNomad() *fake {
	return &fake{routes: map[string]http.HandlerFunc{
		"GET /v1/agent/self": jsonBody(map[string]any{
			"config": map[string]any{
				"Server": map[string]any{"Enabled": true},
				"Vaults": []any{map[string]any{"Name": "default", "Enabled": true, "Addr": "http://v", "Token": "hvs.leaked-in-agent-self", "Role": "nomad-cluster"}},
			},
			"member": map[string]any{"Name": "s1.global", "Tags": map[string]string{"build": "1.9.7"}},
		}),
		"GET /v1/agent/members":      status(500, "rpc error: No cluster leader"),
		"GET /v1/nodes":              garbage,
		"GET /v1/jobs":               jsonBody([]any{map[string]any{"ID": "a", "Namespace": "default"}, map[string]any{"ID": "b", "Namespace": "default"}}),
		"GET /v1/job/a":              status(500, "boom"),
		"GET /v1/job/b":              garbage,
		"GET /v1/allocations":        jsonBody([]any{}),
		"GET /.well-known/jwks.json": jsonBody(map[string]any{"keys": []any{map[string]any{"kid": "k1", "alg": "RS256", "kty": "RSA"}}}),
		"GET " + upgradeCheckPath:    status(403, "Permission denied"),
		// A read-only token may not list the keyring: no problem, the
		// signing key forecast is just not made.
		"GET " + keyringPath: status(403, "Permission denied"),
	}}
}

// TestPartialFailures: each failed read is one problem and the rest of
// the run goes on.
func TestPartialFailures(t *testing.T) {
	v, n := fakeVault(), fakeNomad()
	vs, ns := httptest.NewServer(v), httptest.NewServer(n)
	defer vs.Close()
	defer ns.Close()
	o := options(vs.URL, ns.URL)
	w, secrets := Collect(context.Background(), o)

	got := map[string]world.Problem{}
	for _, p := range w.Live.Problems {
		if p.Fatal {
			t.Errorf("fatal problem %+v", p)
		}
		got[p.Area+" "+p.What] = p
	}
	want := map[string]string{
		"vault sys/policies/acl/broken":     "500 internal error",
		"vault sys/policies/acl/garbage":    "not a Vault API answer: HTTP 200, application/octet-stream",
		"vault sys/policies/acl/forbidden":  "403 permission denied for <redacted>",
		"vault auth/token/roles":            "403 permission denied",
		"vault auth/jwt-nomad/config":       "not a Vault API answer",
		"nomad /v1/agent/members":           "500 rpc error: No cluster leader",
		"nomad /v1/nodes":                   "not a Nomad API answer",
		"nomad /v1/job/a?namespace=default": "500 boom",
		"nomad /v1/job/b?namespace=default": "not a Nomad API answer",
		"nomad " + upgradeCheckPath:         "403 Permission denied",
	}
	for k, reason := range want {
		p, ok := got[k]
		if !ok {
			t.Errorf("no problem for %s", k)
			continue
		}
		if !strings.Contains(p.Reason, reason) {
			t.Errorf("problem %s: reason %q, want it to contain %q", k, p.Reason, reason)
		}
		delete(got, k)
	}
	for k, p := range got {
		t.Errorf("unexpected problem %s: %+v", k, p)
	}

	// What could be read was.
	if w.Policy("good") == nil || w.Policy("default") == nil || w.Policy("root") != nil {
		t.Errorf("policies: %v", names(w))
	}
	if r := w.JWTRole("r1"); r == nil || r.Mount != "jwt-nomad" || r.Ref.Origin != "vault:auth/jwt-nomad/role/r1" {
		t.Errorf("jwt role r1: %+v", r)
	}
	if tok := w.Live.Vault.ServerToken; tok == nil || tok.TTL != 100 || !tok.Renewable {
		t.Errorf("server token: %+v", tok)
	}
	if caps := w.Live.Vault.ServerCapabilities; len(caps) != len(serverCapabilityPaths("nomad-cluster")) {
		t.Errorf("server capabilities: %v, want every path of %v", caps, serverCapabilityPaths("nomad-cluster"))
	}
	if len(w.Agents) != 1 || w.Agents[0].DefaultVault() == nil || !w.Agents[0].DefaultVault().Token.Set || w.Agents[0].DefaultVault().Token.V != "" {
		t.Errorf("agents: %+v", w.Agents)
	}
	if j := w.Live.Nomad.JWKS; j == nil || len(j.Keys) != 1 || j.Keys[0].Kid != "k1" {
		t.Errorf("nomad jwks: %+v", j)
	}
	if w.Live.Nomad.LegacyTokens != -1 || w.Live.Nomad.Version != "1.9.7" {
		t.Errorf("nomad: %+v", w.Live.Nomad)
	}

	// Secrets: given, looked up and leaked by agent/self.
	b, _ := json.Marshal(w.Live)
	for _, s := range []string{o.VaultToken, o.ServerToken, o.Nomad.SecretID, "hvs.leaked-in-agent-self"} {
		if strings.Contains(string(b), s) {
			t.Errorf("live state contains secret %q", s)
		}
		if m := secrets.String("x " + s + " y"); m != "x <redacted> y" {
			t.Errorf("secret %q not registered: %q", s, m)
		}
	}

	// Only reads reached the servers.
	for _, f := range []*fake{v, n} {
		for _, r := range f.seen {
			if !strings.HasPrefix(r, "GET ") && !strings.HasPrefix(r, "LIST ") && r != "POST /v1/sys/capabilities-self" {
				t.Errorf("server received %s", r)
			}
		}
	}
}

func names(w *world.World) []string {
	var out []string
	for _, p := range w.Policies {
		out = append(out, p.Ref.Name)
	}
	return out
}

// TestSealed: a sealed Vault is reported once, not with a 503 per path.
func TestSealed(t *testing.T) {
	v := fakeVault()
	v.routes["GET /v1/sys/health"] = func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("sealedcode") != "299" {
			t.Errorf("health without sealedcode=299: %s", r.URL.RawQuery)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(299)
		_, _ = io.WriteString(w, `{"initialized":true,"sealed":true,"standby":true,"version":"1.21.4"}`)
	}
	vs := httptest.NewServer(v)
	defer vs.Close()
	o := options(vs.URL, "")
	o.Nomad = nil
	w, _ := Collect(context.Background(), o)
	if h := w.Live.Vault.Health; h == nil || !h.Sealed {
		t.Fatalf("health: %+v", h)
	}
	if len(w.Live.Problems) != 1 || w.Live.Problems[0].Fatal || !strings.Contains(w.Live.Problems[0].Reason, "sealed") {
		t.Errorf("problems: %+v", w.Live.Problems)
	}
	if len(v.seen) != 1 {
		t.Errorf("requests to a sealed Vault: %v", v.seen)
	}
}

func TestPanicBecomesProblem(t *testing.T) {
	c := &collector{live: &world.Live{}}
	c.spawn("vault", "sys/policies/acl", func() {
		var m map[string]int
		m["boom"]++ //nolint:staticcheck // the panic under test
	})
	c.wg.Wait()
	if len(c.live.Problems) != 1 || !strings.Contains(c.live.Problems[0].Reason, "internal error") {
		t.Errorf("problems: %+v", c.live.Problems)
	}
	t.Logf("%+v", c.live.Problems)
}

func TestNothingToCollect(t *testing.T) {
	w, s := Collect(context.Background(), Options{})
	if w.Live == nil || w.Live.Vault != nil || w.Live.Nomad != nil || len(w.Live.Problems) != 0 || s == nil {
		t.Errorf("empty options: %+v", w.Live)
	}
}

// TestJWKSFetch: each JWT mount's jwks_url is fetched from here, with the
// config's jwks_ca_pem as roots; failures are facts, not problems.
func TestJWKSFetch(t *testing.T) {
	keys := jsonBody(map[string]any{"keys": []any{map[string]any{"kid": "k1", "alg": "RS256", "kty": "RSA", "n": "..."}}})
	tlsSrv := httptest.NewTLSServer(keys)
	defer tlsSrv.Close()
	caPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsSrv.Certificate().Raw}))
	notFound := httptest.NewServer(http.NotFoundHandler())
	defer notFound.Close()
	junk := httptest.NewServer(http.HandlerFunc(garbage))
	defer junk.Close()

	v := fakeVault()
	delete(v.routes, "LIST /v1/auth/jwt-nomad/role")
	v.routes["GET /v1/sys/auth"] = vaultData(map[string]any{
		"jwt-a/": map[string]any{"type": "jwt", "accessor": "auth_jwt_a"},
		"jwt-b/": map[string]any{"type": "jwt", "accessor": "auth_jwt_b"},
		"oidc/":  map[string]any{"type": "oidc", "accessor": "auth_oidc_c"},
		"jwt-e/": map[string]any{"type": "jwt", "accessor": "auth_jwt_e"},
	})
	v.routes["GET /v1/auth/jwt-a/config"] = vaultData(map[string]any{"jwks_url": tlsSrv.URL + "/.well-known/jwks.json", "jwks_ca_pem": caPEM})
	v.routes["GET /v1/auth/jwt-b/config"] = vaultData(map[string]any{"jwks_url": notFound.URL + "/.well-known/jwks.json"})
	v.routes["GET /v1/auth/oidc/config"] = vaultData(map[string]any{"jwks_url": junk.URL})
	v.routes["GET /v1/auth/jwt-d/config"] = vaultData(map[string]any{"jwks_url": closedAddr(t) + "/jwks"})
	v.routes["GET /v1/auth/jwt-e/config"] = vaultData(map[string]any{"jwks_url": tlsSrv.URL}) // no CA: unknown authority
	vs := httptest.NewServer(v)
	defer vs.Close()
	o := options(vs.URL, "")
	o.Nomad, o.ServerToken = nil, ""
	o.JWTMounts = []string{"auth/jwt-d/", "jwt-a"}
	// Nothing here hangs: a TLS handshake under -race on a loaded machine
	// can take longer than the fault tests' short timeout.
	o.RequestTimeout = 10 * time.Second
	w, _ := Collect(context.Background(), o)

	for _, p := range w.Live.Problems {
		if !strings.Contains(p.What, "policies") && p.What != "auth/token/roles" {
			t.Errorf("problem %+v", p)
		}
	}
	got := w.Live.Vault.JWKS
	want := map[string]string{"jwt-a": "", "jwt-b": "404", "oidc": "not a JWKS", "jwt-d": "connection refused", "jwt-e": "certificate"}
	for mount, errWant := range want {
		f := got[mount]
		switch {
		case f == nil:
			t.Errorf("%s: not fetched", mount)
		case errWant == "" && (f.Error != "" || len(f.Keys) != 1 || f.Keys[0] != (world.JWK{Kid: "k1", Alg: "RS256", Kty: "RSA", N: "..."})):
			t.Errorf("%s: %+v", mount, f)
		case errWant != "" && !strings.Contains(f.Error, errWant):
			t.Errorf("%s: error %q, want it to contain %q", mount, f.Error, errWant)
		}
	}
	if len(got) != len(want) {
		t.Errorf("jwks fetched for %d mounts, want %d", len(got), len(want))
	}
	accessors := map[string]string{}
	for _, c := range w.JWTConfigs {
		accessors[c.Mount] = c.Accessor
	}
	if accessors["jwt-a"] != "auth_jwt_a" || accessors["oidc"] != "auth_oidc_c" || accessors["jwt-d"] != "" || len(accessors) != 5 {
		t.Errorf("jwt configs: %v", accessors)
	}
}

// flaky answers status the first n times, then hands over to h.
func flaky(n, code int, h http.HandlerFunc) http.HandlerFunc {
	var mu sync.Mutex
	return func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n--
		shed := n >= 0
		mu.Unlock()
		if shed {
			w.Header().Set("Retry-After", "1")
			status(code, `{"errors":["slow down"]}`)(w, r)
			return
		}
		h(w, r)
	}
}

// TestBackOff: a server that sheds load (429) or is briefly unavailable
// (503) is asked again after a pause, within the request's timeout; one
// that keeps refusing becomes a problem when the timeout is spent. A
// real server cannot be made to answer 429 or 503 on demand.
func TestBackOff(t *testing.T) {
	v, n := fakeVault(), fakeNomad()
	v.routes["GET /v1/sys/policies/acl/good"] = flaky(2, http.StatusTooManyRequests, v.routes["GET /v1/sys/policies/acl/good"])
	v.routes["LIST /v1/auth/jwt-nomad/role"] = flaky(1, http.StatusServiceUnavailable, v.routes["LIST /v1/auth/jwt-nomad/role"])
	n.routes["GET /v1/agent/members"] = flaky(2, http.StatusTooManyRequests, jsonBody(map[string]any{"Members": []any{map[string]any{"Name": "s1.global", "Status": "alive"}}}))
	n.routes["GET /v1/nodes"] = status(http.StatusServiceUnavailable, "overloaded")
	vs, ns := httptest.NewServer(v), httptest.NewServer(n)
	defer vs.Close()
	defer ns.Close()
	o := options(vs.URL, ns.URL)
	o.RequestTimeout = 2 * time.Second
	w := collectWithin(t, o, 5*time.Second)

	if w.Policy("good") == nil || w.JWTRole("r1") == nil || len(w.Live.Nomad.Members) != 1 {
		t.Errorf("reads answered after a 429 or 503 are missing: policies %v, role %v, members %v", names(w), w.JWTRole("r1"), w.Live.Nomad.Members)
	}
	var nodes *world.Problem
	for i, p := range w.Live.Problems {
		switch p.What {
		case "sys/policies/acl/good", "auth/jwt-nomad/role", "/v1/agent/members":
			t.Errorf("a read answered on a retry is a problem: %+v", p)
		case "/v1/nodes":
			nodes = &w.Live.Problems[i]
		}
	}
	if nodes == nil || !strings.Contains(nodes.Reason, "503") {
		t.Errorf("a server that keeps answering 503 is not a problem: %+v", w.Live.Problems)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	tries := 0
	for _, r := range n.seen {
		if r == "GET /v1/nodes" {
			tries++
		}
	}
	// 100, 200, 400 and 800 ms of waiting fit in the 2 s timeout; the
	// next wait does not.
	if tries < 3 || tries > 6 {
		t.Errorf("GET /v1/nodes sent %d times, want a few retries bounded by the timeout", tries)
	}
}

// TestRegionDeadline: a region whose servers hang is cut off at its own
// deadline, with one problem naming it, and the other region is read in
// full. Hanging one region of a real federation on demand is not
// possible.
func TestRegionDeadline(t *testing.T) {
	n := fakeNomad()
	hang := func(next http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("region") == "west" {
				<-r.Context().Done()
				return
			}
			next(w, r)
		}
	}
	n.routes["GET /v1/regions"] = jsonBody([]string{"east", "west"})
	n.routes["GET /v1/agent/members"] = jsonBody(map[string]any{"Members": []any{}})
	n.routes["GET /v1/nodes"] = hang(jsonBody([]any{}))
	n.routes["GET /.well-known/jwks.json"] = hang(n.routes["GET /.well-known/jwks.json"])
	n.routes["GET /v1/jobs"] = hang(jsonBody([]any{map[string]any{"ID": "a", "Namespace": "default"}}))
	n.routes["GET /v1/job/a/allocations"] = jsonBody([]any{})
	n.routes["GET /v1/job/a"] = jsonBody(map[string]any{"ID": "a", "Namespace": "default", "Region": "east",
		"TaskGroups": []any{map[string]any{"Name": "g", "Tasks": []any{map[string]any{"Name": "t", "Vault": map[string]any{"ChangeMode": "restart"}}}}}})
	ns := httptest.NewServer(n)
	defer ns.Close()
	o := options("", ns.URL)
	o.Vault = nil
	o.RequestTimeout = 5 * time.Second
	o.RegionDeadline = 300 * time.Millisecond
	w := collectWithin(t, o, 2*time.Second)

	if len(w.Jobs) != 1 || w.Jobs[0].RegionName() != "east" {
		t.Errorf("east's job was not read: %v", w.Jobs)
	}
	if j := w.Live.Nomad.RegionJWKS["east"]; j == nil || len(j.Keys) != 1 {
		t.Errorf("east's keys: %+v", w.Live.Nomad.RegionJWKS)
	}
	var west []world.Problem
	for _, p := range w.Live.Problems {
		if p.Region == "west" {
			west = append(west, p)
		}
		if p.Region == "east" {
			t.Errorf("a problem names east: %+v", p)
		}
	}
	if len(west) != 1 || !strings.Contains(west[0].Reason, "not all read within the region deadline of 300ms") {
		t.Errorf("want one problem naming west's deadline, got %+v", west)
	}
}
