package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/nvlint/nvlint/cli"
)

var commands = []string{"lint", "doctor", "impact", "access", "rules", "explain", "version", "completion"}

func TestHelpOnStdout(t *testing.T) {
	for _, cmd := range commands {
		for _, args := range [][]string{{cmd, "-h"}, {cmd, "--help"}, {"help", cmd}} {
			r := nvlint(t, "", nil, args...)
			if r.code != cli.ExitOK || r.stderr != "" || !strings.Contains(r.stdout, "Usage:\n  nvlint "+cmd) {
				t.Errorf("%q: code %d, stdout %q, stderr %q; want its help on stdout", args, r.code, r.stdout, r.stderr)
			}
		}
	}
	for _, args := range [][]string{{"-h"}, {"--help"}, {"help"}, {"-help"}} {
		if r := nvlint(t, "", nil, args...); r.code != cli.ExitOK || !strings.Contains(r.stdout, "Available Commands:") {
			t.Errorf("%q: code %d\n%s%s", args, r.code, r.stdout, r.stderr)
		}
	}
	// explain's argument is a rule; -h is not one.
	if r := nvlint(t, "", nil, "explain", "-h"); strings.Contains(r.stderr, "no rule") {
		t.Errorf("explain -h: %s", r.stderr)
	}
	if r := nvlint(t, "", nil, "help", "lnit"); r.code != cli.ExitUsage || !strings.Contains(r.stderr, "lint") {
		t.Errorf("help lnit: code %d %q", r.code, r.stderr)
	}
}

// everyCommand is a run of each command that prints something, given
// extra flags.
func everyCommand(extra ...string) [][]string {
	nv111 := "../fixtures/cases/NV111-token-role-not-renewable/bad-renewable-false"
	return [][]string{
		append([]string{"lint", nv111}, extra...),
		append([]string{"doctor", "--from", "../fixtures/cases/NV611-vault-sealed/bad-sealed/snapshot.json"}, extra...),
		append([]string{"impact", "--snapshot", "../fixtures/cases/NV611-vault-sealed/bad-sealed/snapshot.json", nv111}, extra...),
		append([]string{"access", "--job", "mongo", examples + "/workload-identity"}, extra...),
		append([]string{"rules"}, extra...),
		append([]string{"explain", "NV111"}, extra...),
		append([]string{"version"}, extra...),
	}
}

func TestColorAndFormatEverywhere(t *testing.T) {
	for _, args := range everyCommand("--color", "never", "--format", "json") {
		r := nvlint(t, "", nil, args...)
		if r.code == cli.ExitUsage || r.code == cli.ExitInternal || !json.Valid([]byte(r.stdout)) {
			t.Errorf("%q: code %d, stdout %q, stderr %q; want JSON", args, r.code, r.stdout, r.stderr)
		}
	}
	for _, args := range everyCommand("--color=always") {
		if r := nvlint(t, "", nil, args...); r.code == cli.ExitUsage {
			t.Errorf("%q: %s", args, r.stderr)
		}
	}
	for _, args := range everyCommand("--format", "sarif-ish") {
		if r := nvlint(t, "", nil, args...); r.code != cli.ExitUsage || !strings.Contains(r.stderr, "--format") {
			t.Errorf("%q: code %d, stderr %q; want the format refused", args, r.code, r.stderr)
		}
	}
	for _, args := range everyCommand("--color", "sometimes") {
		if r := nvlint(t, "", nil, args...); r.code != cli.ExitUsage || !strings.Contains(r.stderr, "--color") {
			t.Errorf("%q: code %d, stderr %q; want the mode refused", args, r.code, r.stderr)
		}
	}
	// --color is every command's, including those that print no colour,
	// so scripts can pass it uniformly; a bad mode is refused by all.
	for _, args := range [][]string{
		{"completion", "bash"}, {"completion", "zsh"}, {"help"}, {"help", "lint"}, {"help", "impact"},
	} {
		for _, mode := range []string{"always", "never", "auto"} {
			for _, flag := range [][]string{{"--color", mode}, {"--color=" + mode}} {
				full := append(append([]string(nil), args...), flag...)
				if r := nvlint(t, "", nil, full...); r.code != cli.ExitOK || r.stdout == "" {
					t.Errorf("%q: code %d, stderr %q; want it accepted", full, r.code, r.stderr)
				}
			}
		}
		full := append(append([]string(nil), args...), "--color", "sometimes")
		if r := nvlint(t, "", nil, full...); r.code != cli.ExitUsage || !strings.Contains(r.stderr, "--color") {
			t.Errorf("%q: code %d, stderr %q; want the mode refused", full, r.code, r.stderr)
		}
	}
	// rules lists no SARIF: it said nothing and printed the table.
	if r := nvlint(t, "", nil, "rules", "--format", "sarif"); r.code != cli.ExitUsage || r.stdout != "" {
		t.Errorf("rules --format sarif: code %d\n%s", r.code, r.stdout)
	}
}

