package access

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/templates"
	"github.com/nvlint/nvlint/world"
)

// TaskRead is one Vault call a task makes with its token: a template's
// call, or the read a vault secret block becomes. Exactly one of
// Template and Secret is set.
type TaskRead struct {
	Call     templates.Access
	Template *world.Template
	Secret   *world.Secret
}

// Range is where the call is written: the path in the template text, or
// the secret block's path.
func (r TaskRead) Range(f *world.File) hcl.Range {
	if r.Secret != nil {
		if r.Secret.Path.Range != (hcl.Range{}) {
			return r.Secret.Path.Range
		}
		return r.Secret.Range
	}
	a := r.Call
	return r.Template.TextRange(f, a.Line, a.Column, a.Offset, a.EndOffset-a.Offset)
}

// Source names what makes the call, for messages: "secret block db" or
// "a template".
func (r TaskRead) Source() string {
	if r.Secret != nil {
		return "secret block " + r.Secret.Name.V
	}
	return "a template"
}

// TaskReads lists the Vault calls task t makes with its token, in the
// order Nomad makes them: the reads of its vault secret blocks (the
// secrets hook runs before the template hook), then its templates'
// calls. Templates whose text is unknown or does not parse are left out,
// and so are secret blocks of other providers and those whose path Nomad
// refuses (SecretPathRefused).
func TaskReads(t *world.Task) []TaskRead {
	var out []TaskRead
	for _, s := range t.Secrets {
		if a, ok := SecretCall(s); ok {
			out = append(out, TaskRead{Call: a, Secret: s})
		}
	}
	for _, tpl := range t.Templates {
		if !tpl.Data.Known {
			continue
		}
		calls, err := tpl.VaultCalls()
		if err != nil {
			continue
		}
		for _, a := range calls {
			out = append(out, TaskRead{Call: a, Template: tpl})
		}
	}
	return out
}

// SecretCall is the consul-template call a vault secret block becomes.
// Nomad 1.11 (client/allocrunner/taskrunner/secrets/vault_provider.go,
// BuildTemplate) renders `{{ with secret "PATH" }}` with the path as
// written, for either engine: the engine only picks .Data or .Data.data
// from the answer, and consul-template rewrites the path on a KV
// version 2 mount as it does for any template. A path that is not known
// is a call built at run time.
func SecretCall(s *world.Secret) (templates.Access, bool) {
	if !s.IsVault() || !s.Path.Set || SecretPathRefused(s) != "" {
		return templates.Access{}, false
	}
	if !s.Path.Known {
		return templates.Access{Func: "secret", Op: templates.OpRead, Dynamic: true}, true
	}
	return templates.Access{Func: "secret", Op: templates.OpRead, Path: s.Path.V}, true
}

// SecretPathRefused says why Nomad refuses a vault secret block's path,
// or "": NewVaultProvider (secrets/vault_provider.go, Nomad 1.11.0 to
// 2.0.5) fails the task with "secret path cannot contain template
// delimiters or parenthesis" when the path holds any of ( ) { }, and a
// ${NAME} that jobspec2 leaves for run time is such a path, since
// nothing interpolates a secret's path.
func SecretPathRefused(s *world.Secret) string {
	switch {
	case !s.IsVault():
		return ""
	case s.Path.Known:
		if i := strings.IndexAny(s.Path.V, "(){}"); i >= 0 {
			return fmt.Sprintf("it holds %q", s.Path.V[i:i+1])
		}
	case s.PathRuntimeVar != "":
		return fmt.Sprintf("it holds %s, which Nomad does not interpolate in a secret's path", s.PathRuntimeVar)
	}
	return ""
}

var unallowedKey = world.NewDerivedKey("the reads of every workload that its token is not allowed")

// UnallowedReads lists, in TaskReads order, the reads of wl's task that
// its token is denied or not known to be allowed; Token.Read explains
// each. A workload whose login is refused makes no read and has none.
// Within a rules run every workload's reads are decided once, on every
// core: deciding tens of thousands of template reads is most of a
// fleet's rules run. Only the reads are kept, not their explanations:
// where no policy is given, that is every read of a repository.
func UnallowedReads(w *world.World, wl Workload) []TaskRead {
	if !w.Memoized() {
		return unallowed(w, wl)
	}
	return world.Derived(w, unallowedKey, unallowedAll)[wl]
}

func unallowedAll(w *world.World) map[Workload][]TaskRead {
	return eachWorkload(w, func(wl Workload) []TaskRead { return unallowed(w, wl) },
		func(reads []TaskRead) bool { return len(reads) > 0 })
}

func unallowed(w *world.World, wl Workload) []TaskRead {
	reads := TaskReads(wl.Task)
	if len(reads) == 0 {
		return nil
	}
	tok := Resolve(w, wl)
	if tok.Refused != "" {
		return nil
	}
	var out []TaskRead
	for _, r := range reads {
		if !tok.allowed(w, r.Call) {
			out = append(out, r)
		}
	}
	return out
}
