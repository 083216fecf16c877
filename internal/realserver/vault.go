package realserver

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
)

// Vault is a running `vault server -dev` (in-memory storage, unsealed, root
// token known, KV v2 mounted at secret/).
type Vault struct {
	// Addr is the API address, http://127.0.0.1:PORT.
	Addr string
	// RootToken is the dev root token, random per start.
	RootToken string
	// Port is the API port. Vault also binds Port+1 for its cluster listener.
	Port int
	// Cmd is the running process.
	Cmd *exec.Cmd
	// LogPath is the server log (stdout and stderr), inside t.TempDir().
	LogPath string

	proc *proc
}

// StartVault starts `vault server -dev` on a free 127.0.0.1 port and waits
// until /v1/sys/health answers 200. It stops the server in t.Cleanup and
// prints its log if the test failed. It calls t.Fatalf if the binary is
// missing (build it with `bash scripts/build-servers.sh vault`) or the server
// does not become healthy.
func StartVault(t testing.TB) *Vault {
	t.Helper()
	bin, err := VaultBin()
	if err != nil {
		t.Fatalf("%v", err)
	}
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		t.Fatalf("realserver: %v", err)
	}
	var logs []string
	dumpLogsOnFailure(t, "vault", &logs)

	token := "root-" + randomHex(12)
	for attempt := 1; ; attempt++ {
		ports, err := freePorts(1, 2) // API port and API port+1 (cluster)
		if err != nil {
			t.Fatalf("realserver: vault: %v", err)
		}
		port := ports[0]
		addr := "http://127.0.0.1:" + strconv.Itoa(port)
		logPath := filepath.Join(dir, "vault.log")
		if attempt > 1 {
			logPath = filepath.Join(dir, fmt.Sprintf("vault.attempt%d.log", attempt))
		}
		logs = append(logs, logPath)
		args := []string{
			"server", "-dev",
			"-dev-root-token-id=" + token,
			"-dev-listen-address=127.0.0.1:" + strconv.Itoa(port),
			"-dev-no-store-token",
		}
		p, err := startProc("vault", bin, args, childEnv(home), dir, logPath, syscall.SIGKILL, 5*time.Second)
		if err != nil {
			t.Fatalf("realserver: vault: %v", err)
		}
		t.Cleanup(p.stop)
		err = poll(p, time.Now().Add(startTimeout), "vault "+addr+"/v1/sys/health to answer 200", func() (bool, string, error) {
			resp, err := httpClient.Get(addr + "/v1/sys/health")
			if err != nil {
				return notYet(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			if resp.StatusCode == http.StatusOK {
				return true, "", nil
			}
			return false, fmt.Sprintf("HTTP %d %s", resp.StatusCode, b), nil
		})
		if err == nil {
			t.Logf("realserver: vault %s at %s (pid %d, log %s)", VaultVersion, addr, p.cmd.Process.Pid, logPath)
			return &Vault{Addr: addr, RootToken: token, Port: port, Cmd: p.cmd, LogPath: logPath, proc: p}
		}
		p.stop()
		if p.addrInUse() && attempt < startAttempts {
			t.Logf("realserver: vault lost a port race on %d, retrying", port)
			continue
		}
		t.Fatalf("realserver: vault did not start: %v (log: %s)", err, logPath)
	}
}

// Stop stops the server now (it is also stopped in t.Cleanup). Use it to
// test what happens when Vault goes away.
func (v *Vault) Stop() { v.proc.stop() }

// Client returns a Vault API client for Addr authenticated with the root
// token. VAULT_* variables of the test environment do not leak into it.
func (v *Vault) Client(t testing.TB) *vaultapi.Client {
	t.Helper()
	return v.ClientWithToken(t, v.RootToken)
}

// ClientWithToken is Client with another token.
func (v *Vault) ClientWithToken(t testing.TB, token string) *vaultapi.Client {
	t.Helper()
	cfg := vaultapi.DefaultConfig()
	if cfg.Error != nil {
		t.Fatalf("realserver: vault client config: %v", cfg.Error)
	}
	cfg.Address = v.Addr
	cfg.AgentAddress = ""
	cfg.MaxRetries = 0
	cfg.Timeout = 30 * time.Second
	c, err := vaultapi.NewClient(cfg)
	if err != nil {
		t.Fatalf("realserver: vault client: %v", err)
	}
	c.SetToken(token)
	c.ClearNamespace()
	return c
}

// Log returns the server log so far.
func (v *Vault) Log() string { return v.proc.log() }

// WaitLog waits until a line of the server log contains substr and returns
// it; it calls t.Fatalf after timeout or if the server exits.
func (v *Vault) WaitLog(t testing.TB, substr string, timeout time.Duration) string {
	t.Helper()
	line, err := v.proc.waitLog(substr, timeout)
	if err != nil {
		t.Fatalf("realserver: %v", err)
	}
	return line
}
