package inputs

import (
	"encoding/json"
	"regexp"

	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/world"
)

// objectAttrs turns a JSON object expression into attributes, so the same
// value helpers serve top-level and nested objects.
func objectAttrs(expr hcl.Expression) (hcl.Attributes, bool) {
	if expr == nil {
		return nil, false
	}
	pairs, diags := hcl.ExprMap(expr)
	if diags.HasErrors() {
		return nil, false
	}
	attrs := make(hcl.Attributes, len(pairs))
	for _, kv := range pairs {
		k := strValue(kv.Key)
		if !k.Known {
			continue
		}
		attrs[k.V] = &hcl.Attribute{
			Name: k.V, Expr: kv.Value, NameRange: kv.Key.Range(),
			Range: hcl.RangeBetween(kv.Key.Range(), kv.Value.Range()),
		}
	}
	return attrs, true
}

func objectList(expr hcl.Expression) []hcl.Attributes {
	if expr == nil {
		return nil
	}
	elems, diags := hcl.ExprList(expr)
	if diags.HasErrors() {
		return nil
	}
	var out []hcl.Attributes
	for _, e := range elems {
		if attrs, ok := objectAttrs(e); ok {
			out = append(out, attrs)
		}
	}
	return out
}

func attrExpr(attrs hcl.Attributes, name string) hcl.Expression {
	if a, ok := attrs[name]; ok {
		return a.Expr
	}
	return nil
}

// loadJobJSON reads a job as the Nomad API returns it (GET /v1/job/:id,
// nomad job inspect), bare or wrapped in {"Job": ...}.
func loadJobJSON(f *world.File, top hcl.Attributes, w *world.World) {
	if inner, ok := objectAttrs(attrExpr(top, "Job")); ok {
		top = inner
	}
	job := &world.Job{Meta: world.Meta{File: f}}
	job.ID = strAttr(top, "ID")
	if !job.ID.Known {
		job.ID = strAttr(top, "Name")
	}
	job.Range = job.ID.Range
	job.Ref = world.ObjectRef{Kind: world.KindJobspec, Name: job.ID.V}
	job.Namespace = strAttr(top, "Namespace")
	job.Region = strAttr(top, "Region")
	job.Type = strAttr(top, "Type")
	job.ParentID = strAttr(top, "ParentID")
	if p, ok := objectAttrs(attrExpr(top, "Periodic")); ok && len(p) > 0 {
		job.Periodic = boolAttr(p, "Enabled").V
	}
	if p, ok := objectAttrs(attrExpr(top, "ParameterizedJob")); ok && len(p) > 0 {
		job.Parameterized = true
	}
	for _, ga := range objectList(attrExpr(top, "TaskGroups")) {
		g := &world.Group{Name: strAttr(ga, "Name")}
		g.Range = g.Name.Range
		for _, ta := range objectList(attrExpr(ga, "Tasks")) {
			g.Tasks = append(g.Tasks, taskJSON(ta))
		}
		job.Groups = append(job.Groups, g)
	}
	w.Jobs = append(w.Jobs, job)
}

