package inputs

import (
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/nvlint/nvlint/world"
)

const policyDocModule = `
variable "kv" {
  default = "secret"
}

variable "unset" {}

resource "vault_jwt_auth_backend" "nomad" {
  path = "jwt-nomad"
}

data "vault_policy_document" "app" {
  rule {
    path         = "${var.kv}/data/{{identity.entity.aliases.${vault_jwt_auth_backend.nomad.accessor}.metadata.nomad_job_id}}/*"
    capabilities = ["read", "list"]
    description  = "own secrets"
  }
  rule {
    path                = "${var.kv}/data/shared"
    capabilities        = ["create"]
    required_parameters = ["a"]
    denied_parameter {
      key   = "z"
      value = []
    }
    allowed_parameter {
      key   = "b"
      value = ["x", "y"]
    }
    max_wrapping_ttl = "1h"
  }
}

data "vault_policy_document" "partial" {
  rule {
    path         = "secret/data/x"
    capabilities = var.unset
  }
}

data "vault_policy_document" "dyn" {
  dynamic "rule" {
    for_each = ["a"]
    content {
      path         = rule.value
      capabilities = ["read"]
    }
  }
}

resource "vault_policy" "app" {
  name   = "app"
  policy = data.vault_policy_document.app.hcl
}

resource "vault_policy" "partial" {
  name   = "partial"
  policy = data.vault_policy_document.partial.hcl
}

resource "vault_policy" "dyn" {
  name   = "dyn"
  policy = data.vault_policy_document.dyn.hcl
}
`

// TestPolicyDocument: a vault_policy whose text is a policy document is
// the document as the provider renders it, with every range on the rule
// blocks; what is unknown leaves the policy to the text rules only.
func TestPolicyDocument(t *testing.T) {
	dir := writeFiles(t, map[string]string{"main.tf": policyDocModule})
	w, notes := load(t, dir)
	if len(w.Policies) != 1 || w.Policies[0].Ref.Name != "app" {
		t.Fatalf("policies: %+v\nnotes: %v", w.Policies, notes)
	}
	p := w.Policies[0]
	if len(p.Diags) > 0 {
		t.Fatalf("diags: %v", p.Diags)
	}
	rules := p.ACL.Rules
	if len(rules) != 2 {
		t.Fatalf("rules: %d", len(rules))
	}
	if !strings.HasPrefix(rules[0].Path, "secret/data/{{identity.entity.aliases.") || !slices.Equal(rules[0].Capabilities, []string{"read", "list"}) {
		t.Errorf("rule 0: %q %v", rules[0].Path, rules[0].Capabilities)
	}
	if rules[1].Path != "secret/data/shared" || !slices.Equal(rules[1].Capabilities, []string{"create"}) {
		t.Errorf("rule 1: %q %v", rules[1].Path, rules[1].Capabilities)
	}
	for _, c := range []string{"required_parameters", "allowed_parameters", "denied_parameters", "max_wrapping_ttl"} {
		if !slices.Contains(rules[1].Conditions, c) {
			t.Errorf("rule 1 conditions %v lack %s", rules[1].Conditions, c)
		}
	}
	// Ranges are on the rule blocks' arguments.
	if got := at(t, w, rules[1].PathRange); got != `"${var.kv}/data/shared"` {
		t.Errorf("path range covers %q", got)
	}
	if got := at(t, w, rules[1].CapRanges[0]); got != `"create"` {
		t.Errorf("capability range covers %q", got)
	}
	// Unknown capabilities: the literal text is checked, grants are not
	// decided; a dynamic block leaves the document to Terraform.
	var partial, dyn bool
	for _, s := range w.Skipped {
		switch {
		case strings.Contains(s.What, "vault_policy.partial") && s.Policy != nil:
			partial = true
		case strings.Contains(s.What, "vault_policy.dyn") && s.Policy == nil:
			dyn = true
		}
	}
	if !partial || !dyn {
		t.Errorf("skipped: partial %v dyn %v: %+v", partial, dyn, w.Skipped)
	}
}

// TestPolicyDocumentRendering compares the text with the provider's
// rendering of the same rules.
func TestPolicyDocumentRendering(t *testing.T) {
	src := []byte(policyDocModule)
	f := &world.File{Path: "-", Src: src}
	file, diags := hclsyntax.ParseConfig(src, f.Path, hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	l := &tfLoader{f: f, lines: newLineIndex(src), blocks: map[int]*hclsyntax.Block{}}
	for _, b := range file.Body.(*hclsyntax.Body).Blocks {
		l.blocks[b.DefRange().Start.Byte] = b
	}
	l.ctx, l.origins = (&tfModules{}).context(f.Path, file.Body)
	doc, ok := l.policyDoc(&world.Resource{Type: tfPolicy, Name: "app"}, hcl.Range{}, "app")
	if !ok {
		t.Fatal("not rendered")
	}
	want := "# own secrets\n" +
		"path \"secret/data/{{identity.entity.aliases." + world.SymbolicAccessor("vault_jwt_auth_backend.nomad.accessor") + ".metadata.nomad_job_id}}/*\" {\n" +
		"  capabilities = [\"read\", \"list\"]\n" +
		"}\n" +
		"\n" +
		"path \"secret/data/shared\" {\n" +
		"  capabilities = [\"create\"]\n" +
		"  required_parameters = [\"a\"]\n" +
		"  allowed_parameters = {\n" +
		"    \"b\" = [\"x\", \"y\"]\n" +
		"  }\n" +
		"  denied_parameters = {\n" +
		"    \"z\" = []\n" +
		"  }\n" +
		"  max_wrapping_ttl = \"1h\"\n" +
		"}\n"
	if got := string(doc.text); got != want {
		t.Errorf("rendered:\n%s\nwant:\n%s", got, want)
	}
	if len(doc.unresolved) > 0 {
		t.Errorf("unresolved: %v", doc.unresolved)
	}
}
