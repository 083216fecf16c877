package inputs

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/nvlint/nvlint/world"
)

// Every Vault object read from a file says where its name comes from.
func TestNameSources(t *testing.T) {
	role := `{"role_type": "jwt", "bound_audiences": ["vault.io"], "user_claim": "/nomad_job_id", "token_policies": ["x"]}`
	dir := writeFiles(t, map[string]string{
		"vault-wi-default-role.json":               role,
		"vault-wi-default-policy.hcl":              `path "secret/*" { capabilities = ["read"] }`,
		"vault-wi-default-auth-method-config.json": `{"jwks_url": "http://127.0.0.1:4646/.well-known/jwks.json", "default_role": "nomad-workloads"}`,
		"acl-role.json":                            role,
		"named-role.json":                          role,
		"token-role.json":                          `{"name": "nomad-cluster", "orphan": true, "allowed_policies": "x"}`,
	})
	w, _, err := Load([]string{dir}, Options{Names: map[string]string{"named-role.json": "workloads"}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]world.ObjectRef{}
	for _, m := range w.Metas() {
		got[filepath.Base(m.File.Path)] = m.Ref
	}
	for file, want := range map[string]world.ObjectRef{
		"vault-wi-default-role.json":               {Kind: world.KindJWTRole, Name: "nomad-workloads", NameSource: world.NameFromSetupVault},
		"vault-wi-default-policy.hcl":              {Kind: world.KindPolicy, Name: "nomad-workloads", NameSource: world.NameFromSetupVault},
		"vault-wi-default-auth-method-config.json": {Kind: world.KindJWTAuthConfig, Name: "jwt-nomad", NameSource: world.NameFromSetupVault},
		"acl-role.json":                            {Kind: world.KindJWTRole, Name: "acl", NameSource: world.NameFromFileName},
		"named-role.json":                          {Kind: world.KindJWTRole, Name: "workloads", NameSource: world.NameFromFlag},
		"token-role.json":                          {Kind: world.KindTokenRole, Name: "nomad-cluster", NameSource: world.NameFromField},
	} {
		if got[file] != want {
			t.Errorf("%s: got %+v, want %+v", file, got[file], want)
		}
	}
	if r := w.JWTRole("nomad-workloads"); r == nil || r.Mount != "jwt-nomad" {
		t.Errorf("nomad setup vault's role is not on its mount jwt-nomad: %+v", r)
	}
}

// A JWT auth config's file name that names no mount (auth-method.json,
// the file of Nomad's docs) gives no mount: it is the clients'
// jwt_auth_backend_path when they give one, else Nomad's default
// jwt-nomad, and stays a guess that says so. nomad setup vault's own file
// keeps its known name.
func TestMountlessJWTConfigNames(t *testing.T) {
	config := `{"jwks_url": "http://127.0.0.1:4646/.well-known/jwks.json", "default_role": "nomad-workloads"}`
	client := func(path string) string {
		return `client { enabled = true }
vault {
  enabled = true
  jwt_auth_backend_path = "` + path + `"
}
`
	}
	for _, c := range []struct {
		files     map[string]string
		file      string
		mount     string
		source    world.NameSource
		reasonHas string
	}{
		{map[string]string{"auth-method.json": config}, "auth-method.json", "jwt-nomad", world.NameFromFileName, "auth-method.json names no mount; jwt-nomad is Nomad's default"},
		{map[string]string{"jwt-config.json": config}, "jwt-config.json", "jwt-nomad", world.NameFromFileName, "names no mount"},
		{map[string]string{"auth-config.json": config, "client.hcl": client("nomad-prod/")}, "auth-config.json", "nomad-prod", world.NameFromFileName, "nomad-prod is the clients' jwt_auth_backend_path"},
		{map[string]string{"auth-method.json": config, "a.hcl": client("one"), "b.hcl": client("two")}, "auth-method.json", "jwt-nomad", world.NameFromFileName, "names several (one, two)"},
		{map[string]string{"vault-auth-method-jwt-nomad.json": config, "client.hcl": client("other")}, "vault-auth-method-jwt-nomad.json", "jwt-nomad", world.NameFromFileName, ""},
		{map[string]string{"vault-wi-default-auth-method-config.json": config, "client.hcl": client("other")}, "vault-wi-default-auth-method-config.json", "jwt-nomad", world.NameFromSetupVault, ""},
	} {
		w, _, err := Load([]string{writeFiles(t, c.files)}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(w.JWTConfigs) != 1 {
			t.Fatalf("%s: %d JWT auth configs", c.file, len(w.JWTConfigs))
		}
		got := w.JWTConfigs[0]
		if got.Mount != c.mount || got.Ref.Name != c.mount || got.Ref.NameSource != c.source {
			t.Errorf("%s: mount %q, ref %+v; want %s from %s", c.file, got.Mount, got.Ref, c.mount, c.source)
		}
		if !strings.Contains(got.NameGuess, c.reasonHas) || (c.reasonHas == "") != (got.NameGuess == "") {
			t.Errorf("%s: reason %q, want one with %q", c.file, got.NameGuess, c.reasonHas)
		}
		if c.reasonHas != "" && !strings.Contains(got.Assumption(), c.reasonHas) {
			t.Errorf("%s: assumption %q does not give the reason", c.file, got.Assumption())
		}
	}
}

// A Terraform resource with for_each over a literal map is one object per
// key; one over what only Terraform knows is recorded as skipped.
func TestTerraformForEach(t *testing.T) {
	dir := writeFiles(t, map[string]string{"main.tf": `
locals {
  roles = {
    "a" = { policies = [vault_policy.p.name, var.extra] }
    "b" = { policies = [vault_policy.p.name] }
  }
}
resource "vault_policy" "p" {
  name   = "base"
  policy = "path \"x/*\" { capabilities = [\"read\"] }"
}
resource "vault_jwt_auth_backend_role" "r" {
  for_each       = local.roles
  role_name      = "nomad-${each.key}"
  role_type      = "jwt"
  token_policies = each.value.policies
}
resource "vault_jwt_auth_backend_role" "set" {
  for_each  = toset(["c", "d"])
  role_name = each.value
}
resource "vault_jwt_auth_backend_role" "unknown" {
  for_each  = var.roles
  role_name = each.key
}
resource "vault_policy" "counted" {
  count  = 2
  name   = "p${count.index}"
  policy = "path \"y\" { capabilities = [\"read\"] }"
}
`})
	w, _ := load(t, dir)
	for _, name := range []string{"nomad-a", "nomad-b", "c", "d"} {
		r := w.JWTRole(name)
		if r == nil {
			t.Errorf("no role %s", name)
			continue
		}
		if r.Ref.NameSource != world.NameFromTerraform || !r.Resource.Instance {
			t.Errorf("role %s: %+v, instance %v", name, r.Ref, r.Resource.Instance)
		}
	}
	if r := w.JWTRole("nomad-b"); r != nil && (!r.TokenPolicies.Known || r.TokenPolicies.Strings()[0] != "base") {
		t.Errorf("nomad-b token_policies: %+v", r.TokenPolicies)
	}
	if r := w.JWTRole("nomad-a"); r != nil && r.TokenPolicies.Known {
		t.Errorf("nomad-a token_policies use var.extra, yet are known: %+v", r.TokenPolicies)
	}
	if why := w.Unseen(world.KindJWTRole, "anything"); why == "" {
		t.Error("the role with for_each over var.roles is not recorded as skipped")
	}
	for _, name := range []string{"p0", "p1"} {
		p := w.Policy(name)
		if p == nil || !p.Resource.Instance || p.Resource.Name != "counted["+name[1:]+"]" {
			t.Errorf("policy %s of count = 2: %+v", name, p)
		}
	}
	if p := w.Policy("p2"); p != nil {
		t.Error("count = 2 made a third policy")
	}
}
