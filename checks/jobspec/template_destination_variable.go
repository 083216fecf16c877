package jobspec

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/rules/edits"
	"github.com/nvlint/nvlint/world"
)

// TemplateDestinationVariable reports variables in a template destination
// that Nomad does not fill.
var TemplateDestinationVariable rules.Rule = templateDestinationVariable{}

type templateDestinationVariable struct{}

func (templateDestinationVariable) Meta() *rules.Meta { return &templateDestinationVariableMeta }

var templateDestinationVariableMeta = rules.Meta{
	ID: "NV406", Name: "template-destination-variable", Severity: rules.Warning,
	Title: "a template destination names a variable Nomad does not fill",
	Needs: []world.Kind{world.KindJobspec},
	Doc: rules.Doc{
		Why: "Nomad fills a template destination's ${NAME} from the task's environment (its own NOMAD_* variables, the task's env block) and the node's " +
			"values (node.*, attr.*, meta.*), and leaves every other ${NAME}, and any $NAME without braces, as literal text: the job starts and the file " +
			"lands in a directory literally named `${NOMAD_SECRET_DIR}` in the task's working directory, where the task does not look for it and, for a secret, " +
			"outside the protected secrets/ directory. A NOMAD_* name that is not one of Nomad's, or a $NAME without braces, is a warning; " +
			"another name that neither Nomad nor the task's env block sets is advice, since the client agent's own environment could still set it.",
		Example: "template {\n  data        = \"{{ with secret \\\"kv/data/app\\\" }}...{{ end }}\"\n  destination = \"${NOMAD_SECRET_DIR}/app.env\"\n}",
		Fix:     "Use a variable Nomad sets (NOMAD_SECRETS_DIR, NOMAD_TASK_DIR, NOMAD_ALLOC_DIR), with braces, or a relative path such as secrets/app.env.",
	},
}

func (templateDestinationVariable) Check(p *rules.Pass) {
	for _, job := range p.World.Jobs {
		for _, g := range job.Groups {
			for _, t := range g.Tasks {
				for _, tpl := range t.Templates {
					checkDestinationVars(p, job, t, tpl)
				}
			}
		}
	}
}

func checkDestinationVars(p *rules.Pass, job *world.Job, t *world.Task, tpl *world.Template) {
	if !tpl.Destination.Set {
		return
	}
	dest, ok := destinationText(job, tpl.Destination)
	if !ok {
		return
	}
	// An edit is safe only where the destination is written verbatim as
	// one quoted string, so offsets in dest are offsets in the file.
	verbatim := job.File != nil && tpl.Destination.Range.Filename != "" &&
		string(tpl.Destination.Range.SliceBytes(job.File.Src)) == strconv.Quote(dest)
	for _, v := range destVars(dest, t) {
		f := rules.Finding{
			Range:  tpl.Destination.Range,
			Object: job.Ref,
			Evidence: []string{
				fmt.Sprintf("destination %q", dest),
				"Nomad passes the destination through the task environment's ReplaceEnv, which fills ${NAME} from the task's environment and the node's values and leaves anything else as it is",
			},
		}
		if f.Range.Filename == "" {
			f.Range = tpl.Range
		}
		var replacement string
		switch v.Kind {
		case varFilled:
			continue
		case varNotNomads:
			f.Message = fmt.Sprintf("template destination %q of %s uses %s, which Nomad does not set: it stays literal text and the file is written below a directory of that name in the task's working directory",
				dest, taskOf(job, t), v.Text)
			if v.Suggest != "" {
				f.Message += fmt.Sprintf("; did you mean ${%s}?", v.Suggest)
				replacement = "${" + v.Suggest + "}"
			}
		case varBare:
			f.Message = fmt.Sprintf("template destination %q of %s uses %s without braces, which Nomad never fills: write ${%s}", dest, taskOf(job, t), v.Text, v.Name)
			replacement = "${" + v.Name + "}"
		case varElsewhere:
			if !envKnown(job) {
				// An API job's env block is not read: the name may be in it.
				p.CannotDecide("%s: template destination %q uses %s, and the job's env blocks are not read from JSON", taskOf(job, t), dest, v.Text)
				continue
			}
			f.Severity = rules.Info
			f.Message = fmt.Sprintf("template destination %q of %s uses %s, which neither Nomad nor the task's env block sets: unless the client agent's own environment does, it stays literal text",
				dest, taskOf(job, t), v.Text)
			f.Evidence = append(f.Evidence, "assumed: the client agent's environment does not set "+v.Name)
		}
		if replacement != "" {
			fix := rules.Fix{Description: fmt.Sprintf("Write %s instead of %s", replacement, v.Text)}
			if verbatim {
				start := tpl.Destination.Range.Start.Byte + 1 + v.Offset
				r := rangeOf(job.File, start, start+len(v.Text))
				fix.Edits = []rules.TextEdit{edits.Replace(r, replacement)}
			}
			f.Fixes = []rules.Fix{fix}
		}
		p.Report(f)
	}
}

// envKnown reports whether the job's env blocks were read: from an HCL
// jobspec, not from JSON (an API job).
func envKnown(job *world.Job) bool {
	return job.File != nil && !strings.HasSuffix(strings.ToLower(job.File.Path), ".json")
}
