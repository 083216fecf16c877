package reports

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/nvlint/nvlint/rules"
)

// JUnit XML for CI test dashboards (GitLab unit test reports, Jenkins'
// JUnit plugin, and the many tools that read the same shape).
//
// One testsuite per rule, not per file. The rule set is the same in
// every run while the files a pull request touches are not, so the
// dashboards' history and their base-versus-branch comparison (both keyed
// by classname and name) line up run after run; a rule that ran clean is
// a passing test, and a rule that could not run (for want of an input,
// or of running clusters in an offline lint) or could not decide is a
// skipped one, so "N tests, M failed, K skipped" means something. Each
// finding is a failing testcase:
//
//   - classname "nvlint.NV101-server-policy-missing-capability": GitLab
//     shows the classname as the suite (it ignores testsuite names);
//     Jenkins splits it at the last dot into package "nvlint" and class
//     "NV101-server-policy-missing-capability".
//   - name "FILE: MESSAGE", without the line, so that the test keeps its
//     name when lines move; GitLab keeps only the first of equal names,
//     so repeats get " (2)", " (3)".
//   - file: the file, which GitLab shows.
//   - failure message "FILE:LINE:COL: MESSAGE", type the severity, and as
//     its text (what GitLab shows and Jenkins shows as the stack trace)
//     the finding as the text report prints it: position, source line,
//     evidence, fix with its edits and commands.

func writeJUnit(w io.Writer, r *Report, opts Options) error {
	files := r.fileByPath()
	type testcase struct {
		name, file      string
		failure         *rules.Finding
		skipped         string
		isSkip, hasFile bool
	}
	type suite struct {
		meta              *rules.Meta
		cases             []testcase
		failures, skipped int
	}
	var suites []*suite
	byID := map[string]*suite{}
	add := func(m *rules.Meta) {
		if byID[m.ID] == nil {
			s := &suite{meta: m}
			byID[m.ID] = s
			suites = append(suites, s)
		}
	}
	for _, m := range r.rulesUsed() {
		add(m)
	}
	for _, f := range r.Findings {
		add(f.Rule)
	}
	sort.SliceStable(suites, func(i, j int) bool { return suites[i].meta.ID < suites[j].meta.ID })
	// Skips are rules that could not run for want of an input, and notes
	// of rules that ran but could not decide something.
	skipped := map[string][]string{}
	for _, sk := range r.Skipped {
		reason := sk.Reason
		if sk.Setup != "" {
			reason = "[" + sk.Setup + "] " + reason
		}
		skipped[sk.Rule.ID] = append(skipped[sk.Rule.ID], reason)
	}
	if r.Ran != nil {
		kept := suites[:0]
		for _, s := range suites {
			if r.Ran[s.meta.ID] || len(skipped[s.meta.ID]) > 0 || hasFindings(r.Findings, s.meta.ID) {
				kept = append(kept, s)
			}
		}
		suites = kept
	}
	for _, f := range r.Findings {
		s := byID[f.Rule.ID]
		tc := testcase{failure: &f}
		if f.HasFile() {
			tc.name = setupTag(f) + filepath.ToSlash(f.Range.Filename) + ": " + f.Message
			tc.file, tc.hasFile = filepath.ToSlash(f.Range.Filename), true
		} else {
			tc.name = setupTag(f) + objectLabel(f) + ": " + f.Message
		}
		s.cases = append(s.cases, tc)
		s.failures++
	}
	total, failures, skips := 0, 0, 0
	for _, s := range suites {
		if len(s.cases) == 0 {
			// A rule that did not run, or ran and left something
			// undecided, did not check: skipped, with why.
			tc := testcase{name: s.meta.Title}
			if notes := strings.Join(skipped[s.meta.ID], "\n"); notes != "" {
				tc.isSkip, tc.skipped = true, notes
				s.skipped++
			}
			s.cases = append(s.cases, tc)
		}
		seen := map[string]int{}
		for i := range s.cases {
			n := s.cases[i].name
			seen[n]++
			if seen[n] > 1 {
				s.cases[i].name = n + " (" + strconv.Itoa(seen[n]) + ")"
			}
		}
		total += len(s.cases)
		failures += s.failures
		skips += s.skipped
	}

	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	fmt.Fprintf(&b, "<testsuites%s>\n", xmlAttrs("name", "nvlint", "tests", strconv.Itoa(total),
		"failures", strconv.Itoa(failures), "errors", "0", "skipped", strconv.Itoa(skips), "time", "0"))
	for _, s := range suites {
		fmt.Fprintf(&b, "  <testsuite%s>\n", xmlAttrs("name", ruleLabel(s.meta), "tests", strconv.Itoa(len(s.cases)),
			"failures", strconv.Itoa(s.failures), "errors", "0", "skipped", strconv.Itoa(s.skipped), "time", "0"))
		class := "nvlint." + s.meta.ID + "-" + s.meta.Name
		for _, tc := range s.cases {
			attrs := []string{"classname", class, "name", tc.name}
			if tc.hasFile {
				attrs = append(attrs, "file", tc.file)
			}
			attrs = append(attrs, "time", "0")
			switch {
			case tc.failure != nil:
				f := *tc.failure
				fmt.Fprintf(&b, "    <testcase%s>\n", xmlAttrs(attrs...))
				fmt.Fprintf(&b, "      <failure%s>%s</failure>\n",
					xmlAttrs("message", setupTag(f)+where(f)+": "+f.Message, "type", f.Severity.String()),
					xmlEscape(plainFinding(f, files, opts), false))
				b.WriteString("    </testcase>\n")
			case tc.isSkip:
				fmt.Fprintf(&b, "    <testcase%s>\n", xmlAttrs(attrs...))
				fmt.Fprintf(&b, "      <skipped%s>%s</skipped>\n", xmlAttrs("message", tc.skipped), xmlEscape(tc.skipped, false))
				b.WriteString("    </testcase>\n")
			default:
				fmt.Fprintf(&b, "    <testcase%s/>\n", xmlAttrs(attrs...))
			}
		}
		b.WriteString("  </testsuite>\n")
	}
	b.WriteString("</testsuites>\n")
	_, err := w.Write(b.Bytes())
	return err
}

func hasFindings(fs []rules.Finding, id string) bool {
	for _, f := range fs {
		if f.Rule.ID == id {
			return true
		}
	}
	return false
}
