package reports

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
)

// Checkstyle XML as golangci-lint and tflint write it, for the tools that
// read it (reviewdog, Jenkins' Warnings plugin, SonarQube, ...):
//
//	<checkstyle version="5.0">
//	  <file name="PATH">
//	    <error line="1" column="1" severity="error" message="..." source="NV101"></error>
//	  </file>
//	</checkstyle>
//
// One <file> per file in the order of the report; findings about live
// objects (doctor) go under a <file> named after the object. The message
// carries the fixes, as SARIF's does; source is the rule ID, which
// nvlint explain takes.

func writeCheckstyle(w io.Writer, r *Report) error {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<checkstyle version="5.0">` + "\n")
	for _, g := range byFile(r.Findings) {
		name := g.File
		if name == "" {
			// One <file> per live object.
			for _, f := range g.Findings {
				fmt.Fprintf(&b, "  <file%s>\n", xmlAttrs("name", objectLabel(f)))
				writeCheckstyleError(&b, f.Severity.String(), 0, 0, sarifMessage(f), f.Rule.ID)
				b.WriteString("  </file>\n")
			}
			continue
		}
		fmt.Fprintf(&b, "  <file%s>\n", xmlAttrs("name", name))
		for _, f := range g.Findings {
			writeCheckstyleError(&b, f.Severity.String(), max(f.Range.Start.Line, 1), max(f.Range.Start.Column, 1), sarifMessage(f), f.Rule.ID)
		}
		b.WriteString("  </file>\n")
	}
	b.WriteString("</checkstyle>\n")
	_, err := w.Write(b.Bytes())
	return err
}

func writeCheckstyleError(b *bytes.Buffer, severity string, line, col int, msg, source string) {
	attrs := []string{}
	if line > 0 {
		attrs = append(attrs, "line", strconv.Itoa(line), "column", strconv.Itoa(col))
	}
	attrs = append(attrs, "severity", severity, "message", msg, "source", source)
	fmt.Fprintf(b, "    <error%s></error>\n", xmlAttrs(attrs...))
}
