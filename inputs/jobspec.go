package inputs

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/nvlint/nvlint/world"
)

// Jobspecs are read with hcl's generic body API and partial schemas, so
// HCL native and HCL JSON files give the same model with ranges, and
// everything nvlint does not reason about is ignored.

var (
	jobspecRootSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "job", LabelNames: []string{"name"}}}}
	jobSchema         = &hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{{Name: "namespace"}, {Name: "type"}, {Name: "id"}},
		Blocks: []hcl.BlockHeaderSchema{
			{Type: "group", LabelNames: []string{"name"}},
			{Type: "vault"}, {Type: "periodic"}, {Type: "parameterized"},
		},
	}
	groupSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
		{Type: "task", LabelNames: []string{"name"}}, {Type: "vault"},
	}}
	taskSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
		{Type: "vault"}, {Type: "identity"}, {Type: "template"}, {Type: "env"},
	}}
	vaultBlockSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "policies"}, {Name: "role"}, {Name: "cluster"}, {Name: "namespace"},
	}}
	identitySchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "name"}, {Name: "aud"}, {Name: "ttl"},
	}}
	templateSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "data"}, {Name: "source"}, {Name: "destination"}, {Name: "env"},
		{Name: "left_delimiter"}, {Name: "right_delimiter"},
	}}
)

func loadJobspecHCL(f *world.File, body hcl.Body, w *world.World) {
	repo := &templateFiles{dir: filepath.Dir(f.Path), w: w}
	defer func() { f.Diags = append(f.Diags, repo.diags...) }()
	root, _, diags := body.PartialContent(jobspecRootSchema)
	f.Diags = append(f.Diags, diags...)
	for i, jb := range root.Blocks {
		if i > 0 {
			repo.duplicate("job block", "Nomad reads one job per jobspec", jb.DefRange, root.Blocks[0].DefRange)
		}
		job := &world.Job{Meta: world.Meta{File: f, Range: jb.DefRange}}
		job.ID = world.Str{V: jb.Labels[0], Set: true, Known: true, Range: jb.LabelRanges[0]}
		job.Ref = world.ObjectRef{Kind: world.KindJobspec, Name: jb.Labels[0]}
		content, _, _ := jb.Body.PartialContent(jobSchema)
		repo.diags = append(repo.diags, typeCheck(content.Attributes, jobTypes)...)
		if id := strAttr(content.Attributes, "id"); id.Known {
			job.ID = id
			job.Ref.Name = id.V
		}
		job.Namespace = strAttr(content.Attributes, "namespace")
		job.Type = strAttr(content.Attributes, "type")
		groups := map[string]hcl.Range{}
		for _, b := range content.Blocks {
			switch b.Type {
			case "vault":
				if job.Vault != nil {
					repo.duplicate("vault block", "only one vault block is allowed in a job", b.DefRange, job.Vault.Range)
				}
				job.Vault = vaultBlock(b, "job", repo)
			case "periodic":
				job.Periodic = true
			case "parameterized":
				job.Parameterized = true
			case "group":
				if first, ok := groups[b.Labels[0]]; ok {
					repo.duplicate("group name", fmt.Sprintf("group %q is defined twice in job %q", b.Labels[0], jb.Labels[0]), b.DefRange, first)
				} else {
					groups[b.Labels[0]] = b.DefRange
				}
				job.Groups = append(job.Groups, groupHCL(b, f.Src, repo))
			}
		}
		w.Jobs = append(w.Jobs, job)
	}
}

func groupHCL(b *hcl.Block, src []byte, repo *templateFiles) *world.Group {
	g := &world.Group{Name: world.Str{V: b.Labels[0], Set: true, Known: true, Range: b.LabelRanges[0]}, Range: b.DefRange}
	content, _, _ := b.Body.PartialContent(groupSchema)
	tasks := map[string]hcl.Range{}
	for _, tb := range content.Blocks {
		switch tb.Type {
		case "vault":
			if g.Vault != nil {
				repo.duplicate("vault block", "only one vault block is allowed in a group", tb.DefRange, g.Vault.Range)
			}
			g.Vault = vaultBlock(tb, "group", repo)
		case "task":
			if first, ok := tasks[tb.Labels[0]]; ok {
				repo.duplicate("task name", fmt.Sprintf("task %q is defined twice in group %q", tb.Labels[0], b.Labels[0]), tb.DefRange, first)
			} else {
				tasks[tb.Labels[0]] = tb.DefRange
			}
			g.Tasks = append(g.Tasks, taskHCL(tb, src, repo))
		}
	}
	return g
}

