package live_test

import (
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/checks"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// Findings about a server token doctor read from an agent config point
// at the token in that file; without one they are about the live token.
func TestServerTokenFindingsPointAtTheFile(t *testing.T) {
	at := hcl.Range{Filename: "server.hcl", Start: hcl.Pos{Line: 7, Column: 13, Byte: 70}, End: hcl.Pos{Line: 7, Column: 20, Byte: 77}}
	for _, from := range []hcl.Range{at, {}} {
		tok := &world.TokenInfo{Policies: []string{"root"}, Renewable: false}
		w := &world.World{Live: &world.Live{Vault: &world.VaultLive{
			ServerToken: tok, ServerTokenAt: from,
			ServerCapabilities: map[string][]string{"auth/token/lookup-self": {"deny"}},
		}}}
		res := rules.Run(w, checks.All())
		seen := map[string]bool{}
		for _, f := range res.Findings {
			switch f.Rule.ID {
			case "NV612", "NV613", "NV614":
				seen[f.Rule.ID] = true
				if f.Range != from {
					t.Errorf("%s: range %v, want %v", f.Rule.ID, f.Range, from)
				}
				if f.Object.Name == "" {
					t.Errorf("%s: lost its object", f.Rule.ID)
				}
			}
		}
		if !seen["NV614"] || !seen["NV612"] {
			t.Errorf("want NV612 and NV614, got %v", seen)
		}
	}
}
