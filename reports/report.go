// Package reports renders the findings of a run: a terminal report, JSON
// for other tools, SARIF for code scanning, JUnit and Checkstyle XML for
// CI dashboards, GitHub Actions annotations and a Markdown PR comment.
package reports

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
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
	// Ran, when set, holds the IDs of the rules that ran; a catalog rule
	// in neither Ran nor Skipped was disabled. JUnit reports a rule that
	// ran clean as a passing test and leaves disabled rules out.
	Ran     map[string]bool
	Version string
	// Verdicts, when set (doctor), open the text report and are part of
	// the JSON.
	Verdicts []Verdict
	// Fixed, when set (lint --fix), are the findings --fix resolved, as
	// they were before; the text report lists them marked [fixed]. They
	// are not in Findings.
	Fixed []rules.Finding
	// MarkFixable (lint) marks the findings --fix can fix [fixable] in the
	// text report.
	MarkFixable bool
	// Suppressed and Baselined count the findings accepted by
	// suppressions (nvlint:ignore, ignore blocks) and by --baseline; they
	// are not in Findings.
	Suppressed, Baselined int
	// Setups, when the run linted its files as several setups, names
	// them in order; every finding then names its own (Finding.Setup).
	Setups []string
}

// Summary counts findings by severity.
type Summary struct {
	Files    int `json:"files"`
	Findings int `json:"findings"`
	Errors   int `json:"errors"`
	Warnings int `json:"warnings"`
	Infos    int `json:"infos"`
	// Fixed, Suppressed and Baselined count findings not in the report:
	// resolved by --fix, accepted by a suppression, known to --baseline.
	Fixed      int `json:"fixed,omitempty"`
	Suppressed int `json:"suppressed,omitempty"`
	Baselined  int `json:"baselined,omitempty"`
}

