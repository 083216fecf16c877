package jobspec

import (
	"fmt"

	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// TemplateSecretWithoutVault reports templates that call Vault in a task
// no vault block covers.
var TemplateSecretWithoutVault rules.Rule = templateSecretWithoutVault{}

type templateSecretWithoutVault struct{}

func (templateSecretWithoutVault) Meta() *rules.Meta { return &templateSecretWithoutVaultMeta }

var templateSecretWithoutVaultMeta = rules.Meta{
	ID: "NV401", Name: "template-secret-without-vault", Severity: rules.Error,
	Title: "a template reads Vault but no vault block covers its task",
	Needs: []world.Kind{world.KindJobspec},
	Doc: rules.Doc{
		Why: "Nomad gives a task a Vault token only when a vault block covers it (at task, group or job level). Without one, consul-template calls Vault " +
			"with no token, the call fails, and the template never renders: the task waits in pending with the event `Template: Missing: vault.read(<path>)`, " +
			"since Nomad clients retry Vault reads forever by default. Nothing at submission time warns about it.",
		Example: "task \"web\" {\n  template {\n    data        = \"{{ with secret \\\"kv/data/web\\\" }}{{ .Data.data.key }}{{ end }}\"\n    destination = \"secrets/key\"\n  }\n}",
		Fix: "Add a vault block to the task (`vault {}` with workload identity; the legacy token flow of Nomad 1.9 and earlier also needs " +
			"`policies` that grant the paths the template reads).",
	},
}

func (templateSecretWithoutVault) Check(p *rules.Pass) {
	for _, job := range p.World.Jobs {
		for _, g := range job.Groups {
			for _, t := range g.Tasks {
				if job.EffectiveVault(g, t) != nil {
					continue
				}
				for _, tpl := range t.Templates {
					calls, ok := vaultCalls(tpl)
					if !ok || len(calls) == 0 {
						continue
					}
					first := calls[0]
					f := rules.Finding{
						Message: fmt.Sprintf("a template of %s calls Vault (%s %q) but no vault block covers the task: it gets no Vault token and the template never renders (Template: %s)",
							taskOf(job, t), first.Func, callPath(first), missingEvent(first)),
						Range:  callRange(job, tpl, first),
						Object: job.Ref,
					}
					for _, a := range calls {
						f.Evidence = append(f.Evidence, "the template calls "+describeCall(a))
					}
					f.Evidence = append(f.Evidence, "no vault block at task, group or job level")
					if tpl.Range.Filename != "" && tpl.Range != f.Range {
						f.Related = []rules.Related{{Message: "template block", Range: tpl.Range}}
					}
					fix := rules.Fix{Description: fmt.Sprintf("Add vault {} to task %s", t.Name.V)}
					if legacyOnly(p.World) {
						fix.Description += " (the legacy token flow also needs vault.policies that grant what the template reads)"
					}
					if e, ok := insertInBlock(job.File, t.Range, "task", []string{"vault {}", ""}); ok {
						fix.Edits = append(fix.Edits, e)
					}
					f.Fixes = []rules.Fix{fix}
					p.Report(f)
				}
			}
		}
	}
}

// legacyOnly reports whether the setup authenticates tasks with the legacy
// token flow only: no default_identity anywhere, and a token role or
// legacy server keys.
func legacyOnly(w *world.World) bool {
	return world.Derived(w, legacyOnlyKey, findLegacyOnly)
}

var legacyOnlyKey = world.NewDerivedKey("whether tasks use the legacy token flow only")

func findLegacyOnly(w *world.World) bool {
	for _, a := range w.Agents {
		for _, v := range a.Vaults {
			if v.DefaultIdentity != nil {
				return false
			}
		}
	}
	return legacyHints(w) != ""
}

// legacyHints says what in the world sets up the legacy token flow (a
// server token, legacy keys, a token role), or "".
func legacyHints(w *world.World) string {
	for _, a := range w.Agents {
		for _, v := range a.Vaults {
			switch {
			case v.Token.Set:
				return "the agent config sets the server's Vault token"
			case v.AllowUnauthenticated.Set:
				return "the agent config sets allow_unauthenticated"
			case v.TaskTokenTTL.Set:
				return "the agent config sets task_token_ttl"
			}
		}
	}
	if lr, ok := w.LegacyTokenRole(); ok {
		return "token role " + lr.Name + " is given"
	}
	return ""
}
