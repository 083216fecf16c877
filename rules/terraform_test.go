package rules

import (
	"slices"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/world"
)

func TestTerraformCommands(t *testing.T) {
	tf := &world.File{Path: "infra/vault.tf", Terraform: "infra"}
	pol := &world.File{Path: "infra/policies/p.hcl", Terraform: "infra"}
	root := &world.File{Path: "main.tf", Terraform: "."}
	plain := &world.File{Path: "role.json"}
	w := &world.World{Files: []*world.File{tf, pol, root, plain}}
	got := TerraformCommands(w, []Command{
		Cmd("vault", "write", "auth/jwt-nomad/role/r", "@infra/vault.tf"),
		Cmd("sed", "-i", "s/a/b/g", "infra/policies/p.hcl").And("vault", "policy", "write", "p", "infra/policies/p.hcl"),
		Cmd("vault", "policy", "write", "q", "infra/policies/p.hcl"),
		Cmd("vault", "write", "auth/token/roles/x", "@main.tf"),
		Cmd("vault", "write", "auth/token/roles/y", "@role.json"),
		Cmd("vault", "token", "create", "-policy=nomad-server", "-period=72h", "-orphan"),
	})
	want := []string{
		"terraform -chdir=infra apply",
		"sed -i s/a/b/g infra/policies/p.hcl && terraform -chdir=infra apply",
		"terraform apply",
		"vault write auth/token/roles/y @role.json",
		"vault token create -policy=nomad-server -period=72h -orphan",
	}
	if got := (Fix{Commands: got}).CommandLines(); !slices.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestForTerraformValueTypes(t *testing.T) {
	tf := &world.File{Path: "vault.tf", Terraform: "."}
	period := hcl.Range{Filename: "vault.tf", Start: hcl.Pos{Byte: 10}, End: hcl.Pos{Byte: 14}}
	role := &world.JWTRole{Meta: world.Meta{File: tf, Resource: &world.Resource{
		Type: "vault_jwt_auth_backend_role", Name: "r", File: tf,
		Attrs: map[string]hcl.Range{"token_period": period},
	}}}
	w := &world.World{Files: []*world.File{tf}, JWTRoles: []*world.JWTRole{role}}
	f := Finding{Fixes: []Fix{{
		Edits:    []TextEdit{{Range: period, NewText: `"30m"`}, {Range: hcl.Range{Filename: "vault.tf"}, NewText: `"x"`}},
		Commands: []Command{Cmd("vault", "write", "auth/jwt-nomad/role/r", "@vault.tf")},
	}}}
	forTerraform(w, &f)
	if got := f.Fixes[0].Edits[0].NewText; got != "1800" {
		t.Errorf("token_period edit %q, want 1800", got)
	}
	if got := f.Fixes[0].Edits[1].NewText; got != `"x"` {
		t.Errorf("an edit outside any attribute changed: %q", got)
	}
	if got := f.Fixes[0].CommandLines(); !slices.Equal(got, []string{"terraform apply"}) {
		t.Errorf("commands %q", got)
	}
}

func TestForTerraformUsedBy(t *testing.T) {
	tf := &world.File{Path: "main.tf", Terraform: "."}
	vars := &world.File{Path: "terraform.tfvars", Terraform: "."}
	at := hcl.Range{Filename: "terraform.tfvars", Start: hcl.Pos{Byte: 20}, End: hcl.Pos{Byte: 24}}
	block := hcl.Range{Filename: "main.tf", Start: hcl.Pos{Line: 3, Byte: 30}, End: hcl.Pos{Byte: 70}}
	inside := hcl.Range{Filename: "main.tf", Start: hcl.Pos{Byte: 80}, End: hcl.Pos{Byte: 84}}
	role := &world.JWTRole{Meta: world.Meta{File: tf, Resource: &world.Resource{
		Type: "vault_jwt_auth_backend_role", Name: "r", Module: "module.roles", File: tf, Block: block,
		Braces: hcl.Range{Filename: "main.tf", Start: hcl.Pos{Byte: 72}, End: hcl.Pos{Byte: 120}},
		Attrs:  map[string]hcl.Range{"token_period": at, "role_name": inside},
	}}}
	w := &world.World{Files: []*world.File{tf, vars}, JWTRoles: []*world.JWTRole{role}}
	f := Finding{Range: at}
	forTerraform(w, &f)
	want := []Related{{Message: "module.roles.vault_jwt_auth_backend_role.r sets token_period to this value", Range: block}}
	if !slices.Equal(f.Related, want) {
		t.Errorf("related %+v, want %+v", f.Related, want)
	}
	g := Finding{Range: inside}
	forTerraform(w, &g)
	if len(g.Related) != 0 {
		t.Errorf("a finding in the resource itself has related %+v", g.Related)
	}
}

// A value two resources read is both's: its fix is left to the user.
func TestForTerraformSharedValue(t *testing.T) {
	tf := &world.File{Path: "main.tf", Terraform: "."}
	at := hcl.Range{Filename: "terraform.tfvars", Start: hcl.Pos{Byte: 20}, End: hcl.Pos{Byte: 24}}
	role := func(name string) *world.JWTRole {
		return &world.JWTRole{Meta: world.Meta{File: tf, Resource: &world.Resource{
			Type: "vault_jwt_auth_backend_role", Name: name, File: tf,
			Attrs: map[string]hcl.Range{"token_period": at},
		}}}
	}
	w := &world.World{Files: []*world.File{tf}, JWTRoles: []*world.JWTRole{role("a")}}
	f := Finding{Range: at, Fixes: []Fix{{Edits: []TextEdit{{Range: at, NewText: `"30m"`}}}}}
	forTerraform(w, &f)
	if f.Fixes[0].Manual {
		t.Error("a value one resource reads is left to the user")
	}
	w.JWTRoles = append(w.JWTRoles, role("b"))
	g := Finding{Range: at, Fixes: []Fix{{Edits: []TextEdit{{Range: at, NewText: `"30m"`}}}}}
	forTerraform(w, &g)
	if !g.Fixes[0].Manual {
		t.Error("a value two resources read is fixed for one of them")
	}
}
