package realserver

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestMissingBinariesMessage checks the error a developer sees before running
// the build script.
func TestMissingBinariesMessage(t *testing.T) {
	t.Setenv(CacheEnv, t.TempDir())
	for name, f := range map[string]func() (string, error){
		"vault": VaultBin, "nomad": NomadBin, "nomad-legacy": NomadLegacyBin,
		"nomad-1.11": func() (string, error) { return NomadBinVersion(Nomad111Version) },
	} {
		_, err := f()
		if err == nil || !strings.Contains(err.Error(), "bash scripts/build-servers.sh "+name) {
			t.Errorf("%s: error %v does not name the build command and its target", name, err)
		}
	}
	if _, err := NomadBinVersion("1.8.0"); err == nil || !strings.Contains(err.Error(), "builds 1.9.7, 1.10.5 and 1.11.3") {
		t.Errorf("a version the script does not build: error %v does not list those it builds", err)
	}
}

func TestNomadConfig(t *testing.T) {
	cfg := NomadConfig("/d", 1, 2, 3, NomadOptions{ACL: true, VaultAddr: "http://127.0.0.1:8200", VaultToken: "s.x", VaultBlock: "create_from_role = \"r\"\nx = 1"})
	for _, want := range []string{
		`bind_addr            = "127.0.0.1"`,
		`disable_update_check = true`,
		`"fingerprint.denylist" = "env_aws,env_gce,env_azure,env_digitalocean"`,
		"http = 1", "rpc  = 2", "serf = 3",
		`address = "http://127.0.0.1:8200"`, `token   = "s.x"`, "  create_from_role = \"r\"\n  x = 1\n}",
		"acl {\n  enabled = true\n}",
	} {
		if !strings.Contains(cfg, want) {
			t.Errorf("config lacks %q:\n%s", want, cfg)
		}
	}
	if strings.Contains(NomadConfig("/d", 1, 2, 3, NomadOptions{}), "vault {") {
		t.Errorf("vault block written without VaultAddr or VaultBlock")
	}
}

