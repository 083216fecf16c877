package live

import (
	"context"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/nvlint/nvlint/world"
)

// TestEveryRequestIsARead: every request the collector sends (here to the
// fake servers, whose routes cover every collector) is an entry of Reads,
// so the verdicts and --print-policy know of it. The real-server test in
// cli proves the printed policy is enough.
func TestEveryRequestIsARead(t *testing.T) {
	v, n := fakeVault(), fakeNomad()
	vs, ns := httptest.NewServer(v), httptest.NewServer(n)
	defer vs.Close()
	defer ns.Close()
	Collect(context.Background(), options(vs.URL, ns.URL))
	for side, f := range map[string]*fake{"vault": v, "nomad": n} {
		if len(f.seen) < 5 {
			t.Fatalf("%s saw only %v", side, f.seen)
		}
		for _, req := range f.seen {
			_, path, _ := strings.Cut(req, " ")
			if side == "vault" {
				path = strings.TrimPrefix(path, "/v1/")
				if path == "sys/capabilities-self" || path == "auth/token/lookup-self" {
					path += serverTokenSuffix
				}
			}
			if _, ok := ReadOf(side, path); !ok {
				t.Errorf("%s request %s is not in Reads", side, req)
			}
		}
	}
}

func TestAreasOf(t *testing.T) {
	cases := []struct {
		side, what string
		want       string
	}{
		{"vault", "sys/auth", world.AreaWorkloadIdentity},
		{"vault", "sys/policies/acl/nomad-server", world.AreaPolicies},
		{"vault", "auth/jwt-nomad/role/r1", world.AreaWorkloadIdentity},
		{"vault", "auth/token/roles/nomad-cluster", world.AreaLegacy},
		{"vault", "sys/capabilities-self auth/token/create/x" + serverTokenSuffix, world.AreaLegacy},
		{"vault", "auth/token/lookup-self" + serverTokenSuffix, world.AreaLegacy},
		{"nomad", "/v1/job/web?namespace=default", world.AreaJobs},
		{"nomad", "/v1/job/web/allocations?namespace=default", world.AreaJobs},
		{"nomad", "/v1/node/abc", world.AreaNomad},
		{"nomad", "/v1/agent/self", world.AreaAgentConfig},
		// Unknown: every area of the side, never none.
		{"vault", "http://127.0.0.1:8200", world.AreaPolicies},
		{"nomad", "somewhere", world.AreaJobs},
	}
	for _, c := range cases {
		got := AreasOf(c.side, c.what)
		found := false
		for _, a := range got {
			found = found || a == c.want
		}
		if !found {
			t.Errorf("AreasOf(%s, %s) = %v, want %s among them", c.side, c.what, got, c.want)
		}
	}
	if got := AreasOf("vault", "sys/internal/ui/mounts"); got != nil {
		t.Errorf("a fallback read leaves nothing unchecked, got %v", got)
	}
	// The lease forecasts' reads, on mounts at any depth, leave nothing
	// unchecked; the token roles stay the legacy flow's.
	for _, what := range []string{"database/roles/app", "team/db/roles/app", "sys/mounts/pki/tune", "sys/mounts/team/pki/tune"} {
		if r, ok := ReadOf("vault", what); !ok || len(r.Areas) != 0 {
			t.Errorf("ReadOf(vault, %s) = %+v, %t", what, r, ok)
		}
	}
	if r, ok := ReadOf("vault", "auth/token/roles/nomad-cluster"); !ok || r.Path != "auth/token/roles/+" {
		t.Errorf("token role read as %+v", r)
	}
	if r, ok := ReadOf("vault", "sys/mounts/auth/token/tune"); !ok || r.Path != "sys/mounts/auth/token/tune" {
		t.Errorf("token tune fallback read as %+v", r)
	}
	for _, what := range []string{"roles/app", "database/roles", "database/roles/app/x"} {
		if r, ok := ReadOf("vault", what); ok && strings.Contains(r.Path, "*") {
			t.Errorf("ReadOf(vault, %s) = %+v", what, r)
		}
	}
	// The doctor token's own lookup is not the server token's.
	if r, ok := ReadOf("vault", "auth/token/lookup-self"); ok {
		t.Errorf("doctor token lookup-self matched %+v", r)
	}
}

func TestPolicies(t *testing.T) {
	v, err := Policies("vault")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"path \"sys/auth\" {\n  capabilities = [\"read\"]\n}",
		"path \"sys/policies/acl\" {\n  capabilities = [\"list\"]\n}",
		"path \"auth/+/role/+\" {\n  capabilities = [\"read\"]\n}",
	} {
		if !strings.Contains(v, want) {
			t.Errorf("vault policy lacks %q:\n%s", want, v)
		}
	}
	for _, never := range []string{"update", "create", "delete", "sudo", "ui/mounts", "capabilities-self"} {
		if strings.Contains(v, never) {
			t.Errorf("vault policy has %q:\n%s", never, v)
		}
	}
	n, _ := Policies("nomad")
	for _, want := range []string{"agent {\n  policy = \"read\"\n}", "node {\n  policy = \"read\"\n}", "operator {\n  policy = \"read\"\n}", `capabilities = ["list-jobs", "read-job"]`} {
		if !strings.Contains(n, want) {
			t.Errorf("nomad policy lacks %q:\n%s", want, n)
		}
	}
	if strings.Contains(n, "write") {
		t.Errorf("nomad policy writes:\n%s", n)
	}
	if _, err := Policies("consul"); err == nil {
		t.Error("no error for an unknown side")
	}
}

// TestReasonNeverQuotesMarkup: however a page reaches an error, its
// markup is named, not pasted.
func TestReasonNeverQuotesMarkup(t *testing.T) {
	page := "<!DOCTYPE html><html><body><h1>Bad Gateway</h1></body></html>"
	for _, err := range []error{
		&vaultapi.ResponseError{StatusCode: 502, RawError: true, Errors: []string{page}},
		&statusError{code: 502, msg: excerpt([]byte(page))},
	} {
		r := reason(err, time.Second)
		if strings.Contains(r, "<h1>") || strings.Contains(r, "DOCTYPE") || !strings.Contains(r, "502") {
			t.Errorf("reason %q", r)
		}
	}
}

// TestReasonVaultErrorList: a real Vault wraps its messages in a list
// ("1 error occurred:\n\t* permission denied\n\n"); the reason is the
// message.
func TestReasonVaultErrorList(t *testing.T) {
	err := &vaultapi.ResponseError{StatusCode: 403, Errors: []string{"1 error occurred:\n\t* permission denied\n\n"}}
	if r := reason(err, time.Second); r != "403 permission denied" {
		t.Errorf("reason %q", r)
	}
	err = &vaultapi.ResponseError{StatusCode: 403, Errors: []string{"2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n"}}
	if r := reason(err, time.Second); r != "403 permission denied; invalid token" {
		t.Errorf("reason %q", r)
	}
}

// TestREADMEPolicies keeps the policies the README shows those
// --print-policy prints.
func TestREADMEPolicies(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for heading, policy := range map[string]string{"# Vault\n": VaultPolicy(), "# Nomad\n": NomadPolicy()} {
		_, body, ok := strings.Cut(string(readme), "```hcl\n"+heading)
		if !ok {
			t.Errorf("README shows no %q policy", heading)
			continue
		}
		body, _, _ = strings.Cut(body, "```")
		_, want, _ := strings.Cut(policy, "\n") // without its comment line
		if body != want {
			t.Errorf("README's %q policy differs from --print-policy's:\n%s\nwant:\n%s", heading, body, want)
		}
	}
}
