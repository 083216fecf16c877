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
