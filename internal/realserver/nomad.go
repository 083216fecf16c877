package realserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"
)

// FingerprintDenylist keeps the Nomad client's cloud fingerprinters from
// probing metadata addresses (169.254.169.254, ...): all traffic stays on
// loopback. Every Nomad config nvlint writes must carry it.
const FingerprintDenylist = "env_aws,env_gce,env_azure,env_digitalocean"

// NomadOptions configures StartNomad.
type NomadOptions struct {
	// Version is the Nomad version to run, one the build script builds
	// (NomadVersion, Nomad111Version, NomadLegacyVersion); "" is
	// NomadVersion, or NomadLegacyVersion with Legacy.
	Version string
	// Legacy runs Nomad 1.9.7 (legacy Vault token flow) instead of 1.10.5
	// (workload identity only).
	Legacy bool
	// ACL enables ACLs and bootstraps them; Nomad.Token is the management
	// token.
	ACL bool
	// VaultAddr, when set, writes vault { enabled = true, address = VaultAddr }.
	VaultAddr string
	// VaultToken, when set, adds token = VaultToken to the vault block (the
	// legacy flow; Nomad 1.10 silently drops it).
	VaultToken string
	// VaultBlock is raw HCL placed inside the vault block, e.g.
	//   default_identity { aud = ["vault.io"] ttl = "1h" }
	// or, for the legacy flow, create_from_role = "nomad-cluster". Don't repeat
	// enabled, address or token in it. If VaultAddr is empty but VaultBlock
	// is not, the block is written with VaultBlock only.
	VaultBlock string
	// Extra is raw HCL in a second config file passed after the generated one
	// (Nomad merges config files in order, so it may add or override blocks,
	// including client {} and server {}).
	Extra string
	// OIDCIssuer sets the server's oidc_issuer to the agent's own address,
	// which turns on /.well-known/openid-configuration.
	OIDCIssuer bool
}

// Nomad is a running `nomad agent -dev` (server and client in one process).
type Nomad struct {
	// Addr is the HTTP API address, http://127.0.0.1:PORT.
	Addr string
	// Token is the ACL bootstrap (management) token if ACL was set, else "".
	Token string
	// Version is the Nomad version the agent runs.
	Version string
	// HTTPPort, RPCPort and SerfPort are the agent's ports on 127.0.0.1.
	HTTPPort, RPCPort, SerfPort int
	// NodeID is the ID of the dev agent's client node.
	NodeID string
	// Cmd is the running process.
	Cmd *exec.Cmd
	// ConfigPath is the generated config file; ExtraConfigPath holds
	// NomadOptions.Extra ("" if none). DataDir is the agent's data_dir.
	ConfigPath, ExtraConfigPath, DataDir string
	// LogPath is the agent log (stdout and stderr), inside t.TempDir().
	LogPath string

	proc *proc
}

