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
	usedBy(w, f)
	for i := range f.Fixes {
		fx := &f.Fixes[i]
		for j, e := range fx.Edits {
			if name, ok := resourceAttr(w, e.Range); ok {
				_, fx.Edits[j].NewText = world.TerraformAttribute(name, e.NewText)
			}
			if inInstance(w, e.Range) || valueUses(w, e.Range) > 1 {
				// The block is every for_each instance's, or the value
				// (a variable's) several resources': editing it for one
				// changes them all, so --fix leaves it to the user.
				fx.Manual = true
			}
		}
		fx.Commands = TerraformCommands(w, fx.Commands)
	}
}

func managesAny(w *world.World) bool {
	return slices.ContainsFunc(w.Files, func(f *world.File) bool { return f.Terraform != "" })
}

// resourceAttr names the resource attribute whose value is written at
// exactly r.
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
		if res == nil {
			continue
		}
		// A value read from a variable is written where the variable's
		// value is: a tfvars file, a module call's argument.
		for name, ar := range res.Attrs {
			if ar.Filename == r.Filename && ar.Start.Byte == r.Start.Byte && ar.End.Byte == r.End.Byte {
				return name, true
			}
		}
	}
	return "", false
}

// usedBy adds the resource that reads a value as related to a finding
// reported where the value is written outside it (a tfvars file, a
// module call's argument): the user fixes the value there, and sees
// which resource it configures.
func usedBy(w *world.World, f *Finding) {
	if !f.HasFile() {
		return
	}
	for _, m := range w.Metas() {
		res := m.Resource
		if res == nil || res.File == nil {
			continue
		}
		for name, ar := range res.Attrs {
			if ar.Filename != f.Range.Filename || ar.Start.Byte != f.Range.Start.Byte || ar.End.Byte != f.Range.End.Byte {
				continue
			}
			if ar.Filename == res.File.Path && res.Braces.Start.Byte <= ar.Start.Byte && ar.End.Byte <= res.Braces.End.Byte {
				continue
			}
			f.Related = append(f.Related, Related{Message: res.Address() + " sets " + name + " to this value", Range: res.Block})
		}
	}
}

// valueUses counts the resource attributes whose value is written at
// exactly r.
func valueUses(w *world.World, r hcl.Range) int {
	n := 0
	for _, m := range w.Metas() {
		if res := m.Resource; res != nil {
			for _, ar := range res.Attrs {
				if ar.Filename == r.Filename && ar.Start.Byte == r.Start.Byte && ar.End.Byte == r.End.Byte && r.End.Byte > r.Start.Byte {
					n++
				}
			}
		}
	}
	return n
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

// TerraformCommands replaces each step of a command that writes a file
// Terraform applies (vault policy write NAME FILE, vault write PATH
// @FILE, nomad job run FILE) with terraform apply in that configuration.
// Report does this for every command; a rule that builds a Template
// around such a command calls it first, since a Template is text.
func TerraformCommands(w *world.World, cmds []Command) []Command {
	if len(cmds) == 0 {
		return cmds
	}
	managed := map[string]string{}
	for _, f := range w.Files {
		if f.Terraform != "" {
			managed[f.Path] = f.Terraform
		}
	}
	var out []Command
	seen := map[string]bool{}
	for _, c := range cmds {
		if c.Template == "" {
			var steps []Pipeline
			for _, p := range c.Steps {
				if dir, ok := appliedBy(p, managed); ok {
					p = terraformApply(dir).Steps[0]
				}
				if len(steps) > 0 && (Command{Steps: steps[len(steps)-1:]}).String() == (Command{Steps: []Pipeline{p}}).String() {
					continue
				}
				steps = append(steps, p)
			}
			c = Command{Steps: steps}
		}
		if s := c.String(); !seen[s] {
			seen[s] = true
			out = append(out, c)
		}
	}
	return out
}

// appliedBy reports whether a step runs vault or nomad on a file of a
// Terraform configuration, and which: the whole step becomes terraform
// apply.
func appliedBy(p Pipeline, managed map[string]string) (string, bool) {
	if len(p) == 0 || len(p[0]) == 0 || len(p[0][0]) == 0 {
		return "", false
	}
	if prog := p[0][0][0]; prog != "vault" && prog != "nomad" {
		return "", false
	}
	for _, g := range p {
		for _, a := range g {
			for _, word := range a {
				if dir, ok := managed[strings.TrimPrefix(word, "@")]; ok {
					return dir, true
				}
			}
		}
	}
	return "", false
}

func terraformApply(dir string) Command {
	if dir == "" || dir == "." {
		return Cmd("terraform", "apply")
	}
	return Cmd("terraform", "-chdir="+dir, "apply")
}
