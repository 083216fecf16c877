package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nvlint/nvlint/checks"
	"github.com/nvlint/nvlint/config"
	"github.com/nvlint/nvlint/rules"
)

func TestParse(t *testing.T) {
	catalog := checks.All()
	for _, c := range []struct {
		name string
		src  string
		// want is the error text expected (each fragment must appear),
		// empty for a valid file.
		want  []string
		check func(t *testing.T, c *config.Config)
	}{
		{
			name: "empty",
			src:  "",
			check: func(t *testing.T, c *config.Config) {
				if len(c.Settings.Disabled)+len(c.Settings.Severity)+len(c.Settings.Ignores) != 0 || c.Hints.NomadVersion.Set {
					t.Errorf("empty config set something: %+v", c)
				}
			},
		},
		{
			name: "everything",
			src: `nomad_version = "1.10.2"
vault_version = "v1.16.1+ent"
server_policy = "nomad-server"
token_role    = "nomad-cluster"
jwt_mount     = "auth/jwt-nomad/"
jwt_accessor  = "auth_jwt_1a2b3c4d"
ignore_paths  = ["legacy/**", "*.example.hcl"]

rule "NV114" {
  enabled = false
}
rule "deprecated-vault-key" {
  severity = "error"
}
rule "NV201" {
  enabled  = true
  severity = "warn"
}

ignore {
  rule   = "token-role-not-periodic"
  path   = "vault/roles/batch-*.json"
  reason = "batch tokens are periodic by design"
}
ignore {
  rule   = "NV614"
  object = "https://vault.dev:*"
  reason = "the dev cluster runs with a root token"
}
`,
			check: func(t *testing.T, c *config.Config) {
				h := c.Hints
				if h.NomadVersion.V != "1.10.2" || h.VaultVersion.V != "v1.16.1+ent" || h.ServerPolicy.V != "nomad-server" ||
					h.TokenRole.V != "nomad-cluster" || h.JWTMount.V != "jwt-nomad" || h.JWTAccessor.V != "auth_jwt_1a2b3c4d" {
					t.Errorf("hints: %+v", h)
				}
				if h.NomadVersion.Range.Start.Line != 1 || h.NomadVersion.Range.Start.Column != 17 {
					t.Errorf("nomad_version range: %v", h.NomadVersion.Range)
				}
				s := c.Settings
				if !s.Disabled["NV114"] || len(s.Disabled) != 1 {
					t.Errorf("disabled: %v", s.Disabled)
				}
				if s.Severity["NV303"] != rules.Error || s.Severity["NV201"] != rules.Warning {
					t.Errorf("severity: %v", s.Severity)
				}
				if len(s.Ignores) != 2 || s.Ignores[0].Rule != "NV113" || s.Ignores[0].Pattern != "vault/roles/batch-*.json" ||
					s.Ignores[1].Rule != "NV614" || s.Ignores[1].Object != "https://vault.dev:*" || s.Ignores[1].Path != nil {
					t.Errorf("ignores: %+v", s.Ignores)
				}
				if len(c.IgnorePaths) != 2 {
					t.Errorf("ignore_paths: %v", c.IgnorePaths)
				}
			},
		},
		{
			name: "forecast windows",
			src:  "forecast {\n  error_within   = \"36h\"\n  warning_within = \"14d\"\n}\n",
			check: func(t *testing.T, c *config.Config) {
				if c.Hints.ForecastError != 36*time.Hour || c.Hints.ForecastWarning != 14*24*time.Hour {
					t.Errorf("forecast: %v %v", c.Hints.ForecastError, c.Hints.ForecastWarning)
				}
			},
		},
		{
			name: "forecast window not a duration",
			src:  "forecast {\n  error_within = \"a day\"\n}\n",
			want: []string{".nvlint.hcl:2:18: Invalid duration", `error_within "a day"`},
		},
		{
			name: "forecast error window longer than the warning one",
			src:  "forecast {\n  error_within = \"8d\"\n}\n",
			check: func(t *testing.T, c *config.Config) {
				if c.Hints.ForecastError != 8*24*time.Hour {
					t.Errorf("forecast: %v", c.Hints.ForecastError)
				}
			},
		},
		{
			name: "forecast windows out of order",
			src:  "forecast {\n  error_within = \"8d\"\n  warning_within = \"2d\"\n}\n",
			want: []string{".nvlint.hcl:1:1: Invalid forecast windows"},
		},
		{
			name: "unknown top-level key",
			src:  "nomad_version = \"1.10\"\nnomad_versio = \"1.9\"\n",
			want: []string{".nvlint.hcl:2:1: Unsupported argument", `"nomad_versio"`, `Did you mean "nomad_version"?`},
		},
		{
			name: "unknown block",
			src:  "rules {\n  disable = [\"NV114\"]\n}\n",
			want: []string{".nvlint.hcl:1:1: Unsupported block type", `"rules"`},
		},
		{
			name: "unknown key in a rule block",
			src:  "rule \"NV114\" {\n  enable = false\n}\n",
			want: []string{".nvlint.hcl:2:3: Unsupported argument", `"enable"`},
		},
		{
			name: "unknown key in an ignore block",
			src:  "ignore {\n  rule = \"NV113\"\n  path = \"x.json\"\n  reason = \"r\"\n  file = \"x.json\"\n}\n",
			want: []string{".nvlint.hcl:5:3: Unsupported argument", `"file"`},
		},
		{
			name: "unknown rule",
			src:  "rule \"NV999\" {\n  enabled = false\n}\n",
			want: []string{".nvlint.hcl:1:6: Unknown rule", `"NV999"`},
		},
		{
			name: "unknown rule in an ignore",
			src:  "ignore {\n  rule = \"no-such-rule\"\n  path = \"x\"\n  reason = \"r\"\n}\n",
			want: []string{".nvlint.hcl:2:10: Unknown rule"},
		},
		{
			name: "unknown rule, an ID's start",
			src:  "rule \"NV30\" {\n  enabled = false\n}\n",
			want: []string{".nvlint.hcl:1:6: Unknown rule", `"NV30"; did you mean NV301, NV302, NV303, NV304, NV305?`},
		},
		{
			name: "unknown rule, a misspelt name",
			src:  "rule \"unknown-vault-kye\" {\n  enabled = false\n}\n",
			want: []string{".nvlint.hcl:1:6: Unknown rule", `did you mean unknown-vault-key?`},
		},
		{
			name: "unknown rule in an ignore, a mistyped ID",
			src:  "ignore {\n  rule = \"NV3O2\"\n  path = \"x\"\n  reason = \"r\"\n}\n",
			want: []string{".nvlint.hcl:2:10: Unknown rule", `did you mean NV302?`},
		},
		{
			name: "duplicate rule block, by ID and by name",
			src:  "rule \"NV114\" {\n  enabled = false\n}\nrule \"token-role-not-orphan\" {\n  severity = \"info\"\n}\n",
			want: []string{".nvlint.hcl:4:6: Duplicate rule block", "NV114 is already configured at .nvlint.hcl:1"},
		},
		{
			name: "bad severity",
			src:  "rule \"NV114\" {\n  severity = \"fatal\"\n}\n",
			want: []string{".nvlint.hcl:2:14: Invalid severity", `"fatal"`},
		},
		{
			name: "bad version",
			src:  "nomad_version = \"latest\"\n",
			want: []string{".nvlint.hcl:1:17: Invalid version", `"latest"`},
		},
		{
			name: "names",
			src:  "names = {\n  \"acl-role.json\" = \"nomad-workloads\"\n  \"vault/server.hcl\" = \"nomad-server\"\n}\n",
			check: func(t *testing.T, c *config.Config) {
				n := c.Hints.Names
				if n["acl-role.json"].V != "nomad-workloads" || n[filepath.Join(c.Dir, "vault", "server.hcl")].V != "nomad-server" || len(n) != 2 {
					t.Errorf("names: %+v", n)
				}
			},
		},
		{
			name: "empty name",
			src:  "names = { \"acl-role.json\" = \"\" }\n",
			want: []string{".nvlint.hcl:1:9: Empty name"},
		},
		{
			name: "names not a map of strings",
			src:  "names = [\"acl-role.json\"]\n",
			want: []string{"Incorrect value type", "names must be map of string"},
		},
		{
			name: "wrong type",
			src:  "ignore_paths = \"legacy/**\"\n",
			want: []string{".nvlint.hcl:1:16: Incorrect value type", "ignore_paths must be list of string"},
		},
		{
			name: "enabled must be a bool",
			src:  "rule \"NV114\" {\n  enabled = \"no\"\n}\n",
			want: []string{".nvlint.hcl:2:13: Incorrect value type"},
		},
		{
			name: "no variables",
			src:  "token_role = var.role\n",
			want: []string{".nvlint.hcl:1:14: Variables not allowed"},
		},
		{
			name: "ignore without a place",
			src:  "ignore {\n  rule = \"NV113\"\n  reason = \"r\"\n}\n",
			want: []string{".nvlint.hcl:1:1: Ignore without a place"},
		},
		{
			name: "ignore without a reason",
			src:  "ignore {\n  rule = \"NV113\"\n  path = \"x.json\"\n}\n",
			want: []string{".nvlint.hcl:1:8: Missing required argument", `"reason"`},
		},
		{
			name: "bad pattern",
			src:  "ignore_paths = [\"[a-\"]\n",
			want: []string{".nvlint.hcl:1:16: Invalid pattern"},
		},
		{
			name: "syntax error",
			src:  "nomad_version = \n",
			want: []string{".nvlint.hcl:1:"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, diags := config.Parse([]byte(c.src), ".nvlint.hcl", catalog)
			if len(c.want) == 0 {
				if diags.HasErrors() {
					t.Fatalf("unexpected errors: %s", (&config.Error{Diags: diags}).Error())
				}
				if c.check != nil {
					c.check(t, cfg)
				}
				return
			}
			if !diags.HasErrors() {
				t.Fatalf("no error, want %q", c.want)
			}
			msg := (&config.Error{Diags: diags}).Error()
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
		})
	}
}

