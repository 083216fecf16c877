package acl

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// nomadServerPolicy is the legacy (<=1.9) "nomad-server" policy from the
// Nomad docs (seeds 001-003).
const nomadServerPolicy = `# Allow creating tokens under "nomad-cluster" token role. The token role name
# should be updated if "nomad-cluster" is not used.
path "auth/token/create/nomad-cluster" {
  capabilities = ["update"]
}

# Allow looking up "nomad-cluster" token role. The token role name should be
# updated if "nomad-cluster" is not used.
path "auth/token/roles/nomad-cluster" {
  capabilities = ["read"]
}

# Allow looking up the token passed to Nomad to validate # the token has the
# proper capabilities. This is provided by the "default" policy.
path "auth/token/lookup-self" {
  capabilities = ["read"]
}

# Allow looking up incoming tokens to validate they have permissions to access
# the tokens they are requesting. This is only required if
# ` + "`allow_unauthenticated`" + ` is set to false.
path "auth/token/lookup" {
  capabilities = ["update"]
}

# Allow revoking tokens that should no longer exist. This allows revoking
# tokens for dead tasks.
path "auth/token/revoke-accessor" {
  capabilities = ["update"]
}

# Allow checking the capabilities of our own token. This is used to validate the
# token upon startup.
path "sys/capabilities-self" {
  capabilities = ["update"]
}

# Allow our own token to be renewed.
path "auth/token/renew-self" {
  capabilities = ["update"]
}
`

// nomadWorkloadsPolicy is the templated policy from the workload identity
// tutorial (seed 004), placeholder accessor kept.
const nomadWorkloadsPolicy = `path "kv/data/{{identity.entity.aliases.AUTH_METHOD_ACCESSOR.metadata.nomad_namespace}}/{{identity.entity.aliases.AUTH_METHOD_ACCESSOR.metadata.nomad_job_id}}/*" {
capabilities = ["read"]
}
path "kv/data/{{identity.entity.aliases.AUTH_METHOD_ACCESSOR.metadata.nomad_namespace}}/{{identity.entity.aliases.AUTH_METHOD_ACCESSOR.metadata.nomad_job_id}}" {
capabilities = ["read"]
}
path "kv/metadata/{{identity.entity.aliases.AUTH_METHOD_ACCESSOR.metadata.nomad_namespace}}/*" {
capabilities = ["list"]
}
path "kv/metadata/*" {
capabilities = ["list"]
}
`

func mustParse(t testing.TB, name, src string) *Policy {
	t.Helper()
	p, diags := Parse([]byte(src), name+".hcl")
	if diags.HasErrors() {
		t.Fatalf("parse %s: %s", name, diags.Error())
	}
	p.Name = name
	return p
}

// rng renders a range as line:col-line:col for compact expectations.
func rng(r hcl.Range) string {
	return fmt.Sprintf("%d:%d-%d:%d", r.Start.Line, r.Start.Column, r.End.Line, r.End.Column)
}

func TestParseNomadServerSeed(t *testing.T) {
	p := mustParse(t, "nomad-server", nomadServerPolicy)
	want := []struct{ path, capability string }{
		{"auth/token/create/nomad-cluster", "update"},
		{"auth/token/roles/nomad-cluster", "read"},
		{"auth/token/lookup-self", "read"},
		{"auth/token/lookup", "update"},
		{"auth/token/revoke-accessor", "update"},
		{"sys/capabilities-self", "update"},
		{"auth/token/renew-self", "update"},
	}
	if len(p.Rules) != len(want) {
		t.Fatalf("got %d rules, want %d", len(p.Rules), len(want))
	}
	for i, w := range want {
		r := p.Rules[i]
		if r.Path != w.path || !slices.Equal(r.Capabilities, []string{w.capability}) {
			t.Errorf("rule %d = %q %v, want %q [%s]", i, r.Path, r.Capabilities, w.path, w.capability)
		}
		if r.Templated() || len(r.CapRanges) != 1 {
			t.Errorf("rule %d: templated=%v capRanges=%v", i, r.Templated(), r.CapRanges)
		}
	}
	// Spot-check ranges: the first block starts on line 3.
	r := p.Rules[0]
	if got := rng(r.PathRange); got != "3:6-3:39" {
		t.Errorf("PathRange = %s", got)
	}
	if got := rng(r.CapsRange); got != "4:3-4:28" {
		t.Errorf("CapsRange = %s", got)
	}
	if got := rng(r.CapRanges[0]); got != "4:19-4:27" {
		t.Errorf("CapRanges[0] = %s", got)
	}
	if got := rng(r.Block); got != "3:1-5:2" {
		t.Errorf("Block = %s", got)
	}
	if p.Templated() {
		t.Error("nomad-server is not templated")
	}
}

