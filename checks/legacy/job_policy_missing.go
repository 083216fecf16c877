package legacy

import (
	"fmt"

	"github.com/nvlint/nvlint/access"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// JobPolicyMissing: a job requests a policy the live Vault does not have.
var JobPolicyMissing rules.Rule = jobPolicyMissing{}

type jobPolicyMissing struct{}

func (jobPolicyMissing) Meta() *rules.Meta { return &jobPolicyMissingMeta }

var jobPolicyMissingMeta = rules.Meta{
	ID: "NV122", Name: "job-policy-missing", Severity: rules.Error,
	Title: "a job requests a Vault policy that does not exist",
	Needs: []world.Kind{world.KindJobspec, world.KindPolicy},
	Doc: rules.Doc{
		Why: "Vault creates a token with a policy that does not exist, with only the warning `Policy \"x\" does not exist`: the task starts, and " +
			"everything that policy was meant to grant is denied. This rule needs the live list of policies (nvlint doctor, or lint --snapshot), " +
			"since files alone rarely hold every policy." + legacyScope,
		Example: "vault {\n  policies = [\"acces-tables\"]   # the policy is access-tables\n}",
		Fix:     "Correct the policy name in the job, or write the policy to Vault (`vault policy write NAME FILE`).",
	},
}

func (jobPolicyMissing) Check(p *rules.Pass) {
	if legacyFlowGone(p) {
		return
	}
	w := p.World
	if w.Live == nil || w.Live.Vault == nil {
		p.CannotDecide("only the live list of policies says which exist")
		return
	}
	for _, wl := range access.Workloads(w) {
		job, v := wl.Job, wl.Vault
		if !v.Policies.Known {
			continue
		}
		for _, pol := range v.Policies.Items {
			if pol.V == "default" || pol.V == "root" || w.PolicyIn(access.PlaceFor(w, v), pol.V) != nil {
				continue
			}
			if why := w.Unseen(world.KindPolicy, pol.V); why != "" {
				p.CannotDecide("job %s requests policy %s, which may be %s", job.Ref.Name, pol.V, why)
				continue
			}
			p.Report(rules.Finding{
				Message:  fmt.Sprintf("job %s requests Vault policy %s, which does not exist in Vault: its tasks get none of the access it was meant to grant", job.Ref.Name, pol.V),
				Range:    pol.Range,
				Object:   job.Ref,
				Evidence: []string{fmt.Sprintf("Vault has %d policies; none is named %s", len(w.Policies), pol.V)},
			})
		}
	}
}
