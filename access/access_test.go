package access_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nvlint/nvlint/access"
	"github.com/nvlint/nvlint/acl"
	"github.com/nvlint/nvlint/inputs"
	"github.com/nvlint/nvlint/world"
)

// load reads an example setup, with files replaced or added.
func load(t *testing.T, example string, files map[string]string) *world.World {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join("..", "fixtures", "examples", example)
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".golden") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	w, _, err := inputs.Load([]string{dir}, inputs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func workload(t *testing.T, w *world.World, job string) access.Workload {
	t.Helper()
	for _, wl := range access.Workloads(w) {
		if wl.Job.Ref.Name == job {
			return wl
		}
	}
	t.Fatalf("no workload for job %s", job)
	return access.Workload{}
}

func TestSeedWorkloadIdentity(t *testing.T) {
	w := load(t, "workload-identity", nil)
	tests := []struct {
		job, path string
		op        acl.Operation
		allowed   bool
	}{
		{"mongo", "kv/data/default/mongo/config", acl.OpRead, true},
		{"mongo", "kv/data/default/mongo", acl.OpRead, true},
		{"mongo", "kv/data/default/other/config", acl.OpRead, false},
		{"mongo", "kv/metadata/default/", acl.OpList, true},
		{"mongo", "kv/data/default/mongo/config", acl.OpUpdate, false},
		{"mongo", "database/creds/mongo", acl.OpRead, false},
		{"mongo", "sys/leases/renew", acl.OpUpdate, true}, // from default
		{"mongo-query", "database/creds/mongo", acl.OpRead, true},
		{"mongo-query", "kv/data/default/mongo-query/x", acl.OpRead, false}, // its role has no templated policy
	}
	for _, tc := range tests {
		tok := access.Resolve(w, workload(t, w, tc.job))
		ans := tok.Can(tc.path, tc.op)
		if !ans.Known || ans.Allowed != tc.allowed {
			t.Errorf("%s %s %s: allowed=%v known=%v (%s), want allowed=%v\n%s", tc.job, tc.op, tc.path, ans.Allowed, ans.Known, ans.Why, tc.allowed, strings.Join(tok.Steps, "\n"))
		}
	}
}

func TestRoleAdmission(t *testing.T) {
	tests := []struct {
		name    string
		role    string
		refused string
	}{
		{"bound claims other job", `{"role_type":"jwt","bound_audiences":["vault.io"],"bound_claims":{"nomad_job_id":"other"},"user_claim":"/nomad_job_id","user_claim_json_pointer":true,"token_policies":["mongo-dynamic-secret"]}`,
			`claim "nomad_job_id" does not match any associated bound claim values`},
		{"bound claims glob", `{"role_type":"jwt","bound_audiences":["vault.io"],"bound_claims_type":"glob","bound_claims":{"nomad_job_id":"mongo-*"},"user_claim":"/nomad_job_id","user_claim_json_pointer":true,"token_policies":["mongo-dynamic-secret"]}`,
			""},
		{"oidc role", `{"bound_audiences":["vault.io"],"user_claim":"/nomad_job_id","user_claim_json_pointer":true,"token_policies":["mongo-dynamic-secret"]}`,
			"role with oidc role_type is not allowed"},
		{"audience", `{"role_type":"jwt","bound_audiences":["nomad.io"],"user_claim":"/nomad_job_id","user_claim_json_pointer":true,"token_policies":["mongo-dynamic-secret"]}`,
			"invalid audience (aud) claim"},
		{"pointer without flag", `{"role_type":"jwt","bound_audiences":["vault.io"],"user_claim":"/nomad_job_id","token_policies":["mongo-dynamic-secret"]}`,
			`claim "/nomad_job_id" not found in token`},
	}
	for _, tc := range tests {
		w := load(t, "workload-identity", map[string]string{"vault-role-mongo-dynamic-secret.json": tc.role})
		tok := access.Resolve(w, workload(t, w, "mongo-query"))
		if tc.refused == "" && tok.Refused != "" || !strings.Contains(tok.Refused, tc.refused) {
			t.Errorf("%s: refused %q, want %q", tc.name, tok.Refused, tc.refused)
		}
	}
}

func TestLegacyTokenRoleWithoutDefault(t *testing.T) {
	role := `{"allowed_policies":"access-tables","token_no_default_policy":true,"name":"nomad-cluster","orphan":true,"period":259200,"renewable":true}`
	w := load(t, "dynamic-secrets", map[string]string{"nomad-cluster-role.json": role})
	tok := access.Resolve(w, workload(t, w, "nomad-vault-demo"))
	if tok.Flow != access.FlowLegacy {
		t.Fatalf("flow %s", tok.Flow)
	}
	if ans := tok.Can("sys/leases/renew", acl.OpUpdate); ans.Allowed {
		t.Errorf("a token without the default policy cannot renew leases: %+v", ans)
	}
	if ans := tok.Can("database/creds/accessdb", acl.OpRead); !ans.Allowed {
		t.Errorf("access-tables grants database/creds/accessdb: %+v", ans)
	}
}

func TestUnknownWhenPolicyMissing(t *testing.T) {
	w := load(t, "workload-identity", nil)
	var kept []*world.Policy
	for _, p := range w.Policies {
		if p.Name() != "mongo-dynamic-secret" {
			kept = append(kept, p)
		}
	}
	w.Policies = kept
	ans := access.Resolve(w, workload(t, w, "mongo-query")).Can("database/creds/mongo", acl.OpRead)
	if ans.Known {
		t.Errorf("a decision that depends on a policy not given must be unknown: %+v", ans)
	}
}

// TestExtraClaims: the servers' extra_claims are in the identity under
// extra_claims, interpolated as Nomad does, and reached by JSON pointer.
func TestExtraClaims(t *testing.T) {
	agent := func(extra string) string {
		return "server {\n  enabled = true\n}\nvault {\n  enabled = true\n  default_identity {\n    aud = [\"vault.io\"]\n" + extra + "  }\n}\n"
	}
	cases := []struct {
		name, agent, key string
		want             string
		known            bool
	}{
		{"attribute form", agent("    extra_claims = {\n      unique_id = \"${job.namespace}/${job.id}\"\n    }\n"), "/extra_claims/unique_id", "default/mongo", true},
		{"block form", agent("    extra_claims {\n      unique_id = \"${job.id}:${task.name}:${vault.cluster}\"\n    }\n"), "/extra_claims/unique_id", "mongo:mongo:default", true},
		{"literal", agent("    extra_claims = { team = \"db\" }\n"), "/extra_claims/team", "db", true},
		{"known only at run time", agent("    extra_claims = { where = \"${node.datacenter}/${job.id}\" }\n"), "/extra_claims/where", "", false},
		{"unknown placeholder stays as written", agent("    extra_claims = { odd = \"${meta.x}\" }\n"), "/extra_claims/odd", "${meta.x}", true},
		{"not a pointer", agent("    extra_claims = { team = \"db\" }\n"), "team", "", false},
		{"none configured", agent(""), "/extra_claims/team", "", false},
		{"built-in claim by pointer", agent(""), "/nomad_job_id", "mongo", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := load(t, "workload-identity", map[string]string{"nomad.hcl": c.agent})
			tok := access.Resolve(w, workload(t, w, "mongo"))
			got, ok := tok.Claim(c.key)
			if got != c.want || ok != c.known {
				t.Errorf("Claim(%q) = %q, %v; want %q, %v\n%s", c.key, got, ok, c.want, c.known, strings.Join(tok.Steps, "\n"))
			}
		})
	}
}

// TestExtraClaimsBeforeNomad183: releases before 1.8.3 ignore
// extra_claims, so a role's /extra_claims/... key finds nothing.
func TestExtraClaimsBeforeNomad183(t *testing.T) {
	agent := "server {\n  enabled = true\n}\nvault {\n  enabled = true\n  default_identity {\n    aud = [\"vault.io\"]\n    extra_claims = { team = \"db\" }\n  }\n}\n"
	for version, want := range map[string]bool{"1.8.2": false, "1.8.3": true, "": true} {
		w := load(t, "workload-identity", map[string]string{"nomad.hcl": agent})
		if version != "" {
			w.Hints.NomadVersion = world.Str{V: version, Set: true, Known: true}
		}
		tok := access.Resolve(w, workload(t, w, "mongo"))
		if _, ok := tok.Claim("/extra_claims/team"); ok != want {
			t.Errorf("Nomad %q: extra claim known %v, want %v", version, ok, want)
		}
	}
}
