package jobspec

import (
	"fmt"
	"sort"
	"strings"

	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// SecretReferenceUndefined reports ${secret.NAME.KEY} references to a
// secret block the task does not have.
var SecretReferenceUndefined rules.Rule = secretReferenceUndefined{}

type secretReferenceUndefined struct{}

func (secretReferenceUndefined) Meta() *rules.Meta { return &secretReferenceUndefinedMeta }

var secretReferenceUndefinedMeta = rules.Meta{
	ID: "NV410", Name: "secret-reference-undefined", Severity: rules.Error,
	Title: "${secret.NAME.KEY} names a secret block the task does not have",
	Needs: []world.Kind{world.KindJobspec},
	Doc: rules.Doc{
		Why: "Nomad 1.11 and later offer the keys of a task's `secret \"NAME\"` blocks as `${secret.NAME.KEY}` where the client interpolates: " +
			"the task's env values (client/taskenv/env.go, buildEnv, with the secrets the secrets hook set), its templates' source and destination, and its driver config. " +
			"jobspec2 leaves such a reference as text for the client, and the client leaves a name it does not know as it is: " +
			"with no secret block of that NAME in the task (its own, its group's or its job's), the task starts with the literal text `${secret.NAME.KEY}` " +
			"where it expects the secret. Blocks of every provider (vault, nomad, custom plugins) count.",
		Example: "task \"web\" {\n  secret \"db\" {\n    provider = \"vault\"\n    path     = \"kv/db\"\n  }\n  env {\n    PASSWORD = \"${secret.database.password}\"\n  }\n}",
		Fix:     "Name a secret block the task has, or add the secret block.",
	},
}

func (secretReferenceUndefined) Check(p *rules.Pass) {
	for _, job := range p.World.Jobs {
		for _, g := range job.Groups {
			for _, t := range g.Tasks {
				names := map[string]bool{}
				for _, s := range t.Secrets {
					names[s.Name.V] = true
				}
				for _, ref := range t.SecretRefs {
					if names[ref.Name] {
						continue
					}
					text := "secret." + ref.Name
					if ref.Key != "" {
						text += "." + ref.Key
					}
					f := rules.Finding{
						Message: fmt.Sprintf("%s of %s uses ${%s} but the task has no secret block %q: the task gets the literal text instead of the secret",
							ref.In, taskOf(job, t), text, ref.Name),
						Range:  ref.Range,
						Object: job.Ref,
					}
					if len(names) == 0 {
						f.Evidence = []string{"the task has no secret block, at task, group or job level"}
					} else {
						have := make([]string, 0, len(names))
						for n := range names {
							have = append(have, n)
						}
						sort.Strings(have)
						f.Evidence = []string{"the task's secret blocks are " + strings.Join(have, ", ")}
					}
					f.Fixes = []rules.Fix{{Description: fmt.Sprintf("Add a secret %q block to task %s, or name one it has", ref.Name, t.Name.V)}}
					p.Report(f)
				}
			}
		}
	}
}
