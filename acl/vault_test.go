package acl_test

import (
	"fmt"
	"reflect"
	"sort"
	"testing"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/nvlint/nvlint/acl"
	"github.com/nvlint/nvlint/internal/realserver"
)

// TestAgainstRealVault cross-checks the evaluator with a real Vault: each
// case's policies are written to Vault, a token is made with exactly
// those policies, and sys/capabilities must answer what acl.Capabilities
// answers, path by path.
func TestAgainstRealVault(t *testing.T) {
	v := realserver.StartVault(t)
	vc := v.Client(t)
	cases := []struct {
		name     string
		policies []string
		paths    []string
	}{
		{"exact wins outright over a broader glob", []string{
			`path "secret/*" { capabilities = ["read", "list"] }
			 path "secret/foo" { capabilities = ["update"] }`,
		}, []string{"secret/foo", "secret/foo/bar", "secret/bar"}},
		{"deny on a glob does not override an exact grant", []string{
			`path "secret/*" { capabilities = ["deny"] }`,
			`path "secret/app" { capabilities = ["read"] }`,
		}, []string{"secret/app", "secret/other"}},
		{"identical paths merge and deny wins", []string{
			`path "kv/data/app" { capabilities = ["read"] }`,
			`path "kv/data/app" { capabilities = ["update"] }`,
			`path "kv/data/db" { capabilities = ["read"] }`,
			`path "kv/data/db" { capabilities = ["deny"] }`,
		}, []string{"kv/data/app", "kv/data/db"}},
		{"longest prefix wins", []string{
			`path "a/*" { capabilities = ["read"] }
			 path "a/b/*" { capabilities = ["update"] }
			 path "a/b/c*" { capabilities = ["list"] }`,
		}, []string{"a/x", "a/b/x", "a/b/cd", "a/b/c/d"}},
		{"segment wildcards and their precedence", []string{
			`path "kv/+/app/*" { capabilities = ["read"] }
			 path "kv/data/+/*" { capabilities = ["update"] }
			 path "kv/data/app/config" { capabilities = ["list"] }
			 path "kv/+/+/secret" { capabilities = ["create"] }
			 path "kv/*" { capabilities = ["delete"] }`,
		}, []string{"kv/data/app/x", "kv/meta/app/x", "kv/data/app/config", "kv/data/x/secret", "kv/other", "kv/data/app"}},
		{"a later first wildcard beats an earlier one", []string{
			`path "x/+/y/z" { capabilities = ["read"] }
			 path "x/a/+/z" { capabilities = ["update"] }`,
		}, []string{"x/a/y/z"}},
		{"non-glob beats glob at equal wildcard position", []string{
			`path "p/+/q" { capabilities = ["read"] }
			 path "p/+/q*" { capabilities = ["update"] }`,
		}, []string{"p/a/q", "p/a/qq"}},
		{"fewer plus segments win", []string{
			`path "m/+/+/n" { capabilities = ["read"] }
			 path "m/+/o/n" { capabilities = ["update"] }`,
		}, []string{"m/a/o/n", "m/a/b/n"}},
		{"legacy policy values", []string{
			`path "l/read" { policy = "read" }
			 path "l/write" { policy = "write" }
			 path "l/sudo" { policy = "sudo" }
			 path "l/deny" { policy = "deny" }`,
		}, []string{"l/read", "l/write", "l/sudo", "l/deny"}},
		{"literal star in the middle", []string{
			`path "s/*/t" { capabilities = ["read"] }`,
		}, []string{"s/*/t", "s/a/t"}},
		{"the seed nomad-server policy", []string{
			`path "auth/token/create/nomad-cluster" { capabilities = ["update"] }
			 path "auth/token/roles/nomad-cluster" { capabilities = ["read"] }
			 path "auth/token/lookup-self" { capabilities = ["read"] }
			 path "auth/token/lookup" { capabilities = ["update"] }
			 path "auth/token/revoke-accessor" { capabilities = ["update"] }
			 path "sys/capabilities-self" { capabilities = ["update"] }
			 path "auth/token/renew-self" { capabilities = ["update"] }`,
		}, []string{"auth/token/create/nomad-cluster", "auth/token/create/other", "auth/token/roles/nomad-cluster", "auth/token/revoke-accessor", "sys/leases/renew"}},
		{"HCL 1 syntax HCL 2 refuses", []string{
			`path "h/a" { capabilities = ["read"] } path "h/b" { "capabilities" = ["list",], }`,
			"path \"h/c\" {\r\n  capabilities = [\"update\"],\r\n  allowed_parameters {\r\n    \"x\" = []\r\n  }\r\n}\r\n",
			`path "h/${x}" { capabilities = ["read"] }`,
		}, []string{"h/a", "h/b", "h/c", "h/${x}", "h/y"}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var names []string
			var parsed []*acl.Policy
			for j, text := range tc.policies {
				name := fmt.Sprintf("case%d-%d", i, j)
				if err := vc.Sys().PutPolicy(name, text); err != nil {
					t.Fatalf("Vault refused policy %s: %v", name, err)
				}
				p, diags := acl.Parse([]byte(text), name+".hcl")
				if diags.HasErrors() {
					t.Fatalf("acl refused policy %s: %s", name, diags.Error())
				}
				p.Name = name
				names = append(names, name)
				parsed = append(parsed, p)
			}
			tok := createToken(t, vc, names)
			for _, path := range tc.paths {
				want := realCapabilities(t, vc, tok, path)
				got := acl.Capabilities(parsed, path, nil)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s: acl says %v, Vault says %v", path, got, want)
				}
			}
		})
	}
}