func TestParseNomadWorkloadsSeed(t *testing.T) {
	p := mustParse(t, "nomad-workloads", nomadWorkloadsPolicy)
	if len(p.Rules) != 4 {
		t.Fatalf("got %d rules", len(p.Rules))
	}
	wantTemplated := []bool{true, true, true, false}
	wantCaps := []string{"read", "read", "list", "list"}
	for i, r := range p.Rules {
		if r.Templated() != wantTemplated[i] || !slices.Equal(r.Capabilities, []string{wantCaps[i]}) {
			t.Errorf("rule %d: %q templated=%v caps=%v", i, r.Path, r.Templated(), r.Capabilities)
		}
	}
	params := TemplateParams(p.Rules[0].Path)
	if len(params) != 2 {
		t.Fatalf("params = %+v", params)
	}
	for i, key := range []string{"nomad_namespace", "nomad_job_id"} {
		prm := params[i]
		if prm.Kind != "alias-metadata" || prm.Accessor != "AUTH_METHOD_ACCESSOR" || prm.Key != key || prm.Problem != "" {
			t.Errorf("param %d = %+v", i, prm)
		}
		if got := p.Rules[0].Path[prm.Start:prm.End]; got != "{{"+prm.Raw+"}}" {
			t.Errorf("param %d offsets cover %q", i, got)
		}
	}
	if !p.Templated() {
		t.Error("policy should be templated")
	}
}

type wantDiag struct {
	sev     hcl.DiagnosticSeverity
	summary string // substring
	at      string // line:col-line:col of Subject
}

