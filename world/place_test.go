package world

import "testing"

// TestLookupInPlace: a reference from a Vault cluster finds the object of
// that cluster, never another cluster's; an object whose cluster is not
// known (a plain file) fits any, after one declared there.
func TestLookupInPlace(t *testing.T) {
	known := func(s string) Str { return Str{V: s, Set: true, Known: true} }
	role := func(cluster Str, aud string) *JWTRole {
		return &JWTRole{Meta: Meta{Ref: ObjectRef{Kind: KindJWTRole, Name: "r"}, Cluster: cluster}, BoundAudiences: List{Items: []Str{known(aud)}, Set: true, Known: true}}
	}
	for _, memo := range []bool{false, true} {
		w := &World{JWTRoles: []*JWTRole{role(known("default"), "d"), role(known("payments"), "p")}}
		if memo {
			defer w.Memoize()()
		}
		for cluster, want := range map[string]string{"default": "d", "payments": "p"} {
			if r := w.JWTRoleIn(InCluster(cluster), "r"); r == nil || r.BoundAudiences.Items[0].V != want {
				t.Errorf("memo %v: role in %s = %+v, want aud %s", memo, cluster, r, want)
			}
		}
		if r := w.JWTRoleIn(InCluster("billing"), "r"); r != nil {
			t.Errorf("memo %v: a role of another cluster found for billing: %+v", memo, r)
		}
		if r := w.JWTRoleIn(Place{}, "r"); r == nil || r.BoundAudiences.Items[0].V != "d" {
			t.Errorf("memo %v: a reference from no known cluster takes the first, got %+v", memo, r)
		}
		if got := w.Clusters(); len(got) != 2 || got[0] != "default" || got[1] != "payments" {
			t.Errorf("memo %v: clusters %q", memo, got)
		}
		if got := w.LookupIn(KindJWTRole, InCluster("billing"), "r"); got.Found != nil || got.Count != 0 {
			t.Errorf("memo %v: LookupIn(billing) = %+v", memo, got)
		}
	}
	w := &World{JWTRoles: []*JWTRole{role(Str{}, "file"), role(known("payments"), "p")}}
	if r := w.JWTRoleIn(InCluster("payments"), "r"); r == nil || r.BoundAudiences.Items[0].V != "p" {
		t.Errorf("the role declared in payments comes before the file's: %+v", r)
	}
	if r := w.JWTRoleIn(InCluster("default"), "r"); r == nil || r.BoundAudiences.Items[0].V != "file" {
		t.Errorf("the file's role fits the default cluster: %+v", r)
	}
}
