package jobspec

import (
	"fmt"

	"github.com/nvlint/nvlint/access"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// SecretPathRefused reports vault secret blocks whose path Nomad refuses.
var SecretPathRefused rules.Rule = secretPathRefused{}

type secretPathRefused struct{}

func (secretPathRefused) Meta() *rules.Meta { return &secretPathRefusedMeta }

var secretPathRefusedMeta = rules.Meta{
	ID: "NV408", Name: "secret-path-refused", Severity: rules.Error,
	Title: "a vault secret block's path holds characters Nomad refuses",
	Needs: []world.Kind{world.KindJobspec},
	Doc: rules.Doc{
		Why: "Nomad puts a vault `secret` block's path into a template as it is, so it refuses a path that could change that template: " +
			"NewVaultProvider (client/allocrunner/taskrunner/secrets/vault_provider.go, Nomad 1.11.0 to 2.0.5) fails with " +
			"`secret path cannot contain template delimiters or parenthesis` when the path holds any of `( ) { }`. " +
			"The job is accepted, and the check runs on the client when the task starts, so every allocation fails. " +
			"A run-time variable in the path, such as `${NOMAD_JOB_ID}`, is such a path too: jobspec2 leaves it as text for the client, " +
			"and the client does not interpolate a secret's path.",
		Example: "secret \"db\" {\n  provider = \"vault\"\n  path     = \"kv/data/${NOMAD_NAMESPACE}/db\"\n}",
		Fix: "Write the path literally, or with an HCL input variable (`${var.namespace}`), which the jobspec parser fills in; " +
			"for a path that depends on the task, use a template block.",
	},
}

func (secretPathRefused) Check(p *rules.Pass) {
	// A job's or group's block is in each of its tasks: report it once.
	seen := map[*world.Secret]bool{}
	for _, job := range p.World.Jobs {
		for _, g := range job.Groups {
			for _, t := range g.Tasks {
				for _, s := range t.Secrets {
					if seen[s] {
						continue
					}
					seen[s] = true
					why := access.SecretPathRefused(s)
					if why == "" {
						continue
					}
					at := s.Path.Range
					if at.Filename == "" {
						at = s.Range
					}
					p.Report(rules.Finding{
						Message: fmt.Sprintf("Nomad refuses the path of secret block %s of %s: %s; the task fails to start with \"secret path cannot contain template delimiters or parenthesis\"",
							s.Name.V, taskOf(job, t), why),
						Range:  at,
						Object: job.Ref,
						Evidence: []string{
							"Nomad 1.11 secrets/vault_provider.go refuses a vault secret path holding any of ( ) { }",
						},
						Fixes: []rules.Fix{{Description: "Write the path without ( ) { }: literally or with an HCL input variable, or read it with a template block"}},
					})
				}
			}
		}
	}
}
