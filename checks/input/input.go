// Package input holds the rules about the input files themselves: files
// that do not parse and files nvlint does not understand.
package input

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/acl"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// ParseError reports syntax and structure errors in recognised files.
var ParseError rules.Rule = parseError{}

type parseError struct{}

func (parseError) Meta() *rules.Meta { return &parseErrorMeta }

var parseErrorMeta = rules.Meta{
	ID: "NV001", Name: "parse-error", Severity: rules.Error,
	Title: "file cannot be parsed",
	Doc: rules.Doc{
		Why:     "Nomad and Vault refuse a file they cannot parse; nvlint cannot check what it cannot read either, so every other rule is blind to the broken part.",
		Example: "path \"secret/*\" {\n  capabilities = [\"read\"\n}",
		Fix: "Correct the syntax at the reported position. `nomad job validate`, `nomad config validate` and `vault policy fmt` report the same class of error. " +
			"A jobspec in HCL 1 syntax (quoted argument names: `env { \"VERSION\" = \"1\" }`) is refused by Nomad 1.9 and later, which removed HCL 1 jobspecs (hashicorp/nomad#23912; Nomad 1.0 to 1.8 read them with `nomad job run -hcl1`): " +
			"nvlint unquotes names that are identifiers, and suggests the map form (`env = { \"a.b\" = \"x\" }`) for the others. With nomad_version below 1.9 in .nvlint.hcl this is a warning.",
	},
}

func (parseError) Check(p *rules.Pass) {
	for _, f := range p.World.Files {
		for _, d := range f.Diags {
			// What Vault itself refuses in a well-formed policy is rule
			// NV502's; this rule keeps to syntax.
			if d.Severity != hcl.DiagError || isCascade(d, f.Diags) || acl.ProblemOf(d) != nil {
				continue
			}
			if fd, ok := hcl1Jobspec(p.World, f, d); ok {
				p.Report(fd)
				continue
			}
			msg := d.Summary
			if d.Detail != "" {
				msg += ": " + strings.TrimSuffix(d.Detail, ".")
			}
			fd := rules.Finding{
				Message: fmt.Sprintf("%s: %s", kindLabel(f), lowerFirst(msg)),
				Object:  world.ObjectRef{Kind: f.Kind, Name: f.Path},
			}
			if d.Subject != nil {
				fd.Range = *d.Subject
			} else {
				fd.Range = hcl.Range{Filename: f.Path, Start: hcl.InitialPos, End: hcl.InitialPos}
			}
			p.Report(fd)
		}
	}
}

// Unrecognized reports files named on the command line that nvlint does
// not understand. Files found by walking a directory are skipped silently
// instead.
var Unrecognized rules.Rule = unrecognized{}

type unrecognized struct{}

func (unrecognized) Meta() *rules.Meta { return &unrecognizedMeta }

var unrecognizedMeta = rules.Meta{
	ID: "NV002", Name: "unrecognized-file", Severity: rules.Error,
	Title: "file is not a kind nvlint understands",
	Doc: rules.Doc{
		Why:     "A file named on the command line that nvlint cannot recognise is not checked at all; failing loudly keeps a CI gate honest.",
		Example: "nvlint lint README.md",
		Fix:     "Pass only jobspecs, agent configs, Vault policies, token roles, JWT auth configs, JWT roles and Terraform files, or force the kind with --kind; --skip-unknown skips such files instead, as a directory walk does.",
	},
}

func (unrecognized) Check(p *rules.Pass) {
	for _, f := range p.World.Files {
		if f.Kind != "" || !f.Explicit || len(f.Diags) > 0 {
			continue
		}
		p.Report(rules.Finding{
			Message: "file is not a Nomad jobspec or agent config, nor a Vault policy, token role, JWT auth config or JWT role, nor Terraform declaring them; pass --kind to force one",
			Range:   hcl.Range{Filename: f.Path, Start: hcl.InitialPos, End: hcl.InitialPos},
		})
	}
}

