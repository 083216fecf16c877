package reports

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/nvlint/nvlint/rules"
)

// GitHub Actions workflow commands: one annotation per finding, which
// GitHub shows on the pull request's diff and on the run's summary.
//
//	::error file=F,line=L,col=C,endLine=..,endColumn=..,title=NV101 slug::message
//
// error, warning and info become ::error, ::warning and ::notice. The
// annotation text is the message, then the evidence, related places and
// fixes with their commands, one per line. Values are escaped as the
// Actions toolkit escapes them: in the message % \r \n become %25 %0D
// %0A; in properties also : and , become %3A and %2C. col and endColumn
// are only given for a range on one line: GitHub accepts columns only
// when line and endLine are equal. File paths are given as the run named
// them, with forward slashes; run nvlint from the repository root with
// relative paths so that they match the diff. Findings about live
// objects have no file and become annotations of the run.

func writeGitHub(w io.Writer, r *Report) error {
	var b bytes.Buffer
	for _, f := range r.Findings {
		var props []string
		if f.HasFile() {
			props = append(props, "file="+ghProperty(filepath.ToSlash(filepath.Clean(f.Range.Filename))))
			line := max(f.Range.Start.Line, 1)
			props = append(props, "line="+strconv.Itoa(line))
			endLine := max(f.Range.End.Line, line)
			if endLine == line {
				col := max(f.Range.Start.Column, 1)
				props = append(props, "col="+strconv.Itoa(col))
				if f.Range.End.Column > col {
					props = append(props, "endLine="+strconv.Itoa(endLine), "endColumn="+strconv.Itoa(f.Range.End.Column))
				}
			} else {
				props = append(props, "endLine="+strconv.Itoa(endLine))
			}
		}
		props = append(props, "title="+ghProperty(ruleLabel(f.Rule)))
		fmt.Fprintf(&b, "::%s %s::%s\n", ghCommand(f.Severity), strings.Join(props, ","), ghData(githubMessage(f)))
	}
	s := r.Summary()
	files := r.checked()
	if s.Findings == 0 {
		fmt.Fprintf(&b, "nvlint: no problems in %s\n", files)
	} else {
		c := counts{errors: s.Errors, warnings: s.Warnings, infos: s.Infos}
		fmt.Fprintf(&b, "nvlint: %s in %s\n", c, files)
	}
	_, err := w.Write(b.Bytes())
	return err
}

func ghCommand(s rules.Severity) string {
	switch s {
	case rules.Error:
		return "error"
	case rules.Warning:
		return "warning"
	}
	return "notice"
}

// githubMessage is the annotation text.
func githubMessage(f rules.Finding) string {
	lines := []string{setupTag(f) + f.Message}
	if !f.HasFile() && f.Object.Name != "" {
		lines = append(lines, "object: "+objectLabel(f))
	}
	for _, e := range f.Evidence {
		lines = append(lines, "evidence: "+e)
	}
	for _, rel := range f.Related {
		s := "see: " + rel.Message
		if rel.Range.Filename != "" {
			s += " (" + position(rel.Range) + ")"
		}
		lines = append(lines, s)
	}
	for _, fx := range f.Fixes {
		lines = append(lines, "fix: "+fx.Description)
		for _, c := range fx.CommandLines() {
			lines = append(lines, "  $ "+c)
		}
	}
	return strings.Join(lines, "\n")
}

// ghData escapes the message of a workflow command.
func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// ghProperty escapes a property value of a workflow command.
func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