// TestRealServers starts one Vault and, in parallel against it, Nomad 1.10.5
// and 1.11.3 (workload identity) and Nomad 1.9.7 (legacy token flow), and
// checks they are alive and configured as asked.
func TestRealServers(t *testing.T) {
	start := time.Now()
	v := StartVault(t)
	t.Logf("vault healthy after %v", time.Since(start))
	vc := v.Client(t)

	h, err := vc.Sys().Health()
	if err != nil {
		t.Fatalf("sys/health: %v", err)
	}
	if !h.Initialized || h.Sealed || h.Version != VaultVersion {
		t.Fatalf("sys/health: initialized=%v sealed=%v version=%q, want true false %q", h.Initialized, h.Sealed, h.Version, VaultVersion)
	}
	// Legacy flow: a server policy, a token role and a periodic orphan token.
	const serverPolicy = `
path "auth/token/create/nomad-cluster" { capabilities = ["update"] }
path "auth/token/roles/nomad-cluster" { capabilities = ["read"] }
path "auth/token/lookup-self" { capabilities = ["read"] }
path "auth/token/lookup" { capabilities = ["update"] }
path "auth/token/revoke-accessor" { capabilities = ["update"] }
path "sys/capabilities-self" { capabilities = ["update"] }
path "auth/token/renew-self" { capabilities = ["update"] }
`
	if err := vc.Sys().PutPolicy("nomad-server", serverPolicy); err != nil {
		t.Fatalf("put policy: %v", err)
	}
	if _, err := vc.Logical().Write("auth/token/roles/nomad-cluster", map[string]any{
		"disallowed_policies": "nomad-server", "orphan": true, "renewable": true,
		"token_period": "72h", "token_explicit_max_ttl": 0,
	}); err != nil {
		t.Fatalf("write token role: %v", err)
	}
	sec, err := vc.Logical().Write("auth/token/create-orphan", map[string]any{
		"policies": []string{"nomad-server"}, "period": "72h",
	})
	if err != nil || sec == nil || sec.Auth == nil {
		t.Fatalf("create periodic token: %v", err)
	}
	legacyToken := sec.Auth.ClientToken

	for _, version := range NomadWorkloadIdentityVersions {
		t.Run("nomad-"+version, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			n := StartNomad(t, NomadOptions{
				Version:    version,
				ACL:        true,
				VaultAddr:  v.Addr,
				VaultBlock: `default_identity { aud = ["vault.io"] ttl = "1h" }`,
			})
			t.Logf("nomad %s ready after %v", n.Version, time.Since(start))
			if n.Token == "" {
				t.Fatalf("no ACL bootstrap token")
			}
			vaults := agentVaults(t, n)
			if got := vaults["Addr"]; got != v.Addr {
				t.Errorf("agent self Vaults[0].Addr = %v, want %s", got, v.Addr)
			}
			if got := vaults["Enabled"]; got != true {
				t.Errorf("agent self Vaults[0].Enabled = %v, want true", got)
			}
			di, _ := vaults["DefaultIdentity"].(map[string]any)
			if got := di["Audience"]; !reflect.DeepEqual(got, []any{"vault.io"}) {
				t.Errorf("agent self Vaults[0].DefaultIdentity.Audience = %v, want [vault.io]", got)
			}
			checkVaultFingerprint(t, n)
		})
	}

	t.Run("nomad-1.9.7-legacy", func(t *testing.T) {
		t.Parallel()
		start := time.Now()
		n := StartNomad(t, NomadOptions{
			Legacy:     true,
			VaultAddr:  v.Addr,
			VaultToken: legacyToken,
			VaultBlock: `create_from_role = "nomad-cluster"`,
		})
		t.Logf("nomad %s ready after %v", n.Version, time.Since(start))
		vaults := agentVaults(t, n)
		if got := vaults["Addr"]; got != v.Addr {
			t.Errorf("agent self Vaults[0].Addr = %v, want %s", got, v.Addr)
		}
		if got := vaults["Role"]; got != "nomad-cluster" {
			t.Errorf("agent self Vaults[0].Role = %v, want nomad-cluster", got)
		}
		if got := vaults["Token"]; got != "<redacted>" {
			t.Errorf("agent self Vaults[0].Token = %v, want <redacted>", got)
		}
		// The server accepted the periodic token and the role.
		n.WaitLog(t, "successfully renewed token", 20*time.Second)
		checkVaultFingerprint(t, n)
	})
}

// agentVaults returns /v1/agent/self .config.Vaults[0].
func agentVaults(t *testing.T, n *Nomad) map[string]any {
	t.Helper()
	self, err := n.Client(t).Agent().Self()
	if err != nil {
		t.Fatalf("agent self: %v", err)
	}
	if got := self.Member.Tags["build"]; !strings.HasPrefix(got, n.Version) {
		t.Errorf("agent build tag %q, want %s", got, n.Version)
	}
	vs, _ := self.Config["Vaults"].([]any)
	if len(vs) == 0 {
		t.Fatalf("agent self has no config.Vaults: %v", self.Config["Vaults"])
	}
	v, _ := vs[0].(map[string]any)
	return v
}

// checkVaultFingerprint checks the node saw Vault (vault.accessible).
func checkVaultFingerprint(t *testing.T, n *Nomad) {
	t.Helper()
	node, _, err := n.Client(t).Nodes().Info(n.NodeID, nil)
	if err != nil {
		t.Fatalf("node info: %v", err)
	}
	if got := node.Attributes["vault.accessible"]; got != "true" {
		t.Errorf("node attribute vault.accessible = %q, want true (vault attributes: %v)", got, vaultAttrs(node.Attributes))
	}
}

func vaultAttrs(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if strings.HasPrefix(k, "vault.") {
			out[k] = v
		}
	}
	return out
}
