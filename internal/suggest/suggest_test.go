package suggest

import "testing"

func TestClosest(t *testing.T) {
	caps := []string{"create", "read", "update", "patch", "delete", "list", "sudo", "deny"}
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"reade", "read", true},
		{"Read", "read", true},
		{"lsit", "list", true},
		{"updat", "update", true},
		{"admin", "", false},
		{"rea", "read", true},
	} {
		got, ok := Closest(c.in, caps, 2)
		if got != c.want || ok != c.ok {
			t.Errorf("Closest(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// Case does not count in the distance either: a mistyped ID in lower
// case is as close to its rule as one in upper case.
func TestClosestIgnoresCase(t *testing.T) {
	ids := []string{"NV301", "NV302", "NV303", "unknown-vault-key"}
	for _, in := range []string{"NV3O2", "nv3o2", "nv302x"} {
		if got, ok := Closest(in, ids, 1); !ok || got != "NV302" {
			t.Errorf("Closest(%q) = %q, %v; want NV302", in, got, ok)
		}
	}
}