func TestParseDiagnostics(t *testing.T) {
	E, W := hcl.DiagError, hcl.DiagWarning
	cases := []struct {
		name string
		src  string
		want []wantDiag
	}{
		{
			name: "clean",
			src:  "path \"secret/*\" {\n  capabilities = [\"read\", \"list\"]\n}\n",
		},
		{
			name: "plus star forbidden",
			src:  "path \"secret/+*\" {\n  capabilities = [\"read\"]\n}\n",
			want: []wantDiag{{E, `path "secret/+*": invalid use of wildcards ('+*' is forbidden)`, "1:6-1:17"}},
		},
		{
			name: "plus star after leading slash reports stripped path",
			src:  "path \"/a/+*\" {\n  capabilities = [\"read\"]\n}\n",
			want: []wantDiag{{E, `path "a/+*": invalid use of wildcards`, "1:6-1:13"}},
		},
		{
			name: "invalid capability points at element",
			src:  "path \"secret/*\" {\n  capabilities = [\"read\", \"wirte\"]\n}\n",
			want: []wantDiag{{E, `path "secret/*": invalid capability "wirte"`, "2:27-2:34"}},
		},
		{
			name: "every invalid capability before a deny",
			src:  "path \"a\" {\n  capabilities = [\"x\", \"y\", \"deny\", \"z\"]\n}\n",
			want: []wantDiag{
				{E, `invalid capability "x"`, "2:19-2:22"},
				{E, `invalid capability "y"`, "2:24-2:27"},
			},
		},
		{
			name: "deny first hides later typos like Vault",
			src:  "path \"a\" {\n  capabilities = [\"deny\", \"bogus\"]\n}\n",
		},
		{
			name: "root is not a capability",
			src:  "path \"a\" {\n  capabilities = [\"root\"]\n}\n",
			want: []wantDiag{{E, `invalid capability "root"`, "2:19-2:25"}},
		},
		{
			name: "capability is case sensitive",
			src:  "path \"a\" {\n  capabilities = [\"Read\"]\n}\n",
			want: []wantDiag{{E, `invalid capability "Read"`, "2:19-2:25"}},
		},
		{
			name: "newer capabilities accepted",
			src:  "path \"a\" {\n  capabilities = [\"patch\", \"subscribe\", \"recover\", \"sudo\"]\n}\n",
		},
		{
			name: "unknown top-level attribute",
			src:  "name = \"x\"\npaths \"a\" {\n  capabilities = [\"read\"]\n}\nfoo = 1\n",
			want: []wantDiag{
				{E, `invalid key "paths"`, "2:1-2:6"},
				{E, `invalid key "foo"`, "5:1-5:4"},
			},
		},
		{
			name: "name as block",
			src:  "name {\n}\n",
			want: []wantDiag{{E, "name must be a string attribute", "1:1-1:5"}},
		},
		{
			name: "name must be a string",
			src:  "name = [\"x\"]\n",
			want: []wantDiag{{E, "name must be a string", "1:8-1:13"}},
		},
		{
			name: "path as attribute",
			src:  "path = \"secret/*\"\n",
			want: []wantDiag{{E, "path must be a block", "1:1-1:5"}},
		},
		{
			name: "unknown per-path keys",
			src:  "path \"a\" {\n  capabilities = [\"read\"]\n  capabilites = [\"list\"]\n  ttl { }\n}\n", //nolint:misspell // the misspelt key is the one under test
			want: []wantDiag{
				{E, `path "a": invalid key "capabilites"`, "3:3-3:14"}, //nolint:misspell // the misspelt key is the one under test
				{E, `path "a": invalid key "ttl"`, "4:3-4:6"},
			},
		},
		{
			name: "allowed per-path keys",
			src: `path "a" {
  comment = "x"
  capabilities = ["update"]
  allowed_parameters = { "ttl" = ["1h"], "*" = [] }
  denied_parameters = { "policies" = ["root"] }
  required_parameters = ["ttl"]
  min_wrapping_ttl = "1m"
  max_wrapping_ttl = 3600
  mfa_methods = ["m"]
  subscribe_event_types = ["kv*"]
  control_group {
    factor "ops" {
      identity {
        group_names = ["managers"]
        approvals = 1
      }
    }
  }
}
`,
		},
		{
			name: "scalar key written as block",
			src:  "path \"a\" {\n  capabilities = [\"read\"]\n  comment { }\n}\n",
			want: []wantDiag{{E, `path "a": comment must be an attribute`, "3:3-3:10"}},
		},
		{
			name: "unbalanced open",
			src:  "path \"kv/{{identity.entity.id\" {\n  capabilities = [\"read\"]\n}\n",
			want: []wantDiag{{E, "failed to validate policy templating: unbalanced templating characters", "1:6-1:31"}},
		},
		{
			name: "close before open",
			src:  "path \"kv/}}{{identity.entity.id}}\" {\n  capabilities = [\"read\"]\n}\n",
			want: []wantDiag{{E, "unbalanced templating characters", "1:6-1:35"}},
		},
		{
			name: "double close",
			src:  "path \"kv/{{identity.entity.id}}}}\" {\n  capabilities = [\"read\"]\n}\n",
			want: []wantDiag{{E, "unbalanced templating characters", "1:6-1:35"}},
		},
		{
			name: "unknown template parameter is a warning at the directive",
			src:  "path \"kv/{{identity.entity.nmae}}/*\" {\n  capabilities = [\"read\"]\n}\n",
			want: []wantDiag{{W, `template parameter "identity.entity.nmae" cannot be filled: unknown template parameter`, "1:10-1:34"}},
		},
		{
			name: "list-valued parameter never fills",
			src:  "path \"kv/{{ identity.entity.groups.names }}\" {\n  capabilities = [\"read\"]\n}\n",
			want: []wantDiag{{W, "is a list", "1:10-1:44"}},
		},
		{
			name: "alias metadata without key",
			src:  "path \"kv/{{identity.entity.aliases.auth_jwt_1.metadata}}\" {\n  capabilities = [\"read\"]\n}\n",
			want: []wantDiag{{W, "needs a key", "1:10-1:57"}},
		},
		{
			name: "bad time duration",
			src:  "path \"kv/{{time.now.plus.1y}}\" {\n  capabilities = [\"read\"]\n}\n",
			want: []wantDiag{{W, "invalid duration", "1:10-1:30"}},
		},
		{
			name: "known parameters are quiet",
			src: `path "a/{{identity.entity.id}}/{{identity.entity.name}}/{{identity.entity.metadata.k}}" { capabilities = ["read"] }
path "b/{{identity.entity.aliases.auth_jwt_x.id}}/{{identity.entity.aliases.auth_jwt_x.name}}/{{identity.entity.aliases.auth_jwt_x.custom_metadata.k}}" { capabilities = ["read"] }
path "c/{{identity.groups.ids.g1.name}}/{{identity.groups.names.devs.id}}/{{identity.groups.names.devs.metadata.k}}" { capabilities = ["read"] }
path "d/{{time.now}}/{{time.now.minus.1h}}/{{time.now.plus.2d}}" { capabilities = ["read"] }
`,
		},
		{
			name: "legacy policy values",
			src:  "path \"a\" { policy = \"read\" }\npath \"b\" { policy = \"write\" }\npath \"c\" { policy = \"sudo\" }\npath \"d\" { policy = \"deny\" }\n",
		},
		{
			name: "invalid legacy policy",
			src:  "path \"a\" {\n  policy = \"admin\"\n}\n",
			want: []wantDiag{{E, `path "a": invalid policy "admin"`, "2:12-2:19"}},
		},
		{
			name: "capabilities must be a list",
			src:  "path \"a\" {\n  capabilities = \"read\"\n}\n",
			want: []wantDiag{{E, `path "a": capabilities must be a list of strings`, "2:18-2:24"}},
		},
		{
			name: "label-less path block",
			src:  "path {\n  capabilities = [\"read\"]\n}\n",
			want: []wantDiag{{W, "path block has no path label", "1:1-1:5"}},
		},
		{
			name: "extra label",
			src:  "path \"a\" \"b\" {\n  capabilities = [\"read\"]\n}\n",
			want: []wantDiag{{W, `path "a": extra label "b" is ignored`, "1:10-1:13"}},
		},
		{
			name: "bad wrapping ttl",
			src:  "path \"a\" {\n  capabilities = [\"read\"]\n  min_wrapping_ttl = \"soon\"\n}\n",
			want: []wantDiag{{E, "error parsing min_wrapping_ttl", "3:22-3:28"}},
		},
		{
			name: "max below min",
			src:  "path \"a\" {\n  capabilities = [\"read\"]\n  min_wrapping_ttl = \"1h\"\n  max_wrapping_ttl = 60\n}\n",
			want: []wantDiag{{E, "max_wrapping_ttl cannot be less than min_wrapping_ttl", "4:22-4:24"}},
		},
		{
			name: "wrapping ttls unchecked on deny",
			src:  "path \"a\" {\n  capabilities = [\"deny\"]\n  min_wrapping_ttl = \"soon\"\n}\n",
		},
		{
			name: "duplicate attribute is a syntax error",
			src:  "path \"a\" {\n  capabilities = [\"read\"]\n  capabilities = [\"list\"]\n}\n",
			want: []wantDiag{{E, "Attribute redefined", "3:3-3:15"}},
		},
		{
			name: "syntax error",
			src:  "path \"a\" {\n  capabilities = [\"read\"\n}\n",
			want: []wantDiag{{E, "", "3:1-3:2"}},
		},
		{
			name: "json clean",
			src:  `{"path": {"secret/*": {"capabilities": ["read"]}, "auth/token/lookup-self": {"policy": "read"}}}`,
		},
		{
			name: "json with leading whitespace",
			src:  "\n  {\"path\": {\"a\": {\"capabilities\": [\"read\"]}}}",
		},
		{
			name: "json invalid capability",
			src:  "{\n  \"path\": {\n    \"secret/*\": {\n      \"capabilities\": [\"read\", \"bogus\"]\n    }\n  }\n}\n",
			want: []wantDiag{{E, `path "secret/*": invalid capability "bogus"`, "4:32-4:39"}},
		},
		{
			name: "json unknown keys",
			src:  "{\n  \"paths\": {},\n  \"path\": {\"a\": {\"capabilities\": [\"read\"], \"ttl\": 1}}\n}\n",
			want: []wantDiag{
				{E, `invalid key "paths"`, "2:3-2:10"},
				{E, `path "a": invalid key "ttl"`, "3:44-3:49"},
			},
		},
		{
			name: "json plus star",
			src:  `{"path": {"a/+*": {"capabilities": ["read"]}}}`,
			want: []wantDiag{{E, "invalid use of wildcards", "1:11-1:17"}},
		},
		{
			name: "json unknown template parameter",
			src:  `{"path": {"kv/{{identity.entity.nope}}": {"capabilities": ["read"]}}}`,
			want: []wantDiag{{W, "unknown template parameter", "1:15-1:39"}},
		},
		{
			name: "json syntax error",
			src:  `{"path": {"a": {"capabilities": ["read"]}}`,
			want: []wantDiag{{E, "Unclosed object", "1:1-1:2"}, {E, "Root value must be object", "1:1-1:2"}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, diags := Parse([]byte(tc.src), "p.hcl")
			if len(diags) != len(tc.want) {
				t.Fatalf("got %d diagnostics, want %d:\n%s", len(diags), len(tc.want), dumpDiags(diags))
			}
			for i, w := range tc.want {
				d := diags[i]
				if d.Severity != w.sev || !strings.Contains(d.Summary, w.summary) {
					t.Errorf("diag %d = %v %q, want %v %q", i, d.Severity, d.Summary, w.sev, w.summary)
				}
				if w.at == "" {
					continue
				}
				if d.Subject == nil {
					t.Errorf("diag %d has no subject", i)
					continue
				}
				if got := rng(*d.Subject); got != w.at {
					t.Errorf("diag %d %q at %s, want %s", i, d.Summary, got, w.at)
				}
				if d.Subject.Filename != "p.hcl" {
					t.Errorf("diag %d filename %q", i, d.Subject.Filename)
				}
			}
		})
	}
}

