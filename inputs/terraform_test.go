package inputs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/world"
)

// writeFiles writes name → content into a temporary directory.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func load(t *testing.T, paths ...string) (*world.World, Notes) {
	t.Helper()
	w, notes, err := Load(paths, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return w, notes
}

// at returns the source text a range covers.
func at(t *testing.T, w *world.World, r hcl.Range) string {
	t.Helper()
	for _, f := range w.Files {
		if f.Path == r.Filename {
			return string(f.Src[r.Start.Byte:r.End.Byte])
		}
	}
	t.Fatalf("no file %q", r.Filename)
	return ""
}

// checkPos checks that a range's line and column agree with its bytes.
func checkPos(t *testing.T, w *world.World, r hcl.Range) {
	t.Helper()
	for _, f := range w.Files {
		if f.Path != r.Filename {
			continue
		}
		li := newLineIndex(f.Src)
		for _, p := range []hcl.Pos{r.Start, r.End} {
			if want := li.pos(f.Src, p.Byte); want != p {
				t.Errorf("%s: position %+v, want %+v", r.Filename, p, want)
			}
		}
	}
}

const policyTF = `locals {
  kv = "kv"
}

resource "vault_jwt_auth_backend" "nomad" {
  path = "jwt-nomad"
}

resource "vault_policy" "workloads" {
  name   = "nomad-workloads"
  policy = <<-EOT
    path "${local.kv}/data/{{identity.entity.aliases.${vault_jwt_auth_backend.nomad.accessor}.metadata.nomad_namespace}}/*" {
      capabilities = ["read"]
    }

    path "secret/ab" {
      capabilities = ["list", "reed"]
    }
  EOT
}

resource "vault_policy" "quoted" {
  name   = "quoted"
  policy = "path \"secret/q\" {\n  capabilities = [\"read\"]\n}\n"
}

resource "vault_policy" "variable" {
  name   = "variable"
  policy = <<EOT
path "secret/${var.env}/*" {
  capabilities = ["read"]
}
EOT
}
`

func TestTerraformPolicy(t *testing.T) {
	dir := writeFiles(t, map[string]string{"main.tf": policyTF})
	w, notes := load(t, dir)
	if len(w.Files) != 1 || w.Files[0].Kind != world.KindTerraform {
		t.Fatalf("files: %+v", w.Files)
	}
	pol := w.Policy("nomad-workloads")
	if pol == nil || pol.Resource == nil || pol.Resource.Address() != "vault_policy.workloads" {
		t.Fatalf("policy nomad-workloads: %+v", pol)
	}
	accessor := world.SymbolicAccessor("vault_jwt_auth_backend.nomad.accessor")
	want := "kv/data/{{identity.entity.aliases." + accessor + ".metadata.nomad_namespace}}/*"
	if got := pol.ACL.Rules[0].Path; got != want {
		t.Errorf("path %q, want %q", got, want)
	}
	// The mount takes the stand-in its policies name it by.
	if c := w.NomadAuthConfig(); c == nil || c.Accessor != accessor {
		t.Errorf("JWT config accessor: %+v", c)
	}
	// The label's range covers its text in the .tf file, interpolations
	// included.
	if got := at(t, w, pol.ACL.Rules[0].PathRange); !strings.HasPrefix(got, `"${local.kv}/data/`) || !strings.HasSuffix(got, `}}/*"`) {
		t.Errorf("path range covers %q", got)
	}
	if got := pol.ACL.Rules[1].Path; got != "secret/ab" {
		t.Errorf("second path %q", got)
	}
	r := pol.ACL.Rules[1]
	if len(r.CapRanges) != 2 || at(t, w, r.CapRanges[1]) != `"reed"` || r.CapRanges[1].Start.Line != 17 {
		t.Errorf("capability range %v covers %q", r.CapRanges, at(t, w, r.CapRanges[1]))
	}
	for _, rule := range pol.ACL.Rules {
		checkPos(t, w, rule.PathRange)
		checkPos(t, w, rule.CapsRange)
	}
	// Vault's rejection of "reed" is the policy's own diagnostic, in the
	// .tf file.
	if len(pol.Diagnostics()) != 1 || at(t, w, *pol.Diagnostics()[0].Subject) != `"reed"` {
		t.Errorf("diagnostics: %v", pol.Diagnostics())
	}
	if pol.Resource.TextEnd == nil || pol.Resource.TextEnd.Line != 19 || pol.Resource.TextIndent != "    " {
		t.Errorf("text end %v, indent %q", pol.Resource.TextEnd, pol.Resource.TextIndent)
	}

	q := w.Policy("quoted")
	if q == nil || len(q.ACL.Rules) != 1 || at(t, w, q.ACL.Rules[0].PathRange) != `\"secret/q\"` {
		t.Fatalf("quoted policy: %+v", q)
	}
	if len(q.Diagnostics()) != 0 || q.Resource.TextEnd != nil {
		t.Errorf("quoted policy: diags %v, text end %v", q.Diagnostics(), q.Resource.TextEnd)
	}

	// A policy interpolating a variable is not checked, and --verbose says so.
	if w.Policy("variable") != nil {
		t.Error("a policy with an unknown interpolation was read")
	}
	if !strings.Contains(strings.Join(notes, "\n"), "vault_policy.variable: the policy interpolates var.env") {
		t.Errorf("notes: %q", notes)
	}
}

