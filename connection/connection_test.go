package connection

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	homedir "github.com/mitchellh/go-homedir"
)

// clean empties the environment the readers look at.
func clean(t *testing.T) {
	t.Helper()
	homedir.DisableCache = true
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "VAULT_") || strings.HasPrefix(k, "NOMAD_") {
			t.Setenv(k, "")
		}
	}
	t.Setenv("HOME", t.TempDir())
}

func TestNotAskedFor(t *testing.T) {
	clean(t)
	s, err := Read(Flags{})
	if err != nil || s.Vault != nil || s.Nomad != nil {
		t.Fatalf("nothing set: %+v, %v", s, err)
	}
}

func TestVaultSkipVerifySpellings(t *testing.T) {
	for v, want := range map[string]bool{"true": true, "1": true, "false": false, "0": false, "FALSE": false} {
		clean(t)
		t.Setenv("VAULT_ADDR", "https://vault.example:8200")
		t.Setenv("VAULT_SKIP_VERIFY", v)
		s, err := Read(Flags{})
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Vault.TLSConfig().InsecureSkipVerify; got != want {
			t.Errorf("VAULT_SKIP_VERIFY=%s: skip %v, want %v", v, got, want)
		}
	}
}

func TestVaultSettings(t *testing.T) {
	clean(t)
	t.Setenv("VAULT_ADDR", "https://vault.example:8200")
	t.Setenv("VAULT_TLS_SERVER_NAME", "vault.internal")
	t.Setenv("VAULT_CLIENT_TIMEOUT", "7")
	t.Setenv("VAULT_NAMESPACE", "team-a")
	s, err := Read(Flags{VaultSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	tc := s.Vault.TLSConfig()
	if tc.ServerName != "vault.internal" || !tc.InsecureSkipVerify {
		t.Errorf("TLS: server name %q, skip %v", tc.ServerName, tc.InsecureSkipVerify)
	}
	if s.VaultTimeout != 7*time.Second {
		t.Errorf("VAULT_CLIENT_TIMEOUT=7: %s", s.VaultTimeout)
	}
	if s.VaultNamespace != "team-a" {
		t.Errorf("namespace %q", s.VaultNamespace)
	}
	if s2, _ := Read(Flags{VaultNamespace: "team-b"}); s2.VaultNamespace != "team-b" {
		t.Errorf("--vault-namespace does not win: %q", s2.VaultNamespace)
	}
}

func TestVaultTokenHelperFile(t *testing.T) {
	clean(t)
	t.Setenv("VAULT_ADDR", "http://127.0.0.1:8200")
	home := os.Getenv("HOME")
	s, err := Read(Flags{})
	if err != nil {
		t.Fatal(err)
	}
	if s.VaultToken != "" || !strings.Contains(s.VaultTokenSource, "there is no token helper file "+filepath.Join(home, ".vault-token")) {
		t.Errorf("no file: token %q, source %q", s.VaultToken, s.VaultTokenSource)
	}
	if err := os.WriteFile(filepath.Join(home, ".vault-token"), []byte("hvs.from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, _ = Read(Flags{}); s.VaultToken != "hvs.from-file" || !strings.Contains(s.VaultTokenSource, ".vault-token") {
		t.Errorf("file: token %q, source %q", s.VaultToken, s.VaultTokenSource)
	}
	t.Setenv("VAULT_TOKEN", "hvs.from-env")
	if s, _ = Read(Flags{}); s.VaultToken != "hvs.from-env" || s.VaultTokenSource != "VAULT_TOKEN" {
		t.Errorf("env: token %q, source %q", s.VaultToken, s.VaultTokenSource)
	}
	for _, sec := range []string{"hvs.from-env"} {
		found := false
		for _, x := range s.Secrets() {
			found = found || x == sec
		}
		if !found {
			t.Errorf("%s not among the secrets", sec)
		}
	}
}

func TestNomadSettings(t *testing.T) {
	clean(t)
	t.Setenv("NOMAD_ADDR", "https://nomad.example:4646")
	t.Setenv("NOMAD_HTTP_AUTH", "user:pa:ss")
	t.Setenv("NOMAD_TLS_SERVER_NAME", "server.global.nomad")
	t.Setenv("NOMAD_SKIP_VERIFY", "false")
	t.Setenv("NOMAD_TOKEN", "nomad-secret")
	s, err := Read(Flags{NomadRegion: "eu"})
	if err != nil {
		t.Fatal(err)
	}
	n := s.Nomad
	if n.HttpAuth == nil || n.HttpAuth.Username != "user" || n.HttpAuth.Password != "pa:ss" {
		t.Errorf("NOMAD_HTTP_AUTH: %+v", n.HttpAuth)
	}
	if n.TLSConfig.TLSServerName != "server.global.nomad" || n.TLSConfig.Insecure {
		t.Errorf("TLS: %+v", n.TLSConfig)
	}
	if n.SecretID != "nomad-secret" || n.Region != "eu" {
		t.Errorf("token %q region %q", n.SecretID, n.Region)
	}
	secrets := strings.Join(s.Secrets(), " ")
	if !strings.Contains(secrets, "pa:ss") || !strings.Contains(secrets, "nomad-secret") {
		t.Errorf("secrets: %q", secrets)
	}
}

// TestVaultCluster: another cluster's configuration has its own address
// and the environment's and the flags' TLS settings, and never the
// Vault agent's address.
func TestVaultCluster(t *testing.T) {
	clean(t)
	t.Setenv("VAULT_ADDR", "https://vault.example:8200")
	t.Setenv("VAULT_AGENT_ADDR", "http://127.0.0.1:8100")
	t.Setenv("VAULT_TLS_SERVER_NAME", "vault.internal")
	cfg, err := VaultCluster("https://payments.example:8200", Flags{VaultSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Address != "https://payments.example:8200" || cfg.AgentAddress != "" {
		t.Errorf("address %q, agent address %q", cfg.Address, cfg.AgentAddress)
	}
	if tc := cfg.TLSConfig(); tc.ServerName != "vault.internal" || !tc.InsecureSkipVerify {
		t.Errorf("TLS: server name %q, skip %v", tc.ServerName, tc.InsecureSkipVerify)
	}
	for _, bad := range []string{"payments.example:8200", "ftp://payments.example", "https://"} {
		if _, err := VaultCluster(bad, Flags{}); err == nil {
			t.Errorf("%q taken for an address", bad)
		}
	}
}
