package reports

import (
	"fmt"
	"strings"

	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// Verdict is the one-line state of one area of the integration, the
// first thing doctor's report says.
type Verdict struct {
	Area     string         `json:"area"`
	Status   string         `json:"status"` // "ok", "at risk", "broken", "not checked"
	Severity rules.Severity `json:"-"`
	Detail   string         `json:"detail"`
	Findings int            `json:"findings"`
}

// areas maps rule IDs to the area they speak about, by prefix.
var areas = []struct {
	name     string
	prefixes []string
}{
	{"Vault", []string{"NV611", "NV651"}},
	{"Nomad", []string{"NV631", "NV641"}},
	{"Legacy token flow", []string{"NV1", "NV612", "NV613", "NV614", "NV615"}},
	{"Workload identity", []string{"NV2", "NV62", "NV632"}},
	{"Agent config", []string{"NV3"}},
	{"Jobs", []string{"NV4", "NV661"}},
	{"Policies", []string{"NV5"}},
}

func areaOf(f rules.Finding) string {
	if f.Rule.ID == "NV601" || f.Rule.ID == "NV602" {
		switch f.Object.Kind {
		case "vault":
			return "Vault"
		case "nomad":
			return "Nomad"
		}
	}
	for _, a := range areas {
		for _, p := range a.prefixes {
			if strings.HasPrefix(f.Rule.ID, p) {
				return a.name
			}
		}
	}
	return ""
}

// Verdicts summarises a live run per area. notChecked lists sides that
// were not contacted, as "Vault: why".
func Verdicts(w *world.World, fs []rules.Finding, notChecked []string) []Verdict {
	out := make([]Verdict, 0, len(areas))
	skipped := map[string]string{}
	for _, n := range notChecked {
		area, why, _ := strings.Cut(n, ": ")
		skipped[area] = why
	}
	// Areas read from a side that was not reached were not checked, even
	// though they have no finding.
	down := map[string]string{}
	for area, why := range skipped {
		down[area] = why
	}
	if w.Live != nil {
		for _, p := range w.Live.Problems {
			if p.Fatal {
				down[map[string]string{"vault": "Vault", "nomad": "Nomad"}[p.Area]] = "unreachable"
			}
		}
	}
	dependsOn := map[string]string{"Legacy token flow": "Vault", "Workload identity": "Vault", "Policies": "Vault", "Agent config": "Nomad", "Jobs": "Nomad"}
	for _, a := range areas {
		v := Verdict{Area: a.name, Status: "ok"}
		if why, ok := skipped[a.name]; ok {
			v.Status, v.Detail = "not checked", why
			out = append(out, v)
			continue
		}
		var first string
		for _, f := range fs {
			if areaOf(f) != a.name {
				continue
			}
			v.Findings++
			if f.Severity > v.Severity {
				v.Severity, first = f.Severity, f.Message
			}
		}
		switch v.Severity {
		case rules.Error:
			v.Status = "broken"
		case rules.Warning:
			v.Status = "at risk"
		}
		v.Detail = first
		if side, ok := dependsOn[a.name]; ok && v.Findings == 0 && down[side] != "" {
			v.Status, v.Detail = "not checked", side+" "+strings.TrimPrefix(down[side], "no address ")
			if down[side] != "unreachable" {
				v.Detail = side + " not checked"
			}
		}
		if v.Detail == "" {
			v.Detail = areaDetail(w, a.name)
		}
		out = append(out, v)
	}
	return out
}

// areaDetail says what was seen in an area with no findings.
func areaDetail(w *world.World, area string) string {
	l := w.Live
	switch area {
	case "Vault":
		if l != nil && l.Vault != nil && l.Vault.Health != nil {
			return fmt.Sprintf("Vault %s at %s, unsealed", l.Vault.Health.Version, l.Vault.Addr)
		}
	case "Nomad":
		if l != nil && l.Nomad != nil {
			return fmt.Sprintf("Nomad %s at %s, %d client(s)", l.Nomad.Version, l.Nomad.Addr, len(l.Nomad.Nodes))
		}
	case "Legacy token flow":
		if len(w.TokenRoles) == 0 && (l == nil || l.Vault == nil || l.Vault.ServerToken == nil) {
			return "not in use (no token role, no server token given)"
		}
	case "Workload identity":
		if len(w.JWTConfigs) == 0 {
			return "not in use (no JWT auth method)"
		}
		return fmt.Sprintf("%d JWT auth method(s), %d role(s)", len(w.JWTConfigs), len(w.JWTRoles))
	case "Agent config":
		return fmt.Sprintf("%d agent config(s) checked", len(w.Agents))
	case "Jobs":
		return fmt.Sprintf("%d job(s) checked", len(w.Jobs))
	case "Policies":
		return fmt.Sprintf("%d policies checked", len(w.Policies))
	}
	return ""
}
