package rules

import (
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/world"
)

// forTerraform adapts the fixes of a finding to objects Terraform
// manages, whatever rule made them: a value replaced in a resource takes
// the provider's type (token_period = 1800, not "30m"), and a command
// that would write a file's objects with vault or nomad becomes terraform
// apply, since Terraform would revert a change made behind its back.
func forTerraform(w *world.World, f *Finding) {
	if w == nil || !managesAny(w) {
		return
	}
	for i := range f.Fixes {
		fx := &f.Fixes[i]
		for j, e := range fx.Edits {
			if name, ok := resourceAttr(w, e.Range); ok {
				_, fx.Edits[j].NewText = world.TerraformAttribute(name, e.NewText)
			}
			if inInstance(w, e.Range) {
				// The block is every for_each instance's: editing it for
				// one changes them all, so --fix leaves it to the user.
				fx.Manual = true
			}
		}
		fx.Commands = terraformCommands(w, fx.Commands)
	}
}

func managesAny(w *world.World) bool {
	return slices.ContainsFunc(w.Files, func(f *world.File) bool { return f.Terraform != "" })
}

// resourceAttr names the resource attribute whose value is exactly r.
func resourceAttr(w *world.World, r hcl.Range) (string, bool) {
	var metas []*world.Meta
	for _, o := range w.Policies {
		metas = append(metas, &o.Meta)
	}
	for _, o := range w.TokenRoles {
		metas = append(metas, &o.Meta)
	}
	for _, o := range w.JWTConfigs {
		metas = append(metas, &o.Meta)
	}
	for _, o := range w.JWTRoles {
		metas = append(metas, &o.Meta)
	}
	for _, m := range metas {
		res := m.Resource
		if res == nil || res.File == nil || res.File.Path != r.Filename {
			continue
		}
		for name, ar := range res.Attrs {
			if ar.Start.Byte == r.Start.Byte && ar.End.Byte == r.End.Byte {
				return name, true
			}
		}
	}
	return "", false
}

// inInstance reports whether r lies in the block of a for_each
// resource that nvlint read as one object per key.
func inInstance(w *world.World, r hcl.Range) bool {
	for _, res := range world.Derived(w, instancesKey, instanceResources) {
		if res.File.Path == r.Filename && res.Braces.Start.Byte <= r.Start.Byte && r.End.Byte <= res.Braces.End.Byte {
			return true
		}
	}
	return false
}

var instancesKey = world.NewDerivedKey("for_each instances")

func instanceResources(w *world.World) []*world.Resource {
	var out []*world.Resource
	for _, m := range w.Metas() {
		if res := m.Resource; res != nil && res.Instance && res.File != nil {
			out = append(out, res)
		}
	}
	return out
}

// terraformCommands replaces each step of a command that writes a file
// Terraform applies (vault policy write NAME FILE, vault write PATH
// @FILE, nomad job run FILE) with terraform apply in that configuration.
func terraformCommands(w *world.World, cmds []string) []string {
	if len(cmds) == 0 {
		return cmds
	}
	managed := map[string]string{}
	for _, f := range w.Files {
		if f.Terraform != "" {
			managed[f.Path] = f.Terraform
		}
	}
	var out []string
	for _, c := range cmds {
		steps := strings.Split(c, " && ")
		changed := false
		for i, s := range steps {
			if !strings.HasPrefix(s, "vault ") && !strings.HasPrefix(s, "nomad ") {
				continue
			}
			for path, dir := range managed {
				if mentions(s, path) {
					steps[i], changed = terraformApply(dir), true
					break
				}
			}
		}
		if changed {
			steps = slices.Compact(steps)
			c = strings.Join(steps, " && ")
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// mentions reports whether a command names path as a word (or an @file
// argument).
func mentions(cmd, path string) bool {
	for _, word := range strings.Fields(cmd) {
		if strings.TrimPrefix(word, "@") == path {
			return true
		}
	}
	return false
}

func terraformApply(dir string) string {
	if dir == "" || dir == "." {
		return "terraform apply"
	}
	return "terraform -chdir=" + dir + " apply"
}