// StartNomad starts `nomad agent -dev` with a generated config (see
// NomadConfig), waits for a leader and for the dev node to be ready with a
// healthy raw_exec driver, and bootstraps ACLs if asked. It stops the agent
// in t.Cleanup (SIGTERM, which in dev mode also destroys the allocations) and
// prints its log if the test failed. It calls t.Fatalf if the binary is
// missing (build it with `bash scripts/build-servers.sh`) or the agent does
// not become ready.
func StartNomad(t testing.TB, o NomadOptions) *Nomad {
	t.Helper()
	version := o.Version
	switch {
	case version == "" && o.Legacy:
		version = NomadLegacyVersion
	case version == "":
		version = NomadVersion
	case o.Legacy && version != NomadLegacyVersion:
		t.Fatalf("realserver: NomadOptions asks for Nomad %s and for the legacy flow, which only %s has", version, NomadLegacyVersion)
	}
	bin, err := NomadBinVersion(version)
	if err != nil {
		t.Fatalf("%v", err)
	}

	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		t.Fatalf("realserver: %v", err)
	}
	var logs []string
	dumpLogsOnFailure(t, "nomad "+version, &logs)

	for attempt := 1; ; attempt++ {
		sfx := ""
		if attempt > 1 {
			sfx = fmt.Sprintf(".attempt%d", attempt)
		}
		ports, err := freePorts(3, 1)
		if err != nil {
			t.Fatalf("realserver: nomad: %v", err)
		}
		n := &Nomad{
			Addr:     "http://127.0.0.1:" + strconv.Itoa(ports[0]),
			Version:  version,
			HTTPPort: ports[0], RPCPort: ports[1], SerfPort: ports[2],
			DataDir:    filepath.Join(dir, "data"+sfx),
			ConfigPath: filepath.Join(dir, "nomad"+sfx+".hcl"),
			LogPath:    filepath.Join(dir, "nomad"+sfx+".log"),
		}
		if err := os.MkdirAll(n.DataDir, 0o700); err != nil {
			t.Fatalf("realserver: %v", err)
		}
		cfg := NomadConfig(n.DataDir, n.HTTPPort, n.RPCPort, n.SerfPort, o)
		if err := os.WriteFile(n.ConfigPath, []byte(cfg), 0o600); err != nil {
			t.Fatalf("realserver: %v", err)
		}
		args := []string{"agent", "-dev", "-config", n.ConfigPath}
		if strings.TrimSpace(o.Extra) != "" {
			n.ExtraConfigPath = filepath.Join(dir, "extra"+sfx+".hcl")
			if err := os.WriteFile(n.ExtraConfigPath, []byte(o.Extra+"\n"), 0o600); err != nil {
				t.Fatalf("realserver: %v", err)
			}
			args = append(args, "-config", n.ExtraConfigPath)
		}
		logs = append(logs, n.LogPath)
		p, err := startProc("nomad "+version, bin, args, childEnv(home), dir, n.LogPath, syscall.SIGTERM, 20*time.Second)
		if err != nil {
			t.Fatalf("realserver: nomad: %v", err)
		}
		t.Cleanup(func() {
			p.stop()
			unmountUnder(dir)
		})
		n.proc, n.Cmd = p, p.cmd

		err = n.waitReady(o.ACL)
		if err == nil {
			t.Logf("realserver: nomad %s at %s (pid %d, config %s, log %s)", version, n.Addr, p.cmd.Process.Pid, n.ConfigPath, n.LogPath)
			return n
		}
		p.stop()
		if p.addrInUse() && attempt < startAttempts {
			t.Logf("realserver: nomad lost a port race on %v, retrying", ports)
			continue
		}
		t.Fatalf("realserver: nomad %s did not start: %v (config %s, log %s)", version, err, n.ConfigPath, n.LogPath)
	}
}

// NomadConfig renders the agent config StartNomad writes: everything on
// 127.0.0.1 with explicit ports, data_dir, no update check, the cloud
// fingerprint denylist, raw_exec enabled, ACLs if asked and the vault block.
func NomadConfig(dataDir string, httpPort, rpcPort, serfPort int, o NomadOptions) string {
	var b strings.Builder
	fmt.Fprintf(&b, `# generated by nvlint internal/realserver
log_level            = "DEBUG"
bind_addr            = "127.0.0.1"
data_dir             = %s
disable_update_check = true

ports {
  http = %d
  rpc  = %d
  serf = %d
}

advertise {
  http = "127.0.0.1:%d"
  rpc  = "127.0.0.1:%d"
  serf = "127.0.0.1:%d"
}

client {
  enabled = true
  options = {
    "fingerprint.denylist" = %q
  }
}

plugin "raw_exec" {
  config {
    enabled = true
  }
}
`, strconv.Quote(dataDir), httpPort, rpcPort, serfPort, httpPort, rpcPort, serfPort, FingerprintDenylist)
	if o.ACL {
		b.WriteString("\nacl {\n  enabled = true\n}\n")
	}
	if o.OIDCIssuer {
		fmt.Fprintf(&b, "\nserver {\n  oidc_issuer = \"http://127.0.0.1:%d\"\n}\n", httpPort)
	}
	if o.VaultAddr != "" || strings.TrimSpace(o.VaultBlock) != "" {
		b.WriteString("\nvault {\n")
		if o.VaultAddr != "" {
			fmt.Fprintf(&b, "  enabled = true\n  address = %s\n", strconv.Quote(o.VaultAddr))
		}
		if o.VaultToken != "" {
			fmt.Fprintf(&b, "  token   = %s\n", strconv.Quote(o.VaultToken))
		}
		if s := strings.TrimSpace(o.VaultBlock); s != "" {
			b.WriteString("\n  " + strings.ReplaceAll(s, "\n", "\n  ") + "\n")
		}
		b.WriteString("}\n")
	}
	return b.String()
}

