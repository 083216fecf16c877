package inputs

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	hcljson "github.com/hashicorp/hcl/v2/json"

	"github.com/nvlint/nvlint/internal/corpus"
	"github.com/nvlint/nvlint/world"
)

// TestTrimAPIJob checks that trimming a live job to the keys nvlint reads
// changes nothing it reads: every API job of a generated corpus, padded
// with the defaults a real Nomad adds, loads to the same job trimmed or
// not (source ranges aside: a live object has no file).
func TestTrimAPIJob(t *testing.T) {
	dir := t.TempDir()
	if _, err := corpus.Generate(dir, corpus.Options{Files: 400, Seed: 3, MistakeRate: 0.2}); err != nil {
		t.Fatal(err)
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "nomad", "jobs", "*", "*.nomad.json"))
	if len(paths) < 5 {
		t.Fatalf("only %d API jobs in the corpus", len(paths))
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		padded := pad(t, data)
		if trimmed := TrimAPIJob(padded); len(trimmed) >= len(padded) {
			t.Errorf("%s: trimming kept %d of %d bytes", p, len(trimmed), len(padded))
		}
		// Bare and wrapped, as /v1/job/:id and nomad job inspect give it.
		var wrapped map[string]json.RawMessage
		_ = json.Unmarshal(padded, &wrapped)
		for _, doc := range [][]byte{padded, wrapped["Job"]} {
			got := &world.World{}
			if err := LiveObject(got, world.KindJobspec, "x", "nomad:x", TrimAPIJob(doc)); err != nil {
				t.Fatal(err)
			}
			want := untrimmed(t, doc)
			if len(got.Jobs) != 1 || len(want.Jobs) != 1 {
				t.Fatalf("%s: %d and %d jobs", p, len(got.Jobs), len(want.Jobs))
			}
			g, w := *got.Jobs[0], *want.Jobs[0]
			g.Raw, w.Raw = nil, nil
			if zg, zw := zeroRanges(g), zeroRanges(w); !reflect.DeepEqual(zg, zw) {
				t.Errorf("%s: trimmed job differs:\n got %+v\nwant %+v", p, zg, zw)
			}
			if err := sameLiveJob(doc, want); err != nil {
				t.Errorf("%s: %v", p, err)
			}
		}
	}
	// Elements that are not objects are skipped, trimmed or not.
	for _, odd := range []string{
		`{"ID": "a", "TaskGroups": [null, {"Name": "g", "Tasks": [null, {"Name": "t", "Vault": {}, "Identities": [null], "Templates": null}]}]}`,
		`{"Job": {"ID": "a", "Periodic": {"Enabled": true}, "TaskGroups": []}}`,
		`{"Job": null, "ID": "b", "Periodic": {"SpecType": "cron"}}`,
		`{"ID": "c", "TaskGroups": [{"Name": "g", "Tasks": [{"Name": "t", "Secrets": [null, {"Name": "db", "Provider": "vault", "Path": "kv/db", "Config": {"engine": "kv_v2", "other": 1}, "Env": {"K": "v"}}, {"Name": "n", "Provider": "nomad", "Path": "x", "Config": null}]}]}]}`,
	} {
		got := &world.World{}
		if err := LiveObject(got, world.KindJobspec, "x", "nomad:x", TrimAPIJob([]byte(odd))); err != nil {
			t.Fatal(err)
		}
		want := untrimmed(t, []byte(odd))
		g, w := *got.Jobs[0], *want.Jobs[0]
		g.Raw, w.Raw = nil, nil
		if zg, zw := zeroRanges(g), zeroRanges(w); !reflect.DeepEqual(zg, zw) {
			t.Errorf("%s: trimmed job differs:\n got %+v\nwant %+v", odd, zg, zw)
		}
		if err := sameLiveJob([]byte(odd), want); err != nil {
			t.Errorf("%s: %v", odd, err)
		}
	}
	for _, junk := range []string{`{"Job": 1}`, `[]`, `{"TaskGroups": [1]}`, `{"TaskGroups": null, "ID": "a"}`, `not json`} {
		if got := TrimAPIJob([]byte(junk)); junk != `{"TaskGroups": null, "ID": "a"}` && string(got) != junk {
			t.Errorf("TrimAPIJob(%s) = %s, want it untouched", junk, got)
		}
	}
}

