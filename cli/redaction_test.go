package cli_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nvlint/nvlint/internal/realserver"
	"github.com/nvlint/nvlint/reports"
)

// The tokens of the redaction tests, one per channel nvlint learns a
// token from. Each is long and unique, so a leak is unmistakable.
const (
	envVaultToken    = "hvs.ENVVAULTTOKEN0001xyz"    // VAULT_TOKEN
	envNomadToken    = "f3a1c0de-ENVNOMADTOKEN-0002" // NOMAD_TOKEN
	fileServerToken  = "hvs.FILESERVERTOKEN0003xyz"  // --nomad-vault-token-file
	agentConfigToken = "hvs.AGENTCONFIGTOKEN0004xy"  // token in an agent config file
	agentSelfToken   = "hvs.AGENTSELFTOKEN0005xyz"   // what a Nomad's agent/self shows as its vault token
	helperFileToken  = "hvs.HELPERFILETOKEN0006xyz"  // ~/.vault-token, when VAULT_TOKEN is unset
)

var allTokens = []string{envVaultToken, envNomadToken, fileServerToken, agentConfigToken, agentSelfToken, helperFileToken}

// leakyAgentConfig is a Nomad server config with its Vault token written
// in, as the legacy flow had it.
const leakyAgentConfig = `server {
  enabled = true
}

vault {
  enabled          = true
  address          = "https://vault.example.com:8200"
  create_from_role = "nomad-cluster"
  token            = "` + agentConfigToken + `"
}
`

// TestRedactionLint feeds tokens to nvlint lint through the environment
// and an agent config file, in every output format, and checks that none
// appears on standard output, standard error or in a report file.
func TestRedactionLint(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "server.hcl"), leakyAgentConfig)
	// The same tokens where they mean nothing, but print: a job name, a
	// template path, a policy comment.
	writeFile(t, filepath.Join(dir, "web.nomad.hcl"), `job "web" {
  meta {
    leaked = "`+envNomadToken+`"
  }
  group "g" {
    task "t" {
      vault {
        policies = ["`+envVaultToken+`"]
      }
      template {
        data        = "{{ with secret \"kv/data/`+agentConfigToken+`\" }}{{ .Data.data.x }}{{ end }}"
        destination = "local/leak.env"
      }
    }
  }
}
`)
	writeFile(t, filepath.Join(dir, "nomad-server-policy.hcl"), `# `+envVaultToken+`
path "auth/token/create/nomad-cluster" {
  capabilities = ["update"]
}
`)
	env := map[string]string{"VAULT_TOKEN": envVaultToken, "NOMAD_TOKEN": envNomadToken}
	for _, f := range reports.Formats {
		t.Run(string(f), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "report."+string(f))
			r := nvlint(t, "", env, "lint", "--verbose", "--color", "always", "--format", string(f), "--format", string(f)+"="+out, dir)
			if r.code != 1 {
				t.Fatalf("exit %d, want 1 (the token in the config is a finding)\n%s%s", r.code, r.stdout, r.stderr)
			}
			report, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			noTokens(t, "stdout", r.stdout)
			noTokens(t, "stderr", r.stderr)
			noTokens(t, "report file", string(report))
			if !strings.Contains(r.stdout, "<redacted>") && !strings.Contains(r.stdout, "\\u003credacted\\u003e") && !strings.Contains(r.stdout, "&lt;redacted&gt;") {
				t.Errorf("nothing was masked: the tokens were never in the report, so this test proves nothing\n%s", r.stdout)
			}
		})
	}
}

// TestRedactionDoctor runs nvlint doctor against fake Vault and Nomad
// servers that echo every token they are given, and reveal more, in odd
// places (error messages, policy text, role parameters, URLs, job meta
// and templates, task events, node attributes, agent/self), with tokens
// from the environment, a token file and an agent config, in every output
// format, saving a snapshot; then replays the snapshot. No token may
// appear on standard output, standard error, in a report file or in the
// snapshot.
func TestRedactionDoctor(t *testing.T) {
	vault, nomad := leakyServers(t)
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "server-token")
	writeFile(t, tokenFile, fileServerToken+"\n")
	agentConfig := filepath.Join(dir, "server.hcl")
	writeFile(t, agentConfig, leakyAgentConfig)
	env := map[string]string{"VAULT_ADDR": vault.URL, "VAULT_TOKEN": envVaultToken, "NOMAD_ADDR": nomad.URL, "NOMAD_TOKEN": envNomadToken}
	for _, f := range reports.Formats {
		t.Run(string(f), func(t *testing.T) {
			tmp := t.TempDir()
			out, snap := filepath.Join(tmp, "report."+string(f)), filepath.Join(tmp, "snap.json")
			r := nvlint(t, "", env, "doctor", "--verbose", "--color", "always", "--timeout", "2s",
				"--nomad-vault-token-file", tokenFile, "--agent-config", agentConfig,
				"--format", string(f), "--format", string(f)+"="+out, "--save", snap)
			if r.code != 1 {
				t.Fatalf("exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
			}
			report, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			saved, err := os.ReadFile(snap)
			if err != nil {
				t.Fatal(err)
			}
			noTokens(t, "stdout", r.stdout)
			noTokens(t, "stderr", r.stderr)
			noTokens(t, "report file", string(report))
			noTokens(t, "snapshot", string(saved))
			if !strings.Contains(string(saved), "<redacted>") && !strings.Contains(string(saved), `\u003credacted\u003e`) {
				t.Errorf("the snapshot masks nothing: the fake servers' tokens never reached it, so this proves nothing")
			}
			// The snapshot replayed, and linted against, prints none either.
			rr := nvlint(t, "", nil, "doctor", "--from", snap, "--format", string(f))
			noTokens(t, "replay stdout", rr.stdout)
			noTokens(t, "replay stderr", rr.stderr)
		})
	}
}

