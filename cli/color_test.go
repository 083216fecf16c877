package cli_test

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/nvlint/nvlint/cli"
)

func nvlintTerm(t *testing.T, terminal bool, env map[string]string, args ...string) run {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Main(args, cli.Env{
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		Getenv:     func(k string) string { return env[k] },
		IsTerminal: func(io.Writer) bool { return terminal },
	})
	return run{code, out.String(), errb.String()}
}

func TestColorEnvironment(t *testing.T) {
	const bad = "../fixtures/cases/NV302-unknown-vault-key/bad-typo"
	for _, c := range []struct {
		name     string
		terminal bool
		env      map[string]string
		args     []string
		want     bool
	}{
		{name: "pipe", want: false},
		{name: "terminal", terminal: true, want: true},
		{name: "FORCE_COLOR into a pipe", env: map[string]string{"FORCE_COLOR": "1"}, want: true},
		{name: "CLICOLOR_FORCE into a pipe", env: map[string]string{"CLICOLOR_FORCE": "1"}, want: true},
		{name: "NO_COLOR beats FORCE_COLOR", terminal: true, env: map[string]string{"NO_COLOR": "1", "FORCE_COLOR": "1"}, want: false},
		{name: "--color never beats FORCE_COLOR", env: map[string]string{"FORCE_COLOR": "1"}, args: []string{"--color", "never"}, want: false},
		{name: "--color always beats NO_COLOR", env: map[string]string{"NO_COLOR": "1"}, args: []string{"--color", "always"}, want: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, mode := range [][]string{nil, {"--diff"}} {
				args := append(append(append([]string{"lint"}, mode...), c.args...), bad)
				r := nvlintTerm(t, c.terminal, c.env, args...)
				if r.code != cli.ExitFindings {
					t.Fatalf("%v: code %d\n%s%s", args, r.code, r.stdout, r.stderr)
				}
				if got := strings.Contains(r.stdout, "\x1b["); got != c.want {
					t.Errorf("%v: coloured %t, want %t:\n%s", args, got, c.want, r.stdout)
				}
				if mode != nil && c.want && !strings.Contains(r.stdout, "\x1b[92m+  create_from_role") {
					t.Errorf("%v: added line not green:\n%q", args, r.stdout)
				}
			}
		})
	}
}
