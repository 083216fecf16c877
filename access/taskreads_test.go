package access_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/nvlint/nvlint/access"
	"github.com/nvlint/nvlint/inputs"
	"github.com/nvlint/nvlint/world"
)

// TestTaskReads: secret blocks as jobspec2 places them (job blocks in
// every task, a group's only in tasks without their own), which of them
// read Vault, and which paths Nomad refuses.
func TestTaskReads(t *testing.T) {
	dir := t.TempDir()
	job := `variable "ns" {
  default = "default"
}

job "app" {
  secret "shared" {
    provider = "vault"
    path     = "kv/shared"
  }

  group "g" {
    secret "group" {
      provider = "vault"
      path     = "kv/group"
    }

    task "own" {
      secret "a" {
        provider = "vault"
        path     = "kv/${var.ns}/a"
        config {
          engine = "kv_v2"
        }
      }
      secret "vars" {
        provider = "nomad"
        path     = "nomad/jobs/app"
      }
      secret "plugin" {
        provider = "custom"
        path     = "x(y)"
      }
      secret "runtime" {
        provider = "vault"
        path     = "kv/${NOMAD_JOB_ID}"
      }
      secret "parens" {
        provider = "vault"
        path     = "kv/(a)"
      }
      env {
        A = "${secret.a.k}-${secret.missing.k}"
      }
      template {
        data        = "{{ with secret \"kv/tpl\" }}{{ .Data.x }}{{ end }}"
        destination = "secrets/${secret.a.file}"
      }
    }

    task "inherits" {
    }
  }
}
`
	if err := os.WriteFile(filepath.Join(dir, "app.nomad.hcl"), []byte(job), 0o644); err != nil {
		t.Fatal(err)
	}
	w, _, err := inputs.Load([]string{dir}, inputs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tasks := map[string]*world.Task{}
	for _, tk := range w.Jobs[0].Groups[0].Tasks {
		tasks[tk.Name.V] = tk
	}
	paths := func(tk *world.Task) []string {
		var out []string
		for _, r := range access.TaskReads(tk) {
			p := r.Call.Path
			if r.Call.Dynamic {
				// Input variables are not evaluated: the path is unknown.
				p = "..."
			}
			if r.Secret != nil {
				p = r.Source() + ":" + p
			}
			out = append(out, p)
		}
		return out
	}
	if got, want := paths(tasks["own"]), []string{"secret block a:...", "secret block shared:kv/shared", "kv/tpl"}; !slices.Equal(got, want) {
		t.Errorf("own: %q, want %q", got, want)
	}
	if got, want := paths(tasks["inherits"]), []string{"secret block group:kv/group", "secret block shared:kv/shared"}; !slices.Equal(got, want) {
		t.Errorf("inherits: %q, want %q", got, want)
	}
	refused := map[string]string{}
	for _, s := range tasks["own"].Secrets {
		refused[s.Name.V] = access.SecretPathRefused(s)
	}
	for name, want := range map[string]string{
		"a": "", "vars": "", "plugin": "", "shared": "",
		"runtime": "it holds ${NOMAD_JOB_ID}, which Nomad does not interpolate in a secret's path",
		"parens":  `it holds "("`,
	} {
		if refused[name] != want {
			t.Errorf("secret %s refused %q, want %q", name, refused[name], want)
		}
	}
	var refs []string
	for _, r := range tasks["own"].SecretRefs {
		refs = append(refs, r.In+":"+r.Name+"."+r.Key)
	}
	if want := []string{"env A:a.k", "env A:missing.k", "template destination:a.file"}; !slices.Equal(refs, want) {
		t.Errorf("refs %q, want %q", refs, want)
	}
	for _, s := range tasks["own"].Secrets {
		if s.Name.V == "a" && (!s.KVv2() || s.Level != "task") {
			t.Errorf("secret a: engine %+v, level %s", s.Engine, s.Level)
		}
	}
}