func TestFindWalksUp(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "a", "b", "c")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if got, _ := config.Find(deep); got != "" && strings.HasPrefix(got, root) {
		t.Fatalf("found %s in an empty tree", got)
	}
	want := filepath.Join(root, "a", config.FileName)
	if err := os.WriteFile(want, []byte("nomad_version = \"1.9\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := config.Find(deep)
	if err != nil || got != want {
		t.Fatalf("Find = %q, %v; want %q", got, err, want)
	}
	c, err := config.Load(got, checks.All())
	if err != nil || c.Dir != filepath.Join(root, "a") || c.Hints.NomadVersion.V != "1.9" {
		t.Fatalf("Load = %+v, %v", c, err)
	}
}

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		pattern, name string
		want          bool
	}{
		{"legacy/**", "legacy/a.hcl", true},
		{"legacy/**", "legacy/x/y/a.hcl", true},
		{"legacy", "legacy/a.hcl", true},
		{"legacy", "other/legacy/a.hcl", true}, // no slash: any depth
		{"legacy/", "legacy/a.hcl", true},
		{"/legacy", "other/legacy/a.hcl", false},
		{"./legacy", "legacy/a.hcl", true},
		{"*.example.hcl", "jobs/web.example.hcl", true},
		{"*.example.hcl", "web.example.hcl", true},
		{"*.example.hcl", "web.hcl", false},
		{"jobs/*.nomad", "jobs/web.nomad", true},
		{"jobs/*", "jobs/x/web.nomad", true}, // jobs/x is a directory the pattern matches
		{"jobs/*.nomad", "jobs/x/web.nomad", false},
		{"jobs/*.nomad", "other/jobs/web.nomad", false},
		{"**/roles/*.json", "vault/roles/a.json", true},
		{"**/roles/*.json", "roles/a.json", true},
		{"vault/**/a.json", "vault/a.json", true},
		{"vault/**/a.json", "vault/x/y/a.json", true},
		{"vault/**/a.json", "vault/x/y/b.json", false},
		{"vault/roles/batch-*.json", "vault/roles/batch-1.json", true},
		{"vault/roles/batch-*.json", "vault/roles/web.json", false},
		{"nomad-cluster-role.json", "nomad-cluster-role.json", true},
	} {
		if got := config.Match(c.pattern, c.name); got != c.want {
			t.Errorf("Match(%q, %q) = %v, want %v", c.pattern, c.name, got, c.want)
		}
	}
}

