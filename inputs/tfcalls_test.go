package inputs

import (
	"strings"
	"testing"

	"github.com/nvlint/nvlint/world"
)

// A local module call is read with its inputs, once per instance, and
// its outputs reach the caller; its directory is not read on its own.
// A registry module is recorded as skipped.
func TestTerraformModuleCalls(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"main.tf": `
module "apps" {
  source   = "./modules/policy"
  for_each = toset(["web", "batch"])
  name     = each.key
}
module "one" {
  source = "./modules/policy"
  name   = "single"
}
module "remote" {
  source = "git::https://example.com/vault.git"
}
resource "vault_jwt_auth_backend_role" "r" {
  role_name      = "r"
  token_policies = [module.one.policy_name, module.apps["web"].policy_name]
}
`,
		"modules/policy/main.tf": `
variable "name" {
  type = string
}
resource "vault_policy" "this" {
  name   = "app-${var.name}"
  policy = "path \"kv/data/${var.name}/*\" { capabilities = [\"read\"] }"
}
output "policy_name" {
  value = vault_policy.this.name
}
`,
	})
	w, notes := load(t, dir)
	for name, addr := range map[string]string{
		"app-web":    `module.apps["web"].vault_policy.this`,
		"app-batch":  `module.apps["batch"].vault_policy.this`,
		"app-single": `module.one.vault_policy.this`,
	} {
		p := w.Policy(name)
		if p == nil {
			t.Errorf("no policy %s", name)
			continue
		}
		if got := p.Resource.Address(); got != addr {
			t.Errorf("policy %s at %s, want %s", name, got, addr)
		}
		if !p.Resource.Instance {
			t.Errorf("policy %s: a module called twice is every call's, yet its resource is one instance's", name)
		}
		if !strings.HasSuffix(p.File.Path, "modules/policy/main.tf") || p.File.Terraform != dir {
			t.Errorf("policy %s in %s, applied in %q", name, p.File.Path, p.File.Terraform)
		}
	}
	if len(w.Policies) != 3 {
		t.Errorf("%d policies, want 3: the module directory was read on its own too", len(w.Policies))
	}
	r := w.JWTRole("r")
	if r == nil || !r.TokenPolicies.Known || strings.Join(r.TokenPolicies.Strings(), ",") != "app-single,app-web" {
		t.Errorf("token_policies from module outputs: %+v", r)
	}
	if why := w.Unseen(world.KindPolicy, "anything"); !strings.Contains(why, "module.remote") {
		t.Errorf("the remote module is not recorded as skipped: %q", why)
	}
	if !strings.Contains(strings.Join(notes, "\n"), "module.remote: skipped") {
		t.Errorf("notes: %v", notes)
	}
}

// Linted alone, a module's directory is a root module of its own.
func TestTerraformModuleAlone(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"main.tf": `
module "one" {
  source = "./modules/policy"
}
`,
		"modules/policy/main.tf": `
resource "vault_policy" "this" {
  name   = "p"
  policy = "path \"kv/data/x\" { capabilities = [\"read\"] }"
}
`,
	})
	w, _ := load(t, dir+"/modules/policy")
	if p := w.Policy("p"); p == nil || p.Resource.Address() != "vault_policy.this" {
		t.Errorf("policy of the module linted alone: %+v", p)
	}
}

// file() reads paths relative to the root module's directory, a module's
// own files through path.module; its result is a value like any other.
func TestTerraformFileFunction(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"main.tf": `
locals {
  roles = jsondecode(file("roles.json"))
}
resource "vault_jwt_auth_backend_role" "r" {
  for_each       = local.roles
  role_name      = each.key
  token_policies = each.value
}
module "m" {
  source = "./modules/m"
}
resource "vault_jwt_auth_backend_role" "missing" {
  for_each  = jsondecode(file("nowhere.json"))
  role_name = each.key
}
`,
		"roles.json": `{"web": ["web-read"], "batch": ["batch-read"]}`,
		"modules/m/main.tf": `
resource "vault_jwt_auth_backend_role" "own" {
  role_name      = trimspace(file("${path.module}/name.txt"))
  token_policies = [try(local.nothing, "fallback")]
}
`,
		"modules/m/name.txt": "from-module\n",
	})
	w, _ := load(t, dir)
	if r := w.JWTRole("web"); r == nil || strings.Join(r.TokenPolicies.Strings(), ",") != "web-read" {
		t.Errorf("role web from roles.json: %+v", r)
	}
	r := w.JWTRole("from-module")
	if r == nil {
		t.Fatal("the module's role named from its own file is missing")
	}
	if got := strings.Join(r.TokenPolicies.Strings(), ","); got != "fallback" {
		t.Errorf("try() gave %q", got)
	}
	if why := w.Unseen(world.KindJWTRole, "any"); !strings.Contains(why, "missing") {
		t.Errorf("the role over an unreadable file is not skipped: %q", why)
	}
}

