package jobspec

import (
	"fmt"

	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// SecretWithoutVault reports vault secret blocks in tasks no vault block
// covers.
var SecretWithoutVault rules.Rule = secretWithoutVault{}

type secretWithoutVault struct{}

func (secretWithoutVault) Meta() *rules.Meta { return &secretWithoutVaultMeta }

var secretWithoutVaultMeta = rules.Meta{
	ID: "NV407", Name: "secret-without-vault", Severity: rules.Error,
	Title: "a vault secret block is in a task no vault block covers",
	Needs: []world.Kind{world.KindJobspec},
	Doc: rules.Doc{
		Why: "Nomad 1.11 and later fetch a `secret` block with `provider = \"vault\"` before the task starts, by rendering it as a template that reads its path " +
			"with the task's Vault token (client/allocrunner/taskrunner/secrets_hook.go and secrets/vault_provider.go, Nomad 1.11.0 to 2.0.5). " +
			"Nomad gives a task a Vault token only when a vault block covers it (at task, group or job level); without one the read is made with no token, " +
			"fails, and the task waits in pending with `Template: Missing: vault.read(<path>)`, although the job has no template. " +
			"Blocks of the `nomad` provider (Nomad Variables) and of custom plugins need no vault block and are not reported.",
		Example: "task \"web\" {\n  secret \"db\" {\n    provider = \"vault\"\n    path     = \"kv/db\"\n  }\n}",
		Fix:     "Add a vault block to the task (`vault {}` with workload identity), or to its group or job.",
	},
}

func (secretWithoutVault) Check(p *rules.Pass) {
	for _, job := range p.World.Jobs {
		for _, g := range job.Groups {
			for _, t := range g.Tasks {
				if job.EffectiveVault(g, t) != nil {
					continue
				}
				for _, s := range t.Secrets {
					if !s.IsVault() {
						continue
					}
					f := rules.Finding{
						Message: fmt.Sprintf("secret block %s of %s reads Vault (path %q) but no vault block covers the task: it gets no Vault token and the task waits with Template: Missing: vault.read(%s)",
							s.Name.V, taskOf(job, t), s.Path.V, s.Path.V),
						Range:  s.Range,
						Object: job.Ref,
						Evidence: []string{
							fmt.Sprintf("secret %q (provider vault) is written at %s level", s.Name.V, s.Level),
							"no vault block at task, group or job level",
						},
					}
					fix := rules.Fix{Description: fmt.Sprintf("Add vault {} to task %s", t.Name.V)}
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