func (n *Nomad) waitReady(acl bool) error {
	deadline := time.Now().Add(startTimeout)
	err := poll(n.proc, deadline, "a leader at "+n.Addr+"/v1/status/leader", func() (bool, string, error) {
		code, body, err := n.do("GET", "/v1/status/leader")
		if err != nil {
			return notYet(err)
		}
		var leader string
		if code == http.StatusOK && json.Unmarshal(body, &leader) == nil && leader != "" {
			return true, "", nil
		}
		return false, fmt.Sprintf("HTTP %d %s", code, body), nil
	})
	if err != nil {
		return err
	}
	if acl {
		err = poll(n.proc, deadline, "ACL bootstrap", func() (bool, string, error) {
			code, body, err := n.do("POST", "/v1/acl/bootstrap")
			if err != nil {
				return notYet(err)
			}
			switch {
			case code == http.StatusOK:
				var tok struct{ SecretID string }
				if err := json.Unmarshal(body, &tok); err != nil || tok.SecretID == "" {
					return false, "", fmt.Errorf("ACL bootstrap: unexpected answer %s", body)
				}
				n.Token = tok.SecretID
				return true, "", nil
			case code == http.StatusBadRequest && bytes.Contains(body, []byte("already done")):
				return false, "", fmt.Errorf("ACL bootstrap: HTTP %d %s", code, body)
			default:
				return false, fmt.Sprintf("HTTP %d %s", code, body), nil
			}
		})
		if err != nil {
			return err
		}
	}
	return poll(n.proc, deadline, "a ready client node with a healthy raw_exec driver", func() (bool, string, error) {
		code, body, err := n.do("GET", "/v1/nodes")
		if err != nil {
			return notYet(err)
		}
		if code != http.StatusOK {
			return false, fmt.Sprintf("HTTP %d %s", code, body), nil
		}
		var nodes []struct {
			ID      string
			Status  string
			Drivers map[string]struct{ Detected, Healthy bool }
		}
		if err := json.Unmarshal(body, &nodes); err != nil {
			return false, "", fmt.Errorf("GET /v1/nodes: %w: %s", err, body)
		}
		for _, nd := range nodes {
			if nd.Status == "ready" && nd.Drivers["raw_exec"].Healthy {
				n.NodeID = nd.ID
				return true, "", nil
			}
		}
		return false, fmt.Sprintf("nodes: %s", body), nil
	})
}

// do is a bare HTTP call to the agent, without a body, with the ACL
// token if any.
func (n *Nomad) do(method, path string) (int, []byte, error) {
	req, err := http.NewRequest(method, n.Addr+path, nil)
	if err != nil {
		return 0, nil, err
	}
	if n.Token != "" {
		req.Header.Set("X-Nomad-Token", n.Token)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b, err
}

// Stop stops the agent now (it is also stopped in t.Cleanup).
func (n *Nomad) Stop() { n.proc.stop() }

// Client returns a Nomad API client for Addr with the bootstrap token (if
// ACL). NOMAD_* variables of the test environment do not leak into it.
func (n *Nomad) Client(t testing.TB) *nomadapi.Client {
	t.Helper()
	return n.ClientWithToken(t, n.Token)
}

// ClientWithToken is Client with another ACL token.
func (n *Nomad) ClientWithToken(t testing.TB, token string) *nomadapi.Client {
	t.Helper()
	c, err := nomadapi.NewClient(&nomadapi.Config{
		Address:   n.Addr,
		SecretID:  token,
		TLSConfig: &nomadapi.TLSConfig{},
	})
	if err != nil {
		t.Fatalf("realserver: nomad client: %v", err)
	}
	return c
}

// Log returns the agent log so far (server and client, DEBUG level).
func (n *Nomad) Log() string { return n.proc.log() }

// WaitLog waits until a line of the agent log contains substr and returns it;
// it calls t.Fatalf after timeout or if the agent exits. Many Vault
// integration failures show only there (e.g. "failed to validate self
// token/role").
func (n *Nomad) WaitLog(t testing.TB, substr string, timeout time.Duration) string {
	t.Helper()
	line, err := n.proc.waitLog(substr, timeout)
	if err != nil {
		t.Fatalf("realserver: %v", err)
	}
	return line
}
