package inputs

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nvlint/nvlint/world"
)

// LiveJob reads a job as the Nomad API returns it (GET /v1/job/:id, bare
// or as {"Job": ...}) into w, as LiveObject would, when one of its tasks
// has a vault block; vault reports whether one does.
//
// Doctor reads thousands of jobs, and hcl's JSON parser, which keeps a
// source range for every value of a document several times larger than
// what nvlint reads, was most of its time. A live object has no file to
// point into, so the job is decoded with encoding/json into the keys
// loadJobJSON reads and built from their values directly. A value of a
// type the API never writes there (a number for a name, an object for a
// list) leaves the job to LiveObject, so both readers always agree; the
// fuzz test FuzzLiveJob holds them to that.
//
// A document that is not JSON gives encoding/json's *json.SyntaxError;
// one whose task groups or tasks are not lists of objects its
// *json.UnmarshalTypeError, unless the job still has a vault block for
// LiveObject to read.
//
// Nothing in w keeps data: the caller may reuse it.
func LiveJob(w *world.World, name, origin string, data []byte) (vault bool, err error) {
	var doc struct {
		apiJob
		Job *apiJob `json:",omitempty"`
	}
	// byHCL reads the job as before, from doc.
	byHCL := func(doc []byte) (bool, error) {
		if vault, err := usesVault(data); err != nil || !vault {
			return false, err
		}
		return true, LiveObject(w, world.KindJobspec, name, origin, doc)
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return byHCL(data) // not the shape of an API job: untrimmed
	}
	trimmed := &doc.apiJob
	if doc.Job != nil {
		trimmed = doc.Job
	}
	job, ok := jobOfAPI(trimmed)
	if !ok {
		return byHCL(TrimAPIJob(data)) // a value only hcl's conversions read as loadJobJSON does
	}
	if !hasVaultBlock(job) {
		return false, nil
	}
	job.Ref = world.ObjectRef{Kind: world.KindJobspec, Name: job.ID.V, Origin: origin}
	parseJobTemplates(job) // here, where doctor reads jobs in parallel
	w.Jobs = append(w.Jobs, job)
	return true, nil
}

func hasVaultBlock(job *world.Job) bool {
	for _, g := range job.Groups {
		for _, t := range g.Tasks {
			if t.Vault != nil {
				return true
			}
		}
	}
	return false
}

// usesVault reports whether any task of an API job has a vault block
// (any value but null).
func usesVault(raw []byte) (bool, error) {
	type groups []struct {
		Tasks []struct {
			Vault json.RawMessage
		}
	}
	var j struct {
		TaskGroups groups
		Job        *struct{ TaskGroups groups } // read alone when there, as loadJobJSON does
	}
	if err := json.Unmarshal(raw, &j); err != nil {
		return false, err
	}
	if j.Job != nil {
		j.TaskGroups = j.Job.TaskGroups
	}
	for _, g := range j.TaskGroups {
		for _, t := range g.Tasks {
			if len(t.Vault) > 0 && string(t.Vault) != "null" {
				return true, nil
			}
		}
	}
	return false, nil
}

// jobOfAPI builds the job loadJobJSON reads from the same document, or
// reports false for a value it does not convert as hcl would.
func jobOfAPI(a *apiJob) (*world.Job, bool) {
	d := apiDecoder{ok: true}
	job := &world.Job{}
	job.ID = d.str(a.ID)
	if !job.ID.Known {
		job.ID = d.str(a.Name)
	}
	job.Namespace = d.str(a.Namespace)
	job.Region = d.str(a.Region)
	job.Type = d.str(a.Type)
	job.ParentID = d.str(a.ParentID)
	if a.Periodic != nil {
		job.Periodic = d.boolean(a.Periodic.Enabled).V
	}
	job.Parameterized = nonEmptyObject(a.ParameterizedJob)
	if a.TaskGroups != nil {
		for _, ga := range *a.TaskGroups {
			if ga == nil {
				continue
			}
			g := &world.Group{Name: d.str(ga.Name)}
			if ga.Tasks != nil {
				for _, ta := range *ga.Tasks {
					if ta != nil {
						g.Tasks = append(g.Tasks, d.task(ta))
					}
				}
			}
			job.Groups = append(job.Groups, g)
		}
	}
	return job, d.ok
}