// A command's unknown-format error lists the formats it accepts, and
// only them: each listed is accepted, each other refused with the same
// list.
func TestUnknownFormatListsWhatTheCommandAccepts(t *testing.T) {
	all := []string{"text", "json", "sarif", "junit", "checkstyle", "github", "markdown"}
	accepts := map[string][]string{
		"lint": all, "doctor": all,
		"impact": {"text", "json", "markdown", "sarif"},
		"access": {"text", "json"}, "rules": {"text", "json"}, "explain": {"text", "json"}, "version": {"text", "json"},
	}
	wantList := regexp.MustCompile(`\(want ([a-z, ]+)\)`)
	for _, args := range everyCommand("--color", "never", "--format") {
		cmd := args[0]
		want, ok := accepts[cmd]
		if !ok {
			t.Errorf("%s: which formats does it accept?", cmd)
			continue
		}
		r := nvlint(t, "", nil, append(args, "xml")...)
		m := wantList.FindStringSubmatch(r.stderr)
		if r.code != cli.ExitUsage || m == nil {
			t.Errorf("%s --format xml: code %d, stderr %q; want a usage error listing the formats", cmd, r.code, r.stderr)
			continue
		}
		listed := strings.Split(m[1], ", ")
		slices.Sort(listed)
		sorted := slices.Sorted(slices.Values(want))
		if !slices.Equal(listed, sorted) {
			t.Errorf("%s --format xml lists %v, want %v", cmd, listed, sorted)
		}
		for _, f := range all {
			r := nvlint(t, "", nil, append(args, f)...)
			switch {
			case slices.Contains(want, f) && r.code == cli.ExitUsage:
				t.Errorf("%s --format %s: refused, though listed: %s", cmd, f, r.stderr)
			case !slices.Contains(want, f) && (r.code != cli.ExitUsage || !strings.Contains(r.stderr, m[0])):
				t.Errorf("%s --format %s: code %d, stderr %q; want it refused with %s", cmd, f, r.code, r.stderr, m[0])
			}
		}
	}
}

func TestUnknownFlagOnceWithSuggestion(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"lint", "--colr", "never", examples}, "did you mean --color?"},
		{[]string{"lint", "--fail-on=error", "--verbos", examples}, "did you mean --verbose?"},
		{[]string{"doctor", "--vault-adr", "http://x"}, "did you mean --vault-addr?"},
		{[]string{"rules", "--formt", "json"}, "did you mean --format?"},
		{[]string{"access", "--jbo", "x", examples}, "did you mean --job?"},
	} {
		r := nvlint(t, "", nil, c.args...)
		if r.code != cli.ExitUsage || strings.Count(r.stderr, "unknown flag") != 1 || !strings.Contains(r.stderr, c.want) || r.stdout != "" {
			t.Errorf("%q: code %d, stderr %q; want one error with %q", c.args, r.code, r.stderr, c.want)
		}
	}
	if r := nvlint(t, "", nil, "lnit", examples); r.code != cli.ExitUsage || !strings.Contains(r.stderr, "lint") {
		t.Errorf("lnit: code %d %q", r.code, r.stderr)
	}
}

func TestExplainSuggestsRules(t *testing.T) {
	for key, want := range map[string]string{
		"NV10":                        "NV101",
		"NV1111":                      "NV111",
		"token-role-not-renewabel":    "token-role-not-renewable",
		"server-policy-missing-capab": "server-policy-missing-capability",
	} {
		r := nvlint(t, "", nil, "explain", key)
		if r.code != cli.ExitUsage || !strings.Contains(r.stderr, "did you mean") || !strings.Contains(r.stderr, want) {
			t.Errorf("explain %s: code %d, stderr %q; want a suggestion of %s", key, r.code, r.stderr, want)
		}
	}
	r := nvlint(t, "", nil, "explain", "--format", "json", "nv115")
	var m struct{ ID, Name, Doc string }
	if err := json.Unmarshal([]byte(r.stdout), &m); err != nil || m.ID != "NV115" || !strings.Contains(m.Doc, "## How to fix") {
		t.Errorf("explain --format json: %v\n%s", err, r.stdout)
	}
}

