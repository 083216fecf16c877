package jobspec

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/nvlint/nvlint/access"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/rules/edits"
	"github.com/nvlint/nvlint/templates"
	"github.com/nvlint/nvlint/world"
)

// SecretTemplateOutsideSecrets reports templates that render Vault
// secrets outside the task's secrets directory.
var SecretTemplateOutsideSecrets rules.Rule = secretTemplateOutsideSecrets{}

type secretTemplateOutsideSecrets struct{}

func (secretTemplateOutsideSecrets) Meta() *rules.Meta { return &secretTemplateOutsideSecretsMeta }

var secretTemplateOutsideSecretsMeta = rules.Meta{
	ID: "NV402", Name: "secret-template-outside-secrets", Severity: rules.Warning,
	Title: "a template renders Vault secrets outside the task's secrets directory",
	// CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N: anyone with read-fs
	// in the namespace reads the secret.
	Security: 6.5,
	Needs:    []world.Kind{world.KindJobspec},
	Doc: rules.Doc{
		Why: "Nomad writes every template to its destination, env = true templates included (they are written, then read back as KEY=value). " +
			"Only the task's secrets/ directory is kept from other readers: the client's file system API refuses it (`Reading secret file prohibited`) " +
			"and on Linux it is an in-memory file system. A secret rendered to local/ or anywhere else in the task directory can be read by anyone " +
			"allowed read-fs in the job's namespace with `nomad alloc fs`, and stays on the client's disk; in alloc/ every task of the group reads it too. " +
			"Reads of a PKI mount's public endpoints (cert/ca_chain, cert/<serial>, ca/pem, ca_chain, crl..., which Vault serves without a token) return nothing secret and are not counted. " +
			"A destination whose variable Nomad leaves as literal text (${NOMAD_SECRET_DIR}) lands in the task's working directory: that is reported here too, and the variable by NV406.",
		Example: "template {\n  data        = \"{{ with secret \\\"database/creds/app\\\" }}{{ .Data.password }}{{ end }}\"\n  destination = \"local/db.env\"\n  env         = true\n}",
		Fix:     "Render to secrets/ (or ${NOMAD_SECRETS_DIR}/) and point whatever reads the file at the new path, e.g. a docker volume or mount.",
	},
}

func (secretTemplateOutsideSecrets) Check(p *rules.Pass) {
	for _, job := range p.World.Jobs {
		for _, g := range job.Groups {
			for _, t := range g.Tasks {
				for _, tpl := range t.Templates {
					checkSecretDestination(p, job, g, t, tpl)
				}
			}
		}
	}
}

func checkSecretDestination(p *rules.Pass, job *world.Job, g *world.Group, t *world.Task, tpl *world.Template) {
	calls, ok := vaultCalls(tpl)
	if !ok {
		return
	}
	// Listing returns key names only; reads and writes (dynamic
	// credentials, pkiCert) return secrets.
	var secretCalls []templates.Access
	for _, a := range calls {
		if a.Op == templates.OpList {
			continue
		}
		if a.Op == templates.OpRead && !a.Dynamic {
			// A PKI mount's CA chain, certificates and CRLs are public.
			if _, _, public := access.PublicPath(p.World, templates.KVv2Path(a.Path, "", a.Op)); public {
				continue
			}
		}
		secretCalls = append(secretCalls, a)
	}
	if len(secretCalls) == 0 || !tpl.Destination.Set {
		return
	}
	dest, ok := destinationText(job, tpl.Destination)
	if !ok {
		p.CannotDecide("%s: template destination %s is not a literal nvlint can resolve", taskOf(job, t), tpl.Destination.Range)
		return
	}
	where, ok := taskDirOf(dest, t)
	if !ok {
		p.CannotDecide("%s: template destination %q uses variables nvlint cannot resolve", taskOf(job, t), dest)
		return
	}
	if where == "secrets" {
		return
	}
	exposure := "`nomad alloc fs` serves it to anyone with read-fs in namespace " + job.NamespaceName() + ", and it stays on the client's disk"
	if where == "alloc" {
		exposure = "every task of group " + g.Name.V + " can read it, " + exposure
	}
	first := secretCalls[0]
	kind := "a template"
	if tpl.Env.IsKnown() && tpl.Env.V {
		kind = "an env template"
	}
	f := rules.Finding{
		Message: fmt.Sprintf("%s of %s renders Vault secrets (%s %q) to %s, outside secrets/: %s",
			kind, taskOf(job, t), first.Func, callPath(first), dest, exposure),
		Range:  tpl.Destination.Range,
		Object: job.Ref,
	}
	for _, a := range secretCalls {
		f.Evidence = append(f.Evidence, "the template calls "+describeCall(a))
	}
	f.Evidence = append(f.Evidence, fmt.Sprintf("destination %q is in the task's %s", dest, dirName(where)))
	for _, v := range destVars(dest, t) {
		if v.Kind == varNotNomads || v.Kind == varBare {
			f.Evidence = append(f.Evidence, fmt.Sprintf("Nomad leaves %s as literal text (%s)", v.Text, literalWhy(v)))
		}
	}
	if kind != "a template" {
		f.Evidence = append(f.Evidence, "env = true templates are written to their destination too, then read back as KEY=value")
	}
	if tpl.Destination.Range.Filename == "" {
		f.Range = tpl.Range
	}
	newDest := secretsDestination(dest, t)
	fix := rules.Fix{Description: fmt.Sprintf("Render to %s instead, and point whatever reads %s at it", newDest, dest)}
	literal := false
	for _, v := range destVars(dest, t) {
		literal = literal || v.Kind == varNotNomads || v.Kind == varBare
	}
	// A variable Nomad leaves literal is NV406's to fix, in place.
	if !literal && job.File != nil && tpl.Destination.Range.Filename != "" && string(tpl.Destination.Range.SliceBytes(job.File.Src)) == strconv.Quote(dest) {
		fix.Edits = []rules.TextEdit{edits.Replace(tpl.Destination.Range, edits.LiteralIn(tpl.Destination.Range.Filename, newDest))}
	}
	f.Fixes = []rules.Fix{fix}
	p.Report(f)
}

