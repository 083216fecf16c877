package impact

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/nvlint/nvlint/reports"
	"github.com/nvlint/nvlint/rules"
)

// Report is a comparison as printed: the result and what was compared.
type Report struct {
	Result
	// Base and Head say what the two sides are ("origin/main (1a2b3c4)",
	// "the working tree").
	Base, Head string
}

// sections are the kinds of change in the order they are printed, worst
// first.
var sections = []struct {
	kind  Kind
	title string
}{
	{Lost, "Access lost"},
	{NewRead, "New reads not allowed"},
	{ChangedUnknown, "Decisions that became or stopped being unknown"},
	{Capability, "Privileged capabilities gained"},
	{Gained, "Access gained"},
}

// Summary counts a report.
type Summary struct {
	Lost         int `json:"lost"`
	Gained       int `json:"gained"`
	Unknown      int `json:"unknown"`
	NewDenied    int `json:"new_reads_not_allowed"`
	Capabilities int `json:"capabilities_gained"`
	TasksAdded   int `json:"tasks_added"`
	TasksRemoved int `json:"tasks_removed"`
	Introduced   int `json:"findings_introduced"`
	Fixed        int `json:"findings_fixed"`
	// TasksCompared and ReadsCompared are what both sides have.
	TasksCompared int `json:"tasks_compared"`
	ReadsCompared int `json:"reads_compared"`
}

// Summary counts the report's changes.
func (r Result) Summary() Summary {
	s := Summary{Introduced: len(r.Introduced), Fixed: len(r.Fixed), TasksCompared: r.Compared, ReadsCompared: r.Reads}
	for _, c := range r.Changes {
		switch c.Kind {
		case Lost:
			s.Lost++
		case Gained:
			s.Gained++
		case ChangedUnknown:
			s.Unknown++
		case NewRead:
			s.NewDenied++
		case Capability:
			s.Capabilities++
		}
	}
	for _, t := range r.Tasks {
		if t.Added {
			s.TasksAdded++
		} else {
			s.TasksRemoved++
		}
	}
	return s
}

// Worst is the highest severity among the changes and the introduced
// findings; 0 when there is none.
func (r Result) Worst() rules.Severity {
	var worst rules.Severity
	for _, c := range r.Changes {
		worst = max(worst, c.Severity)
	}
	for _, f := range r.Introduced {
		worst = max(worst, f.Severity)
	}
	return worst
}

// group is the changes of one kind with one cause.
type group struct {
	cause   Cause
	changes []Change
}

func groupsOf(cs []Change, kind Kind) []group {
	var out []group
	idx := map[Cause]int{}
	for _, c := range cs {
		if c.Kind != kind {
			continue
		}
		i, ok := idx[c.Cause]
		if !ok {
			i = len(out)
			idx[c.Cause] = i
			out = append(out, group{cause: c.Cause})
		}
		out[i].changes = append(out[i].changes, c)
	}
	return out
}

func (c Cause) where() string {
	if c.File == "" {
		return ""
	}
	s := c.File
	if c.Line > 0 {
		s += fmt.Sprintf(":%d", c.Line)
	}
	if c.Side == "base" {
		s += " (at base)"
	}
	return s
}

func (c Cause) title() string {
	var parts []string
	if c.Policy != "" {
		parts = append(parts, "policy "+c.Policy)
	}
	if w := c.where(); w != "" {
		parts = append(parts, w)
	}
	if len(parts) == 0 {
		return c.Why
	}
	return strings.Join(parts, " ") + ": " + c.Why
}

