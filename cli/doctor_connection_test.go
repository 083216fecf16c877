package cli_test

import (
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The connection settings are read as the vault and nomad CLIs read
// them. Each case runs doctor against a TLS server whose certificate
// (for example.com and 127.0.0.1, signed by the test server's own CA) the
// client must refuse unless verification is truly off or the CA is given.

// tlsFake is a fake Vault or Nomad over TLS that records the credentials
// it is sent.
type tlsFake struct {
	*httptest.Server
	mu                sync.Mutex
	tokens, basicAuth []string
}

func (f *tlsFake) seen() (tokens, auth []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.tokens...), append([]string(nil), f.basicAuth...)
}

func newTLSFake(t *testing.T, h http.HandlerFunc) *tlsFake {
	t.Helper()
	return startTLSFake(t, nil, h)
}

var quietLog = log.New(io.Discard, "", 0)

// startTLSFake is newTLSFake with the server's TLS settings (nil: the
// test server's own).
func startTLSFake(t *testing.T, cfg *tls.Config, h http.HandlerFunc) *tlsFake {
	t.Helper()
	f := &tlsFake{}
	f.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		if tok := r.Header.Get("X-Vault-Token"); tok != "" {
			f.tokens = append(f.tokens, tok)
		}
		if tok := r.Header.Get("X-Nomad-Token"); tok != "" {
			f.tokens = append(f.tokens, tok)
		}
		if u, p, ok := r.BasicAuth(); ok {
			f.basicAuth = append(f.basicAuth, u+":"+p)
		}
		f.mu.Unlock()
		h(w, r)
	}))
	f.TLS = cfg
	f.Config.ErrorLog = quietLog // refused handshakes are what some tests expect
	f.StartTLS()
	t.Cleanup(f.Close)
	return f
}

func answerJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// tlsVault answers sys/health and lists empty; delay slows the policy
// list.
func tlsVault(t *testing.T, delay time.Duration) *tlsFake {
	return newTLSFake(t, fakeVault(delay))
}

// fakeVault is tlsVault's handler.
func fakeVault(delay time.Duration) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/sys/health":
			answerJSON(w, 200, map[string]any{"initialized": true, "sealed": false, "version": "1.21.4"})
		case "/v1/sys/auth":
			answerJSON(w, 200, map[string]any{"data": map[string]any{"token/": map[string]any{"type": "token", "accessor": "auth_token_1"}}})
		case "/v1/sys/policies/acl":
			time.Sleep(delay)
			answerJSON(w, 200, map[string]any{"data": map[string]any{"keys": []string{}}})
		default:
			answerJSON(w, 404, map[string]any{"errors": []string{}})
		}
	}
}

// tlsNomad answers agent/self only with basic auth user:pass when
// needAuth, and every list empty.
func tlsNomad(t *testing.T, needAuth bool) *tlsFake {
	return newTLSFake(t, fakeNomad(needAuth))
}

// fakeNomad is tlsNomad's handler.
func fakeNomad(needAuth bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if u, p, _ := r.BasicAuth(); needAuth && (u != "user" || p != "pass-word") {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/v1/agent/self":
			answerJSON(w, 200, map[string]any{"config": map[string]any{"Server": map[string]any{"Enabled": true}}, "member": map[string]any{"Name": "s1", "Tags": map[string]string{"build": "1.10.5"}}})
		case "/v1/agent/members":
			answerJSON(w, 200, map[string]any{"Members": []any{}})
		case "/v1/jobs", "/v1/nodes":
			answerJSON(w, 200, []any{})
		case "/.well-known/jwks.json":
			answerJSON(w, 200, map[string]any{"keys": []any{}})
		case "/v1/operator/upgrade-check/vault-workload-identity":
			answerJSON(w, 200, map[string]any{"VaultTokens": []any{}})
		default:
			http.Error(w, "not found", http.StatusNotFound)
		}
	}
}

// caFile writes the server's certificate, its own CA, to a file.
func caFile(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	writeFile(t, path, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})))
	return path
}

// reached reports whether doctor got past TLS to the side: no NV601 about
// it.
func reached(rep doctorReport, side string) (bool, string) {
	for _, f := range rep.Findings {
		if f.Rule == "NV601" && f.Object.Kind == side {
			return false, f.Message
		}
	}
	return true, ""
}