func kindLabel(f *world.File) string {
	if f.Kind == "" {
		return "file"
	}
	return string(f.Kind)
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// isCascade drops the JSON parser's complaint about the root value when a
// later error explains it: a truncated document reports both.
func isCascade(d *hcl.Diagnostic, all hcl.Diagnostics) bool {
	return d.Summary == "Root value must be object" && len(all.Errs()) > 1
}

// DuplicateObject reports objects defined twice: nvlint checks the files
// of a setup together, so two definitions of the same role or policy make
// its answers depend on which one it picks.
var DuplicateObject rules.Rule = duplicateObject{}

type duplicateObject struct{}

func (duplicateObject) Meta() *rules.Meta { return &duplicateObjectMeta }

var duplicateObjectMeta = rules.Meta{
	ID: "NV003", Name: "duplicate-object", Severity: rules.Warning,
	Title: "the same Vault object is defined in two files",
	Doc: rules.Doc{
		Why: "The files of one setup (all the files of a run, unless .nvlint.hcl declares setups) are checked together: rules join jobs to roles and roles to policies by name. Two definitions of a policy or role " +
			"(often two environments linted together) make those joins ambiguous, and Vault itself keeps only the last one written. " +
			"Vault keeps objects per namespace: objects of one name in different Vault namespaces (a Terraform resource's namespace argument, relative to its provider's namespace) " +
			"are different objects, and a task's role and policies are looked up in the namespace it logs in to (its vault block's namespace, else the agents'). " +
			"JWT roles live on their auth mount: a role of one name on two mounts (one per Nomad region, say) is two roles. " +
			"Each Vault cluster (Nomad Enterprise: agent vault blocks with a name) has its own objects: doctor tags what it reads with the cluster, and a Terraform resource is in a cluster when its provider's address is written as that of exactly one cluster in the agent configs given; " +
			"a task's role and policies are looked up in its vault.cluster. Otherwise files do not say their cluster, and two clusters' objects of one name are reported here.",
		Example: "nvlint lint prod/ staging/   # both define token role nomad-cluster",
		Fix:     "Make each environment a setup of its own (setup \"prod\" { paths = [\"prod\"] } in .nvlint.hcl, or nvlint lint --setup-per-dir DIR), lint each in its own run, or remove the stale copy; --name renames an object whose file name misleads.",
	},
}

func (duplicateObject) Check(p *rules.Pass) {
	type obj struct {
		ref   world.ObjectRef
		m     *world.Meta
		mount string
	}
	var all []obj
	w := p.World
	for _, o := range w.Policies {
		all = append(all, obj{o.Ref, &o.Meta, ""})
	}
	for _, o := range w.TokenRoles {
		all = append(all, obj{o.Ref, &o.Meta, ""})
	}
	for _, o := range w.JWTRoles {
		all = append(all, obj{o.Ref, &o.Meta, o.Mount})
	}
	for _, o := range w.JWTConfigs {
		all = append(all, obj{o.Ref, &o.Meta, o.Mount})
	}
	// Vault keeps objects per cluster and namespace, and JWT roles per
	// auth mount: two of one name in different clusters, namespaces or
	// on different mounts are two objects.
	type key struct {
		kind                     world.Kind
		name, cluster, ns, mount string
	}
	first := map[key]*world.Meta{}
	for _, o := range all {
		if o.m.Namespace.Set && !o.m.Namespace.Known {
			p.CannotDecide("%s %s: its Vault namespace is not a value nvlint can know", o.ref.Kind, o.ref.Name)
			continue
		}
		if o.m.Cluster.Set && !o.m.Cluster.Known {
			p.CannotDecide("%s %s: its Vault cluster is not a value nvlint can know", o.ref.Kind, o.ref.Name)
			continue
		}
		cluster := o.m.Cluster.V
		if cluster == "" {
			cluster = world.DefaultCluster
		}
		k := key{o.ref.Kind, o.ref.Name, cluster, strings.Trim(o.m.Namespace.V, "/"), strings.Trim(o.mount, "/")}
		prev, seen := first[k]
		if !seen {
			first[k] = o.m
			continue
		}
		f := rules.Finding{
			Message: fmt.Sprintf("%s %s is defined again%s%s; nvlint checks the files of a setup together: make each environment a setup (setup blocks in .nvlint.hcl, or --setup-per-dir)", strings.ReplaceAll(string(o.ref.Kind), "-", " "), o.ref.Name, onMount(k.mount), inNS(k.ns)+world.ClusterLabel(k.cluster)),
			Range:   o.m.Range,
			Object:  o.ref,
		}
		if prev.File != nil {
			f.Related = []rules.Related{{Message: "first defined here", Range: prev.Range}}
		}
		// A name guessed from a file name may be wrong: the two may be
		// different objects.
		for _, m := range []*world.Meta{prev, o.m} {
			if m.Ref.Guessed() {
				f.Assumes = append(f.Assumes, m.Ref)
				f.Evidence = append(f.Evidence, m.GuessEvidence())
			}
		}
		p.Report(f)
	}
}

// onMount names an auth mount for messages: "" when not known.
func onMount(m string) string {
	if m == "" {
		return ""
	}
	return " on auth mount " + m
}

// inNS names a Vault namespace for messages: "" for the root namespace.
func inNS(ns string) string {
	if ns == "" {
		return ""
	}
	return " in Vault namespace " + ns
}