func dumpDiags(diags hcl.Diagnostics) string {
	var b strings.Builder
	for _, d := range diags {
		at := "-"
		if d.Subject != nil {
			at = rng(*d.Subject)
		}
		fmt.Fprintf(&b, "  %v %s %s\n", d.Severity, at, d.Summary)
	}
	return b.String()
}

func TestParseCapabilityNormalization(t *testing.T) {
	cases := []struct {
		name   string
		body   string
		caps   []string
		ranges int // number of CapRanges, -1 for nil
	}{
		{"plain", `capabilities = ["read", "list"]`, []string{"read", "list"}, 2},
		{"legacy read", `policy = "read"`, []string{"read", "list"}, 2},
		{"legacy write", `policy = "write"`, []string{"create", "read", "update", "delete", "list"}, 5},
		{"legacy sudo", `policy = "sudo"`, []string{"create", "read", "update", "delete", "list", "sudo"}, 6},
		{"legacy deny", `policy = "deny"`, []string{"deny"}, 1},
		{"legacy appends to capabilities", "capabilities = [\"patch\"]\npolicy = \"read\"", []string{"patch", "read", "list"}, 3},
		{"legacy deny replaces capabilities", "capabilities = [\"read\", \"bogus\"]\npolicy = \"deny\"", []string{"deny"}, 1},
		{"deny collapses", `capabilities = ["read", "deny", "list"]`, []string{"deny"}, 1},
		{"duplicates kept", `capabilities = ["read", "read"]`, []string{"read", "read"}, 2},
		{"empty", `capabilities = []`, nil, -1},
		{"absent", `comment = "nothing granted"`, nil, -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := "path \"a\" {\n" + tc.body + "\n}\n"
			p, diags := Parse([]byte(src), "p.hcl")
			if diags.HasErrors() {
				t.Fatal(diags.Error())
			}
			r := p.Rules[0]
			if !slices.Equal(r.Capabilities, tc.caps) {
				t.Errorf("caps = %v, want %v", r.Capabilities, tc.caps)
			}
			n := len(r.CapRanges)
			if r.CapRanges == nil {
				n = -1
			}
			if n != tc.ranges {
				t.Errorf("CapRanges = %v, want %d", r.CapRanges, tc.ranges)
			}
		})
	}
}