func taskJSON(ta hcl.Attributes) *world.Task {
	t := &world.Task{Name: strAttr(ta, "Name")}
	t.Range = t.Name.Range
	if va, ok := objectAttrs(attrExpr(ta, "Vault")); ok {
		t.Vault = &world.VaultBlock{
			Range:     ta["Vault"].Range,
			Level:     "task",
			Policies:  listAttr(va, "Policies"),
			Role:      strAttr(va, "Role"),
			Cluster:   strAttr(va, "Cluster"),
			Namespace: strAttr(va, "Namespace"),

			ChangeMode:           strAttr(va, "ChangeMode"),
			AllowTokenExpiration: boolAttr(va, "AllowTokenExpiration"),
		}
	}
	for _, ia := range objectList(attrExpr(ta, "Identities")) {
		t.Identities = append(t.Identities, &world.Identity{
			Range: strAttr(ia, "Name").Range, Name: strAttr(ia, "Name"), Aud: listAttr(ia, "Audience"),
		})
	}
	for _, tp := range objectList(attrExpr(ta, "Templates")) {
		tpl := &world.Template{
			Source:      strAttr(tp, "SourcePath"),
			Destination: strAttr(tp, "DestPath"),
			Env:         boolAttr(tp, "Envvars"),
			ChangeMode:  strAttr(tp, "ChangeMode"),
			LeftDelim:   strAttr(tp, "LeftDelim"),
			RightDelim:  strAttr(tp, "RightDelim"),
		}
		if a, ok := tp["EmbeddedTmpl"]; ok {
			tpl.Range = a.Range
			tpl.Data = world.Str{Set: true, Range: a.Expr.Range()}
			if text, start, ok := templateText(a.Expr, nil); ok {
				tpl.Data.V, tpl.Data.Known, tpl.DataStart = text, true, start
			}
		}
		if tpl.Range == (hcl.Range{}) {
			tpl.Range = tpl.Destination.Range
		}
		t.SecretRefs = append(t.SecretRefs, templateSecretRefs(tpl)...)
		t.Templates = append(t.Templates, tpl)
	}
	// A secret's Env (custom plugins only) may hold credentials: it is
	// not read. Nomad's API job has no job or group level secrets:
	// jobspec2 copies them into the tasks.
	for _, sa := range objectList(attrExpr(ta, "Secrets")) {
		s := &world.Secret{
			Name:     strAttr(sa, "Name"),
			Provider: strAttr(sa, "Provider"),
			Path:     strAttr(sa, "Path"),
			Level:    "task",
		}
		s.Range = s.Name.Range
		if ca, ok := objectAttrs(attrExpr(sa, "Config")); ok {
			s.Engine = strAttr(ca, "engine")
		}
		t.Secrets = append(t.Secrets, s)
	}
	return t
}

// secretRefText is a ${secret.NAME.KEY} in an API job's text, which
// Nomad keeps as written.
var secretRefText = regexp.MustCompile(`\$\{\s*secret\.([A-Za-z0-9_]+)(?:\.([^}\s]+))?\s*\}`)

// templateSecretRefs are the ${secret.NAME.KEY} of an API job template's
// source and destination.
func templateSecretRefs(tpl *world.Template) []world.SecretRef {
	var out []world.SecretRef
	for _, p := range []struct {
		in string
		v  world.Str
	}{{"template source", tpl.Source}, {"template destination", tpl.Destination}} {
		for _, m := range secretRefText.FindAllStringSubmatch(p.v.V, -1) {
			out = append(out, world.SecretRef{Name: m[1], Key: m[2], Range: p.v.Range, In: p.in})
		}
	}
	return out
}

// apiJob is an API job cut down to what loadJobJSON reads; TrimAPIJob
// decodes into it. Keep it in step with loadJobJSON and taskJSON.
type apiJob struct {
	ID               json.RawMessage `json:",omitempty"`
	Name             json.RawMessage `json:",omitempty"`
	Namespace        json.RawMessage `json:",omitempty"`
	Region           json.RawMessage `json:",omitempty"`
	Type             json.RawMessage `json:",omitempty"`
	ParentID         json.RawMessage `json:",omitempty"`
	Periodic         *apiPeriodic    `json:",omitempty"`
	ParameterizedJob json.RawMessage `json:",omitempty"`
	TaskGroups       *[]*apiGroup    `json:",omitempty"`
}

type apiPeriodic struct {
	Enabled json.RawMessage `json:",omitempty"`
}

// TrimAPIJob keeps, of a job as the Nomad API returns it (bare or as
// {"Job": ...}), what loadJobJSON reads: a live job carries every default
// Nomad fills in, several times what nvlint reads, and its environment
// and task config, which may hold secrets, must stay out of snapshots.
// LiveJob keeps the same. The document is decoded with encoding/json,
// which matches keys regardless of case where loadJobJSON does not; the
// Nomad API writes them exactly. A document that does not decode so is
// returned as it is, for the parser to report.
func TrimAPIJob(data []byte) []byte {
	var wrapped struct {
		Job *apiJob
	}
	if json.Unmarshal(data, &wrapped) != nil {
		return data
	}
	if wrapped.Job != nil {
		// loadJobJSON reads only "Job" when it is there.
		if out, err := json.Marshal(wrapped); err == nil {
			return out
		}
		return data
	}
	var job apiJob
	if json.Unmarshal(data, &job) != nil {
		return data
	}
	if out, err := json.Marshal(job); err == nil {
		return out
	}
	return data
}
