package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nvlint/nvlint/checks"
	"github.com/nvlint/nvlint/inputs"
	"github.com/nvlint/nvlint/rules"
)

// tfRoles is the number of JWT roles in BenchmarkTerraformForEach's
// module.
const tfRoles = 200

// BenchmarkTerraformForEach lints (load and rules) one Terraform module
// of tfRoles JWT roles and their policies written two ways: "literal",
// one resource block per role, and "tfvars", one for_each resource over
// a map in terraform.tfvars. Evaluating the module should cost little
// next to reading the same objects written out:
//
//	go test ./internal/bench -run '^$' -bench TerraformForEach -benchmem
func BenchmarkTerraformForEach(b *testing.B) {
	for _, form := range []string{"literal", "tfvars"} {
		dir := b.TempDir()
		writeTerraformRoles(b, dir, form)
		all := checks.All()
		b.Run(form, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				w, _, err := inputs.Load([]string{dir}, inputs.Options{})
				if err != nil {
					b.Fatal(err)
				}
				if n := len(w.JWTRoles); n != tfRoles {
					b.Fatalf("%d roles, want %d", n, tfRoles)
				}
				rules.Run(w, all)
			}
		})
	}
}

const tfMount = `resource "vault_jwt_auth_backend" "nomad" {
  path               = "jwt-nomad"
  jwks_url           = "https://nomad.example.com:4646/.well-known/jwks.json"
  jwt_supported_algs = ["RS256", "EdDSA"]
  default_role       = "app-0"
}
`

// writeTerraformRoles writes the module of BenchmarkTerraformForEach.
func writeTerraformRoles(b *testing.B, dir, form string) {
	b.Helper()
	var main, vars strings.Builder
	main.WriteString(tfMount)
	switch form {
	case "literal":
		for i := range tfRoles {
			fmt.Fprintf(&main, `
resource "vault_policy" "app_%[1]d" {
  name   = "app-%[1]d"
  policy = <<-EOT
    path "kv/data/app-%[1]d/*" {
      capabilities = ["read"]
    }
  EOT
}

resource "vault_jwt_auth_backend_role" "app_%[1]d" {
  backend                 = vault_jwt_auth_backend.nomad.path
  role_name               = "app-%[1]d"
  role_type               = "jwt"
  bound_audiences         = ["vault.io"]
  user_claim              = "/nomad_job_id"
  user_claim_json_pointer = true
  token_type              = "service"
  token_policies          = ["app-%[1]d"]
  token_period            = 1800
}
`, i)
		}
	case "tfvars":
		main.WriteString(`
variable "roles" {
  type = map(object({
    policies     = list(string)
    token_period = number
  }))
}

resource "vault_policy" "app" {
  for_each = var.roles
  name     = each.key
  policy   = <<-EOT
    path "kv/data/${each.key}/*" {
      capabilities = ["read"]
    }
  EOT
}

resource "vault_jwt_auth_backend_role" "app" {
  for_each                = var.roles
  backend                 = vault_jwt_auth_backend.nomad.path
  role_name               = each.key
  role_type               = "jwt"
  bound_audiences         = ["vault.io"]
  user_claim              = "/nomad_job_id"
  user_claim_json_pointer = true
  token_type              = "service"
  token_policies          = each.value.policies
  token_period            = each.value.token_period
}
`)
		vars.WriteString("roles = {\n")
		for i := range tfRoles {
			fmt.Fprintf(&vars, "  app-%[1]d = {\n    policies     = [\"app-%[1]d\"]\n    token_period = 1800\n  }\n", i)
		}
		vars.WriteString("}\n")
		if err := os.WriteFile(filepath.Join(dir, "terraform.tfvars"), []byte(vars.String()), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(main.String()), 0o644); err != nil {
		b.Fatal(err)
	}
}
