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
	if w == nil {
		return
	}
	ix := terraformOf(w)
	if len(ix.managed) == 0 {
		return
	}
	ix.usedBy(f)
	for i := range f.Fixes {
		fx := &f.Fixes[i]
		for j, e := range fx.Edits {
			if name, ok := ix.resourceAttr(e.Range); ok {
				_, fx.Edits[j].NewText = world.TerraformAttribute(name, e.NewText)
			}
			if ix.inInstance(e.Range) || ix.valueUses(e.Range) > 1 {
				// The block is every for_each instance's, or the value
				// (a variable's) several resources': editing it for one
				// changes them all, so --fix leaves it to the user.
				fx.Manual = true
			}
		}
		fx.Commands = ix.commands(fx.Commands)
	}
}

// terraformIndex is what forTerraform asks of every finding, worked out
// once per run: with one lookup per edit instead of a walk over every
// object, adapting findings stays linear in findings and objects.
type terraformIndex struct {
	managed   map[string]string      // file path → the configuration Terraform applies it from
	attrs     map[rangeKey][]attrUse // where a resource attribute's value is written
	instances []*world.Resource      // for_each resources read as one object per key
}

type rangeKey struct {
	file       string
	start, end int
}

func keyOf(r hcl.Range) rangeKey { return rangeKey{r.Filename, r.Start.Byte, r.End.Byte} }

type attrUse struct {
	res  *world.Resource
	name string
}

var terraformKey = world.NewDerivedKey("terraform index")

func indexTerraform(w *world.World) *terraformIndex {
	ix := &terraformIndex{managed: map[string]string{}, attrs: map[rangeKey][]attrUse{}}
	for _, f := range w.Files {
		if f.Terraform != "" {
			ix.managed[f.Path] = f.Terraform
		}
	}
	if len(ix.managed) == 0 {
		return ix
	}
	for _, m := range w.Metas() {
		res := m.Resource
		if res == nil {
			continue
		}
		if res.Instance && res.File != nil {
			ix.instances = append(ix.instances, res)
		}
		names := make([]string, 0, len(res.Attrs))
		for name := range res.Attrs {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			k := keyOf(res.Attrs[name])
			ix.attrs[k] = append(ix.attrs[k], attrUse{res, name})
		}
	}
	return ix
}

func terraformOf(w *world.World) *terraformIndex {
	return world.Derived(w, terraformKey, indexTerraform)
}

// resourceAttr names the resource attribute whose value is written at
// exactly r.
func (ix *terraformIndex) resourceAttr(r hcl.Range) (string, bool) {
	if uses := ix.attrs[keyOf(r)]; len(uses) > 0 {
		return uses[0].name, true
	}
	return "", false
}

// usedBy adds the resource that reads a value as related to a finding
// reported where the value is written outside it (a tfvars file, a
// module call's argument): the user fixes the value there, and sees
// which resource it configures.
func (ix *terraformIndex) usedBy(f *Finding) {
	if !f.HasFile() {
		return
	}
	for _, u := range ix.attrs[keyOf(f.Range)] {
		res, ar := u.res, f.Range
		if res.File == nil || ar.Filename == res.File.Path && res.Braces.Start.Byte <= ar.Start.Byte && ar.End.Byte <= res.Braces.End.Byte {
			continue
		}
		f.Related = append(f.Related, Related{Message: res.Address() + " sets " + u.name + " to this value", Range: res.Block})
	}
}

// valueUses counts the resource attributes whose value is written at
// exactly r.
func (ix *terraformIndex) valueUses(r hcl.Range) int {
	if r.End.Byte <= r.Start.Byte {
		return 0
	}
	return len(ix.attrs[keyOf(r)])
}

// inInstance reports whether r lies in the block of a for_each
// resource that nvlint read as one object per key.
func (ix *terraformIndex) inInstance(r hcl.Range) bool {
	for _, res := range ix.instances {
		if res.File.Path == r.Filename && res.Braces.Start.Byte <= r.Start.Byte && r.End.Byte <= res.Braces.End.Byte {
			return true
		}
	}
	return false
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
	return terraformOf(w).commands(cmds)
}

func (ix *terraformIndex) commands(cmds []Command) []Command {
	if len(cmds) == 0 {
		return cmds
	}
	managed := ix.managed
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
