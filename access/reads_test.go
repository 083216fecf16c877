package access_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nvlint/nvlint/access"
	"github.com/nvlint/nvlint/inputs"
	"github.com/nvlint/nvlint/templates"
	"github.com/nvlint/nvlint/world"
)

func TestReadKVVersion(t *testing.T) {
	read := func(p string) templates.Access {
		return templates.Access{Func: "secret", Op: templates.OpRead, Path: p}
	}
	tests := []struct {
		name    string
		files   map[string]string
		call    templates.Access
		path    string
		verdict string // allowed, denied, unknown
	}{
		// The seed's policies name kv/data/...: version 2, so kv/x reads kv/data/x.
		{"v2 from policies", nil, read("kv/default/mongo/config"), "kv/data/default/mongo/config", "allowed"},
		{"already data/", nil, read("kv/data/default/mongo/config"), "kv/data/default/mongo/config", "allowed"},
		{"list under metadata/", nil, templates.Access{Func: "secrets", Op: templates.OpList, Path: "kv/default/"}, "kv/metadata/default", "allowed"},
		{"declared v1 beats policies", map[string]string{"kv.tf": `resource "vault_mount" "kv" {
  path    = "kv"
  type    = "kv"
  options = { version = "1" }
}
`}, read("kv/default/mongo/config"), "kv/default/mongo/config", "denied"},
		{"declared v2 without policy evidence", map[string]string{
			"kv.tf":                            "resource \"vault_mount\" \"s\" {\n  path = \"team/secrets\"\n  type = \"kv-v2\"\n}\n",
			"vault-policy-nomad-workloads.hcl": "path \"team/secrets/data/app\" {\n  capabilities = [\"read\"]\n}\n",
		}, read("team/secrets/app"), "team/secrets/data/app", "allowed"},
		{"v2 setup resource", map[string]string{
			"kv.tf": "resource \"vault_mount\" \"kv\" {\n  path = \"app\"\n  type = \"kv\"\n}\n" +
				"resource \"vault_kv_secret_backend_v2\" \"kv\" {\n  mount = vault_mount.kv.path\n}\n",
			"vault-policy-nomad-workloads.hcl": "path \"+/data/web\" {\n  capabilities = [\"read\"]\n}\n",
		}, read("app/web"), "app/data/web", "allowed"},
		// Nothing says what app/ is, and only the version 2 reading is
		// granted: unknown, never denied.
		{"unknown version", map[string]string{
			"vault-policy-nomad-workloads.hcl": "path \"+/data/web\" {\n  capabilities = [\"read\"]\n}\n",
		}, read("app/web"), "app/web", "unknown"},
		{"live mount beats policies", map[string]string{"live": "kv 1"}, read("kv/default/mongo/config"), "kv/default/mongo/config", "denied"},
		// The policy is written for version 1, but the job reads
		// .Data.data: the shape of a version 2 secret.
		{"template shape beats policies", map[string]string{
			"vault-policy-nomad-workloads.hcl": "path \"kv/default/mongo/config\" {\n  capabilities = [\"read\"]\n}\n",
			"mongo.nomad.hcl":                  strings.Replace(mongoJob(t), "kv/data/default/mongo/config", "kv/default/mongo/config", 1),
		}, read("kv/default/mongo/config"), "kv/data/default/mongo/config", "denied"},
		{"public pki", nil, read("pki/cert/ca_chain"), "pki/cert/ca_chain", "allowed"},
		{"ca below a kv mount is no public path", nil, read("kv/ca"), "kv/data/ca", "denied"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{}
			for k, v := range tc.files {
				if k != "live" {
					files[k] = v
				}
			}
			w := load(t, "workload-identity", files)
			if l, ok := tc.files["live"]; ok {
				typ, version, _ := strings.Cut(l, " ")
				w.Live = &world.Live{Vault: &world.VaultLive{EngineMounts: []world.EngineMount{{Path: "kv", Type: typ, Version: version}}}}
			}
			tok := access.Resolve(w, workload(t, w, "mongo"))
			rd := tok.Read(w, tc.call)
			got := "denied"
			switch {
			case !rd.Known:
				got = "unknown"
			case rd.Allowed:
				got = "allowed"
			}
			if rd.Path != tc.path || got != tc.verdict {
				t.Errorf("%s: path %s %s (%s; %s), want %s %s\n%s", tc.call.Path, rd.Path, got, rd.Why, rd.KV.Why, tc.path, tc.verdict, strings.Join(tok.Steps, "\n"))
			}
		})
	}
}

func TestCallFromEvent(t *testing.T) {
	if a := access.CallFromEvent("write", "pki/issue/web -> 1a2b3c"); a.Path != "pki/issue/web" || a.Op != templates.OpWrite {
		t.Errorf("%+v", a)
	}
	if a := access.CallFromEvent("list", "kv/app"); a.Op != templates.OpList {
		t.Errorf("%+v", a)
	}
}

func mongoJob(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "fixtures", "examples", "workload-identity", "mongo.nomad.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), ".Data.data.") {
		t.Fatal("the example no longer reads .Data.data")
	}
	return string(b)
}

// TestNamespacedJoins: a task logs in to its vault block's namespace, and
// finds the auth method, role and policies of that namespace, though
// another namespace has objects of the same names.
func TestNamespacedJoins(t *testing.T) {
	for _, tc := range []struct{ dir, role, verdict string }{
		{"ok-namespaced-role", "app", "allowed"},
		{"ok-namespaced-default-role", "app-b", "allowed"},
		{"bad-namespaced-role", "app", "denied"},
	} {
		w, _, err := inputs.Load([]string{filepath.Join("..", "fixtures", "cases", "NV411-template-read-denied", tc.dir)}, inputs.Options{})
		if err != nil {
			t.Fatal(err)
		}
		tok := access.Resolve(w, workload(t, w, "web"))
		rd := tok.Read(w, templates.Access{Func: "secret", Op: templates.OpRead, Path: "kv/data/team-b/web"})
		got := "denied"
		if rd.Allowed {
			got = "allowed"
		}
		if tok.RoleName != tc.role || !rd.Known || got != tc.verdict {
			t.Errorf("%s: role %s, %s (known %v, %s), want role %s, %s\n%s", tc.dir, tok.RoleName, got, rd.Known, rd.Why, tc.role, tc.verdict, strings.Join(tok.Steps, "\n"))
		}
	}
}

// TestAllowedAgreesWithRead: the quick decision a rules run makes of
// every read agrees with the explained one, on every example setup and
// rule case.
func TestAllowedAgreesWithRead(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join("..", "fixtures", "examples", "*"))
	cases, _ := filepath.Glob(filepath.Join("..", "fixtures", "cases", "*", "*"))
	reads := 0
	for _, dir := range append(dirs, cases...) {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			continue
		}
		w, _, err := inputs.Load([]string{dir}, inputs.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, wl := range access.Workloads(w) {
			tok := access.Resolve(w, wl)
			for _, r := range access.TaskReads(wl.Task) {
				reads++
				rd := tok.Read(w, r.Call)
				if got := tok.Allowed(w, r.Call); got != rd.Allowed {
					t.Errorf("%s: %s reading %s: quickly %v, explained %v (%s)", dir, wl, rd.Path, got, rd.Allowed, rd.Why)
				}
			}
		}
	}
	if reads < 100 {
		t.Fatalf("only %d reads in the fixtures", reads)
	}
	t.Logf("%d reads", reads)
}