// WriteText prints the report for a terminal: each kind of change,
// grouped by cause, then the tasks added and removed and the findings.
func WriteText(out io.Writer, r Report, color bool) error {
	re := lipgloss.NewRenderer(out)
	if color {
		re.SetColorProfile(termenv.ANSI256)
	} else {
		re.SetColorProfile(termenv.Ascii)
	}
	sev := map[rules.Severity]lipgloss.Style{
		rules.Error:   re.NewStyle().Foreground(lipgloss.Color("9")).Bold(true),
		rules.Warning: re.NewStyle().Foreground(lipgloss.Color("11")).Bold(true),
		rules.Info:    re.NewStyle().Foreground(lipgloss.Color("12")).Bold(true),
	}
	head := re.NewStyle().Bold(true)
	dim := re.NewStyle().Foreground(lipgloss.Color("8"))
	st := textStyles{sev: sev, head: head, dim: dim, setup: re.NewStyle().Foreground(lipgloss.Color("13")).Bold(true)}
	var b strings.Builder
	fmt.Fprintf(&b, "Vault access from %s to %s: %s and %s compared", r.Base, r.Head, reports.Plural(r.Compared, "task"), reports.Plural(r.Reads, "read"))
	if len(r.Setups) > 0 {
		fmt.Fprintf(&b, " in %s", reports.Plural(len(r.Setups), "setup"))
	}
	b.WriteString("\n")
	if len(r.Setups) == 0 {
		writeTextBody(&b, r.Result, st)
	}
	// Each setup under a header that names it, unchanged setups too: a
	// setup not listed was not compared.
	for _, sc := range r.Setups {
		sub := r.Only(sc.Name)
		fmt.Fprintf(&b, "\n%s %s\n", st.setup.Render("━━ setup "+sc.Name+":"), setupLine(sub))
		writeTextBody(&b, sub, st)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "\n%s", dim.Render("note: "+n))
	}
	if len(r.Notes) > 0 {
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "\n%s\n", SummaryLine(r.Summary()))
	_, err := io.WriteString(out, b.String())
	return err
}

// textStyles are the styles of the text report.
type textStyles struct {
	sev              map[rules.Severity]lipgloss.Style
	head, dim, setup lipgloss.Style
}

// writeTextBody prints each kind of change, grouped by cause, then the
// tasks added and removed and the findings.
func writeTextBody(b *strings.Builder, r Result, st textStyles) {
	for _, s := range sections {
		gs := groupsOf(r.Changes, s.kind)
		if len(gs) == 0 {
			continue
		}
		n := 0
		for _, g := range gs {
			n += len(g.changes)
		}
		fmt.Fprintf(b, "\n%s\n", st.head.Render(fmt.Sprintf("%s (%d)", s.title, n)))
		for _, g := range gs {
			fmt.Fprintf(b, "  %s\n", g.cause.title())
			for _, c := range g.changes {
				fmt.Fprintf(b, "    %-7s %s: %s %s  %s -> %s", st.sev[c.Severity].Render(c.Severity.String()), c.Task, c.Op, c.Path, c.Before, c.After)
				if c.Call != "" {
					fmt.Fprintf(b, "  %s", st.dim.Render("(template: "+c.Call+")"))
				}
				b.WriteString("\n")
			}
		}
	}
	for _, added := range []bool{true, false} {
		var ts []TaskChange
		for _, t := range r.Tasks {
			if t.Added == added {
				ts = append(ts, t)
			}
		}
		if len(ts) == 0 {
			continue
		}
		title, mark := "Tasks removed", "-"
		if added {
			title, mark = "Tasks added", "+"
		}
		fmt.Fprintf(b, "\n%s\n", st.head.Render(fmt.Sprintf("%s (%d)", title, len(ts))))
		for _, t := range ts {
			fmt.Fprintf(b, "  %s %s: %s", mark, t.Task, reports.Plural(t.Reads, "Vault read"))
			if added && t.Denied > 0 {
				fmt.Fprintf(b, ", %d not allowed", t.Denied)
			}
			if t.File != "" {
				fmt.Fprintf(b, "  %s", st.dim.Render(fmt.Sprintf("%s:%d", t.File, t.Line)))
			}
			b.WriteString("\n")
		}
	}
	for _, fs := range []struct {
		title string
		list  []rules.Finding
	}{{"Findings introduced", r.Introduced}, {"Findings fixed", r.Fixed}} {
		if len(fs.list) == 0 {
			continue
		}
		fmt.Fprintf(b, "\n%s\n", st.head.Render(fmt.Sprintf("%s (%d)", fs.title, len(fs.list))))
		for _, f := range fs.list {
			fmt.Fprintf(b, "  %-7s %s %s", st.sev[f.Severity].Render(f.Severity.String()), f.Rule.ID, f.Message)
			if f.HasFile() {
				fmt.Fprintf(b, "  %s", st.dim.Render(fmt.Sprintf("%s:%d", f.Range.Filename, f.Range.Start.Line)))
			}
			b.WriteString("\n")
		}
	}
}

// setupLine says what one setup compared and what changed in it.
func setupLine(r Result) string {
	s := fmt.Sprintf("%s and %s compared; ", reports.Plural(r.Compared, "task"), reports.Plural(r.Reads, "read"))
	if parts := summaryParts(r.Summary()); len(parts) > 0 {
		return s + strings.Join(parts, ", ") + "."
	}
	return s + "no change."
}