func TestParseLegacyRangesPointAtPolicyValue(t *testing.T) {
	p := mustParse(t, "x", "path \"a\" {\n  policy = \"write\"\n}\n")
	r := p.Rules[0]
	if r.Policy != "write" || rng(r.CapsRange) != "2:3-2:19" {
		t.Fatalf("policy=%q CapsRange=%s", r.Policy, rng(r.CapsRange))
	}
	for _, cr := range r.CapRanges {
		if rng(cr) != "2:12-2:19" {
			t.Errorf("legacy CapRange = %s", rng(cr))
		}
	}
}

func TestParseDenyRangeFollowsDenyElement(t *testing.T) {
	p := mustParse(t, "x", "path \"a\" {\n  capabilities = [\"read\", \"deny\"]\n}\n")
	r := p.Rules[0]
	if len(r.CapRanges) != 1 || rng(r.CapRanges[0]) != "2:27-2:33" {
		t.Fatalf("CapRanges = %v", r.CapRanges)
	}
}

func TestParseNameAndOrder(t *testing.T) {
	p, diags := Parse([]byte("name = \"ops\"\npath \"b\" { capabilities = [\"read\"] }\npath \"a\" { capabilities = [\"read\"] }\npath \"b\" { capabilities = [\"list\"] }\n"), "p.hcl")
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if p.Name != "ops" {
		t.Errorf("name = %q", p.Name)
	}
	var paths []string
	for _, r := range p.Rules {
		paths = append(paths, r.Path)
	}
	if !slices.Equal(paths, []string{"b", "a", "b"}) {
		t.Errorf("order = %v", paths)
	}
	p, _ = Parse([]byte("path \"a\" {}\n"), "p.hcl")
	if p.Name != "" {
		t.Errorf("name without attribute = %q", p.Name)
	}
}