// destinationText is the destination as written: the literal, or for an
// HCL string with ${...} interpolations (which jobspec parsing leaves to
// Nomad) the text between the quotes.
func destinationText(job *world.Job, d world.Str) (string, bool) {
	if d.IsKnown() {
		return d.V, true
	}
	if job.File == nil {
		return "", false // a live job's values are as written
	}
	src := job.File.Src
	if d.Range.Filename != job.File.Path || d.Range.Start.Byte < 0 || d.Range.End.Byte > len(src) || d.Range.Start.Byte >= d.Range.End.Byte {
		return "", false
	}
	raw := string(d.Range.SliceBytes(src))
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' || strings.ContainsAny(raw[1:len(raw)-1], "\"\\\n") {
		return "", false
	}
	return raw[1 : len(raw)-1], true
}

// taskDirs are the task directory variables Nomad interpolates into a
// destination, with the directory they name (relative to the task
// directory, as Nomad's template hook makes them).
var taskDirs = map[string]string{
	"${NOMAD_SECRETS_DIR}": "secrets",
	"${NOMAD_TASK_DIR}":    "local",
	"${NOMAD_ALLOC_DIR}":   "alloc",
}

// taskDirOf says where in the task directory a destination lands:
// "secrets", "local", "alloc" or "" (the task directory itself, or a
// path a chroot driver maps into it). Nomad joins every destination to
// the task directory, absolute ones included.
// A variable Nomad leaves as literal text (a misspelt NOMAD_* name, a
// $NAME without braces) is just part of the path; one Nomad or the
// client's environment may fill leaves the answer open.
func taskDirOf(dest string, t *world.Task) (string, bool) {
	for v, dir := range taskDirs {
		dest = strings.ReplaceAll(dest, v, dir)
	}
	clean := strings.TrimPrefix(path.Clean("/"+dest), "/")
	first, _, _ := strings.Cut(clean, "/")
	for _, v := range destVars(first, t) {
		if v.Kind == varFilled || v.Kind == varElsewhere {
			return "", false
		}
	}
	switch first {
	case "secrets", "local", "alloc":
		return first, true
	}
	return "", true
}

func dirName(where string) string {
	switch where {
	case "local":
		return "local/ directory"
	case "alloc":
		return "shared alloc/ directory"
	}
	return "working directory"
}

// secretsDestination moves a destination into secrets/, keeping the path
// below local/ or alloc/, else the file name. A destination written with
// ${NOMAD_TASK_DIR} or ${NOMAD_ALLOC_DIR} keeps the variable style.
func secretsDestination(dest string, t *world.Task) string {
	if vs := destVars(dest, t); len(vs) > 0 && vs[0].Offset == 0 && vs[0].Suggest == "NOMAD_SECRETS_DIR" {
		// ${NOMAD_SECRET_DIR}/x: the variable meant.
		return "${NOMAD_SECRETS_DIR}" + dest[len(vs[0].Text):]
	}
	for _, v := range []string{"${NOMAD_TASK_DIR}", "${NOMAD_ALLOC_DIR}"} {
		if rest, ok := strings.CutPrefix(dest, v); ok && (rest == "" || rest[0] == '/') {
			return "${NOMAD_SECRETS_DIR}" + rest
		}
	}
	for v, dir := range taskDirs {
		dest = strings.ReplaceAll(dest, v, dir)
	}
	clean := strings.TrimPrefix(path.Clean("/"+dest), "/")
	if first, rest, ok := strings.Cut(clean, "/"); ok && (first == "local" || first == "alloc") {
		return "secrets/" + rest
	}
	return "secrets/" + path.Base(clean)
}

// literalWhy says why Nomad does not fill a variable.
func literalWhy(v destVar) string {
	switch v.Kind {
	case varBare:
		return "Nomad fills only ${NAME}, with braces"
	case varNotNomads:
		why := "Nomad sets no variable " + v.Name
		if v.Suggest != "" {
			why += "; did you mean " + v.Suggest + "?"
		}
		return why
	}
	return ""
}
