package snapshot

import (
	"testing"

	"github.com/nvlint/nvlint/world"
)

// TestOverlayClusters: a file's object replaces the live object of its
// name in its Vault cluster when the file says which, in every cluster
// otherwise.
func TestOverlayClusters(t *testing.T) {
	role := func(origin string, cluster world.Str) *world.JWTRole {
		return &world.JWTRole{Meta: world.Meta{Ref: world.ObjectRef{Kind: world.KindJWTRole, Name: "r", Origin: origin}, Cluster: cluster}}
	}
	in := func(c string) world.Str { return world.Str{V: c, Set: true, Known: true} }
	live := &world.World{JWTRoles: []*world.JWTRole{role("vault:default", in("default")), role("vault[payments]:payments", in("payments"))}}
	for _, c := range []struct {
		file world.Str
		want []string
	}{
		{in("payments"), []string{"file", "vault:default"}},
		{world.Str{}, []string{"file"}},
	} {
		w := Overlay(&world.World{JWTRoles: []*world.JWTRole{role("file", c.file)}}, live)
		var got []string
		for _, r := range w.JWTRoles {
			got = append(got, r.Ref.Origin)
		}
		if len(got) != len(c.want) || got[0] != c.want[0] || len(got) > 1 && got[1] != c.want[1] {
			t.Errorf("file in cluster %q: roles %q, want %q", c.file.V, got, c.want)
		}
	}
}
