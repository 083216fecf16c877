package legacy

import (
	"fmt"
	"strconv"

	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/rules/edits"
	"github.com/nvlint/nvlint/world"
)

// nomadTokenRoles are the token roles Nomad uses: those named like the
// resolved legacy role when the world has it, else every token role given.
func nomadTokenRoles(w *world.World) []*world.TokenRole {
	lr, ok := w.LegacyTokenRole()
	if !ok || lr.Role == nil {
		return w.TokenRoles
	}
	var out []*world.TokenRole
	for _, r := range w.TokenRoles {
		if r.Ref.Name == lr.Name {
			out = append(out, r)
		}
	}
	return out
}

// setValue fixes a role parameter: replace the value where it is written,
// or add the key when it is absent.
func setValue(r *world.TokenRole, v world.Value[int64], key, value string) rules.TextEdit {
	if v.Set {
		return edits.Replace(v.Range, value)
	}
	return edits.InsertKey(&r.Meta, key, value)
}

// roleWriteCommand writes the role again: its file, or, for a live role,
// the parameters to change (key=value words); Vault keeps the others.
func roleWriteCommand(r *world.TokenRole, args ...string) rules.Command {
	path := "auth/token/roles/" + r.Ref.Name
	if r.File != nil {
		return rules.Cmd("vault", "write", path, "@"+r.File.Path)
	}
	return rules.Cmd(append([]string{"vault", "write", path}, args...)...)
}

func roleFix(r *world.TokenRole, desc string, e rules.TextEdit, args ...string) []rules.Fix {
	f := rules.Fix{Description: desc, Commands: []rules.Command{roleWriteCommand(r, args...)}}
	if r.File != nil {
		f.Edits = []rules.TextEdit{e}
	}
	return []rules.Fix{f}
}

// RoleNotRenewable: Nomad requires renewable tokens.
var RoleNotRenewable rules.Rule = roleNotRenewable{}

type roleNotRenewable struct{}

func (roleNotRenewable) Meta() *rules.Meta { return &roleNotRenewableMeta }

var roleNotRenewableMeta = rules.Meta{
	ID: "NV111", Name: "token-role-not-renewable", Severity: rules.Error,
	Title: "the token role makes tokens that cannot be renewed",
	Needs: []world.Kind{world.KindTokenRole},
	Doc: rules.Doc{
		Why:     "Nomad (1.9 and earlier) refuses a role with renewable = false (`Role must allow tokens to be renewed`) and creates no task tokens; tasks then fail to start." + legacyScope,
		Example: "{\n  \"name\": \"nomad-cluster\",\n  \"renewable\": false\n}",
		Fix:     "Set \"renewable\": true (Vault's default) and rewrite the role with `vault write auth/token/roles/nomad-cluster @nomad-cluster-role.json`.",
	},
}

func (roleNotRenewable) Check(p *rules.Pass) {
	if legacyFlowGone(p) {
		return
	}
	for _, r := range nomadTokenRoles(p.World) {
		if r.Renewable.IsKnown() && !r.Renewable.V {
			p.Report(rules.Finding{
				Message:  fmt.Sprintf("token role %s sets renewable = false; Nomad refuses it: Role must allow tokens to be renewed", r.Ref.Name),
				Range:    r.Renewable.Range,
				Object:   r.Ref,
				Evidence: []string{"renewable: false"},
				Fixes:    roleFix(r, "Set renewable to true", edits.Replace(r.Renewable.Range, "true"), "renewable=true"),
			})
		}
	}
}

// RoleExplicitMaxTTL: task tokens must be periodic, without a hard cap.
var RoleExplicitMaxTTL rules.Rule = roleExplicitMaxTTL{}

type roleExplicitMaxTTL struct{}

func (roleExplicitMaxTTL) Meta() *rules.Meta { return &roleExplicitMaxTTLMeta }

var roleExplicitMaxTTLMeta = rules.Meta{
	ID: "NV112", Name: "token-role-explicit-max-ttl", Severity: rules.Error,
	Title: "the token role caps token lifetime with an explicit max TTL",
	Needs: []world.Kind{world.KindTokenRole},
	Doc: rules.Doc{
		Why: "Nomad (1.9 and earlier) refuses a role whose explicit_max_ttl or token_explicit_max_ttl is not 0 (`Role can not use an explicit max ttl. Token must be periodic.`): " +
			"task tokens must be renewable for as long as the task runs." + legacyScope,
		Example: "{\n  \"name\": \"nomad-cluster\",\n  \"token_explicit_max_ttl\": 3600\n}",
		Fix:     "Set explicit_max_ttl and token_explicit_max_ttl to 0 and use a period instead.",
	},
}

