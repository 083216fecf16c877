package edits

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	hcljson "github.com/hashicorp/hcl/v2/json"

	"github.com/nvlint/nvlint/inputs"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

const tf = `resource "vault_token_auth_backend_role" "r" {
    role_name = "nomad-cluster"
}

resource "vault_jwt_auth_backend_role" "one_line" { role_name = "one" }

resource "vault_policy" "p" {
  name   = "p"
  policy = <<-EOT
    path "a" {
      capabilities = ["read"]
    }
  EOT
}

resource "vault_policy" "q" {
  name   = "q"
  policy = "path \"a\" {}"
}
`

func loadTF(t *testing.T, name, src string) *world.World {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	w, _, err := inputs.Load([]string{p}, inputs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// apply applies an edit and checks the result still parses.
func apply(t *testing.T, w *world.World, e rules.TextEdit) string {
	t.Helper()
	out, err := Apply(w.Files[0].Src, []rules.TextEdit{e})
	if err != nil {
		t.Fatal(err)
	}
	var diags hcl.Diagnostics
	if strings.HasSuffix(w.Files[0].Path, ".json") {
		_, diags = hcljson.Parse(out, "out.tf.json")
	} else {
		_, diags = hclsyntax.ParseConfig(out, "out.tf", hcl.InitialPos)
	}
	if diags.HasErrors() {
		t.Errorf("the edit breaks the file: %v\n%s", diags, out)
	}
	return string(out)
}

func TestInsertKeyTerraform(t *testing.T) {
	w := loadTF(t, "main.tf", tf)
	r := w.TokenRole("nomad-cluster")
	// Vault's legacy "period" becomes the provider's token_period, in
	// seconds, indented like the block's attributes.
	got := apply(t, w, InsertKey(&r.Meta, "period", `"72h"`))
	want := "resource \"vault_token_auth_backend_role\" \"r\" {\n    role_name = \"nomad-cluster\"\n    token_period = 259200\n}\n"
	if got[:len(want)] != want {
		t.Errorf("got\n%s", got[:len(want)])
	}
	// A comma-separated string becomes a list.
	got = apply(t, w, InsertKey(&r.Meta, "disallowed_policies", `"nomad-server,root"`))
	if want := "    disallowed_policies = [\"nomad-server\", \"root\"]\n}"; !contains(got, want) {
		t.Errorf("got\n%s", got)
	}
	one := w.JWTRole("one")
	got = apply(t, w, InsertKey(&one.Meta, "bound_audiences", `["vault.io"]`))
	if want := "\"one_line\" {\n  role_name = \"one\"\n  bound_audiences = [\"vault.io\"]\n}\n"; !contains(got, want) {
		t.Errorf("one-line block: got\n%s", got)
	}
}

func TestInsertKeyTerraformJSON(t *testing.T) {
	w := loadTF(t, "main.tf.json", `{"resource": {"vault_token_auth_backend_role": {"r": {
  "role_name": "nomad-cluster"
}}}}`)
	r := w.TokenRole("nomad-cluster")
	got := apply(t, w, InsertKey(&r.Meta, "orphan", "true"))
	if want := `"r": {` + "\n  \"orphan\": true,\n  \"role_name\""; !contains(got, want) {
		t.Errorf("got\n%s", got)
	}
}

func TestAppendToPolicyTerraform(t *testing.T) {
	w := loadTF(t, "main.tf", tf)
	e, ok := AppendToPolicy(w.Policy("p"), PathBlock("b", "list"))
	if !ok {
		t.Fatal("no edit for a heredoc policy")
	}
	got := apply(t, w, e)
	want := "    path \"a\" {\n      capabilities = [\"read\"]\n    }\n\n    path \"b\" {\n      capabilities = [\"list\"]\n    }\n  EOT\n"
	if !contains(got, want) {
		t.Errorf("got\n%s", got)
	}
	if _, ok := AppendToPolicy(w.Policy("q"), PathBlock("b", "list")); ok {
		t.Error("an edit for a policy in a quoted string")
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// A path block appended to a policy file that ends in an assignment cut
// short would become its value; no edit is offered there, and one is
// where the file ends cleanly.
func TestAppendToPolicyFile(t *testing.T) {
	for src, want := range map[string]bool{
		"path \"a\" {\n  capabilities = [\"read\"]\n}\n": true,
		"path \"a\" { capabilities = [\"read\"] }":       true,
		`""=`: false,
	} {
		path := filepath.Join(t.TempDir(), "p.hcl")
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		w, _, err := inputs.Load([]string{path}, inputs.Options{Kind: world.KindPolicy})
		if err != nil {
			t.Fatal(err)
		}
		pol := w.Policy("p")
		if pol == nil {
			t.Fatalf("%q: not read as policy p", src)
		}
		e, ok := AppendToPolicy(pol, PathBlock("b", "list"))
		if ok != want {
			t.Errorf("%q: edit offered %v, want %v", src, ok, want)
			continue
		}
		if ok {
			out, err := Apply([]byte(src), []rules.TextEdit{e})
			if err != nil || !parsesAsPolicy(out, "p.hcl") || !strings.Contains(string(out), `path "b"`) {
				t.Errorf("%q: appended: %v\n%s", src, err, out)
			}
		}
	}
}