// apiGroup is one task group of an apiJob.
type apiGroup struct {
	Name  json.RawMessage `json:",omitempty"`
	Tasks *[]*apiTask     `json:",omitempty"`
}

// apiTask is one task of an apiJob.
type apiTask struct {
	Name       json.RawMessage `json:",omitempty"`
	Vault      *apiVault       `json:",omitempty"`
	Identities *[]*apiIdentity `json:",omitempty"`
	Templates  *[]*apiTemplate `json:",omitempty"`
	Secrets    *[]*apiSecret   `json:",omitempty"`
}

type apiVault struct {
	Policies, Role, Cluster, Namespace json.RawMessage `json:",omitempty"`
	ChangeMode, AllowTokenExpiration   json.RawMessage `json:",omitempty"`
}

type apiIdentity struct {
	Name, Audience json.RawMessage `json:",omitempty"`
}

type apiTemplate struct {
	SourcePath, DestPath, Envvars, LeftDelim, RightDelim, EmbeddedTmpl json.RawMessage `json:",omitempty"`
	ChangeMode                                                         json.RawMessage `json:",omitempty"`
}

// apiSecret is a secret block: its Env (custom plugins only) may hold
// credentials and is not read.
type apiSecret struct {
	Name, Provider, Path json.RawMessage  `json:",omitempty"`
	Config               *apiSecretConfig `json:",omitempty"`
}

type apiSecretConfig struct {
	Engine json.RawMessage `json:"engine,omitempty"`
}

// apiDecoder turns an apiJob's values into world values as strValue,
// boolAttr and listValue turn hcl's JSON expressions into them, for the
// types the API writes; ok turns false at any other.
type apiDecoder struct{ ok bool }

func (d *apiDecoder) task(ta *apiTask) *world.Task {
	t := &world.Task{Name: d.str(ta.Name)}
	if va := ta.Vault; va != nil {
		t.Vault = &world.VaultBlock{
			Level:     "task",
			Policies:  d.list(va.Policies),
			Role:      d.str(va.Role),
			Cluster:   d.str(va.Cluster),
			Namespace: d.str(va.Namespace),

			ChangeMode:           d.str(va.ChangeMode),
			AllowTokenExpiration: d.boolean(va.AllowTokenExpiration),
		}
	}
	if ta.Identities != nil {
		for _, ia := range *ta.Identities {
			if ia != nil {
				t.Identities = append(t.Identities, &world.Identity{Name: d.str(ia.Name), Aud: d.list(ia.Audience)})
			}
		}
	}
	if ta.Templates != nil {
		for _, tp := range *ta.Templates {
			if tp == nil {
				continue
			}
			tpl := &world.Template{
				Source:      d.str(tp.SourcePath),
				Destination: d.str(tp.DestPath),
				Env:         d.boolean(tp.Envvars),
				ChangeMode:  d.str(tp.ChangeMode),
				LeftDelim:   d.str(tp.LeftDelim),
				RightDelim:  d.str(tp.RightDelim),
			}
			if len(tp.EmbeddedTmpl) > 0 {
				// Written at all, the text is set; known when a string.
				tpl.Data = d.str(tp.EmbeddedTmpl)
				tpl.Data.Set = true
			}
			t.SecretRefs = append(t.SecretRefs, templateSecretRefs(tpl)...)
			t.Templates = append(t.Templates, tpl)
		}
	}
	if ta.Secrets != nil {
		for _, sa := range *ta.Secrets {
			if sa == nil {
				continue
			}
			s := &world.Secret{Name: d.str(sa.Name), Provider: d.str(sa.Provider), Path: d.str(sa.Path), Level: "task"}
			if sa.Config != nil {
				s.Engine = d.str(sa.Config.Engine)
			}
			t.Secrets = append(t.Secrets, s)
		}
	}
	return t
}