// sameLiveJob checks that LiveJob reads doc as loadJobJSON reads it
// untrimmed (want), when one of its tasks has a vault block, and that
// APIJobJSON writes the job back so that it reads the same.
func sameLiveJob(doc []byte, want *world.World) error {
	got := &world.World{}
	buf := bytes.Clone(doc)
	uses, err := LiveJob(got, "x", "nomad:x", buf)
	if err != nil {
		return fmt.Errorf("LiveJob: %w", err)
	}
	// Doctor reuses the buffer: nothing read may change with it.
	for i := range buf {
		buf[i] = '#'
	}
	if w := slices.ContainsFunc(want.Jobs, hasVaultBlock); uses != w {
		return fmt.Errorf("LiveJob says vault block %v, loadJobJSON %v", uses, w)
	}
	if !uses {
		if len(got.Jobs) > 0 {
			return fmt.Errorf("LiveJob read %d jobs without a vault block", len(got.Jobs))
		}
		return nil
	}
	if len(got.Jobs) != len(want.Jobs) {
		return fmt.Errorf("LiveJob read %d jobs, loadJobJSON %d", len(got.Jobs), len(want.Jobs))
	}
	g, w := *got.Jobs[0], *want.Jobs[0]
	w.Raw = nil
	if zg, zw := zeroRanges(g), zeroRanges(w); !reflect.DeepEqual(zg, zw) {
		return fmt.Errorf("LiveJob's job differs:\n got %+v\nwant %+v", zg, zw)
	}
	// A snapshot writes the job back; read again, it is the same job.
	data, err := APIJobJSON(got.Jobs[0])
	if err != nil {
		return fmt.Errorf("APIJobJSON: %w", err)
	}
	again := &world.World{}
	if _, err := LiveJob(again, "x", "nomad:x", data); err != nil || len(again.Jobs) != 1 {
		return fmt.Errorf("LiveJob of APIJobJSON's %s: %d jobs, %w", data, len(again.Jobs), err)
	}
	if za, zg := normalized(*again.Jobs[0], true), normalized(g, true); !reflect.DeepEqual(za, zg) {
		return fmt.Errorf("written back as %s, the job reads differently:\n got %+v\nwant %+v", data, za, zg)
	}
	return nil
}

// FuzzLiveJob checks on any document that LiveJob reads what
// loadJobJSON reads, untrimmed, and that it does not panic.
func FuzzLiveJob(f *testing.F) {
	addJobSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 64<<10 {
			return
		}
		got := &world.World{}
		_, errGot := LiveJob(got, "x", "nomad:x", data)
		want := &world.World{}
		errWant := LiveObject(want, world.KindJobspec, "x", "nomad:x", data)
		if errWant != nil || hasCaseVariantKeys(data) {
			// Not a document of a job; or a key like "id" that
			// encoding/json takes for "ID" and loadJobJSON does not
			// (the API never writes one).
			return
		}
		if errGot != nil {
			var syntax *json.SyntaxError
			var shape *json.UnmarshalTypeError
			if errors.As(errGot, &syntax) || errors.As(errGot, &shape) {
				return // refused, as doctor always refused such answers
			}
			t.Fatalf("LiveJob: %v", errGot)
		}
		if err := sameLiveJob(data, want); err != nil {
			t.Fatal(err)
		}
	})
}

// pad adds, at every level, keys a real Nomad fills in.
func pad(t *testing.T, data []byte) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	job := doc["Job"].(map[string]any)
	job["Update"] = map[string]any{"Stagger": 30000000000, "MaxParallel": 1, "HealthCheck": "checks"}
	job["Meta"] = map[string]any{"owner": "x", "Vault": "not the vault block"}
	for _, g := range job["TaskGroups"].([]any) {
		g := g.(map[string]any)
		g["RestartPolicy"] = map[string]any{"Attempts": 2, "Mode": "fail"}
		g["Vault"] = map[string]any{"Role": "ignored at group level in the API"}
		for _, tk := range g["Tasks"].([]any) {
			tk := tk.(map[string]any)
			tk["LogConfig"] = map[string]any{"MaxFiles": 10}
			tk["Env"] = map[string]any{"Name": "not the task name"}
		}
	}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// untrimmed loads an API job without trimming it.
func untrimmed(t *testing.T, data []byte) *world.World {
	t.Helper()
	w := &world.World{}
	file, diags := hcljson.Parse(data, "")
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	top, _ := file.Body.JustAttributes()
	loadJobJSON(&world.File{}, top, w)
	parseTemplates(w) // as the readers do
	detach(w, "nomad:x", data)
	return w
}

// zeroRanges clears every hcl.Range and hcl.Pos in v, recursively.
func zeroRanges(v world.Job) world.Job { return normalized(v, false) }

// normalized is zeroRanges that, with unknownAsUnset, also takes a value
// set but unknown (one hcl reads from a type the API never writes
// there, such as a list for a name) as unset: a snapshot can only write
// it as null.
func normalized(v world.Job, unknownAsUnset bool) world.Job {
	var walk func(reflect.Value)
	rangeT, posT := reflect.TypeOf(hcl.Range{}), reflect.TypeOf(hcl.Pos{})
	seen := map[uintptr]bool{}
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer:
			if v.IsNil() || seen[v.Pointer()] {
				return
			}
			seen[v.Pointer()] = true
			walk(v.Elem())
		case reflect.Struct:
			if v.Type() == rangeT || v.Type() == posT {
				if v.CanSet() {
					v.Set(reflect.Zero(v.Type()))
				}
				return
			}
			if set, known := v.FieldByName("Set"), v.FieldByName("Known"); unknownAsUnset && set.Kind() == reflect.Bool && known.Kind() == reflect.Bool &&
				set.CanSet() && set.Bool() && !known.Bool() {
				set.SetBool(false)
			}
			for i := range v.NumField() {
				if f := v.Field(i); f.CanSet() || f.Kind() == reflect.Pointer || f.Kind() == reflect.Slice {
					walk(f)
				}
			}
		case reflect.Slice:
			for i := range v.Len() {
				walk(v.Index(i))
			}
		}
	}
	walk(reflect.ValueOf(&v).Elem())
	return v
}

