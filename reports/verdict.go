package reports

import (
	"cmp"
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
	// Asked is false for an area of a side doctor was given no address
	// of: it is not checked, and that does not fail the run.
	Asked bool `json:"asked"`
}

// Verdict statuses.
const (
	StatusOK         = "ok"
	StatusAtRisk     = "at risk"
	StatusBroken     = "broken"
	StatusNotChecked = "not checked"
)

// areas maps rule IDs to the area they speak about, by prefix.
var areas = []struct {
	name     string
	side     string // the cluster the area is read from
	prefixes []string
}{
	{world.AreaVault, "vault", []string{"NV611", "NV651"}},
	{world.AreaNomad, "nomad", []string{"NV631", "NV641"}},
	{world.AreaLegacy, "vault", []string{"NV1", "NV612", "NV613", "NV614", "NV615"}},
	{world.AreaWorkloadIdentity, "vault", []string{"NV2", "NV62", "NV632", "NV633"}},
	{world.AreaAgentConfig, "nomad", []string{"NV3"}},
	{world.AreaJobs, "nomad", []string{"NV4", "NV661"}},
	{world.AreaPolicies, "vault", []string{"NV5"}},
}

func areaOf(f rules.Finding) string {
	switch f.Rule.ID {
	case "NV601":
		switch f.Object.Kind {
		case "vault":
			return world.AreaVault
		case "nomad":
			return world.AreaNomad
		}
	case "NV602":
		// A read that failed: the areas it leaves unchecked say so.
		return ""
	case "NV626":
		// What running tasks' templates render ends: the jobs' secrets,
		// not their logins.
		return world.AreaJobs
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

// Verdicts summarises a live run per area. An area is ok only when every
// read it rests on succeeded and no finding is about it; an area whose
// reads failed is not checked, with the first reason.
func Verdicts(w *world.World, fs []rules.Finding) []Verdict {
	out := make([]Verdict, 0, len(areas))
	l := w.Live
	if l == nil {
		l = &world.Live{}
	}
	unread := map[string][]world.Problem{}
	for _, p := range l.Problems {
		for _, a := range p.Areas {
			unread[a] = append(unread[a], p)
		}
	}
	for _, a := range areas {
		v := Verdict{Area: a.name, Status: StatusOK, Asked: true}
		if !asked(w, a.name, a.side) {
			v.Status, v.Asked, v.Detail = StatusNotChecked, false, notAsked(a.side)
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
		switch {
		case v.Severity == rules.Error:
			// What was read is broken, whatever else could not be read.
			v.Status, v.Detail = StatusBroken, first
		case len(unread[a.name]) > 0:
			v.Status, v.Detail = StatusNotChecked, unreadDetail(unread[a.name])
		case v.Severity == rules.Warning:
			v.Status, v.Detail = StatusAtRisk, first
		default:
			v.Detail = first
		}
		if v.Detail == "" {
			v.Detail = areaDetail(w, a.name)
		}
		out = append(out, v)
	}
	return out
}

// asked reports whether doctor was given the side an area is read from.
// Agent configs may come from files (--agent-config) without Nomad.
func asked(w *world.World, area, side string) bool {
	l := w.Live
	if l == nil {
		return false
	}
	switch {
	case side == "vault":
		return len(l.Vaults()) > 0
	case l.Nomad != nil:
		return true
	}
	if area == world.AreaAgentConfig {
		return len(w.Agents) > 0
	}
	return false
}

func notAsked(side string) string {
	if side == "vault" {
		return "Vault not asked for: no address (set VAULT_ADDR or --vault-addr)"
	}
	return "Nomad not asked for: no address (set NOMAD_ADDR or --nomad-addr)"
}

// maxDetail bounds a not-checked reason: one line on a terminal.
const maxDetail = 160

// unreadDetail says, in one line, why an area was not checked: the first
// failed read, and how many more there were.
func unreadDetail(ps []world.Problem) string {
	p := ps[0]
	for _, q := range ps {
		if q.Fatal { // the one that explains the rest
			p = q
			break
		}
	}
	var s string
	switch {
	case p.Fatal:
		name := map[string]string{"vault": "Vault", "nomad": "Nomad"}[p.Area]
		if p.Cluster != "" {
			name += " cluster " + p.Cluster
		}
		s = fmt.Sprintf("%s not reached: %s", cmp.Or(name, p.Area), p.Reason)
	case p.What == "token":
		s = p.Reason
	case isDenied(p.Reason):
		s = "permission denied on " + p.What + deniedHint(p.Reason)
	default:
		s = p.What + ": " + p.Reason
	}
	if p.Region != "" {
		s = "region " + p.Region + ": " + s
	}
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxDetail {
		s = s[:maxDetail] + "..."
	}
	if len(ps) > 1 {
		s += fmt.Sprintf(" (+%d more unread)", len(ps)-1)
	}
	return s
}

// isDenied reports whether a problem's reason is a 403 from Vault or Nomad.
func isDenied(reason string) bool {
	return strings.HasPrefix(strings.ToLower(reason), "403 permission denied")
}

// deniedHint is what follows "403 permission denied" in a reason (Vault's
// "invalid token", nvlint's "no token: ..."), in parentheses.
func deniedHint(reason string) string {
	rest := strings.TrimSpace(strings.TrimLeft(reason[len("403 permission denied"):], ";: "))
	switch {
	case rest == "":
		return ""
	case strings.HasPrefix(rest, "("):
		return " " + rest
	}
	return " (" + rest + ")"
}

// areaDetail says what was seen in an area with no findings.
func areaDetail(w *world.World, area string) string {
	l := w.Live
	switch area {
	case "Vault":
		var out []string
		for _, v := range l.Vaults() {
			if v.Health == nil {
				continue
			}
			s := fmt.Sprintf("Vault %s at %s, unsealed", v.Health.Version, v.Addr)
			if v.Cluster != "" {
				s = "cluster " + v.Cluster + ": " + s
			}
			out = append(out, s)
		}
		return strings.Join(out, "; ")
	case "Nomad":
		if l != nil && l.Nomad != nil {
			if len(l.Nomad.Regions) > 1 {
				return fmt.Sprintf("Nomad %s at %s, regions %s, %d client(s)", l.Nomad.Version, l.Nomad.Addr, strings.Join(l.Nomad.Regions, ", "), len(l.Nomad.Nodes))
			}
			return fmt.Sprintf("Nomad %s at %s, %d client(s)", l.Nomad.Version, l.Nomad.Addr, len(l.Nomad.Nodes))
		}
	case "Legacy token flow":
		if len(w.TokenRoles) == 0 && (l == nil || l.Vault == nil || l.Vault.ServerToken == nil) {
			return "not in use (no token role, no server token given)"
		}
		return fmt.Sprintf("%d token role(s) checked", len(w.TokenRoles))
	case "Workload identity":
		unconfigured := w.UnconfiguredJWTMounts()
		if len(w.JWTConfigs) == 0 && len(unconfigured) == 0 {
			return "not in use (no JWT auth method)"
		}
		var parts []string
		if len(w.JWTConfigs) > 0 {
			parts = append(parts, fmt.Sprintf("%d JWT auth method(s), %d role(s)", len(w.JWTConfigs), len(w.JWTRoles)))
		}
		if len(unconfigured) > 0 {
			parts = append(parts, unconfiguredDetail(l, unconfigured))
		}
		return strings.Join(parts, "; ")
	case "Agent config":
		return fmt.Sprintf("%d agent config(s) checked", len(w.Agents))
	case "Jobs":
		return fmt.Sprintf("%d job(s) checked", len(w.Jobs))
	case "Policies":
		return fmt.Sprintf("%d policies checked", len(w.Policies))
	}
	return ""
}

// unconfiguredDetail names the JWT auth methods mounted without a
// config. With no finding about them (NV633), no task logs in there,
// as far as the jobs read tell.
func unconfiguredDetail(l *world.Live, ms []world.AuthMount) string {
	var names, configs []string
	for _, m := range ms {
		name := m.Path
		if m.Namespace != "" && strings.Trim(m.Namespace, "/") != strings.Trim(l.Vault.Namespace, "/") {
			name += " (Vault namespace " + strings.Trim(m.Namespace, "/") + ")"
		}
		names = append(names, name)
		configs = append(configs, "auth/"+m.Path+"/config")
	}
	s := fmt.Sprintf("JWT auth method %s mounted but not configured (no %s): Vault refuses every login on it", strings.Join(names, ", "), strings.Join(configs, ", "))
	if len(ms) > 1 {
		s = fmt.Sprintf("JWT auth methods %s mounted but not configured (no %s): Vault refuses every login on them", strings.Join(names, ", "), strings.Join(configs, ", "))
	}
	if l.Nomad != nil {
		s += "; no job logs in there"
	}
	return s
}

// Unchecked names the areas asked for that could not be checked: a run
// with any is partial.
func Unchecked(vs []Verdict) []string {
	var out []string
	for _, v := range vs {
		if v.Asked && v.Status == StatusNotChecked {
			out = append(out, v.Area)
		}
	}
	return out
}