// SummaryLine says what changed in one sentence.
func SummaryLine(s Summary) string {
	parts := summaryParts(s)
	if len(parts) == 0 {
		return "No task's Vault access changes, and no finding is introduced or fixed."
	}
	return strings.Join(parts, ", ") + "."
}

// summaryParts counts each kind of change, worst first; none when
// nothing changed.
func summaryParts(s Summary) []string {
	var parts []string
	for _, p := range []struct {
		n            int
		one, several string
	}{
		{s.Lost, "read lost", "reads lost"},
		{s.NewDenied, "new read not allowed", "new reads not allowed"},
		{s.Unknown, "decision now or formerly unknown", "decisions now or formerly unknown"},
		{s.Capabilities, "privileged capability gained", "privileged capabilities gained"},
		{s.Gained, "read gained", "reads gained"},
		{s.TasksAdded, "task added", "tasks added"},
		{s.TasksRemoved, "task removed", "tasks removed"},
		{s.Introduced, "finding introduced", "findings introduced"},
		{s.Fixed, "finding fixed", "findings fixed"},
	} {
		switch {
		case p.n == 1:
			parts = append(parts, "1 "+p.one)
		case p.n > 1:
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.several))
		}
	}
	return parts
}

// jsonChange is a change as the JSON report writes it.
type jsonChange struct {
	Change
	Severity string `json:"severity"`
}

type jsonFinding struct {
	Setup    string `json:"setup,omitempty"`
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
	File     string `json:"file,omitempty"`
	Line     int    `json:"line,omitempty"`
}

type jsonReport struct {
	Version       int          `json:"version"`
	Base          string       `json:"base"`
	Head          string       `json:"head"`
	Setups        []SetupCount `json:"setups,omitempty"`
	AccessChanges []jsonChange `json:"access_changes"`
	Tasks         struct {
		Added   []TaskChange `json:"added"`
		Removed []TaskChange `json:"removed"`
	} `json:"tasks"`
	Findings struct {
		Introduced []jsonFinding `json:"introduced"`
		Fixed      []jsonFinding `json:"fixed"`
	} `json:"findings"`
	Notes   []string `json:"notes,omitempty"`
	Summary Summary  `json:"summary"`
}