const rolesTF = `variable "period" {
  type = number
}

resource "vault_jwt_auth_backend" "nomad" {
  path               = "jwt-nomad/"
  jwks_url           = "http://127.0.0.1:4646/.well-known/jwks.json"
  jwt_supported_algs = ["RS256", "EdDSA"]
  default_role       = vault_jwt_auth_backend_role.workloads.role_name
}

resource "vault_jwt_auth_backend_role" "workloads" {
  backend         = vault_jwt_auth_backend.nomad.path
  role_name       = "nomad-workloads"
  role_type       = "jwt"
  bound_audiences = ["vault.io"]
  bound_claims = {
    nomad_namespace = "default"
    nomad_job_id    = "a,b"
  }
  user_claim              = "/nomad_job_id"
  user_claim_json_pointer = true
  claim_mappings = {
    nomad_job_id = "nomad_job_id"
  }
  token_policies = [vault_policy.p.name, "default"]
  token_period   = var.period
  token_type     = "service"

  lifecycle {
    prevent_destroy = true
  }
}

resource "vault_jwt_auth_backend_role" "default_backend" {
  role_name = var.role
}

resource "vault_token_auth_backend_role" "nomad_cluster" {
  role_name              = "nomad-cluster"
  disallowed_policies    = ["nomad-server"]
  orphan                 = true
  renewable              = false
  token_period           = "72h"
  token_explicit_max_ttl = 0
}

resource "vault_token_auth_backend_role" "many" {
  count     = var.replicas
  role_name = "r${count.index}"
}

resource "vault_policy" "p" {
  name   = "nomad-workloads"
  policy = ""
}
`

func TestTerraformRoles(t *testing.T) {
	dir := writeFiles(t, map[string]string{"roles.tf": rolesTF})
	w, notes := load(t, filepath.Join(dir, "roles.tf"))

	c := w.NomadAuthConfig()
	if c == nil || c.Mount != "jwt-nomad" || c.Ref.Name != "jwt-nomad" || c.DefaultRole.V != "nomad-workloads" || !c.DefaultRole.Known {
		t.Fatalf("JWT config: %+v", c)
	}
	if got := c.JWTSupportedAlgs.Strings(); len(got) != 2 || got[1] != "EdDSA" {
		t.Errorf("algs %v", got)
	}

	r := w.JWTRole("nomad-workloads")
	if r == nil {
		t.Fatal("no JWT role nomad-workloads")
	}
	if r.Mount != "jwt-nomad" || r.Resource.Address() != "vault_jwt_auth_backend_role.workloads" {
		t.Errorf("mount %q, resource %v", r.Mount, r.Resource)
	}
	if got := r.TokenPolicies.Strings(); !r.TokenPolicies.Known || len(got) != 2 || got[0] != "nomad-workloads" {
		t.Errorf("token_policies %v (known %v)", got, r.TokenPolicies.Known)
	}
	// A variable is set but unknown: rules that need it stay silent.
	if !r.TokenPeriod.Set || r.TokenPeriod.Known {
		t.Errorf("token_period from a variable: %+v", r.TokenPeriod)
	}
	if got := r.BoundClaims.Claims["nomad_job_id"].Strings(); len(got) != 2 || got[1] != "b" {
		t.Errorf("bound_claims nomad_job_id %v", got)
	}
	if !r.UserClaimJSONPointer.IsKnown() || !r.UserClaimJSONPointer.V || r.ClaimMappings.Entries["nomad_job_id"].V != "nomad_job_id" {
		t.Errorf("user claim pointer %+v, mappings %+v", r.UserClaimJSONPointer, r.ClaimMappings)
	}
	if got := at(t, w, r.BoundAudiences.Range); got != `["vault.io"]` {
		t.Errorf("bound_audiences range covers %q", got)
	}
	if r.Resource.Indent != "  " || r.Resource.InsertAt.Line != 33 || r.Resource.InsertAt.Column != 1 {
		t.Errorf("insert at %+v indent %q", r.Resource.InsertAt, r.Resource.Indent)
	}

	// An unknown role_name names the object by its address, on the
	// provider's default mount.
	d := w.JWTRole("vault_jwt_auth_backend_role.default_backend")
	if d == nil || d.Mount != "jwt" {
		t.Errorf("role with unknown name: %+v", d)
	}

	tr := w.TokenRole("nomad-cluster")
	if tr == nil {
		t.Fatal("no token role nomad-cluster")
	}
	if !tr.Renewable.IsKnown() || tr.Renewable.V || tr.TokenPeriod.V != 259200 || !tr.Orphan.V || !tr.DisallowedPolicies.Contains("nomad-server") {
		t.Errorf("token role: %+v", tr)
	}
	if at(t, w, tr.Renewable.Range) != "false" {
		t.Errorf("renewable range covers %q", at(t, w, tr.Renewable.Range))
	}
	if len(w.TokenRoles) != 1 {
		t.Errorf("a resource with an unknown count was read: %d token roles", len(w.TokenRoles))
	}
	joined := strings.Join(notes, "\n")
	for _, want := range []string{"vault_token_auth_backend_role.many: skipped: its count is not a number known without Terraform", "role_name is not a value nvlint can know"} {
		if !strings.Contains(joined, want) {
			t.Errorf("notes lack %q:\n%s", want, joined)
		}
	}
}

