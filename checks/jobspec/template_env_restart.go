package jobspec

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/nvlint/nvlint/access"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/templates"
	"github.com/nvlint/nvlint/world"
)

// TemplateEnvRestart reports templates that put a leased Vault secret
// into a service task's environment and restart the task when it
// changes.
var TemplateEnvRestart rules.Rule = templateEnvRestart{}

type templateEnvRestart struct{}

func (templateEnvRestart) Meta() *rules.Meta { return &templateEnvRestartMeta }

var templateEnvRestartMeta = rules.Meta{
	ID: "NV412", Name: "template-env-restart", Severity: rules.Warning,
	Title: "a template puts a leased Vault secret in the environment and restarts the task when it changes",
	Needs: []world.Kind{world.KindJobspec},
	Doc: rules.Doc{
		Why: "A template with env = true reaches the task only through its environment, which a running process cannot reread: " +
			"when the text changes, change_mode \"restart\" (the default) restarts the task. A leased secret (database or cloud credentials, certificates) " +
			"changes whenever its lease cannot be renewed in time, which is what a Vault outage longer than the lease's remaining TTL causes, " +
			"and whenever Nomad has to give the task a new Vault token: each of these restarts every such task when Vault answers again. " +
			"Users lose whole applications this way (hashicorp/nomad#28366, #16656, #22224). " +
			"A file the application rereads on a signal keeps the process running.\n" +
			"Only reads known to be leased are reported: a mount Vault (doctor) or Terraform says is not KV, pkiCert, and, where the mount's type is not known, " +
			"the dynamic-secret paths <mount>/creds/, /issue/, /sts/ and /sign/ (the message says so). KV secrets have no lease and change only when someone writes them. " +
			"Batch jobs are not reported: their tasks are meant to end. Applies to every release nvlint supports: change_mode defaults to \"restart\" " +
			"(api/tasks.go Template.Canonicalize) and new env template values reach the process only when it starts again (template.go), from 1.9 to 2.0.5 alike.\n" +
			"A template runner that gives up retrying Vault fails the task whatever its change_mode: see NV305 for client { template { vault_retry } }.",
		Example: "template {\n  data        = \"{{ with secret \\\"database/creds/app\\\" }}DB_PASSWORD={{ .Data.password }}{{ end }}\"\n  destination = \"secrets/db.env\"\n  env         = true\n}",
		Fix: "Render the secret to a file (env = false) that the application rereads, with change_mode = \"signal\" and a change_signal it handles " +
			"(or change_mode = \"script\"). Keep env = true only for tasks that can afford a restart each time Vault renews or replaces the secret.",
	},
}

func (templateEnvRestart) Check(p *rules.Pass) {
	w := p.World
	for _, wl := range access.Workloads(w) {
		if wl.Job.Type.IsKnown() && (wl.Job.Type.V == "batch" || wl.Job.Type.V == "sysbatch") {
			continue
		}
		for _, tpl := range wl.Task.Templates {
			if !tpl.Env.IsKnown() || !tpl.Env.V || tpl.ChangeModeName() != "restart" {
				continue
			}
			calls, ok := vaultCalls(tpl)
			if !ok {
				continue
			}
			for _, a := range calls {
				why, assumed, leased := leasedRead(w, access.PlaceFor(w, wl.Vault), a)
				if !leased {
					continue
				}
				mode := "restarts the task whenever it changes (change_mode unset: restart)"
				at := tpl.Env.Range
				if tpl.ChangeMode.Set {
					mode, at = `change_mode = "restart" restarts the task whenever it changes`, tpl.ChangeMode.Range
				}
				if wl.Job.File == nil {
					at = tpl.Range
				}
				msg := fmt.Sprintf("a template of %s puts %s %q in the environment (env = true) and %s: a lease that lapses in a Vault outage restarts the task; render it to a file the application rereads on change_mode = \"signal\"",
					taskOf(wl.Job, wl.Task), a.Func, callPath(a), mode)
				if assumed {
					msg += " (" + why + ")"
				}
				f := rules.Finding{
					Message:  msg,
					Range:    at,
					Object:   wl.Job.Ref,
					Evidence: []string{why, "env = true: the values reach the task only when it starts", "change_mode: " + tpl.ChangeModeName()},
					Fixes: []rules.Fix{{Manual: true,
						Description: "Render the secret to a file (env = false) and set change_mode = \"signal\" with a change_signal the application reloads on"}},
				}
				if wl.Job.File != nil {
					f.Related = []rules.Related{{Message: "the Vault call", Range: callRange(wl.Job, tpl, a)}}
				}
				p.Report(f)
				break // one finding per template
			}
		}
	}
}

// dynamicSegments are the second path segments of Vault's dynamic-secret
// endpoints (database, aws, consul, nomad, rabbitmq .../creds/, pki
// .../issue/ and .../sign/, aws .../sts/).
var dynamicSegments = []string{"creds", "issue", "sts", "sign"}

// leasedRead reports whether a template call reads a secret Vault leases,
// why, and whether that rests on the path's shape alone.
func leasedRead(w *world.World, at world.Place, a templates.Access) (why string, assumed, leased bool) {
	if a.Func == "pkiCert" {
		return "pkiCert issues a certificate that expires", false, true
	}
	path := a.Path
	if a.Dynamic {
		path = a.Prefix
	}
	elems := strings.Split(strings.Trim(path, "/"), "/")
	if len(elems) < 2 || elems[0] == "" {
		return "", false, false
	}
	if typ, from := mountType(w, at, path); typ != "" {
		if typ == "kv" || typ == "kv-v2" || typ == "generic" {
			return "", false, false
		}
		return fmt.Sprintf("%s says mount %s is a %s engine, whose secrets are leased", from, elems[0], typ), false, true
	}
	if access.KVIn(w, at, path).Version == access.KVV2 {
		return "", false, false
	}
	if slices.Contains(dynamicSegments, elems[1]) {
		return fmt.Sprintf("read as a leased secret from its path %s/%s/...; the mount's type is not known", elems[0], elems[1]), true, true
	}
	return "", false, false
}

// mountType is the engine of the mount path lies on, where Vault's mount
// table (doctor) or a declared mount says, and which says.
func mountType(w *world.World, at world.Place, path string) (typ, from string) {
	path = strings.Trim(path, "/")
	under := func(m string) bool { return path == m || strings.HasPrefix(path, m+"/") }
	best := ""
	cluster := world.DefaultCluster
	if at.Cluster.IsKnown() {
		cluster = at.Cluster.V
	}
	if v := w.Live.VaultOf(cluster); v != nil {
		for _, m := range v.EngineMounts {
			if under(m.Path) && len(m.Path) > len(best) {
				best, typ, from = m.Path, m.Type, "Vault's mount table"
			}
		}
		if typ != "" {
			return typ, from
		}
	}
	for _, m := range w.SecretMounts {
		if m.Type.IsKnown() && under(m.Path) && len(m.Path) > len(best) {
			best, typ, from = m.Path, m.Type.V, where(m)
		}
	}
	return typ, from
}

// where names what declares a mount, for messages.
func where(m *world.SecretMount) string {
	switch {
	case m.Resource != nil:
		return m.Resource.Address()
	case m.File != nil:
		return filepath.Base(m.File.Path)
	}
	return "Vault"
}