// TestRedactionTokenHelperFile is TestRedactionDoctor with the Vault token
// in the token helper file (~/.vault-token, as vault login leaves it)
// instead of VAULT_TOKEN: the fake servers echo it everywhere, and it
// appears nowhere.
func TestRedactionTokenHelperFile(t *testing.T) {
	vault, nomad := leakyServers(t)
	home := t.TempDir()
	writeFile(t, filepath.Join(home, ".vault-token"), helperFileToken+"\n")
	env := map[string]string{"VAULT_ADDR": vault.URL, "NOMAD_ADDR": nomad.URL, "NOMAD_TOKEN": envNomadToken, "HOME": home}
	for _, f := range reports.Formats {
		t.Run(string(f), func(t *testing.T) {
			tmp := t.TempDir()
			out, snap := filepath.Join(tmp, "report."+string(f)), filepath.Join(tmp, "snap.json")
			r := nvlint(t, "", env, "doctor", "--verbose", "--color", "always", "--timeout", "2s",
				"--format", string(f), "--format", string(f)+"="+out, "--save", snap)
			if r.code != 1 {
				t.Fatalf("exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
			}
			report, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			saved, err := os.ReadFile(snap)
			if err != nil {
				t.Fatal(err)
			}
			// The servers also echo the other tests' tokens, which this run
			// was never given: only the helper file's is a secret here.
			for what, s := range map[string]string{"stdout": r.stdout, "stderr": r.stderr, "report file": string(report), "snapshot": string(saved)} {
				if strings.Contains(s, helperFileToken) {
					t.Errorf("%s holds the token helper file's token", what)
				}
			}
			if !strings.Contains(string(saved), "issued to <redacted>") && !strings.Contains(string(saved), `issued to \u003credacted\u003e`) {
				t.Errorf("the snapshot masks nothing: the token helper file's token never reached the servers, so this proves nothing")
			}
		})
	}
}

// TestRedactionRealVault runs nvlint doctor against a real Vault with
// the root token in VAULT_TOKEN and a server token in a file, after
// writing both into a policy's text and a token role's allowed policies,
// and checks the report and snapshot hold neither.
func TestRedactionRealVault(t *testing.T) {
	v := realserver.StartVault(t)
	vc := v.Client(t)
	created, err := vc.Logical().Write("auth/token/create-orphan", map[string]any{"policies": []string{"nomad-server"}, "period": "72h"})
	if err != nil {
		t.Fatal(err)
	}
	serverToken := created.Auth.ClientToken
	if err := vc.Sys().PutPolicy("nomad-server", fmt.Sprintf("# root %s server %s\npath \"auth/token/lookup-self\" { capabilities = [\"read\"] }\n", v.RootToken, serverToken)); err != nil {
		t.Fatal(err)
	}
	if _, err := vc.Logical().Write("auth/token/roles/nomad-cluster", map[string]any{"allowed_policies": []string{"x-" + serverToken}, "orphan": true}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "server-token")
	writeFile(t, tokenFile, serverToken)
	env := map[string]string{"VAULT_ADDR": v.Addr, "VAULT_TOKEN": v.RootToken}
	for _, f := range reports.Formats {
		snap := filepath.Join(dir, "snap-"+string(f)+".json")
		r := nvlint(t, "", env, "doctor", "--verbose", "--nomad-vault-token-file", tokenFile, "--format", string(f), "--save", snap)
		saved, err := os.ReadFile(snap)
		if err != nil {
			t.Fatalf("%s: exit %d, no snapshot: %v\n%s", f, r.code, err, r.stderr)
		}
		if !strings.Contains(string(saved), "nomad-server") || !strings.Contains(string(saved), "redacted") {
			t.Errorf("%s: the snapshot lacks the policy holding the tokens, or masks nothing: this proves nothing\n%s", f, saved)
		}
		for what, s := range map[string]string{"stdout": r.stdout, "stderr": r.stderr, "snapshot": string(saved)} {
			for _, tok := range []string{v.RootToken, serverToken} {
				if strings.Contains(s, tok) {
					t.Errorf("%s: %s holds a token", f, what)
				}
			}
		}
	}
}

// noTokens fails if s holds any of the test tokens, raw or JSON-escaped.
func noTokens(t *testing.T, what, s string) {
	t.Helper()
	for _, tok := range allTokens {
		if strings.Contains(s, tok) {
			i := strings.Index(s, tok)
			t.Errorf("%s holds token %s: ...%s...", what, tok, s[max(0, i-80):min(len(s), i+len(tok)+20)])
		}
	}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// leakyServers are a fake Vault and a fake Nomad that put tokens in
// every answer they can.
func leakyServers(t *testing.T) (vault, nomad *httptest.Server) {
	t.Helper()
	reply := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	data := func(w http.ResponseWriter, d any) { reply(w, 200, map[string]any{"data": d}) }
	nomad = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/agent/self":
			reply(w, 200, map[string]any{
				"config": map[string]any{
					"Server": map[string]any{"Enabled": true}, "Client": map[string]any{"Enabled": true},
					"Vaults": []any{map[string]any{"Name": "default", "Enabled": true, "Addr": "http://vault?token=" + envVaultToken, "Token": agentSelfToken, "Role": "nomad-cluster"}},
				},
				"member": map[string]any{"Name": "node-" + envNomadToken, "Tags": map[string]string{"build": "1.9.7"}},
			})
		case "/v1/agent/members":
			reply(w, 200, map[string]any{"Members": []any{map[string]any{"Name": "m-" + agentSelfToken, "Status": "alive", "Tags": map[string]string{"build": "1.9.7"}}}})
		case "/v1/nodes":
			reply(w, 200, []any{map[string]any{"ID": "n1", "Name": "node-" + fileServerToken, "Status": "ready", "Version": "1.9.7"}})
		case "/v1/node/n1":
			reply(w, 200, map[string]any{"Attributes": map[string]string{"vault.accessible": "false", "vault.token": agentSelfToken, "vault.cluster_name": envNomadToken}})
		case "/.well-known/jwks.json":
			reply(w, 200, map[string]any{"keys": []any{map[string]any{"kid": envVaultToken, "kty": "RSA", "alg": "RS256", "use": "sig", "n": "AQAB", "e": "AQAB"}}})
		case "/v1/jobs":
			reply(w, 200, []any{map[string]any{"ID": "web", "Namespace": "default"}})
		case "/v1/job/web":
			reply(w, 200, map[string]any{
				"ID": "web", "Name": "web", "Namespace": "default", "Type": "service",
				"Meta": map[string]string{"token": envNomadToken},
				"TaskGroups": []any{map[string]any{"Name": "g", "Tasks": []any{map[string]any{
					"Name": "t", "Env": map[string]string{"VAULT_TOKEN": agentSelfToken},
					"Vault":     map[string]any{"Policies": []string{"p-" + fileServerToken}, "Cluster": "default"},
					"Templates": []any{map[string]any{"EmbeddedTmpl": `{{ with secret "kv/data/` + envVaultToken + `" }}{{ .Data.data.x }}{{ end }}`, "DestPath": "local/" + agentConfigToken}},
				}}}},
			})
		case "/v1/job/web/allocations":
			reply(w, 200, []any{map[string]any{"ID": "a1", "JobID": "web", "Namespace": "default", "TaskGroup": "g", "ModifyTime": 1,
				"TaskStates": map[string]any{"t": map[string]any{"Events": []any{map[string]any{
					"Type": "Template", "Time": 1, "DisplayMessage": "Missing: vault.read(kv/data/" + envVaultToken + ") with token " + fileServerToken,
				}}}}}})
		case "/v1/operator/upgrade-check/vault-workload-identity":
			reply(w, 200, map[string]any{"VaultTokens": []any{map[string]any{"Accessor": agentSelfToken}}})
		default:
			reply(w, 403, map[string]any{"errors": []string{"permission denied for " + envNomadToken}})
		}
	}))
	t.Cleanup(nomad.Close)
	vault = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := r.Header.Get("X-Vault-Token")
		switch p := strings.TrimPrefix(r.URL.Path, "/v1/"); {
		case p == "sys/health":
			reply(w, 200, map[string]any{"initialized": true, "sealed": false, "standby": false, "version": "1.21.4", "cluster_name": "c-" + envVaultToken})
		case p == "sys/policies/acl" && r.URL.Query().Get("list") == "true":
			data(w, map[string]any{"keys": []string{"nomad-server", "leaky"}})
		case p == "sys/policies/acl/nomad-server":
			data(w, map[string]any{"policy": "# issued to " + tok + "\npath \"auth/token/create/nomad-cluster\" { capabilities = [\"update\"] }\n"})
		case p == "sys/policies/acl/leaky":
			reply(w, 500, map[string]any{"errors": []string{"internal error reading policy for token " + tok}})
		case p == "auth/token/roles" && r.URL.Query().Get("list") == "true":
			data(w, map[string]any{"keys": []string{"nomad-cluster"}})
		case p == "auth/token/roles/nomad-cluster":
			data(w, map[string]any{"name": "nomad-cluster", "allowed_policies": []string{"p-" + tok}, "orphan": false, "renewable": true, "period": 0})
		case p == "sys/auth":
			data(w, map[string]any{"jwt-nomad/": map[string]any{"type": "jwt", "accessor": "auth_jwt_" + envNomadToken}})
		case p == "auth/jwt-nomad/config":
			data(w, map[string]any{"jwks_url": "http://127.0.0.1:1/jwks.json?token=" + tok, "default_role": "r", "bound_issuer": agentConfigToken})
		case p == "auth/jwt-nomad/role" && r.URL.Query().Get("list") == "true":
			data(w, map[string]any{"keys": []string{"r"}})
		case p == "auth/jwt-nomad/role/r":
			data(w, map[string]any{"role_type": "jwt", "bound_audiences": []string{tok}, "user_claim": "/nomad_job_id", "user_claim_json_pointer": true, "token_policies": []string{"p-" + agentSelfToken}})
		case p == "auth/token/lookup-self":
			data(w, map[string]any{"id": tok, "accessor": "acc-" + tok, "policies": []string{"default", tok}, "role": "nomad-cluster", "period": 0, "ttl": 60, "renewable": false, "orphan": false, "type": "service"})
		case p == "sys/capabilities-self":
			var body struct{ Path string }
			_ = json.NewDecoder(r.Body).Decode(&body)
			data(w, map[string]any{"capabilities": []string{"deny"}, body.Path: []string{"deny"}})
		default:
			reply(w, 403, map[string]any{"errors": []string{"permission denied for " + tok + " on " + p}})
		}
	}))
	t.Cleanup(vault.Close)
	return vault, nomad
}