func (roleExplicitMaxTTL) Check(p *rules.Pass) {
	if legacyFlowGone(p) {
		return
	}
	for _, r := range nomadTokenRoles(p.World) {
		for _, f := range []struct {
			key string
			v   world.Seconds
		}{{"explicit_max_ttl", r.ExplicitMaxTTL}, {"token_explicit_max_ttl", r.TokenExplicitMaxTTL}} {
			if f.v.IsKnown() && f.v.V != 0 {
				p.Report(rules.Finding{
					Message:  fmt.Sprintf("token role %s sets %s = %ds; Nomad refuses it: Role can not use an explicit max ttl. Token must be periodic.", r.Ref.Name, f.key, f.v.V),
					Range:    f.v.Range,
					Object:   r.Ref,
					Evidence: []string{fmt.Sprintf("%s: %d", f.key, f.v.V)},
					Fixes:    roleFix(r, "Set "+f.key+" to 0", edits.Replace(f.v.Range, "0"), f.key+"=0"),
				})
			}
		}
	}
}

// RoleNotPeriodic: task tokens must be periodic.
var RoleNotPeriodic rules.Rule = roleNotPeriodic{}

type roleNotPeriodic struct{}

func (roleNotPeriodic) Meta() *rules.Meta { return &roleNotPeriodicMeta }

var roleNotPeriodicMeta = rules.Meta{
	ID: "NV113", Name: "token-role-not-periodic", Severity: rules.Error,
	Title: "the token role does not make periodic tokens",
	Needs: []world.Kind{world.KindTokenRole},
	Doc: rules.Doc{
		Why:     "Nomad (1.9 and earlier) refuses a role with neither period nor token_period (`Role must have a non-zero period to make tokens periodic.`)." + legacyScope,
		Example: "{\n  \"name\": \"nomad-cluster\",\n  \"renewable\": true\n}",
		Fix:     "Set \"token_period\": 259200 (72h, as the Nomad docs suggest) or \"period\".",
	},
}

func (roleNotPeriodic) Check(p *rules.Pass) {
	if legacyFlowGone(p) {
		return
	}
	for _, r := range nomadTokenRoles(p.World) {
		if (r.Period.Set && !r.Period.Known) || (r.TokenPeriod.Set && !r.TokenPeriod.Known) {
			continue
		}
		if r.Period.V > 0 || r.TokenPeriod.V > 0 {
			continue
		}
		f := rules.Finding{
			Message:  fmt.Sprintf("token role %s has no period; Nomad refuses it: Role must have a non-zero period to make tokens periodic.", r.Ref.Name),
			Range:    r.Range,
			Object:   r.Ref,
			Evidence: []string{fmt.Sprintf("period: %d, token_period: %d", r.Period.V, r.TokenPeriod.V)},
		}
		v, key := r.TokenPeriod, "token_period"
		if r.Period.Set {
			v, key = r.Period, "period"
			f.Range = r.Period.Range
		} else if r.TokenPeriod.Set {
			f.Range = r.TokenPeriod.Range
		}
		f.Fixes = roleFix(r, "Set "+key+" to 72h", setValue(r, v, key, "259200"), key+"=72h")
		p.Report(f)
	}
}

// RoleNotOrphan: recommended by the Nomad docs.
var RoleNotOrphan rules.Rule = roleNotOrphan{}

type roleNotOrphan struct{}

func (roleNotOrphan) Meta() *rules.Meta { return &roleNotOrphanMeta }

var roleNotOrphanMeta = rules.Meta{
	ID: "NV114", Name: "token-role-not-orphan", Severity: rules.Warning,
	Title: "task tokens are children of the Nomad server's token",
	Needs: []world.Kind{world.KindTokenRole},
	Doc: rules.Doc{
		Why: "With orphan = false every task token is a child of the Nomad server's token: when that token expires or is revoked (a server rebuilt, a token rotated), " +
			"Vault revokes every running task's token and its leases. Nomad does not enforce the setting; its docs recommend orphan = true." + legacyScope,
		Example: "{\n  \"name\": \"nomad-cluster\",\n  \"orphan\": false\n}",
		Fix:     "Set \"orphan\": true.",
	},
}

func (roleNotOrphan) Check(p *rules.Pass) {
	if legacyFlowGone(p) {
		return
	}
	for _, r := range nomadTokenRoles(p.World) {
		if r.Orphan.Set && (!r.Orphan.Known || r.Orphan.V) {
			continue
		}
		f := rules.Finding{
			Message:  fmt.Sprintf("token role %s makes task tokens children of the server token; they are all revoked when it is: set orphan = true", r.Ref.Name),
			Range:    r.Range,
			Object:   r.Ref,
			Evidence: []string{"orphan: " + strconv.FormatBool(r.Orphan.V)},
		}
		var e rules.TextEdit
		if r.Orphan.Set {
			f.Range = r.Orphan.Range
			e = edits.Replace(r.Orphan.Range, "true")
		} else if r.File != nil {
			e = edits.InsertKey(&r.Meta, "orphan", "true")
		}
		f.Fixes = roleFix(r, "Set orphan to true", e, "orphan=true")
		p.Report(f)
	}
}
