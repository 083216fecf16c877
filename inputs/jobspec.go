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
		Attributes: []hcl.AttributeSchema{{Name: "namespace"}, {Name: "type"}, {Name: "id"}, {Name: "region"}},
		Blocks: []hcl.BlockHeaderSchema{
			{Type: "group", LabelNames: []string{"name"}},
			{Type: "vault"}, {Type: "periodic"}, {Type: "parameterized"},
			{Type: "secret", LabelNames: []string{"name"}},
		},
	}
	groupSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
		{Type: "task", LabelNames: []string{"name"}}, {Type: "vault"},
		{Type: "secret", LabelNames: []string{"name"}},
	}}
	taskSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
		{Type: "vault"}, {Type: "identity"}, {Type: "template"}, {Type: "env"},
		{Type: "secret", LabelNames: []string{"name"}},
	}}
	// A secret block's env (custom plugins only) may hold credentials:
	// it is not read.
	secretSchema = &hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{{Name: "provider"}, {Name: "path"}},
		Blocks:     []hcl.BlockHeaderSchema{{Type: "config"}},
	}
	secretConfigSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "engine"}}}
	vaultBlockSchema   = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "policies"}, {Name: "role"}, {Name: "cluster"}, {Name: "namespace"},
		{Name: "change_mode"}, {Name: "allow_token_expiration"},
	}}
	identitySchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "name"}, {Name: "aud"}, {Name: "ttl"},
	}}
	templateSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "data"}, {Name: "source"}, {Name: "destination"}, {Name: "env"},
		{Name: "left_delimiter"}, {Name: "right_delimiter"}, {Name: "change_mode"},
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
		job.Region = strAttr(content.Attributes, "region")
		job.Type = strAttr(content.Attributes, "type")
		groups := map[string]hcl.Range{}
		var jobSecrets []*world.Secret
		for _, b := range content.Blocks {
			switch b.Type {
			case "secret":
				jobSecrets = append(jobSecrets, secretBlock(b, "job", repo))
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
		if len(jobSecrets) > 0 {
			// jobspec2 appends the job's secret blocks to every task's
			// (parse_job.go, Nomad 1.11.3).
			for _, g := range job.Groups {
				for _, t := range g.Tasks {
					t.Secrets = append(t.Secrets, jobSecrets...)
				}
			}
		}
		w.Jobs = append(w.Jobs, job)
	}
}