// paymentsToken is the token of a second Vault cluster
// (--vault-token-file payments=FILE).
const paymentsToken = "hvs.PAYMENTSCLUSTERTOKEN07"

// TestRedactionVaultClusters is TestRedactionDoctor with a second Vault
// cluster, read with the token of --vault-token-file: both fake Vaults
// echo the token they are sent, and neither token appears anywhere.
func TestRedactionVaultClusters(t *testing.T) {
	vault, nomad := leakyServers(t)
	payments, _ := leakyServers(t)
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "payments-token")
	writeFile(t, tokenFile, paymentsToken+"\n")
	env := map[string]string{"VAULT_ADDR": vault.URL, "VAULT_TOKEN": envVaultToken, "NOMAD_ADDR": nomad.URL, "NOMAD_TOKEN": envNomadToken}
	for _, f := range reports.Formats {
		t.Run(string(f), func(t *testing.T) {
			tmp := t.TempDir()
			out, snap := filepath.Join(tmp, "report."+string(f)), filepath.Join(tmp, "snap.json")
			r := nvlint(t, "", env, "doctor", "--verbose", "--color", "always", "--timeout", "2s",
				"--vault", "payments="+payments.URL, "--vault-token-file", "payments="+tokenFile,
				"--format", string(f), "--format", string(f)+"="+out, "--save", snap)
			report, err := os.ReadFile(out)
			if err != nil {
				t.Fatalf("exit %d, no report: %v\n%s", r.code, err, r.stderr)
			}
			saved, err := os.ReadFile(snap)
			if err != nil {
				t.Fatal(err)
			}
			for what, s := range map[string]string{"stdout": r.stdout, "stderr": r.stderr, "report file": string(report), "snapshot": string(saved)} {
				for _, tok := range []string{paymentsToken, envVaultToken} {
					if strings.Contains(s, tok) {
						t.Errorf("%s holds token %s", what, tok)
					}
				}
			}
			if !strings.Contains(string(saved), "vault[payments]:sys/policies/acl/nomad-server") || strings.Count(string(saved), "# issued to ") < 2 {
				t.Errorf("the snapshot lacks payments' policy echoing its token: this proves nothing")
			}
			rr := nvlint(t, "", nil, "doctor", "--from", snap, "--format", string(f))
			if strings.Contains(rr.stdout+rr.stderr, paymentsToken) {
				t.Error("the replay holds payments' token")
			}
		})
	}
}