func TestErrorsNameTheFlag(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"lint", "--config", missing, examples}, "--config " + missing + ": no such file"},
		{[]string{"lint", "--snapshot", missing, examples}, "--snapshot " + missing + ": no such file"},
		{[]string{"doctor", "--from", missing}, "--from " + missing + ": no such file"},
		{[]string{"access", "--config", missing, "--job", "mongo", examples}, "--config " + missing},
		{[]string{"lint", "--format", "yaml", examples}, "--format"},
		{[]string{"lint", "--fail-on", "fatal", examples}, "--fail-on"},
		{[]string{"lint", "--kind", "jobspek", examples}, "--kind"},
		{[]string{"doctor", "--timeout", "soon", "--from", missing}, `"--timeout"`},
		{[]string{"access", "--op", "frob", "--job", "mongo", examples}, "--op"},
	} {
		r := nvlint(t, "", nil, c.args...)
		if r.code != cli.ExitUsage || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%q: code %d, stderr %q; want %q", c.args, r.code, r.stderr, c.want)
		}
	}
	snap := filepath.Join(dir, "snap.json")
	if err := os.WriteFile(snap, []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := nvlint(t, "", nil, "lint", "--snapshot", snap, examples); r.code != cli.ExitUsage || !strings.Contains(r.stderr, "--snapshot "+snap+": ") {
		t.Errorf("bad snapshot: code %d %q", r.code, r.stderr)
	}
}

func TestFlagSpellings(t *testing.T) {
	nv101 := "../fixtures/cases/NV101-server-policy-missing-capability"
	dir := t.TempDir()
	sarif := filepath.Join(dir, "out.sarif")
	// Flags before, between and after paths; = or a space; one dash or
	// two; a repeated --format.
	for _, args := range [][]string{
		{"lint", "--format", "json", "--format=sarif=" + sarif, nv101, "--fail-on", "never"},
		{"lint", nv101, "-format", "json", "-fail-on=never", "--format", "sarif=" + sarif},
		{"lint", "--fail-on=never", nv101, "--format=json", "-format=sarif=" + sarif},
	} {
		_ = os.Remove(sarif)
		r := nvlint(t, "", nil, args...)
		if r.code != cli.ExitOK || !json.Valid([]byte(r.stdout)) || !strings.Contains(r.stdout, "NV101") {
			t.Errorf("%q: code %d\n%s%s", args, r.code, r.stdout, r.stderr)
		}
		if _, err := os.Stat(sarif); err != nil {
			t.Errorf("%q: %v", args, err)
		}
	}
	// -- ends the flags: a path may start with a dash.
	if r := nvlint(t, "", nil, "lint", "--", "-no-such-file"); r.code != cli.ExitUsage || !strings.Contains(r.stderr, "-no-such-file: no such file") {
		t.Errorf("after --: code %d %q", r.code, r.stderr)
	}
	if r := nvlint(t, "", nil, "--version"); r.code != cli.ExitOK || !strings.HasPrefix(r.stdout, "nvlint ") {
		t.Errorf("--version: code %d %q", r.code, r.stdout)
	}
	if r := nvlint(t, "", nil); r.code != cli.ExitUsage || !strings.Contains(r.stderr, "Available Commands") {
		t.Errorf("no arguments: code %d %q", r.code, r.stderr)
	}
}

func TestAccessJSON(t *testing.T) {
	r := nvlint(t, "", nil, "access", "--format", "json", "--job", "mongo-query", "--path", "kv/data/default/mongo/config", examples+"/workload-identity")
	var rep struct {
		Job, Task, Flow string
		Steps           []string
		Policies        []string
		Answers         []struct{ Path, Op, Verdict string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("%v\n%s%s", err, r.stdout, r.stderr)
	}
	if r.code != cli.ExitFindings || rep.Job != "mongo-query" || rep.Flow != "workload identity" || len(rep.Steps) == 0 ||
		len(rep.Answers) != 1 || rep.Answers[0].Verdict != "denied" || rep.Answers[0].Path != "kv/data/default/mongo/config" {
		t.Errorf("code %d: %+v", r.code, rep)
	}
	r = nvlint(t, "", nil, "access", "--op", "frob", "--job", "mongo", examples+"/workload-identity")
	if r.code != cli.ExitUsage || r.stdout != "" {
		t.Errorf("--op frob: code %d\n%s", r.code, r.stdout)
	}
	r = nvlint(t, "", nil, "access", "--op", "list", "--path", "kv/metadata/", "--job", "mongo", examples+"/workload-identity")
	if r.code == cli.ExitUsage || !strings.Contains(r.stdout, "list kv/metadata/") {
		t.Errorf("--op list: code %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