func groupHCL(b *hcl.Block, src []byte, repo *templateFiles) *world.Group {
	g := &world.Group{Name: world.Str{V: b.Labels[0], Set: true, Known: true, Range: b.LabelRanges[0]}, Range: b.DefRange}
	content, _, _ := b.Body.PartialContent(groupSchema)
	tasks := map[string]hcl.Range{}
	var groupSecrets []*world.Secret
	for _, tb := range content.Blocks {
		switch tb.Type {
		case "secret":
			groupSecrets = append(groupSecrets, secretBlock(tb, "group", repo))
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
	// jobspec2 (hcl_conversions.go, Nomad 1.11.3) gives a group's secret
	// blocks only to the tasks that have none of their own; a task with
	// its own gets those twice and the group's not at all.
	for _, t := range g.Tasks {
		if len(t.Secrets) == 0 {
			t.Secrets = append(t.Secrets, groupSecrets...)
		}
	}
	return g
}

func secretBlock(b *hcl.Block, level string, repo *templateFiles) *world.Secret {
	c, _, _ := b.Body.PartialContent(secretSchema)
	repo.diags = append(repo.diags, typeCheck(c.Attributes, secretTypes)...)
	s := &world.Secret{
		Range:    b.DefRange,
		Name:     world.Str{V: b.Labels[0], Set: true, Known: true, Range: b.LabelRanges[0]},
		Provider: strAttr(c.Attributes, "provider"),
		Path:     strAttr(c.Attributes, "path"),
		Level:    level,
	}
	if a, ok := c.Attributes["path"]; ok && !s.Path.Known {
		// jobspec2 (Nomad's hcl fork) keeps a reference to anything but
		// an input variable or local as its ${...} text for the client,
		// and the client does not interpolate a secret's path.
		for _, tr := range a.Expr.Variables() {
			if root := tr.RootName(); root != "var" && root != "local" {
				s.PathRuntimeVar = "${" + traversalText(tr) + "}"
				break
			}
		}
	}
	for _, cb := range c.Blocks {
		s.ConfigRange = cb.DefRange
		cc, _, _ := cb.Body.PartialContent(secretConfigSchema)
		repo.diags = append(repo.diags, typeCheck(cc.Attributes, secretTypes)...)
		s.Engine = strAttr(cc.Attributes, "engine")
	}
	return s
}

// traversalText writes a traversal's root and attribute steps, as a
// reader would: secret.db.password.
func traversalText(tr hcl.Traversal) string {
	text := tr.RootName()
	for _, step := range tr[1:] {
		a, ok := step.(hcl.TraverseAttr)
		if !ok {
			return text + "..."
		}
		text += "." + a.Name
	}
	return text
}

// secretRefs finds the ${secret.NAME.KEY} references of an expression:
// HCL parses them as traversals, which jobspec2 leaves for the client
// to interpolate.
func secretRefs(expr hcl.Expression, in string) []world.SecretRef {
	var out []world.SecretRef
	for _, tr := range expr.Variables() {
		if tr.RootName() != "secret" {
			continue
		}
		ref := world.SecretRef{Range: tr.SourceRange(), In: in}
		for i, step := range tr[1:] {
			a, ok := step.(hcl.TraverseAttr)
			if !ok {
				break
			}
			switch {
			case i == 0:
				ref.Name = a.Name
			case ref.Key == "":
				ref.Key = a.Name
			default:
				// Nomad nests a key with dots (taskenv addNestedKey).
				ref.Key += "." + a.Name
			}
		}
		if ref.Name != "" {
			out = append(out, ref)
		}
	}
	return out
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
		case "secret":
			t.Secrets = append(t.Secrets, secretBlock(sb, "task", repo))
		case "env":
			attrs, _ := sb.Body.JustAttributes()
			for name, a := range attrs {
				t.Env = append(t.Env, name)
				t.SecretRefs = append(t.SecretRefs, secretRefs(a.Expr, "env "+name)...)
			}
			slices.Sort(t.Env)
			sortRefs(t.SecretRefs)
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
				ChangeMode:  strAttr(c.Attributes, "change_mode"),
				LeftDelim:   strAttr(c.Attributes, "left_delimiter"),
				RightDelim:  strAttr(c.Attributes, "right_delimiter"),
			}
			// Nomad fills ${...} in a template's source and destination
			// (taskenv ReplaceEnv, with the task's secrets), not in its
			// text.
			for _, name := range []string{"source", "destination"} {
				if a, ok := c.Attributes[name]; ok {
					t.SecretRefs = append(t.SecretRefs, secretRefs(a.Expr, "template "+name)...)
				}
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

// sortRefs orders references by position: env attributes come in map
// order.
func sortRefs(refs []world.SecretRef) {
	slices.SortStableFunc(refs, func(a, b world.SecretRef) int { return a.Range.Start.Byte - b.Range.Start.Byte })
}

// parseTemplates finds the Vault calls of every template of w's jobs
// now, while files load in parallel, rather than in whichever rule asks
// first (world.Template.VaultCalls keeps the answer).
func parseTemplates(w *world.World) {
	for _, j := range w.Jobs {
		parseJobTemplates(j)
	}
}

func parseJobTemplates(j *world.Job) {
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

		ChangeMode:           strAttr(c.Attributes, "change_mode"),
		AllowTokenExpiration: boolAttr(c.Attributes, "allow_token_expiration"),
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