// Summary counts the report's findings.
func (r *Report) Summary() Summary {
	s := Summary{Files: len(r.Files), Findings: len(r.Findings), Fixed: len(r.Fixed), Suppressed: r.Suppressed, Baselined: r.Baselined}
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

// Options are the settings of a rendering.
type Options struct {
	// Color and Verbose are for the text format.
	Color   bool
	Verbose bool
	// Mask, when set, hides secrets: it is applied to every string of the
	// report before a format escapes it (so that no escaped form of a
	// secret survives, and the mask itself is escaped like any text), and
	// to the rendered bytes.
	Mask func([]byte) []byte
	// DocsURL and SourceRoot are for SARIF. DocsURL is the absolute URL
	// of the folder of rule pages (docs/rules/ of the repository), each
	// rule's helpUri being DocsURL + ID + ".md"; empty for the project's
	// repository at the release's tag (main for a development build).
	// SourceRoot is the directory %SRCROOT%, the base of file URIs,
	// stands for; empty for the top of the git work tree around the
	// working directory, else the working directory.
	DocsURL, SourceRoot string
}

// ErrSetting is wrapped by the errors of a rendering that the user's
// settings caused (Options.DocsURL not an absolute URL), not nvlint.
var ErrSetting = errors.New("invalid report setting")

// Format names an output format.
type Format string

// The formats.
const (
	FormatText       Format = "text"
	FormatJSON       Format = "json"
	FormatSARIF      Format = "sarif"
	FormatJUnit      Format = "junit"
	FormatCheckstyle Format = "checkstyle"
	FormatGitHub     Format = "github"
	FormatMarkdown   Format = "markdown"
)

// Formats lists the supported formats.
var Formats = []Format{FormatText, FormatJSON, FormatSARIF, FormatJUnit, FormatCheckstyle, FormatGitHub, FormatMarkdown}

// ParseFormat reads a --format value: one of accepted, or of Formats
// when none is given. The error lists the formats accepted, and only
// them.
func ParseFormat(s string, accepted ...Format) (Format, error) {
	if len(accepted) == 0 {
		accepted = Formats
	}
	for _, f := range accepted {
		if string(f) == s {
			return f, nil
		}
	}
	names := make([]string, len(accepted))
	for i, f := range accepted {
		names[i] = string(f)
	}
	return "", fmt.Errorf("unknown format %q (want %s)", s, strings.Join(names, ", "))
}

// Write renders r in format f, masked with opts.Mask when it is set.
func Write(w io.Writer, f Format, r *Report, opts Options) error {
	if opts.Mask == nil {
		return render(w, f, r, opts)
	}
	var b bytes.Buffer
	if err := render(&b, f, masked(r, opts.Mask), opts); err != nil {
		return err
	}
	_, err := w.Write(opts.Mask(b.Bytes()))
	return err
}

func render(w io.Writer, f Format, r *Report, opts Options) error {
	switch f {
	case FormatJSON:
		return writeJSON(w, r)
	case FormatSARIF:
		return writeSARIF(w, r, opts)
	case FormatJUnit:
		return writeJUnit(w, r, opts)
	case FormatCheckstyle:
		return writeCheckstyle(w, r)
	case FormatGitHub:
		return writeGitHub(w, r)
	case FormatMarkdown:
		return writeMarkdown(w, r, opts)
	default:
		return writeText(w, r, opts)
	}
}

// maskString applies opts.Mask to one string.
func (o Options) maskString(s string) string {
	if o.Mask == nil {
		return s
	}
	return string(o.Mask([]byte(s)))
}

// masked returns a copy of r whose findings (reported and fixed),
// verdicts, skips and notes have every secret masked. Source files are left alone (their byte
// offsets must stay right); formats that print source lines mask them
// as they print them.
func masked(r *Report, mask func([]byte) []byte) *Report {
	m := func(s string) string { return string(mask([]byte(s))) }
	ms := func(ss []string) []string {
		if ss == nil {
			return nil
		}
		out := make([]string, len(ss))
		for i, s := range ss {
			out[i] = m(s)
		}
		return out
	}
	finding := func(f rules.Finding) rules.Finding {
		f.Message = m(f.Message)
		f.Object.Name, f.Object.Origin = m(f.Object.Name), m(f.Object.Origin)
		f.Evidence = ms(f.Evidence)
		rel := make([]rules.Related, len(f.Related))
		for j, x := range f.Related {
			x.Message = m(x.Message)
			rel[j] = x
		}
		f.Related = rel
		fixes := make([]rules.Fix, len(f.Fixes))
		for j, fx := range f.Fixes {
			fx.Description = m(fx.Description)
			cmds := make([]rules.Command, len(fx.Commands))
			for k, c := range fx.Commands {
				cmds[k] = c.Map(m)
			}
			fx.Commands = cmds
			edits := make([]rules.TextEdit, len(fx.Edits))
			for k, e := range fx.Edits {
				e.NewText = m(e.NewText)
				edits[k] = e
			}
			fx.Edits = edits
			fixes[j] = fx
		}
		f.Fixes = fixes
		return f
	}
	findings := func(fs []rules.Finding) []rules.Finding {
		if fs == nil {
			return nil
		}
		out := make([]rules.Finding, len(fs))
		for i, f := range fs {
			out[i] = finding(f)
		}
		return out
	}
	c := *r
	c.Findings = findings(r.Findings)
	c.Fixed = findings(r.Fixed)
	c.Skipped = make([]rules.Skip, len(r.Skipped))
	for i, s := range r.Skipped {
		s.Reason = m(s.Reason)
		c.Skipped[i] = s
	}
	c.Notes = ms(r.Notes)
	c.Verdicts = make([]Verdict, len(r.Verdicts))
	for i, v := range r.Verdicts {
		v.Detail = m(v.Detail)
		c.Verdicts[i] = v
	}
	if r.Verdicts == nil {
		c.Verdicts = nil
	}
	return &c
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

// ruleCount is how often one rule found something, and on how many
// objects.
type ruleCount struct {
	meta *rules.Meta
	// worst is the worst severity of its findings, severities all of
	// them, worst first ("error, warning").
	worst      rules.Severity
	severities string
	n, objects int
}

// ruleCounts counts findings per rule: the rules with errors first, then
// the most found.
func ruleCounts(fs []rules.Finding) []ruleCount {
	type tally struct {
		ruleCount
		sevs map[rules.Severity]bool
		seen map[world.ObjectRef]bool
	}
	index := map[string]*tally{}
	var order []*tally
	for _, f := range fs {
		t := index[f.Rule.ID]
		if t == nil {
			t = &tally{ruleCount: ruleCount{meta: f.Rule}, sevs: map[rules.Severity]bool{}, seen: map[world.ObjectRef]bool{}}
			index[f.Rule.ID] = t
			order = append(order, t)
		}
		t.n++
		t.worst = max(t.worst, f.Severity)
		t.sevs[f.Severity] = true
		t.seen[f.Object] = true
	}
	out := make([]ruleCount, len(order))
	for i, t := range order {
		var names []string
		for _, s := range []rules.Severity{rules.Error, rules.Warning, rules.Info} {
			if t.sevs[s] {
				names = append(names, s.String())
			}
		}
		t.severities, t.objects = strings.Join(names, ", "), len(t.seen)
		out[i] = t.ruleCount
	}
	slices.SortFunc(out, func(x, y ruleCount) int {
		return cmp.Or(cmp.Compare(y.worst, x.worst), cmp.Compare(y.n, x.n), strings.Compare(x.meta.ID, y.meta.ID))
	})
	return out
}
