package realserver

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// startTimeout bounds how long a server may take to become ready. Vault dev
// is healthy in ~0.1 s and Nomad dev has a leader in ~2 s on an idle machine;
// the margin is for loaded CI machines running many test binaries.
const startTimeout = 90 * time.Second

// startAttempts is how many times a start is retried when a picked port was
// taken by someone else between picking it and the server binding it.
const startAttempts = 4

// logDumpBytes is how much of the end of a server log is printed on failure.
const logDumpBytes = 64 << 10

// proc is one started server process.
type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string

	done    chan struct{} // closed when the process has exited
	waitErr error         // valid after done is closed

	stopSig  syscall.Signal
	grace    time.Duration
	stopOnce sync.Once
}

func startProc(name, bin string, args, env []string, dir, logPath string, stopSig syscall.Signal, grace time.Duration) (*proc, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(f, "### realserver: %s %s\n", bin, strings.Join(args, " "))
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Dir = dir
	cmd.Stdin = nil
	cmd.Stdout = f
	cmd.Stderr = f
	cmd.SysProcAttr = sysProcAttr(stopSig)
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	p := &proc{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{}), stopSig: stopSig, grace: grace}
	go func() {
		p.waitErr = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop signals the process by PID, waits up to its grace period, then kills
// it. It is idempotent.
func (p *proc) stop() {
	p.stopOnce.Do(func() {
		if p.exited() {
			return
		}
		_ = p.cmd.Process.Signal(p.stopSig)
		select {
		case <-p.done:
			return
		case <-time.After(p.grace):
		}
		_ = p.cmd.Process.Kill()
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
		}
	})
}

// exitError describes an early exit, for start errors.
func (p *proc) exitError() error {
	return fmt.Errorf("%s (pid %d) exited during start: %w", p.name, p.cmd.Process.Pid, p.exitStatus())
}

// exitStatus is the wait error, spelling out a clean exit (nil), which %w
// would print as "%!w(<nil>)".
func (p *proc) exitStatus() error {
	if p.waitErr == nil {
		return errors.New("exit status 0")
	}
	return p.waitErr
}

// addrInUse reports whether the log shows the process lost a port race.
func (p *proc) addrInUse() bool {
	b, _ := os.ReadFile(p.logPath)
	return bytes.Contains(b, []byte("address already in use"))
}

// dumpLogsOnFailure registers a cleanup that prints the tail of each log file
// if the test failed. Register it before the stop cleanups so it runs after
// them (cleanups run last-in first-out) and sees the complete logs.
func dumpLogsOnFailure(t testing.TB, what string, paths *[]string) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for _, p := range *paths {
			t.Logf("==== realserver: %s log %s ====\n%s\n==== end of %s ====", what, p, tail(p, logDumpBytes), p)
		}
	})
}

func tail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(cannot read: %v)", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Sprintf("(cannot stat: %v)", err)
	}
	prefix := ""
	if fi.Size() > n {
		if _, err := f.Seek(fi.Size()-n, io.SeekStart); err != nil {
			return fmt.Sprintf("(cannot seek: %v)", err)
		}
		prefix = fmt.Sprintf("[... %d earlier bytes omitted ...]\n", fi.Size()-n)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return fmt.Sprintf("(cannot read: %v)", err)
	}
	return prefix + string(b)
}

// childEnv is the test process environment without the variables that change
// how Vault and Nomad behave: AWS_CA_BUNDLE breaks the Nomad client's IMDS
// fingerprinter, and VAULT_*, NOMAD_* and CONSUL_* would leak the developer's
// real clusters into the dev agents. HOME points at home so nothing writes
// to the real home directory (vault -dev writes ~/.vault-token).
func childEnv(home string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "AWS_CA_BUNDLE", k == "HOME",
			strings.HasPrefix(k, "VAULT_"), strings.HasPrefix(k, "NOMAD_"), strings.HasPrefix(k, "CONSUL_"):
			continue
		}
		env = append(env, kv)
	}
	return append(env, "HOME="+home)
}

// ---- ports -------------------------------------------------------------------

var (
	portsMu   sync.Mutex
	portsUsed = map[int]bool{} // ports handed out by this test binary
)

// freePorts returns n distinct ports (each free on 127.0.0.1 for TCP and
// UDP at the time of the call) starting groups of `span` consecutive ports:
// a port p is returned only if p..p+span-1 are all free. The ports are
// remembered so that parallel tests in the same binary never get the same
// port twice.
func freePorts(n, span int) ([]int, error) {
	portsMu.Lock()
	defer portsMu.Unlock()
	var out []int
	var holds []io.Closer
	defer func() {
		for _, h := range holds {
			h.Close()
		}
	}()
	for tries := 0; len(out) < n; tries++ {
		if tries > 200 {
			return nil, fmt.Errorf("no free port found on 127.0.0.1 after %d tries", tries)
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("listening on 127.0.0.1:0: %w", err)
		}
		base := l.Addr().(*net.TCPAddr).Port
		group := []io.Closer{l}
		ok := base+span-1 <= 65535
		for i := 0; ok && i < span; i++ {
			p := base + i
			if portsUsed[p] {
				ok = false
				break
			}
			if i > 0 {
				tl, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
				if err != nil {
					ok = false
					break
				}
				group = append(group, tl)
			}
			ul, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				ok = false
				break
			}
			group = append(group, ul)
		}
		if !ok {
			for _, c := range group {
				c.Close()
			}
			continue
		}
		holds = append(holds, group...)
		for i := 0; i < span; i++ {
			portsUsed[base+i] = true
		}
		out = append(out, base)
	}
	return out, nil
}

// ---- HTTP polling ------------------------------------------------------------

// httpClient talks to the dev servers: no proxy, short timeouts.
var httpClient = &http.Client{
	Timeout:   5 * time.Second,
	Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
}

// poll calls check every interval until it returns done or an error, the
// process exits, or the deadline passes. The last "not yet" reason is
// included in a timeout error.
func poll(p *proc, deadline time.Time, what string, check func() (done bool, notYet string, err error)) error {
	for {
		done, why, err := check()
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		if p.exited() {
			return p.exitError()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out waiting for %s: %s", what, why)
		}
		select {
		case <-p.done:
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// notYet is a poll check's answer to a failed request: while an agent
// starts, refused connections and timeouts are expected, so the error is
// the "not yet" reason rather than a failure.
func notYet(err error) (done bool, why string, fatal error) {
	return false, err.Error(), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// waitLog polls the log file until a line contains substr, and returns that
// line.
func (p *proc) waitLog(substr string, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		b, err := os.ReadFile(p.logPath)
		if err != nil {
			return "", err
		}
		if i := bytes.Index(b, []byte(substr)); i >= 0 {
			start := bytes.LastIndexByte(b[:i], '\n') + 1
			end := bytes.IndexByte(b[i:], '\n')
			if end < 0 {
				end = len(b) - i
			}
			return string(b[start : i+end]), nil
		}
		if p.exited() {
			return "", fmt.Errorf("%s exited (%w) and its log has no %q", p.name, p.exitStatus(), substr)
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("%s log has no %q after %v", p.name, substr, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (p *proc) log() string {
	b, _ := os.ReadFile(p.logPath)
	return string(b)
}
