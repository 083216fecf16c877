package identity

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nvlint/nvlint/access"
	"github.com/nvlint/nvlint/internal/suggest"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/rules/edits"
	"github.com/nvlint/nvlint/world"
)

// JWTConfigDefaultRoleMissing: default_role must name a role that exists.
var JWTConfigDefaultRoleMissing rules.Rule = jwtConfigDefaultRoleMissing{}

type jwtConfigDefaultRoleMissing struct{}

func (jwtConfigDefaultRoleMissing) Meta() *rules.Meta { return &jwtConfigDefaultRoleMissingMeta }

var jwtConfigDefaultRoleMissingMeta = rules.Meta{
	ID: "NV224", Name: "jwt-config-default-role-missing", Severity: rules.Error,
	Title: "the JWT auth config's default_role names no JWT role given",
	Needs: []world.Kind{world.KindJWTAuthConfig},
	Doc: rules.Doc{
		Why: "Nomad logs a task in with its job's vault.role, else the client's create_from_role, else no role at all, and Vault then uses the auth method's default_role. " +
			"When that role does not exist the login fails with `role \"nomad-workloads\" could not be found` and Nomad kills the task. " +
			"nvlint checks the name against the JWT roles given; with none given, or with a role it could not read (Terraform count, a for_each over what only Terraform knows), it cannot tell and stays silent (--verbose says so). " +
			"Doctor lists the roles of every JWT auth method: when Vault has none at all, the role is certainly missing. " +
			"A role file's name is a guess unless a name field, --name, names in .nvlint.hcl, or a Terraform role_name says it (nomad setup vault's own files are known): " +
			"when the default_role matches no name and some names are guesses, the finding is a warning that says what it assumed, with no edit.",
		Example: "{\n  \"jwks_url\": \"http://127.0.0.1:4646/.well-known/jwks.json\",\n  \"default_role\": \"nomad-workload\"\n}\n# role file: vault-role-nomad-workloads.json",
		Fix:     "Name the role that exists in default_role, or write the role: `vault write auth/jwt-nomad/role/NAME @role.json`.",
	},
}

func (jwtConfigDefaultRoleMissing) Check(p *rules.Pass) {
	w := p.World
	for _, c := range nomadConfigs(w) {
		dr := c.DefaultRole
		if !dr.IsKnown() || dr.V == "" {
			continue
		}
		// The role must be in the config's Vault cluster and namespace.
		look := w.LookupIn(world.KindJWTRole, c.Place(), dr.V)
		switch {
		case look.Found != nil:
			continue
		case look.Unseen != "":
			p.CannotDecide("JWT auth config %s names default_role %s, which may be %s", c.Ref.Name, dr.V, look.Unseen)
			continue
		case look.Count == 0 && w.JWTRoleAbsent(c.Place(), dr.V):
			// Doctor listed the mounts' roles, and there are none.
			p.Report(rules.Finding{
				Message: fmt.Sprintf("JWT auth config %s names default_role %q, but Vault has no JWT role at all; Nomad logins without a role fail with: %s",
					c.Ref.Name, dr.V, access.RoleNotFound(dr.V)),
				Range:  dr.Range,
				Object: c.Ref,
				Fixes:  []rules.Fix{{Description: fmt.Sprintf("Write JWT role %s on auth method %s, as nomad setup vault does", dr.V, c.Ref.Name)}},
			})
			continue
		case look.Count == 0:
			p.CannotDecide("JWT auth config %s names default_role %s but no JWT role was given", c.Ref.Name, dr.V)
			continue
		}
		var names, known []string
		for _, r := range w.JWTRoles {
			if !r.In(c.Place()) {
				continue
			}
			names = append(names, r.Ref.Name)
			if !r.Ref.Guessed() {
				known = append(known, r.Ref.Name)
			}
		}
		f := rules.Finding{
			Message:  fmt.Sprintf("JWT auth config %s names default_role %q, but no JWT role of that name is given; Nomad logins without a role fail with: role %q could not be found: name one of %s", c.Ref.Name, dr.V, strings.ToLower(dr.V), strings.Join(quoted(names), ", ")),
			Range:    dr.Range,
			Object:   c.Ref,
			Evidence: []string{"default_role: " + strconv.Quote(dr.V), "JWT roles given: " + strings.Join(names, ", ")},
		}
		write := rules.Fix{Description: fmt.Sprintf("Write JWT role %s: vault write auth/%s/role/%s @FILE.json", strings.ToLower(dr.V), mountName(c), strings.ToLower(dr.V))}
		if len(look.Guesses) > 0 {
			// The role may be given under a name nvlint guessed wrong:
			// say so, and what would settle it, rather than edit.
			f.Assumes = look.Assumed()
			f.Evidence = append(f.Evidence, look.Evidence()...)
			if note := look.ProbablyNote(strings.ToLower(dr.V)); note != "" {
				f.Message = fmt.Sprintf("JWT auth config %s names default_role %q; %s", c.Ref.Name, dr.V, note)
				f.Fixes = append(f.Fixes, rules.Fix{Description: look.ProbablyAdvice(strings.ToLower(dr.V))})
			} else {
				f.Message = fmt.Sprintf("JWT auth config %s names default_role %q, and no JWT role given has that name, though %s named by guesses from file names; if none is it, Nomad logins without a role fail with: role %q could not be found", c.Ref.Name, dr.V, guessedNames(look.Guesses), strings.ToLower(dr.V))
				var guessed []string
				for _, m := range look.Guesses {
					guessed = append(guessed, m.Ref.Name)
				}
				if best, ok := suggest.Closest(dr.V, append(guessed, known...), 3); ok {
					f.Fixes = append(f.Fixes, rules.Fix{Description: fmt.Sprintf("If role %s is the one meant, set default_role to %q; if its file holds another role, tell nvlint that role's name (--name FILE=NAME, or names in .nvlint.hcl)", best, best), Manual: true})
				}
			}
			f.Fixes = append(f.Fixes, write)
			p.Report(f)
			continue
		}
		best, ok := suggest.Closest(dr.V, known, 3)
		if !ok && len(known) == 1 {
			best, ok = known[0], true
		}
		if ok {
			f.Fixes = append(f.Fixes, configFix(c, fmt.Sprintf("Set default_role to %q", best), []string{"default_role=" + best}, edits.Replace(dr.Range, edits.LiteralIn(dr.Range.Filename, best))))
		}
		f.Fixes = append(f.Fixes, write)
		p.Report(f)
	}
}

// guessedNames lists objects named by guesses: "\"acl\" is" or
// "\"a\", \"b\" are".
func guessedNames(ms []world.Meta) string {
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = strconv.Quote(m.Ref.Name)
	}
	if len(names) == 1 {
		return names[0] + " is"
	}
	return strings.Join(names, ", ") + " are"
}

func mountName(c *world.JWTAuthConfig) string {
	if c.Mount != "" {
		return c.Mount
	}
	return "jwt-nomad"
}
