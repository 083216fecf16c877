// Package scripts holds tests of the repository's scripts.
package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// runTestSh runs test.sh in a copy of the repository's layout, with a
// stub build-servers.sh and a go that records how it runs the tests (and
// is the real go for everything else), and returns go test's arguments
// and test.sh's stderr.
func runTestSh(t *testing.T, env ...string) (args, stderr string) {
	t.Helper()
	realGo, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	dir := t.TempDir()
	scripts := filepath.Join(dir, "scripts")
	bin := filepath.Join(dir, "bin")
	for _, d := range []string{scripts, bin} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	src, err := os.ReadFile("test.sh")
	if err != nil {
		t.Fatal(err)
	}
	record := filepath.Join(dir, "go-test-args")
	for path, text := range map[string]string{
		filepath.Join(scripts, "test.sh"):          string(src),
		filepath.Join(scripts, "build-servers.sh"): "exit 0\n",
		filepath.Join(bin, "go"):                   "#!/bin/sh\nif [ \"$1\" = test ]; then echo \"$*\" > " + record + "; exit 0; fi\nexec " + realGo + " \"$@\"\n",
	} {
		if err := os.WriteFile(path, []byte(text), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("bash", filepath.Join(scripts, "test.sh"), "-run", "X")
	cmd.Env = append(os.Environ(), append(env, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))...)
	var errb strings.Builder
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("test.sh: %v\n%s", err, errb.String())
	}
	got, err := os.ReadFile(record)
	if err != nil {
		t.Fatalf("go test was not run: %v\n%s", err, errb.String())
	}
	return strings.TrimSpace(string(got)), errb.String()
}

func TestTestShRunsWithoutRaceWithoutACCompiler(t *testing.T) {
	args, stderr := runTestSh(t, "CC=/nonexistent/cc")
	if strings.Contains(args, "-race") || !strings.Contains(stderr, "without -race") {
		t.Errorf("go %s\nstderr: %s", args, stderr)
	}
	if !strings.HasSuffix(args, "-run X ./...") {
		t.Errorf("the extra arguments are not passed on: go %s", args)
	}
	args, stderr = runTestSh(t, "CGO_ENABLED=0")
	if strings.Contains(args, "-race") || !strings.Contains(stderr, "without -race") {
		t.Errorf("CGO_ENABLED=0: go %s\nstderr: %s", args, stderr)
	}
}

func TestTestShRunsWithRaceWithACCompiler(t *testing.T) {
	cc, err := exec.LookPath("true")
	if err != nil {
		t.Skip("no true(1)")
	}
	args, stderr := runTestSh(t, "CC="+cc, "CGO_ENABLED=1")
	if !strings.Contains(args, "-race") || stderr != "" {
		t.Errorf("go %s\nstderr: %s", args, stderr)
	}
}
