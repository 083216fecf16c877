package inputs

import (
	"path/filepath"
	"testing"
)

const tfvarsModule = `
variable "role" {
  type    = string
  default = "from-default"
}

variable "period" {
  type    = number
  default = 60
}

variable "unset" {
  type = string
}

variable "policies" {
  type    = list(string)
  default = ["a"]
}

resource "vault_jwt_auth_backend" "nomad" {
  path         = "jwt-nomad"
  default_role = var.role
  bound_issuer = var.unset
}

resource "vault_jwt_auth_backend_role" "r" {
  backend        = vault_jwt_auth_backend.nomad.path
  role_name      = var.role
  token_policies = var.policies
  token_period   = var.period
}
`

// TestTerraformVariablePrecedence follows terraform plan: the default,
// then terraform.tfvars, terraform.tfvars.json, *.auto.tfvars in
// lexical order, then --var-file and --var in the order given.
func TestTerraformVariablePrecedence(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		vars  func(dir string) []TerraformVar
		role  string
		// at is the text the role's value is reported at.
		at string
	}{
		{name: "default", role: "from-default", at: `"from-default"`},
		{name: "tfvars", files: map[string]string{"terraform.tfvars": `role = "tfvars"`}, role: "tfvars", at: `"tfvars"`},
		{name: "tfvars.json over tfvars", files: map[string]string{
			"terraform.tfvars": `role = "tfvars"`, "terraform.tfvars.json": `{"role": "json"}`,
		}, role: "json", at: `"json"`},
		{name: "auto in lexical order", files: map[string]string{
			"terraform.tfvars": `role = "tfvars"`, "b.auto.tfvars": `role = "b"`, "a.auto.tfvars": `role = "a"`,
		}, role: "b", at: `"b"`},
		{name: "var-file over auto", files: map[string]string{"a.auto.tfvars": `role = "a"`, "env/prod.tfvars": `role = "prod"`},
			vars: func(dir string) []TerraformVar {
				return []TerraformVar{{File: filepath.Join(dir, "env/prod.tfvars")}}
			}, role: "prod", at: `"prod"`},
		{name: "later flag wins: var then var-file", files: map[string]string{"env/prod.tfvars": `role = "prod"`},
			vars: func(dir string) []TerraformVar {
				return []TerraformVar{{Name: "role", Value: "cli"}, {File: filepath.Join(dir, "env/prod.tfvars")}}
			}, role: "prod", at: `"prod"`},
		{name: "later flag wins: var-file then var", files: map[string]string{"env/prod.tfvars": `role = "prod"`},
			vars: func(dir string) []TerraformVar {
				return []TerraformVar{{File: filepath.Join(dir, "env/prod.tfvars")}, {Name: "role", Value: "cli"}}
			}, role: "cli", at: "var.role"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := map[string]string{"main.tf": tfvarsModule}
			for k, v := range c.files {
				files[k] = v
			}
			dir := writeFiles(t, files)
			opts := Options{}
			if c.vars != nil {
				opts.TerraformVars = c.vars(dir)
			}
			w, _, err := Load([]string{dir}, opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(w.JWTConfigs) != 1 || len(w.JWTRoles) != 1 {
				t.Fatalf("configs %d roles %d", len(w.JWTConfigs), len(w.JWTRoles))
			}
			cfg, role := w.JWTConfigs[0], w.JWTRoles[0]
			if dr := cfg.DefaultRole; !dr.Known || dr.V != c.role {
				t.Errorf("default_role = %+v, want %q", dr, c.role)
			}
			if got := at(t, w, cfg.DefaultRole.Range); got != c.at {
				t.Errorf("default_role at %q, want %q", got, c.at)
			}
			if role.Ref.Name != c.role {
				t.Errorf("role named %q, want %q", role.Ref.Name, c.role)
			}
			// A variable with no value stays unknown.
			if bi := cfg.BoundIssuer; !bi.Set || bi.Known {
				t.Errorf("bound_issuer from an unset variable = %+v, want set and unknown", bi)
			}
			if p := role.TokenPeriod; !p.IsKnown() || p.V != 60 {
				t.Errorf("token_period = %+v, want 60", p)
			}
			if pol := role.TokenPolicies; !pol.Known || len(pol.Items) != 1 || pol.Items[0].V != "a" {
				t.Errorf("token_policies = %+v, want [a]", pol)
			}
		})
	}
}

// TestTerraformVarTyped parses --var as terraform plan does: literally
// for a primitive type, as an expression otherwise.
func TestTerraformVarTyped(t *testing.T) {
	dir := writeFiles(t, map[string]string{"main.tf": tfvarsModule})
	w, _, err := Load([]string{dir}, Options{TerraformVars: []TerraformVar{
		{Name: "policies", Value: `["x", "y"]`}, {Name: "period", Value: "3600"}, {Name: "role", Value: `["not", "a", "list"]`},
	}})
	if err != nil {
		t.Fatal(err)
	}
	role := w.JWTRoles[0]
	if pol := role.TokenPolicies; !pol.Known || len(pol.Items) != 2 || pol.Items[1].V != "y" {
		t.Errorf("token_policies = %+v, want [x y]", pol)
	}
	if p := role.TokenPeriod; !p.IsKnown() || p.V != 3600 {
		t.Errorf("token_period = %+v, want 3600", p)
	}
	if r := role.Ref.Name; r != `["not", "a", "list"]` {
		t.Errorf("role named %q: a string variable takes --var literally", r)
	}
}

func TestCheckTerraformVars(t *testing.T) {
	dir := writeFiles(t, map[string]string{"ok.tfvars": `a = "b"`, "bad.tfvars": `a = var.b`})
	if err := CheckTerraformVars([]TerraformVar{{File: filepath.Join(dir, "ok.tfvars")}, {Name: "x", Value: ""}}); err != nil {
		t.Errorf("ok: %v", err)
	}
	for _, bad := range []TerraformVar{{File: filepath.Join(dir, "missing.tfvars")}, {File: filepath.Join(dir, "bad.tfvars")}} {
		if err := CheckTerraformVars([]TerraformVar{bad}); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}