// str reads a string: absent and null are unset.
func (d *apiDecoder) str(raw json.RawMessage) world.Str {
	switch {
	case len(raw) == 0 || isJSONNull(raw):
		return world.Str{}
	case raw[0] == '"':
		if s, ok := jsonString(raw); ok {
			return world.Str{V: s, Set: true, Known: true}
		}
	}
	d.ok = false
	return world.Str{}
}

// boolean reads a boolean, or a string Go's strconv reads as one (Nomad
// and Vault decode weakly); null is set but not known.
func (d *apiDecoder) boolean(raw json.RawMessage) world.Bool {
	switch {
	case len(raw) == 0:
		return world.Bool{}
	case isJSONNull(raw):
		return world.Bool{Set: true}
	case string(raw) == "true" || string(raw) == "false":
		return world.Bool{V: string(raw) == "true", Set: true, Known: true}
	case raw[0] == '"':
		if s, ok := jsonString(raw); ok {
			b, err := strconv.ParseBool(s)
			return world.Bool{V: b, Set: true, Known: err == nil}
		}
	}
	d.ok = false
	return world.Bool{}
}

// list reads a list of strings, whose null elements make it not known,
// or a string of comma-separated elements.
func (d *apiDecoder) list(raw json.RawMessage) world.List {
	switch {
	case len(raw) == 0 || isJSONNull(raw):
		return world.List{}
	case raw[0] == '"':
		s := d.str(raw)
		return world.List{Set: true, Known: true, Items: splitCommaString(s)}
	case raw[0] == '[':
		var elems []json.RawMessage
		if json.Unmarshal(raw, &elems) != nil {
			break
		}
		out := world.List{Set: true, Known: true}
		for _, e := range elems {
			s := d.str(e)
			if !s.Known {
				out.Known = false
				continue
			}
			out.Items = append(out.Items, s)
		}
		return out
	}
	d.ok = false
	return world.List{}
}

// jsonString decodes a JSON string. Template texts are most of doctor's
// strings, and all have escaped newlines: the common escapes are undone
// here, and a string with \u escapes or bytes that are not UTF-8
// (encoding/json replaces those) is left to encoding/json.
func jsonString(raw json.RawMessage) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	in := raw[1 : len(raw)-1]
	if bytes.IndexByte(in, '\\') < 0 && utf8.Valid(in) {
		return string(in), true
	}
	if !utf8.Valid(in) {
		return decodedString(raw)
	}
	var b strings.Builder
	b.Grow(len(in))
	for i := 0; i < len(in); i++ {
		c := in[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		if i++; i == len(in) {
			return decodedString(raw)
		}
		switch in[i] {
		case '"', '\\', '/':
			b.WriteByte(in[i])
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		default: // \u, or not JSON
			return decodedString(raw)
		}
	}
	return b.String(), true
}

func decodedString(raw json.RawMessage) (string, bool) {
	var s string
	return s, json.Unmarshal(raw, &s) == nil
}

// nonEmptyObject reports whether raw is an object with at least one key.
func nonEmptyObject(raw json.RawMessage) bool {
	if len(raw) == 0 || raw[0] != '{' {
		return false
	}
	var m map[string]json.RawMessage
	return json.Unmarshal(raw, &m) == nil && len(m) > 0
}

func isJSONNull(raw json.RawMessage) bool { return bytes.Equal(raw, []byte("null")) }