func TestParseConditions(t *testing.T) {
	p := mustParse(t, "x", `path "a" {
  capabilities = ["update"]
  required_parameters = ["ttl"]
  max_wrapping_ttl = "5m"
  control_group {
    factor "f" {
      identity {
        group_names = ["g"]
        approvals = 1
      }
    }
  }
}
path "b" {
  capabilities = ["read"]
  comment = "comment is not a condition"
}
`)
	if got := p.Rules[0].Conditions; !slices.Equal(got, []string{"required_parameters", "max_wrapping_ttl", "control_group"}) {
		t.Errorf("conditions = %v", got)
	}
	if got := p.Rules[1].Conditions; got != nil {
		t.Errorf("conditions = %v", got)
	}
}

func TestParseLabelPath(t *testing.T) {
	cases := []struct{ src, path string }{
		{`path "/secret/foo" {}`, "/secret/foo"},
		{`path "secret/*/foo" {}`, "secret/*/foo"},
		{`path "sys/\u0041" {}`, "sys/A"},
		{`path "" {}`, ""},
		{`{"path": {"/x/": {}}}`, "/x/"},
	}
	for _, tc := range cases {
		p, diags := Parse([]byte(tc.src), "p.hcl")
		if diags.HasErrors() || len(p.Rules) != 1 || p.Rules[0].Path != tc.path {
			t.Errorf("%s: rules=%v diags=%s", tc.src, p.Rules, diags.Error())
		}
	}
}

func TestParseEquivalentJSON(t *testing.T) {
	hclSrc := "path \"secret/*\" {\n  capabilities = [\"read\", \"list\"]\n}\npath \"auth/token/lookup-self\" {\n  policy = \"read\"\n}\n"
	jsonSrc := `{"path": [{"secret/*": {"capabilities": ["read", "list"]}}, {"auth/token/lookup-self": {"policy": "read"}}]}`
	a := mustParse(t, "a", hclSrc)
	b := mustParse(t, "b", jsonSrc)
	if len(a.Rules) != len(b.Rules) {
		t.Fatalf("%d vs %d rules", len(a.Rules), len(b.Rules))
	}
	for i := range a.Rules {
		if a.Rules[i].Path != b.Rules[i].Path || !slices.Equal(a.Rules[i].Capabilities, b.Rules[i].Capabilities) {
			t.Errorf("rule %d: %q %v vs %q %v", i, a.Rules[i].Path, a.Rules[i].Capabilities, b.Rules[i].Path, b.Rules[i].Capabilities)
		}
	}
	if got := rng(b.Rules[0].PathRange); got != "1:12-1:22" {
		t.Errorf("json PathRange = %s", got)
	}
	if len(b.Rules[0].CapRanges) != 2 || rng(b.Rules[0].CapRanges[1]) != "1:50-1:56" {
		t.Errorf("json CapRanges = %v", b.Rules[0].CapRanges)
	}
}
