package jobspec

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/access"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/rules/edits"
	"github.com/nvlint/nvlint/templates"
	"github.com/nvlint/nvlint/world"
)

// SecretEngineMismatch reports vault secret blocks whose engine is not
// the KV version of the mount they read.
var SecretEngineMismatch rules.Rule = secretEngineMismatch{}

type secretEngineMismatch struct{}

func (secretEngineMismatch) Meta() *rules.Meta { return &secretEngineMismatchMeta }

var secretEngineMismatchMeta = rules.Meta{
	ID: "NV409", Name: "secret-engine-mismatch", Severity: rules.Error,
	Title: "a vault secret block's engine is not its mount's KV version",
	Needs: []world.Kind{world.KindJobspec},
	Doc: rules.Doc{
		Why: "Nomad 1.11 reads a vault `secret` block with consul-template, which finds a KV version 2 mount by itself and reads its data/ path, " +
			"and then takes the secret's keys from `.Data` for `engine = \"kv\"` or from `.Data.data` for `engine = \"kv_v2\"` " +
			"(client/allocrunner/taskrunner/secrets/vault_provider.go, BuildTemplate, Nomad 1.11.0 to 2.0.5). " +
			"The default is `kv`, whatever the secret block's documentation said for a while (it named `kv_v2`). " +
			"On a KV version 2 mount, `kv` gives the keys `data` and `metadata` instead of the secret's; on any other mount, `kv_v2` gives no key at all. " +
			"Either way the read succeeds, the task starts, and every `${secret.NAME.KEY}` stays literal text. " +
			"The mount's version is taken where the inputs say it: Vault's mount table (doctor), a Terraform vault_mount or " +
			"vault_kv_secret_backend_v2, the templates' own reads, or the policies' data/ and metadata/ paths; otherwise the rule is silent.",
		Example: "secret \"db\" {\n  provider = \"vault\"\n  path     = \"secret/db\"   # secret/ is KV version 2\n}",
		Fix:     "Set `config { engine = \"kv_v2\" }` for a KV version 2 mount; leave engine unset (or \"kv\") for KV version 1.",
	},
}

func (secretEngineMismatch) Check(p *rules.Pass) {
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
					checkEngine(p, job, g, t, s)
				}
			}
		}
	}
}

func checkEngine(p *rules.Pass, job *world.Job, g *world.Group, t *world.Task, s *world.Secret) {
	a, ok := access.SecretCall(s)
	if !ok || a.Dynamic || (s.Engine.Set && !s.Engine.Known) {
		return
	}
	var place world.Place
	if v := job.EffectiveVault(g, t); v != nil {
		place = access.PlaceFor(p.World, v)
	}
	kv := access.KVIn(p.World, place, templates.KVv2Path(a.Path, "", a.Op))
	if kv.Version == access.KVUnknown || (kv.Version == access.KVV2) == s.KVv2() {
		return
	}
	engine, want := "kv", "kv_v2"
	if s.Engine.Known {
		engine = s.Engine.V
	}
	got := "the keys data and metadata instead of the secret's keys"
	if kv.Version != access.KVV2 {
		engine, want, got = "kv_v2", "kv", "no key at all (it reads .Data.data)"
	}
	at := s.Engine.Range
	if !s.Engine.Set || at.Filename == "" {
		at = s.Range
	}
	f := rules.Finding{
		Message: fmt.Sprintf("secret block %s of %s reads %s with engine %q, but mount %s is %s: Nomad gives the task %s, so every ${secret.%s.KEY} stays literal; set engine = %q",
			s.Name.V, taskOf(job, t), a.Path, engine, kv.Mount, kvName(kv.Version), got, s.Name.V, want),
		Range:  at,
		Object: job.Ref,
		Evidence: []string{
			kv.Why,
			"Nomad 1.11 secrets/vault_provider.go ranges over .Data.data for engine \"kv_v2\" and over .Data for any other engine, \"kv\" when unset",
		},
	}
	fix := rules.Fix{Description: fmt.Sprintf("Set engine = %q in secret block %s", want, s.Name.V)}
	switch {
	case s.Engine.Set && s.Engine.Range.Filename != "":
		fix.Edits = []rules.TextEdit{edits.Replace(s.Engine.Range, edits.LiteralIn(s.Engine.Range.Filename, want))}
	case want == "kv_v2" && s.ConfigRange == (hcl.Range{}):
		if e, ok := insertInBlock(job.File, s.Range, "secret", []string{"config {", "  engine = \"kv_v2\"", "}"}); ok {
			fix.Edits = []rules.TextEdit{e}
		}
	}
	f.Fixes = []rules.Fix{fix}
	p.Report(f)
}

func kvName(v int) string {
	if v == access.KVV2 {
		return "KV version 2"
	}
	return "not KV version 2"
}
