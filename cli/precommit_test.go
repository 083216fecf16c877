package cli_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/nvlint/nvlint/cli"
)

const hooksFile = "../.pre-commit-hooks.yaml"

// hook is one entry of .pre-commit-hooks.yaml.
type hook map[string]string

// readHooks reads the manifest: a YAML list of maps of scalars and flow
// lists, the subset pre-commit manifests use. Anything else fails the
// test, so the file stays that simple.
func readHooks(t *testing.T) []hook {
	t.Helper()
	fh, err := os.Open(hooksFile)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var hooks []hook
	entry := regexp.MustCompile(`^(- |  )([a-z_]+):\s*(.*)$`)
	sc := bufio.NewScanner(fh)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		m := entry.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("%s:%d: not a simple key: value entry: %q", hooksFile, n, line)
		}
		if m[1] == "- " {
			hooks = append(hooks, hook{})
		}
		if len(hooks) == 0 {
			t.Fatalf("%s:%d: key outside a hook", hooksFile, n)
		}
		if _, dup := hooks[len(hooks)-1][m[2]]; dup {
			t.Fatalf("%s:%d: %s given twice", hooksFile, n, m[2])
		}
		hooks[len(hooks)-1][m[2]] = strings.TrimSpace(m[3])
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return hooks
}

func flowList(s string) []string {
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	var out []string
	for _, it := range strings.Split(s, ",") {
		if it = strings.Trim(strings.TrimSpace(it), `"'`); it != "" {
			out = append(out, it)
		}
	}
	return out
}

func TestPreCommitHooks(t *testing.T) {
	hooks := readHooks(t)
	byID := map[string]hook{}
	known := map[string]bool{
		"id": true, "name": true, "description": true, "entry": true, "language": true, "files": true,
		"exclude": true, "types": true, "types_or": true, "pass_filenames": true, "require_serial": true,
		"args": true, "always_run": true, "minimum_pre_commit_version": true, "stages": true,
	}
	for _, h := range hooks {
		for k := range h {
			if !known[k] {
				t.Errorf("hook %s: unknown key %s", h["id"], k)
			}
		}
		for _, k := range []string{"id", "name", "entry", "language"} {
			if h[k] == "" {
				t.Errorf("hook %v: %s is required", h, k)
			}
		}
		if h["language"] != "golang" {
			t.Errorf("hook %s: language %q; golang builds cmd/nvlint from the repository", h["id"], h["language"])
		}
		if !strings.HasPrefix(h["entry"], "nvlint lint") {
			t.Errorf("hook %s: entry %q", h["id"], h["entry"])
		}
		if h["require_serial"] != "true" {
			t.Errorf("hook %s: require_serial must be true: parallel runs would each see part of the setup", h["id"])
		}
		files, err := regexp.Compile(h["files"])
		if err != nil {
			t.Fatalf("hook %s: files: %v", h["id"], err)
		}
		for name, want := range map[string]bool{
			"vault.tf": true, "jobs/web.nomad": true, "web.nomad.hcl": true, "role.json": true, "vault.tf.json": true,
			"nomad-server.policy": true, "server.hcl": true, "README.md": false, "main.go": false, "values.yaml": false,
		} {
			if files.MatchString(name) != want {
				t.Errorf("hook %s: files matches %s: %v, want %v", h["id"], name, !want, want)
			}
		}
		byID[h["id"]] = h
	}
	if h := byID["nvlint"]; h == nil || h["pass_filenames"] != "true" || !strings.Contains(h["entry"], "--skip-unknown") {
		t.Errorf("hook nvlint: %v", h)
	}
	if h := byID["nvlint-setup"]; h == nil || h["pass_filenames"] != "false" || len(flowList(h["args"])) == 0 {
		t.Errorf("hook nvlint-setup: %v", h)
	}

	// Run each hook as pre-commit would (entry, then args, then the
	// changed files for pass_filenames), in a repository whose commit
	// touches a broken token role and an unrelated package.json.
	repo := t.TempDir()
	for name, text := range map[string]string{
		"package.json": `{"name": "web"}`,
		"role.json":    `{"name": "nomad-cluster", "renewable": false, "period": 259200, "orphan": true}`,
		"README.md":    "# infra\n",
	} {
		if err := os.WriteFile(filepath.Join(repo, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	changed := []string{"package.json", "role.json", "README.md"}
	for id, h := range byID {
		// Paths are the repository's, as pre-commit runs hooks at its root.
		args := strings.Fields(h["entry"])[1:]
		for _, a := range flowList(h["args"]) {
			if !strings.HasPrefix(a, "-") {
				a = filepath.Join(repo, a)
			}
			args = append(args, a)
		}
		if h["pass_filenames"] != "false" {
			files := regexp.MustCompile(h["files"])
			for _, f := range changed {
				if files.MatchString(f) {
					args = append(args, filepath.Join(repo, f))
				}
			}
		}
		r := nvlintIn(t, repo, args...)
		if r.code != cli.ExitFindings || !strings.Contains(r.stdout, "NV111") || strings.Contains(r.stdout, "NV002") {
			t.Errorf("hook %s (nvlint %s): code %d\n%s%s", id, strings.Join(args, " "), r.code, r.stdout, r.stderr)
		}
	}

	// pre-commit's own check, where it is installed.
	if pc, err := exec.LookPath("pre-commit"); err == nil {
		if out, err := exec.Command(pc, "validate-manifest", hooksFile).CombinedOutput(); err != nil {
			t.Errorf("pre-commit validate-manifest: %v\n%s", err, out)
		}
	}
}
