package reports_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	gosarif "github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/nvlint/nvlint/checks"
	"github.com/nvlint/nvlint/inputs"
	"github.com/nvlint/nvlint/reports"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/snapshot"
)

// The SARIF output is validated three ways:
//
//  1. against the official OASIS SARIF 2.1.0 JSON schema
//     (sarif-schema-2.1.0.json, errata01), with a JSON Schema validator.
//     The schema comes from the Go module github.com/owenrumney/go-sarif/v3,
//     which carries it verbatim as a string constant in
//     pkg/report/v210/sarif/schema.go; the test reads that constant out of
//     the module's source in the module cache, so no schema file is
//     copied into this repository.
//  2. by go-sarif itself, which must read it back whole (its Validate
//     cannot judge a log it read; see validateSARIF).
//  3. against what GitHub code scanning requires beyond the schema,
//     checked explicitly (docs.github.com, "SARIF support for code
//     scanning").

var (
	schemaOnce sync.Once
	schema     *jsonschema.Schema
	schemaErr  error
)

func sarifSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	schemaOnce.Do(func() { schema, schemaErr = loadSARIFSchema() })
	if schemaErr != nil {
		t.Fatalf("loading the SARIF 2.1.0 schema: %v", schemaErr)
	}
	return schema
}

func loadSARIFSchema() (*jsonschema.Schema, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/owenrumney/go-sarif/v3").Output()
	if err != nil {
		return nil, err
	}
	file := filepath.Join(strings.TrimSpace(string(out)), "pkg", "report", "v210", "sarif", "schema.go")
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		return nil, err
	}
	var text string
	ast.Inspect(f, func(n ast.Node) bool {
		if v, ok := n.(*ast.ValueSpec); ok && len(v.Names) == 1 && v.Names[0].Name == "schema" && len(v.Values) == 1 {
			if lit, ok := v.Values[0].(*ast.BasicLit); ok {
				text, err = strconv.Unquote(lit.Value)
			}
		}
		return text == ""
	})
	if err != nil || text == "" {
		return nil, &os.PathError{Op: "find const schema", Path: file, Err: os.ErrNotExist}
	}
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(text))
	if err != nil {
		return nil, err
	}
	if m, ok := doc.(map[string]any); !ok || m["id"] != "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json" ||
		m["title"] != "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema" {
		return nil, &os.PathError{Op: "not the OASIS SARIF 2.1.0 schema", Path: file, Err: os.ErrInvalid}
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	const url = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, err
	}
	return c.Compile(url)
}

// validateSARIF runs the three validations over one log.
func validateSARIF(t *testing.T, name string, data []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: not JSON: %v", name, err)
	}
	if err := sarifSchema(t).Validate(inst); err != nil {
		t.Errorf("%s: does not validate against sarif-schema-2.1.0.json: %v", name, err)
	}
	// go-sarif's Validate cannot be used on a log it read: its model
	// writes back properties the log never had (language "", an empty
	// newlineSequences) that fail the schema. Reading is still a check.
	rep, err := gosarif.FromBytes(data)
	if err != nil {
		t.Errorf("%s: go-sarif cannot read it: %v", name, err)
	} else {
		var raw struct {
			Runs []struct{ Results []struct{ RuleID string } }
		}
		_ = json.Unmarshal(data, &raw)
		if len(rep.Runs) != 1 || len(rep.Runs[0].Results) != len(raw.Runs[0].Results) {
			t.Errorf("%s: go-sarif read %d runs, not the log's results", name, len(rep.Runs))
		} else {
			for i, res := range rep.Runs[0].Results {
				if res.RuleID == nil || *res.RuleID != raw.Runs[0].Results[i].RuleID {
					t.Errorf("%s: go-sarif read result %d without its ruleId", name, i)
				}
			}
		}
	}
	for _, p := range githubProblems(data) {
		t.Errorf("%s: GitHub code scanning: %s", name, p)
	}
}

