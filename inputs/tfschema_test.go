package inputs

import (
	"strings"
	"testing"
)

// TestUnknownArguments: an argument the provider does not take is an
// error at its own name, with the closest valid one; the argument it
// was meant to be is unknown rather than absent.
func TestUnknownArguments(t *testing.T) {
	dir := writeFiles(t, map[string]string{"main.tf": `
resource "vault_jwt_auth_backend" "nomad" {
  path     = "jwt-nomad"
  jwks_url = "https://nomad.example.com/.well-known/jwks.json"
  tune {
    default_lease_ttl = "1h"
  }
  lifecycle {
    prevent_destroy = true
  }
  namespace = "admin"
  local     = true
  default_rol = "x"
  tunes {
  }
}

resource "vault_jwt_auth_backend_role" "r" {
  for_each       = toset(["a"])
  backend        = vault_jwt_auth_backend.nomad.path
  role_name      = each.key
  token_peridod  = 3600
  period         = 60
  depends_on     = [vault_jwt_auth_backend.nomad]
  alias_metadata = {}
  frobnicate     = 1
}

resource "vault_token_auth_backend_role" "t" {
  role_name    = "nomad-cluster"
  token_period = 3600
}
`})
	w, _ := load(t, dir)
	var got []string
	for _, f := range w.Files {
		for _, d := range f.Diags {
			got = append(got, d.Subject.String()+" "+d.Summary+": "+d.Detail)
		}
	}
	want := []string{
		`main.tf:13,3-14 Unsupported argument: An argument named "default_rol" is not expected here. Did you mean "default_role"?`,
		`main.tf:14,3-8 Unsupported block type: Blocks of type "tunes" are not expected here. Did you mean "tune"?`,
		`main.tf:22,3-16 Unsupported argument: An argument named "token_peridod" is not expected here. Did you mean "token_period"?`,
		`main.tf:26,3-13 Unsupported argument: An argument named "frobnicate" is not expected here.`,
	}
	if len(got) != len(want) {
		t.Fatalf("diags:\n%s", strings.Join(got, "\n"))
	}
	for i := range want {
		if !containsSuffix(got, want[i]) {
			t.Errorf("missing %q in\n%s", want[i], strings.Join(got, "\n"))
		}
	}
	// default_role was meant: unknown, not absent.
	if dr := w.JWTConfigs[0].DefaultRole; !dr.Set || dr.Known {
		t.Errorf("default_role = %+v, want set and unknown", dr)
	}
	// token_peridod beside a legacy period: token_period, which was
	// meant, would win over period, so the period is unknown.
	if p := w.JWTRoles[0].TokenPeriod; !p.Set || p.Known {
		t.Errorf("token_period = %+v, want set and unknown", p)
	}
}

func containsSuffix(got []string, s string) bool {
	for _, g := range got {
		if strings.HasSuffix(g, s) {
			return true
		}
	}
	return false
}
