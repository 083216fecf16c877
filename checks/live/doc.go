// Package live holds the rules only running clusters can answer: the
// Nomad server's token as Vault sees it, health, JWKS, node fingerprints,
// migration readiness and the triage of failing allocations. They read
// World.Live, which doctor fills (or a snapshot replays), and are skipped
// when it is absent.
package live

import (
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// liveFinding is a finding about a live object.
func liveFinding(kind world.Kind, name, origin, msg string, evidence ...string) rules.Finding {
	return rules.Finding{Message: msg, Object: world.ObjectRef{Kind: kind, Name: name, Origin: origin}, Evidence: evidence}
}
