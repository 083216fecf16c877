package access

import (
	"testing"

	"github.com/nvlint/nvlint/acl"
	"github.com/nvlint/nvlint/world"
)

// TestPKIMounts: a mount is PKI when some policy grants issue/ or sign/
// directly below it, at any depth of nesting.
func TestPKIMounts(t *testing.T) {
	text := `
path "pki_int/issue/web" { capabilities = ["update"] }
path "/team/ca/sign/x" { capabilities = ["update"] }
path "a/issue/b/sign/c" { capabilities = ["update"] }
path "kv/data/issue" { capabilities = ["read"] }
`
	pol, diags := acl.Parse([]byte(text), "p.hcl")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	w := &world.World{Policies: []*world.Policy{{ACL: pol}}}
	for mount, want := range map[string]bool{
		"pki_int": true, "team/ca": true, "a": true, "a/issue/b": true,
		"kv": false, "kv/data": false, "team": false, "pki": true, // by its name
	} {
		if got := isPKIMount(w, mount); got != want {
			t.Errorf("isPKIMount(%q) = %v, want %v", mount, got, want)
		}
	}
}
