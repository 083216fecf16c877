package reports

import (
	"encoding/json"
	"io"

	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// The JSON format is a stable interface: fields are only ever added.

type jsonReport struct {
	Version  int       `json:"version"`
	Verdicts []Verdict `json:"verdicts,omitempty"`
	// Setups names the setups of a run that linted several.
	Setups   []string      `json:"setups,omitempty"`
	Findings []jsonFinding `json:"findings"`
	// Fixed are the findings lint --fix resolved, as they were before.
	Fixed   []jsonFinding `json:"fixed,omitempty"`
	Summary Summary       `json:"summary"`
}

type jsonFinding struct {
	Rule     string          `json:"rule"`
	Name     string          `json:"name"`
	Severity rules.Severity  `json:"severity"`
	Message  string          `json:"message"`
	Location *jsonLocation   `json:"location,omitempty"`
	Object   world.ObjectRef `json:"object"`
	Evidence []string        `json:"evidence,omitempty"`
	Related  []jsonRelated   `json:"related,omitempty"`
	Fixes    []jsonFix       `json:"fixes,omitempty"`
	// Fixable is set (lint) when --fix would apply the first fix.
	Fixable bool `json:"fixable,omitempty"`
	// Setup is the setup the finding is about, when the run linted
	// several.
	Setup string `json:"setup,omitempty"`
}

type jsonLocation struct {
	File      string `json:"file"`
	Line      int    `json:"line"`
	Column    int    `json:"column"`
	EndLine   int    `json:"end_line"`
	EndColumn int    `json:"end_column"`
}

type jsonRelated struct {
	Message  string        `json:"message"`
	Location *jsonLocation `json:"location,omitempty"`
}

type jsonFix struct {
	Description string     `json:"description"`
	Edits       []jsonEdit `json:"edits"`
	Commands    []string   `json:"commands"`
	// Manual fixes need a decision first; lint --fix does not apply them.
	Manual bool `json:"manual,omitempty"`
}

type jsonEdit struct {
	jsonLocation
	NewText string `json:"new_text"`
}

func location(r hcl.Range) *jsonLocation {
	if r.Filename == "" {
		return nil
	}
	return &jsonLocation{File: r.Filename, Line: r.Start.Line, Column: r.Start.Column, EndLine: r.End.Line, EndColumn: r.End.Column}
}

func writeJSON(w io.Writer, r *Report) error {
	out := jsonReport{Version: 1, Verdicts: r.Verdicts, Setups: r.Setups, Findings: []jsonFinding{}, Summary: r.Summary()}
	for _, f := range r.Findings {
		jf := toJSON(f)
		jf.Fixable = r.MarkFixable && f.Fixable()
		out.Findings = append(out.Findings, jf)
	}
	for _, f := range r.Fixed {
		out.Fixed = append(out.Fixed, toJSON(f))
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func toJSON(f rules.Finding) jsonFinding {
	jf := jsonFinding{
		Rule: f.Rule.ID, Name: f.Rule.Name, Severity: f.Severity, Message: f.Message,
		Location: location(f.Range), Object: f.Object, Evidence: f.Evidence,
		Setup: f.Setup,
	}
	for _, rel := range f.Related {
		jf.Related = append(jf.Related, jsonRelated{Message: rel.Message, Location: location(rel.Range)})
	}
	for _, fx := range f.Fixes {
		jx := jsonFix{Description: fx.Description, Edits: []jsonEdit{}, Commands: fx.CommandLines(), Manual: fx.Manual}
		if jx.Commands == nil {
			jx.Commands = []string{}
		}
		for _, e := range fx.Edits {
			loc := location(e.Range)
			if loc == nil {
				continue
			}
			jx.Edits = append(jx.Edits, jsonEdit{jsonLocation: *loc, NewText: e.NewText})
		}
		jf.Fixes = append(jf.Fixes, jx)
	}
	return jf
}