// A value is reported where it is written only where editing it there
// changes that object alone: a literal argument of a single call, not a
// default of a module called twice.
func TestTerraformModuleOrigins(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"main.tf": `
module "a" {
  source = "./modules/role"
  name   = "a"
  ttl    = 60
}
module "b" {
  source = "./modules/role"
  name   = "b"
}
`,
		"modules/role/main.tf": `
variable "name" {
  type = string
}
variable "ttl" {
  type    = number
  default = 0
}
resource "vault_jwt_auth_backend_role" "this" {
  role_name    = var.name
  token_period = var.ttl
}
`,
	})
	w, _ := load(t, dir)
	a, b := w.JWTRole("a"), w.JWTRole("b")
	if a == nil || b == nil {
		t.Fatalf("roles a %v, b %v", a, b)
	}
	if got := at(t, w, a.TokenPeriod.Range); got != "60" || !strings.HasSuffix(a.TokenPeriod.Range.Filename, "main.tf") || strings.Contains(a.TokenPeriod.Range.Filename, "modules") {
		t.Errorf("a's token_period at %q in %s, want the call's argument", got, a.TokenPeriod.Range.Filename)
	}
	if got := at(t, w, b.TokenPeriod.Range); got != "var.ttl" {
		t.Errorf("b's token_period at %q, want the module's own argument: the default is both calls'", got)
	}
	if !b.Resource.Instance {
		t.Error("a resource of a module called twice is not marked as every call's")
	}
}

// A module that calls itself, directly or through another, is read to
// the cycle and no further; a call with count = 0 declares nothing.
func TestTerraformModuleCycle(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"main.tf": `
module "a" {
  source = "./a"
}
module "none" {
  source = "./a"
  count  = 0
}
resource "vault_jwt_auth_backend_role" "r" {
  role_name      = "r"
  token_policies = [length(module.none)]
}
`,
		"a/main.tf": `
module "b" {
  source = "../b"
}
module "self" {
  source = "./"
}
resource "vault_policy" "a" {
  name   = "a"
  policy = "path \"x\" { capabilities = [\"read\"] }"
}
`,
		"b/main.tf": `
module "a" {
  source = "../a"
}
`,
	})
	w, notes := load(t, dir)
	if p := w.Policy("a"); p == nil || p.Resource.Address() != "module.a.vault_policy.a" {
		t.Errorf("policy a: %+v", p)
	}
	if r := w.JWTRole("r"); r == nil || strings.Join(r.TokenPolicies.Strings(), ",") != "0" {
		t.Errorf("module.none of count = 0: %+v", r)
	}
	if !strings.Contains(strings.Join(notes, "\n"), "module.a.module.self: skipped") {
		t.Errorf("notes: %v", notes)
	}
}

// A for_each element's part is reported where the tfvars file writes it,
// in HCL or JSON.
func TestTerraformForEachOrigins(t *testing.T) {
	for _, vars := range []map[string]string{
		{"terraform.tfvars": "roles = {\n  web = { period = 0 }\n}\n"},
		{"terraform.tfvars.json": `{"roles": {"web": {"period": 0}}}`},
	} {
		files := map[string]string{"main.tf": `
variable "roles" {}
resource "vault_jwt_auth_backend_role" "r" {
  for_each     = var.roles
  role_name    = each.key
  token_period = each.value.period
}
`}
		var name string
		for n, v := range vars {
			files[n], name = v, n
		}
		w, _ := load(t, writeFiles(t, files))
		r := w.JWTRole("web")
		if r == nil {
			t.Fatalf("%s: no role web", name)
		}
		if got := at(t, w, r.TokenPeriod.Range); got != "0" || !strings.HasSuffix(r.TokenPeriod.Range.Filename, name) {
			t.Errorf("%s: token_period at %q in %s", name, got, r.TokenPeriod.Range.Filename)
		}
	}
}

// A resource's namespace holds for each of its instances, and a module's
// resources are placed by the root module's provider.
func TestTerraformInstanceNamespaces(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"main.tf": `
provider "vault" {
  namespace = "team"
}
module "m" {
  source = "./m"
}
resource "vault_policy" "each" {
  for_each  = toset(["a", "b"])
  namespace = "apps"
  name      = each.key
  policy    = "path \"x\" { capabilities = [\"read\"] }"
}
`,
		"m/main.tf": `
resource "vault_policy" "in_module" {
  name   = "c"
  policy = "path \"x\" { capabilities = [\"read\"] }"
}
`,
	})
	w, _ := load(t, dir)
	for name, want := range map[string]string{"a": "team/apps", "b": "team/apps", "c": "team"} {
		p := w.Policy(name)
		if p == nil {
			t.Errorf("no policy %s", name)
			continue
		}
		if !p.Namespace.IsKnown() || p.Namespace.V != want {
			t.Errorf("policy %s in namespace %+v, want %s", name, p.Namespace, want)
		}
	}
}