// APIJobJSON writes a job read from the Nomad API back as the API
// document nvlint reads (what TrimAPIJob keeps), for snapshots: a live
// job keeps no copy of its data, whose template texts would double
// doctor's memory on a fleet. LiveJob reads the document back to the
// same job; a value that was written but not known is written as null.
func APIJobJSON(j *world.Job) ([]byte, error) {
	a := apiJob{
		ID: jsonValue(j.ID), Namespace: jsonValue(j.Namespace), Region: jsonValue(j.Region),
		Type: jsonValue(j.Type), ParentID: jsonValue(j.ParentID),
	}
	if j.Periodic {
		a.Periodic = &apiPeriodic{Enabled: json.RawMessage("true")}
	}
	if j.Parameterized {
		a.ParameterizedJob = json.RawMessage(`{"Payload":"optional"}`)
	}
	groups := make([]*apiGroup, 0, len(j.Groups))
	for _, g := range j.Groups {
		ag := &apiGroup{Name: jsonValue(g.Name)}
		tasks := make([]*apiTask, 0, len(g.Tasks))
		for _, t := range g.Tasks {
			tasks = append(tasks, apiTaskOf(t))
		}
		ag.Tasks = &tasks
		groups = append(groups, ag)
	}
	a.TaskGroups = &groups
	return json.Marshal(&a)
}

func apiTaskOf(t *world.Task) *apiTask {
	at := &apiTask{Name: jsonValue(t.Name)}
	if v := t.Vault; v != nil {
		at.Vault = &apiVault{
			Policies: jsonList(v.Policies), Role: jsonValue(v.Role), Cluster: jsonValue(v.Cluster), Namespace: jsonValue(v.Namespace),
			ChangeMode: jsonValue(v.ChangeMode), AllowTokenExpiration: jsonValue(v.AllowTokenExpiration),
		}
	}
	if len(t.Identities) > 0 {
		ids := make([]*apiIdentity, 0, len(t.Identities))
		for _, id := range t.Identities {
			ids = append(ids, &apiIdentity{Name: jsonValue(id.Name), Audience: jsonList(id.Aud)})
		}
		at.Identities = &ids
	}
	if len(t.Templates) > 0 {
		tpls := make([]*apiTemplate, 0, len(t.Templates))
		for _, tpl := range t.Templates {
			tpls = append(tpls, &apiTemplate{
				SourcePath: jsonValue(tpl.Source), DestPath: jsonValue(tpl.Destination), Envvars: jsonValue(tpl.Env),
				LeftDelim: jsonValue(tpl.LeftDelim), RightDelim: jsonValue(tpl.RightDelim), ChangeMode: jsonValue(tpl.ChangeMode),
				EmbeddedTmpl: jsonValue(tpl.Data),
			})
		}
		at.Templates = &tpls
	}
	if len(t.Secrets) > 0 {
		secrets := make([]*apiSecret, 0, len(t.Secrets))
		for _, s := range t.Secrets {
			as := &apiSecret{Name: jsonValue(s.Name), Provider: jsonValue(s.Provider), Path: jsonValue(s.Path)}
			if s.Engine.Set {
				as.Config = &apiSecretConfig{Engine: jsonValue(s.Engine)}
			}
			secrets = append(secrets, as)
		}
		at.Secrets = &secrets
	}
	return at
}

// jsonValue writes a string or boolean; nil (absent) when unset, null
// when not known.
func jsonValue[T string | bool](v world.Value[T]) json.RawMessage {
	switch {
	case !v.Set:
		return nil
	case !v.Known:
		return json.RawMessage("null")
	}
	b, _ := json.Marshal(v.V) // strings and booleans always encode
	return b
}

// jsonList writes a list's elements, and a null element when some were
// not known.
func jsonList(l world.List) json.RawMessage {
	if !l.Set {
		return nil
	}
	var elems []any
	for _, it := range l.Items {
		elems = append(elems, it.V)
	}
	if !l.Known {
		elems = append(elems, nil)
	}
	if elems == nil {
		elems = []any{}
	}
	b, _ := json.Marshal(elems) // strings and null always encode
	return b
}
