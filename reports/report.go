// Package reports renders the findings of a run: a terminal report, JSON
// for other tools, and SARIF for code scanning.
package reports

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// Report is what every format renders.
type Report struct {
	Findings []rules.Finding
	Skipped  []rules.Skip
	// Notes are loader messages (files skipped while walking).
	Notes []string
	Files []*world.File
	// Catalog is the rule catalog that ran, for rule metadata.
	Catalog []rules.Rule
	Version string
	// Verdicts, when set (doctor), open the text report and are part of
	// the JSON.
	Verdicts []Verdict
}

// Summary counts findings by severity.
type Summary struct {
	Files    int `json:"files"`
	Findings int `json:"findings"`
	Errors   int `json:"errors"`
	Warnings int `json:"warnings"`
	Infos    int `json:"infos"`
}

// Summary counts the report's findings.
func (r *Report) Summary() Summary {
	s := Summary{Files: len(r.Files), Findings: len(r.Findings)}
	for _, f := range r.Findings {
		switch f.Severity {
		case rules.Error:
			s.Errors++
		case rules.Warning:
			s.Warnings++
		case rules.Info:
			s.Infos++
		}
	}
	return s
}

// Options are the settings of the text format.
type Options struct {
	Color   bool
	Verbose bool
}

// Format names an output format.
type Format string

// The formats.
const (
	FormatText  Format = "text"
	FormatJSON  Format = "json"
	FormatSARIF Format = "sarif"
)

// Formats lists the supported formats.
var Formats = []Format{FormatText, FormatJSON, FormatSARIF}

// ParseFormat reads a --format value.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = string(f)
	}
	return "", fmt.Errorf("unknown format %q (want %s)", s, strings.Join(names, ", "))
}

// Write renders r in format f.
func Write(w io.Writer, f Format, r *Report, opts Options) error {
	switch f {
	case FormatJSON:
		return writeJSON(w, r)
	case FormatSARIF:
		return writeSARIF(w, r)
	default:
		return writeText(w, r, opts)
	}
}

// fileByPath indexes the report's files.
func (r *Report) fileByPath() map[string]*world.File {
	m := make(map[string]*world.File, len(r.Files))
	for _, f := range r.Files {
		m[f.Path] = f
	}
	return m
}

// rulesUsed returns the catalog entries in ID order.
func (r *Report) rulesUsed() []*rules.Meta {
	var ms []*rules.Meta
	for _, rl := range r.Catalog {
		ms = append(ms, rl.Meta())
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].ID < ms[j].ID })
	return ms
}
