package cli_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/nvlint/nvlint/cli"
	"github.com/nvlint/nvlint/internal/realserver"
)

// TestWatchRealVault runs doctor --watch against a real Vault and
// scrapes it as Prometheus would: a change made between two scrapes
// moves the gauges; with Vault stopped it keeps serving and marks the
// areas not checked; with Vault back it recovers. Vault is reached
// through a TCP relay, so the one that returns has the address the first
// had.
func TestWatchRealVault(t *testing.T) {
	v := realserver.StartVault(t)
	vc := v.Client(t)
	relay := startRelay(t, strings.TrimPrefix(v.Addr, "http://"))
	dir := t.TempDir()
	server := vaultWrite(t, vc, "auth/token/create-orphan", map[string]any{"policies": []string{"default"}, "ttl": "2h", "renewable": true}).Auth.ClientToken
	tokenFile := filepath.Join(dir, "server-token")
	if err := os.WriteFile(tokenFile, []byte(server), 0o600); err != nil {
		t.Fatal(err)
	}

	restore := processEnv(t, map[string]string{"VAULT_ADDR": "http://" + relay.addr, "VAULT_TOKEN": v.RootToken})
	defer restore()
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncBuffer
	exited := make(chan int, 1)
	go func() {
		exited <- cli.Main([]string{"doctor", "--watch", "--interval", "1s", "--listen", "127.0.0.1:0", "--nomad-vault-token-file", tokenFile},
			cli.Env{Stdout: io.Discard, Stderr: &stderr, Context: ctx})
	}()
	defer func() {
		cancel()
		select {
		case code := <-exited:
			if code != cli.ExitOK {
				t.Errorf("watch exited %d:\n%s", code, stderr.String())
			}
		case <-time.After(20 * time.Second):
			t.Errorf("watch did not stop:\n%s", stderr.String())
		}
		t.Logf("the watch's log:\n%s", stderr.String())
		for _, secret := range []string{server, v.RootToken} {
			if strings.Contains(stderr.String(), secret) {
				t.Errorf("a token is in the log")
			}
		}
	}()
	url := waitServing(t, &stderr)
	restore() // read once, at the start; the test's own servers need HOME
	waitFor(t, "the first run", func() bool { return healthz(url) == http.StatusOK })

	m := scrape(t, url)
	left, _ := value(m, "nvlint_expiry_seconds", map[string]string{"kind": "server_token", "name": "nomad-server"})
	if left < 767*3600 || left > 768*3600 {
		t.Errorf("server token forecast %vs, want Vault's 768h", left)
	}
	for _, area := range []string{"Vault", "Legacy token flow", "Policies"} {
		if got, _ := value(m, "nvlint_area_checked", map[string]string{"area": area}); got != 1 {
			t.Errorf("%s checked = %v", area, got)
		}
	}
	if got, ok := value(m, "nvlint_findings", map[string]string{"rule": "NV613", "severity": "warning"}); got != 1 || !ok {
		t.Errorf("NV613 warnings = %v (%t)", got, ok)
	}

	// Break it: the token auth method's max TTL squeezed to an hour. The
	// forecast and the severity follow at the next run.
	vaultWrite(t, vc, "sys/auth/token/tune", map[string]any{"max_lease_ttl": "1h"})
	runs := runCount(t, url)
	waitFor(t, "a run after the change", func() bool { return runCount(t, url) >= runs+2 })
	m = scrape(t, url)
	if left, _ := value(m, "nvlint_expiry_seconds", map[string]string{"kind": "server_token"}); left <= 0 || left > 3600 {
		t.Errorf("server token forecast %vs after the squeeze, want within the hour", left)
	}
	if got, _ := value(m, "nvlint_findings", map[string]string{"rule": "NV613", "severity": "error"}); got != 1 {
		t.Errorf("NV613 errors = %v after the squeeze", got)
	}
	if _, ok := value(m, "nvlint_findings", map[string]string{"rule": "NV613", "severity": "warning"}); ok {
		t.Error("the warning it replaced is still exported")
	}

	// Vault stops: still serving, the areas not checked.
	v.Stop()
	runs = runCount(t, url)
	waitFor(t, "a run with Vault stopped", func() bool { return runCount(t, url) >= runs+2 })
	m = scrape(t, url)
	// Vault itself is broken (not reached, a finding); what rests on
	// reading it is not checked.
	if got, _ := value(m, "nvlint_area_up", map[string]string{"area": "Vault"}); got != 0 {
		t.Errorf("Vault up = %v with Vault stopped", got)
	}
	for _, area := range []string{"Legacy token flow", "Policies"} {
		if got, _ := value(m, "nvlint_area_checked", map[string]string{"area": area}); got != 0 {
			t.Errorf("%s checked = %v with Vault stopped", area, got)
		}
	}
	if healthz(url) != http.StatusOK {
		t.Error("healthz fails with Vault stopped")
	}

	// Vault returns: a new dev server, given doctor's token (the server
	// token was lost with the first one's memory).
	v2 := realserver.StartVault(t)
	vaultWrite(t, v2.Client(t), "auth/token/create-orphan", map[string]any{"id": v.RootToken, "policies": []string{"root"}})
	relay.to(strings.TrimPrefix(v2.Addr, "http://"))
	waitFor(t, "a run with Vault back", func() bool {
		m := scrape(t, url)
		up, _ := value(m, "nvlint_area_up", map[string]string{"area": "Vault"})
		checked, _ := value(m, "nvlint_area_checked", map[string]string{"area": "Policies"})
		return up == 1 && checked == 1
	})
	if !regexp.MustCompile(`areas_changed="[^"]*Policies: ok -> not checked`).MatchString(stderr.String()) ||
		!regexp.MustCompile(`areas_changed="[^"]*Policies: not checked -> ok`).MatchString(stderr.String()) {
		t.Errorf("the log does not say Vault went and came back:\n%s", stderr.String())
	}
}

func vaultWrite(t *testing.T, vc *vaultapi.Client, path string, data map[string]any) *vaultapi.Secret {
	t.Helper()
	s, err := vc.Logical().Write(path, data)
	if err != nil {
		t.Fatalf("vault write %s: %v", path, err)
	}
	return s
}

// relay forwards TCP connections to a target that can change.
type relay struct {
	addr   string
	target atomic.Value // string
}

func startRelay(t *testing.T, target string) *relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	r := &relay{addr: ln.Addr().String()}
	r.to(target)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				up, err := net.DialTimeout("tcp", r.target.Load().(string), 2*time.Second)
				if err != nil {
					return
				}
				defer up.Close()
				go func() { _, _ = io.Copy(up, c); up.Close() }()
				_, _ = io.Copy(c, up)
			}()
		}
	}()
	return r
}

func (r *relay) to(target string) { r.target.Store(target) }

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var serving = regexp.MustCompile(`serving metrics on (http://[^/]+)/metrics`)

func waitServing(t *testing.T, stderr *syncBuffer) string {
	t.Helper()
	var url string
	waitFor(t, "the metrics server", func() bool {
		m := serving.FindStringSubmatch(stderr.String())
		if m != nil {
			url = m[1]
		}
		return m != nil
	})
	return url
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func healthz(url string) int {
	resp, err := http.Get(url + "/healthz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// scrape reads /metrics with Prometheus's own text parser.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	return fams
}

func runCount(t *testing.T, url string) float64 {
	n, _ := value(scrape(t, url), "nvlint_run_duration_seconds", nil)
	return n
}

// value is the sample of family name whose labels include labels (a
// histogram's count); ok is false when there is none.
func value(fams map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range labels {
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}