// FuzzTrimAPIJob checks on any document that trimming a live job changes
// nothing loadJobJSON reads, and that neither reader panics.
func FuzzTrimAPIJob(f *testing.F) {
	addJobSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 64<<10 {
			return
		}
		trimmed := TrimAPIJob(data)
		got, want := &world.World{}, &world.World{}
		errGot := LiveObject(got, world.KindJobspec, "x", "nomad:x", trimmed)
		errWant := LiveObject(want, world.KindJobspec, "x", "nomad:x", data)
		if string(trimmed) == string(data) || hasCaseVariantKeys(data) {
			// Untrimmed, or a key like "id" that encoding/json takes for
			// "ID" and loadJobJSON does not (the API never writes one).
			return
		}
		// A document trimmed at all decoded as JSON: so must its parse.
		if errGot != nil || errWant != nil {
			if errWant == nil {
				t.Fatalf("the trimmed document does not load: %v", errGot)
			}
			return
		}
		if len(got.Jobs) != len(want.Jobs) {
			t.Fatalf("%d jobs trimmed, %d not", len(got.Jobs), len(want.Jobs))
		}
		for i := range got.Jobs {
			g, w := *got.Jobs[i], *want.Jobs[i]
			g.Raw, w.Raw = nil, nil
			if zg, zw := zeroRanges(g), zeroRanges(w); !reflect.DeepEqual(zg, zw) {
				t.Fatalf("trimmed job differs:\n got %+v\nwant %+v", zg, zw)
			}
		}
	})
}

// addJobSeeds adds a generated corpus's API jobs and odd documents.
func addJobSeeds(f *testing.F) {
	dir := f.TempDir()
	if _, err := corpus.Generate(dir, corpus.Options{Files: 200, Seed: 5, MistakeRate: 0.3}); err != nil {
		f.Fatal(err)
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "nomad", "jobs", "*", "*.nomad.json"))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{`{"Job": null, "ID": "b"}`, `{"TaskGroups": [null, {"Tasks": [{"Vault": {}}]}]}`, `{"ID": 1, "Periodic": []}`, `{"Job": {"TaskGroups": {}}}`,
		`{"TaskGroups": [{"Tasks": [{"Secrets": [{"Name": "db", "Provider": "vault", "Path": "kv/db", "Config": {"engine": "kv_v2"}}, {"Config": []}], "Templates": [{"DestPath": "secrets/${secret.db.f}"}]}]}]}`} {
		f.Add([]byte(s))
	}
}

// apiJobNames are the keys TrimAPIJob keeps, at any level: the JSON
// names of apiJob's fields, read from the types so that none is missed
// when a field is added.
var apiJobNames = func() []string {
	seen := map[string]bool{"Job": true}
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return
		}
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			seen[cmp.Or(name, f.Name)] = true
			walk(f.Type)
		}
	}
	walk(reflect.TypeOf(apiJob{}))
	return slices.Sorted(maps.Keys(seen))
}()

// hasCaseVariantKeys reports whether a JSON document has a key that
// differs only in case from one TrimAPIJob keeps.
func hasCaseVariantKeys(data []byte) bool {
	var doc any
	if json.Unmarshal(data, &doc) != nil {
		return false
	}
	var walk func(any) bool
	walk = func(v any) bool {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				for _, n := range apiJobNames {
					if k != n && strings.EqualFold(k, n) {
						return true
					}
				}
				if walk(e) {
					return true
				}
			}
		case []any:
			for _, e := range v {
				if walk(e) {
					return true
				}
			}
		}
		return false
	}
	return walk(doc)
}

// FuzzJSONString checks jsonString against encoding/json on strings as
// encoders write them, with and without HTML escapes (\u003c).
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", "a\nb\t\"c\"\\", "{{ with secret \"kv/x\" }}\n{{ .Data.data.k }}{{ end }}", "<&>", "é\u2028\U0001F600", "\x00\x1f", "bad \xff utf-8"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var plain bytes.Buffer
		enc := json.NewEncoder(&plain)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(s)
		html, _ := json.Marshal(s)
		for _, raw := range [][]byte{bytes.TrimSuffix(plain.Bytes(), []byte("\n")), html} {
			var want string
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			got, ok := jsonString(raw)
			if !ok || got != want {
				t.Fatalf("jsonString(%s) = %q, %v; want %q", raw, got, ok, want)
			}
		}
	})
}