func TestDoctorVaultTLSSettings(t *testing.T) {
	v := tlsVault(t, 0)
	ca := caFile(t, v.Server)
	base := func(kv ...string) map[string]string {
		env := map[string]string{"VAULT_ADDR": v.URL, "VAULT_TOKEN": "hvs.tls-test-token"}
		for i := 0; i+1 < len(kv); i += 2 {
			env[kv[i]] = kv[i+1]
		}
		return env
	}
	cases := []struct {
		name  string
		env   map[string]string
		flags []string
		want  bool // the connection is accepted
	}{
		{"verification on by default", base(), nil, false},
		{"VAULT_SKIP_VERIFY=true", base("VAULT_SKIP_VERIFY", "true"), nil, true},
		{"VAULT_SKIP_VERIFY=1", base("VAULT_SKIP_VERIFY", "1"), nil, true},
		{"VAULT_SKIP_VERIFY=false", base("VAULT_SKIP_VERIFY", "false"), nil, false},
		{"VAULT_SKIP_VERIFY=0", base("VAULT_SKIP_VERIFY", "0"), nil, false},
		{"--vault-skip-verify over VAULT_SKIP_VERIFY=false", base("VAULT_SKIP_VERIFY", "false"), []string{"--vault-skip-verify"}, true},
		{"VAULT_CACERT", base("VAULT_CACERT", ca), nil, true},
		{"--vault-cacert", base(), []string{"--vault-cacert", ca}, true},
		{"VAULT_CAPATH", base("VAULT_CAPATH", filepath.Dir(ca)), nil, true},
		{"VAULT_TLS_SERVER_NAME names the certificate", base("VAULT_CACERT", ca, "VAULT_TLS_SERVER_NAME", "example.com"), nil, true},
		{"VAULT_TLS_SERVER_NAME names another host", base("VAULT_CACERT", ca, "VAULT_TLS_SERVER_NAME", "other.invalid"), nil, false},
		{"--vault-tls-server-name names the certificate", base("VAULT_CACERT", ca), []string{"--vault-tls-server-name", "example.com"}, true},
		{"--vault-tls-server-name over VAULT_TLS_SERVER_NAME", base("VAULT_CACERT", ca, "VAULT_TLS_SERVER_NAME", "example.com"), []string{"--vault-tls-server-name", "other.invalid"}, false},
		{"--vault-addr over VAULT_ADDR", base("VAULT_ADDR", "https://127.0.0.1:1", "VAULT_CACERT", ca), []string{"--vault-addr", v.URL}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep, r := doctor(t, tc.env, tc.flags...)
			ok, msg := reached(rep, "vault")
			if ok != tc.want {
				t.Errorf("connection accepted: %v, want %v (%s)\n%s", ok, tc.want, msg, r.stderr)
			}
			if !ok && !strings.Contains(msg, "certificate") {
				t.Errorf("refused for another reason than the certificate: %s", msg)
			}
		})
	}
	t.Run("an unparsable VAULT_SKIP_VERIFY is a usage error", func(t *testing.T) {
		r := nvlint(t, "", base("VAULT_SKIP_VERIFY", "maybe"), "doctor")
		if r.code != 2 || !strings.Contains(r.stderr, "VAULT_SKIP_VERIFY") {
			t.Errorf("exit %d: %s", r.code, r.stderr)
		}
	})
}

func TestDoctorNomadTLSSettings(t *testing.T) {
	n := tlsNomad(t, false)
	ca := caFile(t, n.Server)
	base := func(kv ...string) map[string]string {
		env := map[string]string{"NOMAD_ADDR": n.URL, "NOMAD_TOKEN": "nomad-tls-test-token"}
		for i := 0; i+1 < len(kv); i += 2 {
			env[kv[i]] = kv[i+1]
		}
		return env
	}
	cases := []struct {
		name  string
		env   map[string]string
		flags []string
		want  bool
	}{
		{"verification on by default", base(), nil, false},
		{"NOMAD_SKIP_VERIFY=true", base("NOMAD_SKIP_VERIFY", "true"), nil, true},
		{"NOMAD_SKIP_VERIFY=1", base("NOMAD_SKIP_VERIFY", "1"), nil, true},
		{"NOMAD_SKIP_VERIFY=false", base("NOMAD_SKIP_VERIFY", "false"), nil, false},
		{"NOMAD_SKIP_VERIFY=0", base("NOMAD_SKIP_VERIFY", "0"), nil, false},
		{"--nomad-skip-verify over NOMAD_SKIP_VERIFY=false", base("NOMAD_SKIP_VERIFY", "false"), []string{"--nomad-skip-verify"}, true},
		{"NOMAD_CACERT", base("NOMAD_CACERT", ca), nil, true},
		{"--nomad-cacert", base(), []string{"--nomad-cacert", ca}, true},
		{"NOMAD_CAPATH", base("NOMAD_CAPATH", filepath.Dir(ca)), nil, true},
		{"NOMAD_TLS_SERVER_NAME names the certificate", base("NOMAD_CACERT", ca, "NOMAD_TLS_SERVER_NAME", "example.com"), nil, true},
		{"NOMAD_TLS_SERVER_NAME names another host", base("NOMAD_CACERT", ca, "NOMAD_TLS_SERVER_NAME", "other.invalid"), nil, false},
		{"--nomad-tls-server-name names the certificate", base("NOMAD_CACERT", ca), []string{"--nomad-tls-server-name", "example.com"}, true},
		{"--nomad-tls-server-name over NOMAD_TLS_SERVER_NAME", base("NOMAD_CACERT", ca, "NOMAD_TLS_SERVER_NAME", "example.com"), []string{"--nomad-tls-server-name", "other.invalid"}, false},
		{"--nomad-addr over NOMAD_ADDR", base("NOMAD_ADDR", "https://127.0.0.1:1", "NOMAD_CACERT", ca), []string{"--nomad-addr", n.URL}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep, r := doctor(t, tc.env, tc.flags...)
			ok, msg := reached(rep, "nomad")
			if ok != tc.want {
				t.Errorf("connection accepted: %v, want %v (%s)\n%s", ok, tc.want, msg, r.stderr)
			}
			if !ok && !strings.Contains(msg, "certificate") {
				t.Errorf("refused for another reason than the certificate: %s", msg)
			}
		})
	}
}

