package realserver

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// sysProcAttr makes the kernel send sig to the server if the test binary dies
// without running its cleanups (a panic, a -timeout, a SIGKILL), so that no
// dev server outlives its test.
func sysProcAttr(sig syscall.Signal) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: sig}
}

// unmountUnder detaches every mount below dir. Nomad clients running as
// root mount a tmpfs on each task's secrets/ directory; when the agent
// stops before unmounting them, t.TempDir's cleanup would fail with
// "device or resource busy".
func unmountUnder(dir string) {
	data, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return
	}
	prefix := filepath.Clean(dir) + string(filepath.Separator)
	var points []string
	for _, line := range strings.Split(string(data), "\n") {
		fields := strings.Fields(line)
		if len(fields) >= 2 && strings.HasPrefix(fields[1], prefix) {
			points = append(points, fields[1])
		}
	}
	// Deepest first.
	sort.Sort(sort.Reverse(sort.StringSlice(points)))
	for _, p := range points {
		_ = syscall.Unmount(p, syscall.MNT_DETACH)
	}
}