const jobTF = `resource "vault_jwt_auth_backend_role" "mongo" {
  role_name = "mongo-dynamic-secret"
}

resource "nomad_job" "inline" {
  jobspec = <<EOT
job "mongo-query" {
  group "g" {
    task "t" {
      config {
        args = ["$${MONGO_URL}", "${var.image}"]
      }
      vault {
        role = "${vault_jwt_auth_backend_role.mongo.role_name}"
      }
      template {
        data        = <<EOF
{{with secret "database/creds/mongo"}}{{.Data.username}}{{end}}
EOF
        destination = "secrets/env"
      }
    }
  }
}
EOT
}

resource "nomad_job" "from_file" {
  jobspec = file("${path.module}/jobs/web.nomad.hcl")
}

resource "nomad_job" "templated" {
  jobspec = templatefile("job.tpl", {})
}

resource "nomad_job" "label" {
  jobspec = <<EOT
job "${var.name}" {
}
EOT
}
`

const webJob = `job "web" {
  group "g" {
    task "t" {
      vault {
        role = "web"
      }
    }
  }
}
`

func TestTerraformJobs(t *testing.T) {
	dir := writeFiles(t, map[string]string{"jobs.tf": jobTF, "jobs/web.nomad.hcl": webJob})
	// Walking the directory finds the jobspec file too: it is read once,
	// as the nomad_job's, however its path is spelled.
	rel, err := filepath.Rel(mustGetwd(t), filepath.Join(dir, "jobs", "web.nomad.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	w, notes := load(t, dir, rel)
	if len(w.Jobs) != 2 {
		t.Fatalf("jobs: %d (notes %q)", len(w.Jobs), notes)
	}
	var inline, web *world.Job
	for _, j := range w.Jobs {
		switch j.Ref.Name {
		case "mongo-query":
			inline = j
		case "web":
			web = j
		}
	}
	if inline == nil || web == nil {
		t.Fatalf("jobs %v %v", inline, web)
	}
	tf := filepath.Join(dir, "jobs.tf")
	if inline.File.Path != tf || inline.Resource.Address() != "nomad_job.inline" || at(t, w, inline.ID.Range) != `"mongo-query"` {
		t.Errorf("inline job: file %s, resource %v, id range %q", inline.File.Path, inline.Resource, at(t, w, inline.ID.Range))
	}
	task := inline.Groups[0].Tasks[0]
	if v := task.Vault.Role; !v.IsKnown() || v.V != "mongo-dynamic-secret" {
		t.Errorf("role from a resource reference: %+v", v)
	}
	if got := at(t, w, task.Vault.Role.Range); got != `"${vault_jwt_auth_backend_role.mongo.role_name}"` {
		t.Errorf("role range covers %q", got)
	}
	tpl := task.Templates[0]
	if !tpl.Data.Known || !strings.Contains(tpl.Data.V, `secret "database/creds/mongo"`) {
		t.Fatalf("template data %+v", tpl.Data)
	}
	off := strings.Index(tpl.Data.V, `"database/creds/mongo"`)
	if got := at(t, w, tpl.TextRange(inline.File, 1, off+1, off, len(`"database/creds/mongo"`))); got != `"database/creds/mongo"` {
		t.Errorf("template text range covers %q", got)
	}
	checkPos(t, w, tpl.Range)

	if web.File.Path != filepath.Join(dir, "jobs", "web.nomad.hcl") || web.Resource.Address() != "nomad_job.from_file" || web.File.Terraform != dir {
		t.Errorf("job from file: %s %v %q", web.File.Path, web.Resource, web.File.Terraform)
	}
	n := 0
	for _, f := range w.Files {
		if strings.HasSuffix(f.Path, "web.nomad.hcl") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the jobspec file is in the world %d times", n)
	}
	joined := strings.Join(notes, "\n")
	for _, want := range []string{
		"nomad_job.templated: the jobspec file", // templatefile() renders job.tpl, which is absent
		"nomad_job.label: the jobspec interpolates var.name",
		"web.nomad.hcl: read through the Terraform resource",
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("notes lack %q:\n%s", want, joined)
		}
	}
	for _, f := range w.Files {
		if len(f.Diags) > 0 {
			t.Errorf("%s: %v", f.Path, f.Diags)
		}
	}
}

func mustGetwd(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return wd
}

func TestTerraformDetection(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"providers.tf": "provider \"vault\" {}\n",
		"broken.tf":    "resource \"aws_instance\" \"x\" {\n",
		"vault.tf.json": `{"resource": {
  "vault_policy": {"p": {"name": "p", "policy": "path \"secret/*\" {\n  capabilities = [\"read\"]\n}\n"}},
  "vault_token_auth_backend_role": {"r": {"role_name": "r", "disallowed_policies": ["${vault_policy.p.name}"], "token_period": "${var.p}"}}
}}`,
	})
	// Walking: only the file with a resource nvlint reads is kept.
	w, _ := load(t, dir)
	if len(w.Files) != 1 || !strings.HasSuffix(w.Files[0].Path, "vault.tf.json") {
		t.Fatalf("files %v", w.Files)
	}
	p := w.Policy("p")
	if p == nil || len(p.ACL.Rules) != 1 || p.ACL.Rules[0].Path != "secret/*" {
		t.Fatalf("policy from .tf.json: %+v", p)
	}
	if got := at(t, w, p.ACL.Rules[0].CapsRange); got != `capabilities = [\"read\"]` {
		t.Errorf("caps range in JSON string covers %q", got)
	}
	// JSON strings are Terraform templates too.
	r := w.TokenRole("r")
	if r == nil || !r.DisallowedPolicies.Known || !r.DisallowedPolicies.Contains("p") || !r.TokenPeriod.Set || r.TokenPeriod.Known {
		t.Errorf("token role from .tf.json: %+v", r)
	}
	// Named explicitly, a Terraform file without such resources is a
	// Terraform configuration with nothing to check, not an unknown file.
	w, _ = load(t, filepath.Join(dir, "providers.tf"))
	if len(w.Files) != 1 || w.Files[0].Kind != world.KindTerraform || len(w.Files[0].Diags) != 0 {
		t.Errorf("explicit providers.tf: %+v", w.Files[0])
	}
	// A broken one is reported as a Terraform file.
	w, _ = load(t, filepath.Join(dir, "broken.tf"))
	if w.Files[0].Kind != world.KindTerraform || !w.Files[0].Diags.HasErrors() {
		t.Errorf("explicit broken.tf: %+v", w.Files[0])
	}
}