func TestIgnoredIsRelativeToTheConfig(t *testing.T) {
	root := t.TempDir()
	path := filepath.Join(root, config.FileName)
	if err := os.WriteFile(path, []byte("ignore_paths = [\"legacy/**\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(path, checks.All())
	if err != nil {
		t.Fatal(err)
	}
	if !c.Ignored(filepath.Join(root, "legacy", "a.hcl")) || c.Ignored(filepath.Join(root, "jobs", "a.hcl")) {
		t.Error("ignore_paths not applied relative to the config's directory")
	}
	if c.Ignored(filepath.Join(filepath.Dir(root), "legacy", "a.hcl")) {
		t.Error("a path outside the config's directory matched")
	}
}

// TestREADMEExample keeps the documented example valid.
func TestREADMEExample(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(readme)
	i := strings.Index(s, "### Configuration")
	if i < 0 {
		t.Fatal("README has no configuration section")
	}
	start := strings.Index(s[i:], "```hcl\n")
	if start < 0 {
		t.Fatal("README's configuration section has no hcl example")
	}
	body := s[i+start+len("```hcl\n"):]
	end := strings.Index(body, "```")
	if end < 0 {
		t.Fatal("README's hcl example is not closed")
	}
	body = body[:end]
	c, diags := config.Parse([]byte(body), "README.md", checks.All())
	if diags.HasErrors() {
		t.Fatalf("README example: %s", (&config.Error{Diags: diags}).Error())
	}
	if !c.Settings.Disabled["NV114"] || c.Hints.JWTAccessor.V == "" || len(c.Settings.Ignores) != 1 {
		t.Errorf("README example parsed to %+v", c)
	}
}

func TestFindStopsAtTheRepositoryRoot(t *testing.T) {
	root := t.TempDir()
	repo := filepath.Join(root, "repo")
	deep := filepath.Join(repo, "jobs", "web")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, config.FileName), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// A worktree's .git is a file.
	if err := os.WriteFile(filepath.Join(repo, ".git"), []byte("gitdir: /elsewhere\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := config.Find(deep); err != nil || got != "" {
		t.Fatalf("Find = %q, %v; want nothing above the repository", got, err)
	}
	want := filepath.Join(repo, config.FileName)
	if err := os.WriteFile(want, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, _ := config.Find(deep); got != want {
		t.Fatalf("Find = %q, want %q", got, want)
	}
}

func TestFindFor(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"a/x", "b", "c"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, ".git"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cfgA := filepath.Join(root, "a", config.FileName)
	cfgB := filepath.Join(root, "b", config.FileName)
	for _, p := range []string{cfgA, cfgB} {
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(root, "a", "x", "job.nomad.hcl")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	a, b, c := filepath.Join(root, "a"), filepath.Join(root, "b"), filepath.Join(root, "c")
	for _, tc := range []struct {
		paths   []string
		workDir string
		want    string
		err     bool
	}{
		{[]string{a}, c, cfgA, false},
		{[]string{file}, c, cfgA, false},
		{[]string{a, file, c}, c, cfgA, false}, // c finds none: it takes a's
		{[]string{"-", b}, a, cfgB, false},
		{[]string{"-"}, a, cfgA, false}, // standard input: the working directory's
		{nil, b, cfgB, false},
		{[]string{c}, c, "", false},
		{[]string{a, b}, c, "", true},
	} {
		got, err := config.FindFor(tc.paths, tc.workDir)
		if (err != nil) != tc.err || got.Path != tc.want {
			t.Errorf("FindFor(%q, %q) = %+v, %v; want %q (error %v)", tc.paths, tc.workDir, got, err, tc.want, tc.err)
		}
	}
}

func TestSetupBlocks(t *testing.T) {
	root := t.TempDir()
	path := filepath.Join(root, config.FileName)
	src := `setup "prod" {
  paths = ["prod", "shared/*.hcl"]
}
setup "staging" {
  paths = ["./staging"]
}
`
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(path, checks.All())
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Setups) != 2 || c.Setups[0].Name != "prod" || c.Setups[1].Name != "staging" {
		t.Fatalf("setups: %+v", c.Setups)
	}
	prod, staging := c.Setups[0], c.Setups[1]
	for _, tc := range []struct {
		setup config.Setup
		file  string
		in    bool
	}{
		{prod, "prod/jobs/web.nomad.hcl", true},
		{prod, "shared/web.hcl", true},
		{prod, "shared/roles/web.json", false},
		// Anchored at the config's directory, unlike ignore_paths.
		{prod, "staging/prod/web.nomad.hcl", false},
		{staging, "staging/web.nomad.hcl", true},
		{staging, "prod/web.nomad.hcl", false},
	} {
		if got := c.InSetup(tc.setup, filepath.Join(root, tc.file)); got != tc.in {
			t.Errorf("%s in setup %s: %v, want %v", tc.file, tc.setup.Name, got, tc.in)
		}
	}
	if c.InSetup(prod, filepath.Join(filepath.Dir(root), "prod", "web.hcl")) {
		t.Error("a file outside the config's directory is in a setup")
	}
}

func TestSetupBlockErrors(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{`setup "prod" {}`, `The argument "paths" is required`},
		{`setup "prod" { paths = [] }`, `setup "prod" needs the paths of its files`},
		{`setup "my prod" { paths = ["prod"] }`, `setup name "my prod": use letters, digits`},
		{`setup "(other files)" { paths = ["x"] }`, "Invalid setup name"},
		{"setup \"prod\" { paths = [\"prod\"] }\nsetup \"prod\" { paths = [\"p\"] }", `setup "prod" is already declared at x.hcl:1`},
		{`setup "prod" { paths = ["../prod"] }`, "setup paths are under the config's directory"},
		{`setup "prod" { path = ["prod"] }`, `Did you mean "paths"?`},
		{"setup \"prod\" {\n  paths = [\"prod\"]\n  nomad_version = \"ten\"\n}", `nomad_version "ten" is not a release number`},
		{"setup \"prod\" {\n  paths = [\"prod\"]\n  names = {}\n}", `An argument named "names" is not expected here`},
	} {
		_, diags := config.Parse([]byte(c.src), "x.hcl", checks.All())
		got := (&config.Error{Diags: diags}).Error()
		if !strings.Contains(got, c.want) {
			t.Errorf("%s:\n got %q\nwant %q", c.src, got, c.want)
		}
	}
}