func taskHCL(b *hcl.Block, src []byte, repo *templateFiles) *world.Task {
	t := &world.Task{Name: world.Str{V: b.Labels[0], Set: true, Known: true, Range: b.LabelRanges[0]}, Range: b.DefRange}
	content, _, _ := b.Body.PartialContent(taskSchema)
	dests := map[string]hcl.Range{}
	for _, sb := range content.Blocks {
		switch sb.Type {
		case "vault":
			if t.Vault != nil {
				repo.duplicate("vault block", "only one vault block is allowed in a task", sb.DefRange, t.Vault.Range)
			}
			t.Vault = vaultBlock(sb, "task", repo)
		case "env":
			attrs, _ := sb.Body.JustAttributes()
			for name := range attrs {
				t.Env = append(t.Env, name)
			}
			slices.Sort(t.Env)
		case "identity":
			c, _, _ := sb.Body.PartialContent(identitySchema)
			repo.diags = append(repo.diags, typeCheck(c.Attributes, identityTypes)...)
			id := &world.Identity{Range: sb.DefRange, Name: strAttr(c.Attributes, "name"), Aud: listAttr(c.Attributes, "aud"), TTL: strAttr(c.Attributes, "ttl")}
			if !id.Name.Set {
				// An identity without a name is the task's default identity.
				id.Name = world.Str{V: "default", Known: true}
			}
			t.Identities = append(t.Identities, id)
		case "template":
			c, _, _ := sb.Body.PartialContent(templateSchema)
			repo.diags = append(repo.diags, typeCheck(c.Attributes, templateTypes)...)
			tpl := &world.Template{
				Range:       sb.DefRange,
				Source:      strAttr(c.Attributes, "source"),
				Destination: strAttr(c.Attributes, "destination"),
				Env:         boolAttr(c.Attributes, "env"),
				LeftDelim:   strAttr(c.Attributes, "left_delimiter"),
				RightDelim:  strAttr(c.Attributes, "right_delimiter"),
			}
			if d := tpl.Destination; d.IsKnown() {
				if first, ok := dests[d.V]; ok {
					repo.duplicate("template destination", fmt.Sprintf("two templates of task %q write %s; Nomad refuses the job", b.Labels[0], d.V), d.Range, first)
				} else {
					dests[d.V] = d.Range
				}
			}
			if a, ok := c.Attributes["data"]; ok {
				tpl.Data = world.Str{Set: true, Range: a.Expr.Range()}
				if text, start, ok := templateText(a.Expr, src); ok {
					tpl.Data.V, tpl.Data.Known, tpl.DataStart = text, true, start
				} else if name, ok := fileCall(a.Expr); ok {
					repo.readTemplate(tpl, name)
				}
			} else if tpl.Source.IsKnown() {
				repo.readTemplate(tpl, tpl.Source.V)
			}
			t.Templates = append(t.Templates, tpl)
		}
	}
	return t
}

// parseTemplates finds the Vault calls of every template of w's jobs
// now, while files load in parallel, rather than in whichever rule asks
// first (world.Template.VaultCalls keeps the answer).
func parseTemplates(w *world.World) {
	for _, j := range w.Jobs {
		for _, g := range j.Groups {
			for _, t := range g.Tasks {
				for _, tpl := range t.Templates {
					if tpl.Data.Known {
						_, _ = tpl.VaultCalls()
					}
				}
			}
		}
	}
}

func vaultBlock(b *hcl.Block, level string, repo *templateFiles) *world.VaultBlock {
	c, _, _ := b.Body.PartialContent(vaultBlockSchema)
	repo.diags = append(repo.diags, typeCheck(c.Attributes, vaultTypes)...)
	return &world.VaultBlock{
		Range:     b.DefRange,
		Level:     level,
		Policies:  listAttr(c.Attributes, "policies"),
		Role:      strAttr(c.Attributes, "role"),
		Cluster:   strAttr(c.Attributes, "cluster"),
		Namespace: strAttr(c.Attributes, "namespace"),
	}
}

// fileCall recognises data = file("path"), which Nomad's HCL2 parser
// resolves relative to the jobspec.
func fileCall(expr hcl.Expression) (string, bool) {
	call, ok := expr.(*hclsyntax.FunctionCallExpr)
	if !ok || call.Name != "file" || len(call.Args) != 1 {
		return "", false
	}
	s := strValue(call.Args[0])
	return s.V, s.Known
}

// templateFiles reads template text kept in the repository next to a
// jobspec, so its Vault reads are checked too. The file joins the world's
// files for snippets.
// duplicate records a block or name Nomad refuses to see twice.
func (r *templateFiles) duplicate(what, why string, at, first hcl.Range) {
	r.diags = append(r.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Duplicate " + what,
		Detail:   fmt.Sprintf("%s; the first is at %s.", why, first),
		Subject:  &at,
	})
}

type templateFiles struct {
	dir string
	w   *world.World
	// diags are the type errors found while reading the jobspec.
	diags hcl.Diagnostics
}

func (r *templateFiles) readTemplate(tpl *world.Template, name string) {
	if r == nil || name == "" || filepath.IsAbs(name) && !fileExists(name) {
		return
	}
	path := name
	if !filepath.IsAbs(name) {
		path = filepath.Join(r.dir, name)
	}
	if !fileExists(path) {
		return
	}
	src, err := readLimited(path)
	if err != nil || len(src) > MaxFileSize || !utf8.Valid(src) {
		return
	}
	f := &world.File{Path: path, Kind: KindTemplate, Src: src}
	r.w.Files = append(r.w.Files, f)
	tpl.Data = world.Str{V: string(src), Set: true, Known: true, Range: hcl.Range{Filename: path, Start: hcl.InitialPos, End: hcl.InitialPos}}
	tpl.DataStart = hcl.InitialPos
	tpl.DataFile = f
}

func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

// KindTemplate marks a consul-template file read because a jobspec uses
// it; it is not linted on its own.
const KindTemplate world.Kind = "template"
