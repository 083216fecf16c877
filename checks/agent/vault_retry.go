package agent

import (
	"fmt"
	"math"
	"time"

	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// VaultRetryGivesUp: client template runners that stop retrying Vault
// sooner than Nomad's defaults, failing their tasks in a short outage.
var VaultRetryGivesUp rules.Rule = vaultRetryGivesUp{}

type vaultRetryGivesUp struct{}

func (vaultRetryGivesUp) Meta() *rules.Meta { return &vaultRetryGivesUpMeta }

var vaultRetryGivesUpMeta = rules.Meta{
	ID: "NV305", Name: "vault-retry-gives-up", Severity: rules.Warning,
	Title: "the client's template vault_retry gives up on Vault sooner than Nomad's default",
	Needs: []world.Kind{world.KindAgentConfig},
	Doc: rules.Doc{
		Why: "A client's template runner retries a failed Vault call as client { template { vault_retry } } says; once the attempts run out it gives up, " +
			"and Nomad kills the task with `Template failed: ...` whatever the template's change_mode (client/allocrunner/taskrunner/template/template.go). " +
			"The restarted task then waits for Vault in prestart: a Vault outage becomes an application outage (hashicorp/nomad#28366, #16656, #22224).\n" +
			"consul-template (config/retry.go) sleeps backoff x 2^n between attempts, capped at max_backoff, and attempts = 0 means no limit. " +
			"Nomad's default depends on the release (client/config/config.go at the tags): up to 1.9.6 an unset vault_retry retries without limit; " +
			"from 1.9.7 and 1.10.0 (nomad#25113) it is 12 attempts, backoff 250ms, max_backoff 1m, about 5 minutes. " +
			"A vault_retry that gives up sooner than the targeted release's default (fewer attempts, a smaller backoff or max_backoff) turns a shorter outage into failed tasks, " +
			"and is reported with the time it gives up after. The release is nomad_version in .nvlint.hcl, or the live servers' in doctor; when it is not known, " +
			"the 1.9.7+ default is assumed, which reports fewer. The default itself is not reported, though from 1.9.7 it too fails tasks in an outage longer than 5 minutes.",
		Example: "client {\n  template {\n    vault_retry {\n      attempts = 3\n    }\n  }\n}",
		Fix:     "Set attempts = 0 so the template runners wait for Vault as long as it is away, keeping the secrets already rendered; or raise attempts and max_backoff to outlast the outages you plan for.",
	},
}

// Nomad's defaults for client template vault_retry.
const (
	defaultRetryAttempts   = 12
	defaultRetryBackoff    = 250 * time.Millisecond
	defaultRetryMaxBackoff = time.Minute
)

func (vaultRetryGivesUp) Check(p *rules.Pass) {
	// Before 1.9.7 an unset vault_retry retried without limit
	// (client/config DefaultConfig, fixed by nomad#25113).
	nv := p.World.NomadVersion()
	unlimited := nv != "" && world.CompareVersions(nv, "1.9.7") < 0
	limit := retryWindow(defaultRetryAttempts, defaultRetryBackoff, defaultRetryMaxBackoff)
	def := fmt.Sprintf("Nomad's default: about %s", round(limit))
	if unlimited {
		def = "Nomad " + nv + "'s default: no limit"
	}
	for _, a := range p.World.Agents {
		r := a.VaultRetry
		if r == nil || (a.Client.IsKnown() && !a.Client.V) {
			continue
		}
		attempts, backoff, maxBackoff, ok := retrySettings(r)
		if !ok || attempts == 0 {
			continue
		}
		window := retryWindow(attempts, backoff, maxBackoff)
		if !unlimited && window >= limit {
			continue
		}
		at := r.Range
		if r.Attempts.Set {
			at = r.Attempts.Range
		}
		p.Report(rules.Finding{
			Message: fmt.Sprintf("vault_retry gives up on Vault after %d attempts, about %s (%s): in a Vault outage longer than that every task whose template reads Vault fails with Template failed; set attempts = 0 to wait for Vault",
				attempts, round(window), def),
			Range:  at,
			Object: a.Ref,
			Evidence: []string{
				fmt.Sprintf("attempts %d, backoff %s, max_backoff %s", attempts, backoff, maxBackoff),
				"consul-template sleeps backoff x 2^n between attempts, at most max_backoff, and stops after the last",
			},
			Fixes: []rules.Fix{{Description: "Set vault_retry attempts = 0 (retry until Vault answers)", Manual: true}},
		})
	}
}

// retrySettings fills what vault_retry leaves unset with Nomad's
// defaults; ok is false when a value is not a literal nvlint can read.
func retrySettings(r *world.RetryConfig) (attempts int64, backoff, maxBackoff time.Duration, ok bool) {
	attempts, backoff, maxBackoff = defaultRetryAttempts, defaultRetryBackoff, defaultRetryMaxBackoff
	if r.Attempts.Set {
		if !r.Attempts.Known || r.Attempts.V < 0 {
			return 0, 0, 0, false
		}
		attempts = r.Attempts.V
	}
	for _, d := range []struct {
		v   world.Str
		dst *time.Duration
	}{{r.Backoff, &backoff}, {r.MaxBackoff, &maxBackoff}} {
		if !d.v.Set {
			continue
		}
		if !d.v.Known {
			return 0, 0, 0, false
		}
		v, err := time.ParseDuration(d.v.V)
		if err != nil || v < 0 {
			return 0, 0, 0, false
		}
		*d.dst = v
	}
	// Nomad refuses a backoff above max_backoff when the template runs;
	// that is another problem.
	if backoff <= 0 || (maxBackoff > 0 && backoff > maxBackoff) {
		return 0, 0, 0, false
	}
	return attempts, backoff, maxBackoff, true
}

// retryWindow is how long consul-template keeps retrying: the sleeps of
// its RetryFunc for retries 0 to attempts-1.
func retryWindow(attempts int64, backoff, maxBackoff time.Duration) time.Duration {
	capAfter := int64(math.MaxInt64)
	if maxBackoff > 0 {
		capAfter = int64(math.Log2(maxBackoff.Seconds() / backoff.Seconds()))
	}
	var total time.Duration
	for retry := range attempts {
		if retry > capAfter {
			total += maxBackoff
			continue
		}
		total += time.Duration(math.Pow(2, float64(retry))) * backoff
		if total > 24*time.Hour {
			break // long enough for any purpose here
		}
	}
	return total
}

func round(d time.Duration) time.Duration {
	if d < 10*time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Second)
}