func TestTerraformModuleContext(t *testing.T) {
	// References resolve across the files of a module (directory), not
	// across modules.
	dir := writeFiles(t, map[string]string{
		"a/backend.tf": "locals {\n  mount = \"jwt-a\"\n}\nresource \"vault_jwt_auth_backend\" \"b\" {\n  path = local.mount\n}\n",
		"a/roles.tf":   "resource \"vault_jwt_auth_backend_role\" \"r\" {\n  backend = vault_jwt_auth_backend.b.path\n  role_name = \"ra\"\n}\n",
		"b/roles.tf":   "resource \"vault_jwt_auth_backend_role\" \"r\" {\n  backend = vault_jwt_auth_backend.b.path\n  role_name = \"rb\"\n}\n",
	})
	w, _ := load(t, filepath.Join(dir, "a", "roles.tf"), filepath.Join(dir, "b"))
	// backend = vault_jwt_auth_backend.b.path, whose path is a local.
	if r := w.JWTRole("ra"); r == nil || r.Mount != "jwt-a" {
		t.Errorf("role ra: %+v", r)
	}
	if r := w.JWTRole("rb"); r == nil || r.Mount != "" {
		t.Errorf("role rb: %+v", r)
	}
}

func TestUnescape(t *testing.T) {
	src := []byte(`a\"b\n$${c}\u00e9`)
	text, starts, ends := unescape(src, 0, len(src), "", true)
	if string(text) != "a\"b\n${c}é" {
		t.Fatalf("text %q", text)
	}
	// The quote comes from the two bytes \" at offset 1.
	if starts[1] != 1 || ends[1] != 3 {
		t.Errorf("quote maps to %d-%d", starts[1], ends[1])
	}
	// Both bytes of é come from the escape \u00e9.
	if n := len(text); starts[n-1] != len(src)-6 || ends[n-1] != len(src) {
		t.Errorf("é maps to %d-%d", starts[n-1], ends[n-1])
	}
}
