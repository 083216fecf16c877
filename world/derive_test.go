package world_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/nvlint/nvlint/acl"
	"github.com/nvlint/nvlint/world"
)

// TestServerPoliciesIndex: the per-run index of token-creating policies
// answers as asking every policy does, for policies of every rule shape
// and roles they do and do not name.
func TestServerPoliciesIndex(t *testing.T) {
	texts := map[string]string{
		"exact":     `path "auth/token/create/nomad-cluster" { capabilities = ["update"] }`,
		"exact-ro":  `path "auth/token/create/nomad-cluster" { capabilities = ["read"] }`,
		"other":     `path "auth/token/create/ci-1" { capabilities = ["update"] }`,
		"prefix":    `path "auth/token/*" { capabilities = ["update"] }`,
		"role-glob": `path "auth/token/create/ci-*" { capabilities = ["update"] }`,
		"segment":   `path "auth/token/create/+" { capabilities = ["update"] }`,
		"all":       `path "*" { capabilities = ["sudo", "update"] }`,
		"deny":      "path \"auth/token/create/nomad-cluster\" { capabilities = [\"deny\"] }\npath \"auth/*\" { capabilities = [\"update\"] }",
		"orphan":    `path "auth/token/create-orphan" { capabilities = ["update"] }`,
		"templated": `path "auth/token/create/{{identity.entity.name}}" { capabilities = ["update"] }`,
		"kv":        `path "kv/data/app/*" { capabilities = ["read"] }`,
		"kv-tmpl":   `path "kv/data/{{identity.entity.name}}/*" { capabilities = ["update"] }`,
		"kv-seg":    `path "kv/+/create/*" { capabilities = ["update"] }`,
		"auth-seg":  `path "auth/+/create/*" { capabilities = ["update"] }`,
		"default":   `path "auth/token/create/nomad-cluster" { capabilities = ["update"] }`,
	}
	w := &world.World{}
	names := make([]string, 0, len(texts))
	for n := range texts {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		p, diags := acl.Parse([]byte(texts[n]), n+".hcl")
		if diags.HasErrors() {
			t.Fatalf("%s: %s", n, diags)
		}
		p.Name = n
		w.Policies = append(w.Policies, &world.Policy{Meta: world.Meta{Ref: world.ObjectRef{Kind: world.KindPolicy, Name: n}}, ACL: p})
	}
	// What ServerPolicies answered before it had an index: every policy
	// asked on its own.
	naive := func(role string) (granting, candidates []string) {
		for _, p := range w.Policies {
			if p.Name() == "default" {
				continue
			}
			caps := acl.Capabilities([]*acl.Policy{p.ACL}, "auth/token/create/"+role, nil)
			if slices.Contains(caps, "update") || slices.Contains(caps, "root") {
				granting = append(granting, p.Name())
				continue
			}
			for _, r := range p.ACL.Rules {
				if strings.HasPrefix(strings.TrimPrefix(r.Path, "/"), "auth/token/create") {
					candidates = append(candidates, p.Name())
					break
				}
			}
		}
		return granting, candidates
	}
	namesOf := func(ps []*world.Policy) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.Name())
		}
		return out
	}
	for _, memo := range []bool{false, true} {
		if memo {
			defer w.Memoize()()
		}
		for _, role := range []string{"nomad-cluster", "ci-1", "ci-2", "other", "", "nomad"} {
			g, c := w.ServerPolicies(role)
			wantG, wantC := naive(role)
			if !slices.Equal(namesOf(g), wantG) {
				t.Errorf("memo %v, role %q: granting %v, want %v", memo, role, namesOf(g), wantG)
			}
			// Candidates are given only when nothing grants; then they
			// are every policy with a rule under auth/token/create.
			if len(wantG) == 0 && !slices.Equal(namesOf(c), wantC) {
				t.Errorf("memo %v, role %q: candidates %v, want %v", memo, role, namesOf(c), wantC)
			}
			if len(wantG) > 0 && c != nil {
				t.Errorf("memo %v, role %q: candidates %v beside granting policies", memo, role, namesOf(c))
			}
		}
	}
}