func TestDoctorNomadHTTPAuth(t *testing.T) {
	n := tlsNomad(t, true)
	env := map[string]string{"NOMAD_ADDR": n.URL, "NOMAD_SKIP_VERIFY": "true", "NOMAD_HTTP_AUTH": "user:pass-word", "NOMAD_TOKEN": "nomad-auth-test-token"}
	rep, r := doctor(t, env)
	if _, auth := n.seen(); len(auth) == 0 || auth[0] != "user:pass-word" {
		t.Errorf("NOMAD_HTTP_AUTH not sent: %q", auth)
	}
	if tokens, _ := n.seen(); len(tokens) == 0 || tokens[0] != "nomad-auth-test-token" {
		t.Errorf("NOMAD_TOKEN not sent: %q", tokens)
	}
	for _, v := range rep.Verdicts {
		if v.Area == "Nomad" && v.Status != "ok" {
			t.Errorf("Nomad %s: %s", v.Status, v.Detail)
		}
	}
	for _, s := range []string{r.stdout, r.stderr} {
		if strings.Contains(s, "pass-word") || strings.Contains(s, "nomad-auth-test-token") {
			t.Error("a credential is in the output")
		}
	}
}

func TestDoctorVaultClientTimeout(t *testing.T) {
	v := tlsVault(t, 1500*time.Millisecond)
	env := map[string]string{"VAULT_ADDR": v.URL, "VAULT_SKIP_VERIFY": "true", "VAULT_TOKEN": "hvs.timeout-test", "VAULT_CLIENT_TIMEOUT": "500ms"}
	unread := func(rep doctorReport) string {
		for _, v := range rep.Verdicts {
			if v.Area == "Policies" && v.Status == "not checked" {
				return v.Detail
			}
		}
		return ""
	}
	rep, _ := doctor(t, env)
	// doctor's helper passes --timeout 5s: an explicit flag wins.
	if d := unread(rep); d != "" {
		t.Errorf("--timeout 5s given, VAULT_CLIENT_TIMEOUT must not apply: %s", d)
	}
	r := nvlint(t, "", env, "doctor", "--format", "json")
	must(t, json.Unmarshal([]byte(r.stdout), &rep))
	if d := unread(rep); !strings.Contains(d, "500ms") {
		t.Errorf("VAULT_CLIENT_TIMEOUT=500ms not applied: Policies %q", d)
	}
}

// TestDoctorVaultTokenSources: VAULT_TOKEN, else the token helper file,
// as the vault CLI does; with neither, Vault's areas are not checked and
// say why.
func TestDoctorVaultTokenSources(t *testing.T) {
	v := tlsVault(t, 0)
	home := t.TempDir()
	writeFile(t, filepath.Join(home, ".vault-token"), "hvs.FROM-TOKEN-HELPER-FILE\n")
	env := map[string]string{"VAULT_ADDR": v.URL, "VAULT_SKIP_VERIFY": "true", "HOME": home}

	_, r := doctor(t, env)
	if tokens, _ := v.seen(); len(tokens) == 0 || tokens[len(tokens)-1] != "hvs.FROM-TOKEN-HELPER-FILE" {
		t.Errorf("the token helper file was not used: %q", tokens)
	}
	if strings.Contains(r.stdout+r.stderr, "hvs.FROM-TOKEN-HELPER-FILE") {
		t.Error("the token helper file's token is in the output")
	}

	env["VAULT_TOKEN"] = "hvs.FROM-ENV"
	doctor(t, env)
	if tokens, _ := v.seen(); tokens[len(tokens)-1] != "hvs.FROM-ENV" {
		t.Errorf("VAULT_TOKEN must win over the token helper file: %q", tokens[len(tokens)-1])
	}

	delete(env, "VAULT_TOKEN")
	env["HOME"] = t.TempDir()
	rep, r := doctor(t, env)
	if r.code != 1 {
		t.Errorf("no token: exit %d, want 1", r.code)
	}
	for _, v := range rep.Verdicts {
		switch v.Area {
		case "Vault":
			if v.Status != "ok" {
				t.Errorf("Vault's health needs no token: %s %s", v.Status, v.Detail)
			}
		case "Policies", "Workload identity", "Legacy token flow":
			if v.Status != "not checked" || !strings.Contains(v.Detail, "VAULT_TOKEN is unset") || !strings.Contains(v.Detail, ".vault-token") {
				t.Errorf("%s without a token: %s %q", v.Area, v.Status, v.Detail)
			}
		}
	}
}