// TestSyntaxAgainstRealVault checks that acl.Parse refuses exactly the
// policies Vault refuses to store: Vault parses with HCL 1, which accepts
// forms HCL 2 does not and refuses a few it does.
func TestSyntaxAgainstRealVault(t *testing.T) {
	vc := realserver.StartVault(t).Client(t)
	texts := []string{
		"path \"a\" {\n  capabilities = [\"read\"]\n}\n",
		`path "a" { capabilities = ["read"] } path "b" { capabilities = ["read"] }`,
		"path \"a\" {\n  \"capabilities\" = [\"read\"]\n}\n",
		"path \"a\" {\n  capabilities = [\"read\", \"list\",]\n  min_wrapping_ttl = \"1h\",\n}\n",
		"path \"a\" {\n  capabilities = [\"create\"]\n  allowed_parameters {\n    \"bar\" = [\"zip\"]\n  }\n}\n",
		"path \"a/${b}\" {\n  capabilities = [\"read\"]\n}\n",
		"path \"a\" {\r\n  capabilities = [\"read\"]\r\n}\r\n",
		"path \"a\" = {\n  capabilities = [\"read\"]\n}\n",
		`path "a" { capabilities = ["read"]; }`,
		"path \"a\" {\n  policy = \"read\"\n  policy = \"write\"\n}\n",
		"path \"a\" {\n  capabilities = [\"read\"\n}\n",
		"path \"a\" {\n  capabilities = [\"read\"]\n",
		"path \"a\" {\n  capabilities = [\"reed\"]\n}\n",
		"path \"a\" {\n  capabilities = [\"${x}\"]\n}\n",
	}
	for i, text := range texts {
		vaultErr := vc.Sys().PutPolicy(fmt.Sprintf("syntax%d", i), text)
		_, diags := acl.Parse([]byte(text), "p.hcl")
		if (vaultErr == nil) != !diags.HasErrors() {
			t.Errorf("%q: Vault says %v, acl says %v", text, vaultErr, diags)
		}
	}
}

// TestTemplatedAgainstRealVault checks template filling with a real
// entity: a userpass login creates an entity whose name and alias name
// fill identity templates.
func TestTemplatedAgainstRealVault(t *testing.T) {
	v := realserver.StartVault(t)
	vc := v.Client(t)
	if err := vc.Sys().EnableAuthWithOptions("userpass", &vaultapi.EnableAuthOptions{Type: "userpass"}); err != nil {
		t.Fatal(err)
	}
	auths, err := vc.Sys().ListAuth()
	if err != nil {
		t.Fatal(err)
	}
	accessor := auths["userpass/"].Accessor
	text := fmt.Sprintf(`
path "kv/data/{{identity.entity.aliases.%[1]s.name}}/*" { capabilities = ["read"] }
path "kv/data/{{identity.entity.name}}" { capabilities = ["update"] }
path "kv/data/{{identity.entity.aliases.auth_userpass_00000000.name}}/x" { capabilities = ["list"] }
path "kv/metadata/{{identity.entity.aliases.%[1]s.metadata.missing}}/*" { capabilities = ["list"] }
`, accessor)
	if err := vc.Sys().PutPolicy("templated", text); err != nil {
		t.Fatal(err)
	}
	if _, err := vc.Logical().Write("auth/userpass/users/alice", map[string]any{"password": "pw-for-tests", "token_policies": "templated", "token_no_default_policy": true}); err != nil {
		t.Fatal(err)
	}
	login, err := vc.Logical().Write("auth/userpass/login/alice", map[string]any{"password": "pw-for-tests"})
	if err != nil {
		t.Fatal(err)
	}
	tok := login.Auth.ClientToken
	ent, err := vc.Logical().Read("identity/entity/id/" + login.Auth.EntityID)
	if err != nil {
		t.Fatal(err)
	}
	entity := &acl.Entity{
		ID: login.Auth.EntityID, Name: ent.Data["name"].(string),
		Aliases: map[string]acl.Alias{accessor: {Name: "alice", Metadata: map[string]string{"username": "alice"}}},
	}
	p, diags := acl.Parse([]byte(text), "templated.hcl")
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	p.Name = "templated"
	for _, path := range []string{"kv/data/alice/x", "kv/data/bob/x", "kv/data/" + entity.Name, "kv/metadata/a/b"} {
		want := realCapabilities(t, vc, tok, path)
		got := acl.Capabilities([]*acl.Policy{p}, path, entity)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: acl says %v, Vault says %v", path, got, want)
		}
	}
}

func createToken(t *testing.T, vc *vaultapi.Client, policies []string) string {
	t.Helper()
	s, err := vc.Auth().Token().Create(&vaultapi.TokenCreateRequest{Policies: policies, NoDefaultPolicy: true})
	if err != nil {
		t.Fatal(err)
	}
	return s.Auth.ClientToken
}

// realCapabilities asks Vault what a token may do on a path.
func realCapabilities(t *testing.T, vc *vaultapi.Client, token, path string) []string {
	t.Helper()
	caps, err := vc.Sys().Capabilities(token, path)
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(caps)
	return caps
}
