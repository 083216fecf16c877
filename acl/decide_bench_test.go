package acl

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkDecide compares Evaluate, which explains a decision, with
// Allows, which only makes it, on a token with a dozen policies of
// glob and "+" rules, for an allowed and a denied read:
//
//	go test ./acl -run '^$' -bench Decide
func BenchmarkDecide(b *testing.B) {
	var set []*Policy
	for i := range 12 {
		var src strings.Builder
		for j := range 8 {
			src.WriteString(rule(fmt.Sprintf("kv/data/team%d/app%d/*", i, j), "read"))
			src.WriteString(rule(fmt.Sprintf("database/creds/+/role%d-%d", i, j), "read"))
		}
		p, diags := Parse([]byte(src.String()), "p.hcl")
		if p == nil || diags.HasErrors() {
			b.Fatal(diags)
		}
		p.Name = fmt.Sprintf("p%d", i)
		set = append(set, p)
	}
	acl := Options{}.Prepare(set, nil)
	for _, tc := range []struct{ name, path string }{
		{"allowed", "kv/data/team7/app3/config"},
		{"denied", "kv/data/team7/other/config"},
	} {
		b.Run("Evaluate/"+tc.name, func(b *testing.B) {
			for range b.N {
				acl.Evaluate(tc.path, OpRead)
			}
		})
		b.Run("Allows/"+tc.name, func(b *testing.B) {
			for range b.N {
				acl.Allows(tc.path, OpRead)
			}
		})
	}
}