// WriteJSON prints the report as data (version 1).
func WriteJSON(out io.Writer, r Report) error {
	j := jsonReport{Version: 1, Base: r.Base, Head: r.Head, Setups: r.Setups, AccessChanges: []jsonChange{}, Notes: r.Notes, Summary: r.Summary()}
	j.Tasks.Added, j.Tasks.Removed = []TaskChange{}, []TaskChange{}
	j.Findings.Introduced, j.Findings.Fixed = jsonFindings(r.Introduced), jsonFindings(r.Fixed)
	for _, c := range r.Changes {
		j.AccessChanges = append(j.AccessChanges, jsonChange{c, c.Severity.String()})
	}
	for _, t := range r.Tasks {
		if t.Added {
			j.Tasks.Added = append(j.Tasks.Added, t)
		} else {
			j.Tasks.Removed = append(j.Tasks.Removed, t)
		}
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(j)
}

func jsonFindings(fs []rules.Finding) []jsonFinding {
	out := []jsonFinding{}
	for _, f := range fs {
		jf := jsonFinding{Setup: f.Setup, Rule: f.Rule.ID, Severity: f.Severity.String(), Message: f.Message}
		if f.HasFile() {
			jf.File, jf.Line = f.Range.Filename, f.Range.Start.Line
		}
		out = append(out, jf)
	}
	return out
}

// WriteMarkdown prints the report as a pull-request comment: the lost
// access first, then every other change grouped by the policy that
// causes it, then tasks and findings; with several setups, all of it
// under each setup's heading.
func WriteMarkdown(out io.Writer, r Report) error {
	var b strings.Builder
	s := r.Summary()
	fmt.Fprintf(&b, "### nvlint impact\n\nVault access from %s to %s: %s and %s compared", md(r.Base), md(r.Head), reports.Plural(r.Compared, "task"), reports.Plural(r.Reads, "read"))
	if len(r.Setups) > 0 {
		fmt.Fprintf(&b, " in %s", reports.Plural(len(r.Setups), "setup"))
	}
	fmt.Fprintf(&b, ".\n\n**%s**\n", SummaryLine(s))
	if len(r.Setups) == 0 {
		writeMarkdownBody(&b, r.Result, "####")
	}
	for _, sc := range r.Setups {
		sub := r.Only(sc.Name)
		fmt.Fprintf(&b, "\n#### Setup %s\n\n%s\n", code(sc.Name), md(setupLine(sub)))
		writeMarkdownBody(&b, sub, "#####")
	}
	_, err := io.WriteString(out, b.String())
	return err
}

// writeMarkdownBody writes one result's sections under headings of
// level h.
func writeMarkdownBody(b *strings.Builder, r Result, h string) {
	s := r.Summary()
	if s.Lost > 0 {
		fmt.Fprintf(b, "\n%s Access lost\n\n| Job | Group | Task | Operation | Path | Before | After | Cause |\n|---|---|---|---|---|---|---|---|\n", h)
		for _, c := range r.Changes {
			if c.Kind == Lost {
				mdRow(b, c)
			}
		}
	}
	// The rest, grouped by the policy whose change causes it.
	var policies []string
	byPolicy := map[string][]Change{}
	for _, c := range r.Changes {
		if c.Kind == Lost {
			continue
		}
		p := c.Cause.Policy
		if _, ok := byPolicy[p]; !ok {
			policies = append(policies, p)
		}
		byPolicy[p] = append(byPolicy[p], c)
	}
	for _, p := range policies {
		title := "Other changes (no policy rule decides)"
		if p != "" {
			title = "Changes through policy `" + p + "`"
		}
		fmt.Fprintf(b, "\n%s %s\n\n| Severity | Change | Job | Group | Task | Operation | Path | Before | After | Cause |\n|---|---|---|---|---|---|---|---|---|---|\n", h, title)
		for _, c := range byPolicy[p] {
			fmt.Fprintf(b, "| %s | %s ", c.Severity, kindWord(c.Kind))
			mdRow(b, c)
		}
	}
	if len(r.Tasks) > 0 {
		fmt.Fprintf(b, "\n%s Tasks added and removed\n\n| | Job | Group | Task | Vault reads | Not allowed |\n|---|---|---|---|---|---|\n", h)
		for _, t := range r.Tasks {
			mark := "removed"
			if t.Added {
				mark = "added"
			}
			fmt.Fprintf(b, "| %s | %s | %s | %s | %d | %d |\n", mark, code(t.Job), code(t.Group), code(t.Task.Task), t.Reads, t.Denied)
		}
	}
	for _, fs := range []struct {
		title string
		list  []rules.Finding
	}{{"Findings introduced", r.Introduced}, {"Findings fixed", r.Fixed}} {
		if len(fs.list) == 0 {
			continue
		}
		fmt.Fprintf(b, "\n%s %s\n\n", h, fs.title)
		for _, f := range fs.list {
			fmt.Fprintf(b, "- **%s** %s %s", f.Severity, f.Rule.ID, md(f.Message))
			if f.HasFile() {
				fmt.Fprintf(b, " (%s)", code(fmt.Sprintf("%s:%d", f.Range.Filename, f.Range.Start.Line)))
			}
			b.WriteString("\n")
		}
	}
}

func kindWord(k Kind) string {
	switch k {
	case NewRead:
		return "new read"
	case Capability:
		return "capability gained"
	case ChangedUnknown:
		return "unknown"
	}
	return string(k)
}

func mdRow(b *strings.Builder, c Change) {
	cause := md(c.Cause.Why)
	if w := c.Cause.where(); w != "" {
		cause = code(w) + ": " + cause
	}
	if c.Cause.Policy != "" {
		cause = "policy " + code(c.Cause.Policy) + " " + cause
	}
	fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", code(c.Job), code(c.Group), code(c.Task.Task), c.Op, code(c.Path), c.Before, c.After, cause)
}

// md escapes text for a Markdown table cell.
func md(s string) string {
	r := strings.NewReplacer("|", `\|`, "\n", " ", "<", "&lt;", ">", "&gt;", "*", `\*`, "_", `\_`, "`", "'")
	return r.Replace(s)
}

// code is s as inline code in a table cell.
func code(s string) string {
	return "`" + strings.NewReplacer("`", "'", "|", `\|`, "\n", " ").Replace(s) + "`"
}