// githubLog is the part of a SARIF log GitHub code scanning reads.
type githubLog struct {
	Version string `json:"version"`
	Runs    []struct {
		Tool struct {
			Driver struct {
				Name  string `json:"name"`
				Rules []struct {
					ID               string                  `json:"id"`
					ShortDescription struct{ Text string }   `json:"shortDescription"`
					FullDescription  struct{ Text string }   `json:"fullDescription"`
					Help             struct{ Text string }   `json:"help"`
					Properties       struct{ Tags []string } `json:"properties"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		OriginalURIBaseIDs map[string]struct {
			URI string `json:"uri"`
		} `json:"originalUriBaseIds"`
		Results []struct {
			RuleID              string                `json:"ruleId"`
			RuleIndex           *int                  `json:"ruleIndex"`
			Level               string                `json:"level"`
			Message             struct{ Text string } `json:"message"`
			PartialFingerprints map[string]string     `json:"partialFingerprints"`
			Locations           []githubLocation      `json:"locations"`
			RelatedLocations    []githubLocation      `json:"relatedLocations"`
		} `json:"results"`
	} `json:"runs"`
}

type githubLocation struct {
	ID               *int `json:"id"`
	PhysicalLocation *struct {
		ArtifactLocation struct {
			URI       string `json:"uri"`
			URIBaseID string `json:"uriBaseId"`
		} `json:"artifactLocation"`
		Region *struct {
			StartLine, StartColumn, EndLine, EndColumn int
		} `json:"region"`
	} `json:"physicalLocation"`
	LogicalLocations []struct {
		FullyQualifiedName string `json:"fullyQualifiedName"`
	} `json:"logicalLocations"`
}

// githubProblems lists what GitHub code scanning would reject or show
// badly, per its SARIF support documentation: the limits on runs,
// results, locations and tags; rules with an id, descriptions and help;
// results whose ruleId names a rule, with a message, a level and
// fingerprints; locations with a URI relative to a base the run defines
// (or an absolute file URI) and a region that starts on line 1 or later.
func githubProblems(data []byte) []string {
	var log githubLog
	if err := json.Unmarshal(data, &log); err != nil {
		return []string{err.Error()}
	}
	var ps []string
	bad := func(format string, args ...any) { ps = append(ps, strings.TrimSpace(fmt.Sprintf(format, args...))) }
	if log.Version != "2.1.0" {
		bad("version %q, want 2.1.0", log.Version)
	}
	if len(log.Runs) == 0 || len(log.Runs) > 20 {
		bad("%d runs; GitHub takes 1 to 20", len(log.Runs))
	}
	for _, run := range log.Runs {
		if run.Tool.Driver.Name == "" {
			bad("tool.driver.name is empty")
		}
		if len(run.Results) > 25000 || len(run.Tool.Driver.Rules) > 25000 {
			bad("over 25,000 results or rules in a run")
		}
		index := map[string]int{}
		for i, r := range run.Tool.Driver.Rules {
			if r.ID == "" {
				bad("rule %d has no id", i)
			}
			if _, dup := index[r.ID]; dup {
				bad("rule %s listed twice", r.ID)
			}
			index[r.ID] = i
			if r.ShortDescription.Text == "" || r.FullDescription.Text == "" || r.Help.Text == "" {
				bad("rule %s lacks shortDescription, fullDescription or help text", r.ID)
			}
			if len(r.Properties.Tags) > 20 {
				bad("rule %s has %d tags; GitHub takes 20", r.ID, len(r.Properties.Tags))
			}
		}
		for i, res := range run.Results {
			at := fmt.Sprintf("result %d (%s)", i, res.RuleID)
			ri, ok := index[res.RuleID]
			if !ok {
				bad("%s: ruleId is not a rule of the driver", at)
			} else if res.RuleIndex != nil && *res.RuleIndex != ri {
				bad("%s: ruleIndex %d points at rule %d", at, *res.RuleIndex, ri)
			}
			if res.Message.Text == "" {
				bad("%s: no message text", at)
			}
			switch res.Level {
			case "error", "warning", "note", "none":
			default:
				bad("%s: level %q", at, res.Level)
			}
			if len(res.PartialFingerprints) == 0 {
				bad("%s: no partialFingerprints; alerts would be duplicated across runs", at)
			}
			if len(res.Locations) == 0 || len(res.Locations) > 1000 {
				bad("%s: %d locations; GitHub takes 1 to 1,000", at, len(res.Locations))
			}
			ids := map[int]bool{}
			for _, loc := range append(append([]githubLocation{}, res.Locations...), res.RelatedLocations...) {
				if loc.ID != nil {
					if ids[*loc.ID] {
						bad("%s: location id %d used twice", at, *loc.ID)
					}
					ids[*loc.ID] = true
				}
				p := loc.PhysicalLocation
				if p == nil {
					if len(loc.LogicalLocations) == 0 || loc.LogicalLocations[0].FullyQualifiedName == "" {
						bad("%s: a location with neither a file nor a named object", at)
					}
					continue
				}
				uri, base := p.ArtifactLocation.URI, p.ArtifactLocation.URIBaseID
				switch {
				case strings.HasPrefix(uri, "file:///") && base == "":
					// A file outside the checkout: code scanning makes an
					// absolute file URI relative to the checkout when it
					// can, and no relative path could name it.
				case uri == "" || strings.Contains(uri, "\\") || strings.Contains(uri, "://") || strings.HasPrefix(uri, "/") || strings.HasPrefix(uri, "./"):
					bad("%s: uri %q is not a clean path relative to the checkout", at, uri)
				case uri != "-" && (base == "" || run.OriginalURIBaseIDs[base].URI == ""):
					bad("%s: relative uri %q has no uriBaseId defined in originalUriBaseIds", at, uri)
				}
				if p.Region == nil || p.Region.StartLine < 1 {
					bad("%s: region must start on line 1 or later", at)
				} else if p.Region.EndLine != 0 && (p.Region.EndLine < p.Region.StartLine ||
					p.Region.EndLine == p.Region.StartLine && p.Region.EndColumn != 0 && p.Region.EndColumn <= p.Region.StartColumn) {
					bad("%s: region ends before it starts: %+v", at, *p.Region)
				}
			}
		}
	}
	return ps
}

// TestSARIFSchema renders SARIF for every fixture (file cases, live
// cases replayed from snapshots, the example setups) and for a report of
// hostile text, and validates each.
func TestSARIFSchema(t *testing.T) {
	var b bytes.Buffer
	wd, _ := os.Getwd()
	if err := reports.Write(&b, reports.FormatSARIF, hostileReport(), reports.Options{SourceRoot: wd}); err != nil {
		t.Fatal(err)
	}
	validateSARIF(t, "hostile report", b.Bytes())
	if !strings.Contains(b.String(), `"uri": "dir%2Cwith%3Aodd/pol%25icy.hcl"`) {
		t.Errorf("file name not percent-encoded as a URI:\n%s", b.String())
	}

	dirs, _ := filepath.Glob("../fixtures/cases/*/*")
	examples, _ := filepath.Glob("../fixtures/examples/*")
	dirs = append(dirs, examples...)
	if len(dirs) < 50 {
		t.Fatalf("found only %d fixture directories", len(dirs))
	}
	results := 0
	for _, dir := range dirs {
		rep := lintFixture(t, dir)
		if rep == nil {
			continue
		}
		results += len(rep.Findings)
		b.Reset()
		if err := reports.Write(&b, reports.FormatSARIF, rep, reports.Options{}); err != nil {
			t.Fatal(err)
		}
		validateSARIF(t, dir, b.Bytes())
	}
	if results < 50 {
		t.Errorf("only %d results validated", results)
	}
}

// TestSARIFSchemaCatchesErrors makes sure the validation is not vacuous.
func TestSARIFSchemaCatchesErrors(t *testing.T) {
	var b bytes.Buffer
	if err := reports.Write(&b, reports.FormatSARIF, hostileReport(), reports.Options{}); err != nil {
		t.Fatal(err)
	}
	for name, breakIt := range map[string]func(string) string{
		"bad level":       func(s string) string { return strings.Replace(s, `"level": "error"`, `"level": "fatal"`, 1) },
		"line 0":          func(s string) string { return strings.Replace(s, `"startLine": 2`, `"startLine": 0`, 1) },
		"unknown field":   func(s string) string { return strings.Replace(s, `"ruleId"`, `"rule": "x", "ruleId"`, 1) },
		"no message text": func(s string) string { return strings.Replace(s, `"message": {`, `"message": {"id": "x"}, "x": {`, 1) },
	} {
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(breakIt(b.String())))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if sarifSchema(t).Validate(inst) == nil {
			t.Errorf("%s: the schema accepted a broken log", name)
		}
	}
}

// lintFixture runs every rule over a fixture directory as the fixtures
// test does, or returns nil for a directory with nothing to lint.
func lintFixture(t *testing.T, dir string) *reports.Report {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var paths []string
	var snap []byte
	for _, e := range entries {
		switch {
		case e.IsDir(), e.Name() == "findings.golden", filepath.Ext(e.Name()) == ".tpl":
		case e.Name() == "snapshot.json":
			snap, _ = os.ReadFile(filepath.Join(dir, e.Name()))
		default:
			paths = append(paths, filepath.Join(dir, e.Name()))
		}
	}
	if len(paths) == 0 && snap == nil {
		return nil
	}
	w, _, err := inputs.Load(paths, inputs.Options{})
	if err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	if snap != nil {
		live, err := snapshot.Load(snap)
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		w = snapshot.Overlay(w, live)
	}
	catalog := checks.All()
	res := rules.Run(w, catalog)
	return &reports.Report{Findings: res.Findings, Skipped: res.Skipped, Files: w.Files, Catalog: catalog, Version: "test"}
}
