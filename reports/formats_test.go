package reports_test

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/redact"
	"github.com/nvlint/nvlint/reports"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// hostile is a message that tries every way out of every format:
// newlines (a new workflow command, a new Markdown block), % and , and :
// (workflow-command escapes), HTML and CDATA terminators, Markdown
// syntax and a GitHub mention.
const hostile = "line one\nline two: 100% sure, a,b <script>alert(1)</script> ]]> </details> `tick` | pipe @octocat **bold** [link](http://x) $x$ &amp;\r\n# heading\n- item\n```\nend"

type fakeRule struct{ m *rules.Meta }

func (r fakeRule) Meta() *rules.Meta { return r.m }
func (fakeRule) Check(*rules.Pass)   {}

var (
	metaA = &rules.Meta{ID: "NV101", Name: "server-policy-missing-capability", Title: "the server policy lacks a capability", Severity: rules.Error,
		Doc: rules.Doc{Why: "why <b>", Example: "path \"x\" {}", Fix: "grant it"}}
	metaB = &rules.Meta{ID: "NV301", Name: "vault-token-in-config", Title: "a Vault token is written in an agent config", Severity: rules.Warning,
		Doc: rules.Doc{Why: "why", Example: "token = \"...\"", Fix: "remove it"}}
	metaC = &rules.Meta{ID: "NV611", Name: "vault-sealed", Title: "Vault is sealed", Severity: rules.Info,
		Doc: rules.Doc{Why: "why", Example: "sealed", Fix: "unseal"}}
	metaSkipped = &rules.Meta{ID: "NV201", Name: "audience-mismatch", Title: "audiences do not match", Severity: rules.Error,
		Doc: rules.Doc{Why: "why", Example: "aud", Fix: "fix"}}
	metaClean = &rules.Meta{ID: "NV501", Name: "task-token-cannot-renew", Title: "task tokens cannot renew", Severity: rules.Error,
		Doc: rules.Doc{Why: "why", Example: "x", Fix: "y"}}
)

// odd is a file name with the characters workflow-command properties
// must escape.
const odd = "dir,with:odd/pol%icy.hcl"

func rng(file string, l1, c1, l2, c2 int) hcl.Range {
	return hcl.Range{Filename: file, Start: hcl.Pos{Line: l1, Column: c1}, End: hcl.Pos{Line: l2, Column: c2}}
}

func hostileReport() *reports.Report {
	src := "# policy\npath \"auth/token/create\" {\n  capabilities = [\"update\"]\n}\n"
	file := &world.File{Path: odd, Kind: world.KindPolicy, Src: []byte(src)}
	edit := rules.TextEdit{Range: hcl.Range{Filename: odd, Start: hcl.Pos{Line: 5, Column: 1, Byte: len(src)}, End: hcl.Pos{Line: 5, Column: 1, Byte: len(src)}},
		NewText: "path \"auth/token/revoke-accessor\" {\n  capabilities = [\"update\"]\n}\n"}
	return &reports.Report{
		Files:   []*world.File{file, {Path: "clean.hcl", Src: []byte("x = 1\n")}},
		Catalog: []rules.Rule{fakeRule{metaA}, fakeRule{metaB}, fakeRule{metaC}, fakeRule{metaSkipped}, fakeRule{metaClean}},
		Ran:     map[string]bool{"NV101": true, "NV301": true, "NV611": true, "NV501": true},
		Skipped: []rules.Skip{{Rule: metaSkipped, Reason: "needs a JWT role <and> a jobspec"}},
		Version: "test",
		Findings: []rules.Finding{
			{
				Rule: metaA, Severity: rules.Error, Message: hostile, Range: rng(odd, 2, 3, 2, 10),
				Object:   world.ObjectRef{Kind: world.KindPolicy, Name: "nomad-server"},
				Evidence: []string{"evidence with " + hostile},
				Related:  []rules.Related{{Message: "related " + hostile, Range: rng(odd, 3, 1, 3, 5)}},
				Fixes: []rules.Fix{{Description: "fix " + hostile, Edits: []rules.TextEdit{edit},
					Commands: []rules.Command{rules.Cmd("vault", "policy", "write", "nomad-server", odd), rules.Cmd("echo", "```").And("echo", "````")}}},
			},
			{
				// Same rule, file and message as the first: JUnit must
				// still give it a name of its own.
				Rule: metaA, Severity: rules.Error, Message: hostile, Range: rng(odd, 3, 3, 3, 3),
				Object: world.ObjectRef{Kind: world.KindPolicy, Name: "nomad-server"},
			},
			{
				Rule: metaB, Severity: rules.Warning, Message: "a range over lines 2 to 4", Range: rng(odd, 2, 1, 4, 2),
				Object: world.ObjectRef{Kind: world.KindPolicy, Name: "nomad-server"},
			},
			{
				Rule: metaC, Severity: rules.Info, Message: "vault is sealed: " + hostile,
				Object: world.ObjectRef{Kind: "vault", Name: "@admins", Origin: "sys/seal-status"},
			},
		},
	}
}

func render(t *testing.T, f reports.Format, r *reports.Report) string {
	t.Helper()
	var b bytes.Buffer
	if err := reports.Write(&b, f, r, reports.Options{}); err != nil {
		t.Fatalf("%s: %v", f, err)
	}
	return b.String()
}

func TestParseOutputs(t *testing.T) {
	outs, err := reports.ParseOutputs(nil)
	if err != nil || len(outs) != 1 || outs[0] != (reports.Output{Format: reports.FormatText}) {
		t.Fatalf("default: %v %v", outs, err)
	}
	outs, err = reports.ParseOutputs([]string{"github", "sarif=nvlint.sarif", "junit=out/report.xml", "markdown=C:\\a=b.md"})
	want := []reports.Output{{Format: "github"}, {Format: "sarif", Path: "nvlint.sarif"}, {Format: "junit", Path: "out/report.xml"}, {Format: "markdown", Path: "C:\\a=b.md"}}
	if err != nil || fmt.Sprint(outs) != fmt.Sprint(want) {
		t.Fatalf("got %v %v, want %v", outs, err, want)
	}
	outs, err = reports.ParseOutputs([]string{"json=-", "text=report.txt"})
	if err != nil || outs[0].Path != "" || outs[1].Path != "report.txt" {
		t.Fatalf("json=- is stdout: %v %v", outs, err)
	}
	for _, bad := range [][]string{
		{"text", "json"},                     // two to stdout
		{"text", "sarif=-"},                  // two to stdout
		{"sarif=a.sarif", "junit=./a.sarif"}, // one file twice
		{"xml"},                              // unknown
		{"junit="},                           // no file
		{""},
	} {
		if _, err := reports.ParseOutputs(bad); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
	for _, f := range reports.Formats {
		if _, err := reports.ParseOutputs([]string{string(f)}); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// junitXML is JUnit as CI dashboards read it.
type junitXML struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Skipped  int      `xml:"skipped,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Skipped  int    `xml:"skipped,attr"`
		Cases    []struct {
			Classname string `xml:"classname,attr"`
			Name      string `xml:"name,attr"`
			File      string `xml:"file,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
			SystemOut string `xml:"system-out"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func TestJUnit(t *testing.T) {
	out := render(t, reports.FormatJUnit, hostileReport())
	var j junitXML
	if err := xml.Unmarshal([]byte(out), &j); err != nil {
		t.Fatalf("not XML: %v\n%s", err, out)
	}
	if j.Tests != 6 || j.Failures != 4 || j.Skipped != 1 || len(j.Suites) != 5 {
		t.Fatalf("counts: tests %d failures %d skipped %d suites %d\n%s", j.Tests, j.Failures, j.Skipped, len(j.Suites), out)
	}
	tests, failures, skipped := 0, 0, 0
	for _, s := range j.Suites {
		tests, failures, skipped = tests+s.Tests, failures+s.Failures, skipped+s.Skipped
		if s.Tests != len(s.Cases) {
			t.Errorf("%s: tests=%d but %d testcases", s.Name, s.Tests, len(s.Cases))
		}
		names := map[string]bool{}
		for _, c := range s.Cases {
			if names[c.Classname+"\x00"+c.Name] {
				t.Errorf("%s: two testcases named %q (GitLab keeps only one)", s.Name, c.Name)
			}
			names[c.Classname+"\x00"+c.Name] = true
			if !strings.HasPrefix(c.Classname, "nvlint.NV") {
				t.Errorf("classname %q", c.Classname)
			}
		}
	}
	if tests != j.Tests || failures != j.Failures || skipped != j.Skipped {
		t.Errorf("suite totals %d/%d/%d do not add up to %d/%d/%d", tests, failures, skipped, j.Tests, j.Failures, j.Skipped)
	}
	nv101 := j.Suites[0]
	if nv101.Name != "NV101 server-policy-missing-capability" || nv101.Failures != 2 || len(nv101.Cases) != 2 {
		t.Fatalf("NV101 suite: %+v", nv101)
	}
	c := nv101.Cases[0]
	if c.Classname != "nvlint.NV101-server-policy-missing-capability" || c.File != odd || c.Name != odd+": "+hostile {
		t.Errorf("testcase: classname %q file %q name %q", c.Classname, c.File, c.Name)
	}
	if nv101.Cases[1].Name != odd+": "+hostile+" (2)" {
		t.Errorf("repeated name not made unique: %q", nv101.Cases[1].Name)
	}
	if c.Failure == nil || c.Failure.Type != "error" || c.Failure.Message != odd+":2:3: "+hostile {
		t.Fatalf("failure: %+v", c.Failure)
	}
	for _, want := range []string{odd + ":2:3", hostile, "evidence: evidence with line one", "fix: fix line one",
		`+ path "auth/token/revoke-accessor" {`, "$ vault policy write nomad-server"} {
		if !strings.Contains(c.Failure.Text, want) {
			t.Errorf("failure text lacks %q:\n%s", want, c.Failure.Text)
		}
	}
	for _, s := range j.Suites {
		switch s.Name {
		case "NV201 audience-mismatch":
			if s.Skipped != 1 || s.Cases[0].Skipped == nil || s.Cases[0].Skipped.Message != "needs a JWT role <and> a jobspec" {
				t.Errorf("skipped rule: %+v", s)
			}
		case "NV501 task-token-cannot-renew":
			if s.Failures != 0 || s.Skipped != 0 || s.Cases[0].Failure != nil || s.Cases[0].Name != metaClean.Title {
				t.Errorf("clean rule: %+v", s)
			}
		case "NV611 vault-sealed":
			if f := s.Cases[0].Failure; f == nil || f.Type != "info" || !strings.HasPrefix(f.Message, "vault @admins (sys/seal-status): vault is sealed") || s.Cases[0].File != "" {
				t.Errorf("live finding: %+v", s.Cases[0])
			}
		}
	}
	// A rule that is neither run nor skipped was disabled: left out.
	r := hostileReport()
	delete(r.Ran, "NV501")
	if out := render(t, reports.FormatJUnit, r); strings.Contains(out, "NV501") {
		t.Errorf("disabled rule reported")
	}
	// Raw XML: the hostile text never closes anything.
	if strings.Contains(out, "<script>") || strings.Contains(out, "]]>") || strings.Count(out, "</testsuite>") != 5 {
		t.Errorf("hostile text escaped badly:\n%s", out)
	}
}

type checkstyleXML struct {
	XMLName xml.Name `xml:"checkstyle"`
	Version string   `xml:"version,attr"`
	Files   []struct {
		Name   string `xml:"name,attr"`
		Errors []struct {
			Line     int    `xml:"line,attr"`
			Column   int    `xml:"column,attr"`
			Severity string `xml:"severity,attr"`
			Message  string `xml:"message,attr"`
			Source   string `xml:"source,attr"`
		} `xml:"error"`
	} `xml:"file"`
}

func TestCheckstyle(t *testing.T) {
	out := render(t, reports.FormatCheckstyle, hostileReport())
	var c checkstyleXML
	if err := xml.Unmarshal([]byte(out), &c); err != nil {
		t.Fatalf("not XML: %v\n%s", err, out)
	}
	if c.Version != "5.0" || len(c.Files) != 2 || c.Files[0].Name != odd || len(c.Files[0].Errors) != 3 {
		t.Fatalf("shape: %+v", c)
	}
	e := c.Files[0].Errors[0]
	wantMsg := hostile + "\nFix: fix " + hostile + "\n  $ vault policy write nomad-server " + odd + "\n  $ echo '```' && echo '````'"
	if e.Line != 2 || e.Column != 3 || e.Severity != "error" || e.Source != "NV101" || e.Message != wantMsg {
		t.Errorf("error: %+v\nwant message %q", e, wantMsg)
	}
	if w := c.Files[0].Errors[2]; w.Severity != "warning" || w.Source != "NV301" || w.Line != 2 {
		t.Errorf("warning: %+v", w)
	}
	if live := c.Files[1]; live.Name != "vault @admins (sys/seal-status)" || live.Errors[0].Severity != "info" || live.Errors[0].Line != 0 {
		t.Errorf("live: %+v", live)
	}
}

// ghCommand is a parsed workflow command.
type ghCommand struct {
	name  string
	props map[string]string
	data  string
}

// parseWorkflowCommands reads stdout the way the Actions runner does:
// a line that starts with :: is a command, NAME[ K=V,K=V]::DATA, with
// %XX escapes in properties and data.
func parseWorkflowCommands(t *testing.T, out string) (cmds []ghCommand, other []string) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if !strings.HasPrefix(line, "::") {
			other = append(other, line)
			continue
		}
		head, data, ok := strings.Cut(line[2:], "::")
		if !ok {
			t.Fatalf("no :: after command: %q", line)
		}
		name, props, _ := strings.Cut(head, " ")
		c := ghCommand{name: name, props: map[string]string{}, data: unescapeWorkflow(t, data, false)}
		if props != "" {
			for _, kv := range strings.Split(props, ",") {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					t.Fatalf("property without =: %q in %q", kv, line)
				}
				c.props[k] = unescapeWorkflow(t, v, true)
			}
		}
		cmds = append(cmds, c)
	}
	return cmds, other
}

func unescapeWorkflow(t *testing.T, s string, property bool) string {
	t.Helper()
	codes := map[string]string{"25": "%", "0D": "\r", "0A": "\n"}
	if property {
		codes["3A"], codes["2C"] = ":", ","
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '%' && i+2 < len(s) && codes[s[i+1:i+3]] != "":
			b.WriteString(codes[s[i+1:i+3]])
			i += 2
		case s[i] == '%':
			t.Errorf("unescaped %% in %q", s)
			b.WriteByte('%')
		case property && (s[i] == ',' || s[i] == ':'):
			t.Errorf("unescaped %q in property %q", s[i], s)
		case s[i] == '\r' || s[i] == '\n':
			t.Errorf("raw line break in %q", s)
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func TestGitHub(t *testing.T) {
	out := render(t, reports.FormatGitHub, hostileReport())
	cmds, other := parseWorkflowCommands(t, out)
	if len(cmds) != 4 || len(other) != 1 || !strings.HasPrefix(other[0], "nvlint: 2 errors, 1 warning, 1 info") {
		t.Fatalf("want 4 commands and a summary line, got %d and %q:\n%s", len(cmds), other, out)
	}
	c := cmds[0]
	wantProps := map[string]string{"file": odd, "line": "2", "col": "3", "endLine": "2", "endColumn": "10", "title": "NV101 server-policy-missing-capability"}
	if c.name != "error" || fmt.Sprint(c.props) != fmt.Sprint(wantProps) {
		t.Errorf("command %s %v, want error %v", c.name, c.props, wantProps)
	}
	if !strings.HasPrefix(c.data, hostile+"\nevidence: evidence with "+hostile+"\nsee: related "+hostile+" ("+odd+":3:1)\nfix: fix "+hostile) ||
		!strings.Contains(c.data, "\n  $ echo '```' && echo '````'") {
		t.Errorf("message:\n%q", c.data)
	}
	if !strings.Contains(out, "title=NV101 server-policy-missing-capability::") || !strings.Contains(out, "file=dir%2Cwith%3Aodd/pol%25icy.hcl,") {
		t.Errorf("property escaping:\n%s", out)
	}
	// An empty range (3:3-3:3) has no end column.
	if p := cmds[1].props; p["col"] != "3" || p["endColumn"] != "" {
		t.Errorf("empty range: %v", p)
	}
	// Columns only for a range on one line.
	if p := cmds[2].props; cmds[2].name != "warning" || p["line"] != "2" || p["endLine"] != "4" || p["col"] != "" || p["endColumn"] != "" {
		t.Errorf("multi-line range: %s %v", cmds[2].name, p)
	}
	if live := cmds[3]; live.name != "notice" || live.props["file"] != "" || live.props["title"] != "NV611 vault-sealed" ||
		!strings.HasPrefix(live.data, "vault is sealed: "+hostile+"\nobject: vault @admins (sys/seal-status)") {
		t.Errorf("live: %+v", live)
	}
	// No finding leaks onto a line of its own.
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "# heading") || strings.HasPrefix(l, "- item") {
			t.Errorf("message broke out of its command: %q", l)
		}
	}
}

var (
	inlineCode = regexp.MustCompile("(`+)[^`](?:.*?[^`])?(`+)")
	htmlTag    = regexp.MustCompile(`</?[A-Za-z][^>]*>`)
)

// checkMarkdown walks the Markdown as a CommonMark parser would for what
// matters here: fenced code blocks open and close in pairs, and outside
// them and outside code spans the only HTML is the report's own.
func checkMarkdown(t *testing.T, md string) {
	t.Helper()
	allowed := map[string]bool{"<details>": true, "</details>": true, "<summary>": true, "</summary>": true, "<code>": true, "</code>": true, "<br>": true}
	fence := ""
	for i, line := range strings.Split(md, "\n") {
		if fence != "" {
			if strings.HasPrefix(line, fence) && strings.Trim(line, "`") == "" {
				fence = ""
			}
			continue
		}
		if strings.HasPrefix(line, "```") {
			fence = line[:len(line)-len(strings.TrimLeft(line, "`"))]
			continue
		}
		text := inlineCode.ReplaceAllStringFunc(line, func(s string) string {
			m := inlineCode.FindStringSubmatch(s)
			if m[1] != m[2] {
				return s
			}
			return "CODE"
		})
		for _, tag := range htmlTag.FindAllString(text, -1) {
			if !allowed[tag] {
				t.Errorf("line %d: raw HTML %q outside code: %q", i+1, tag, line)
			}
		}
		if strings.Contains(text, "@octocat") || strings.Contains(text, "@admins") {
			t.Errorf("line %d mentions someone: %q", i+1, line)
		}
	}
	if fence != "" {
		t.Errorf("code fence %q never closed", fence)
	}
}

func TestMarkdown(t *testing.T) {
	out := render(t, reports.FormatMarkdown, hostileReport())
	checkMarkdown(t, out)
	for _, want := range []string{
		"### ❌ nvlint: 2 errors, 1 warning, 1 info in 2 files\n",
		"| ❌ error | 2 |\n", "| ⚠️ warning | 1 |\n", "| ℹ️ info | 1 |\n",
		"| `NV101` server-policy-missing-capability | error | 2 | 1 |\n", "| `NV611` vault-sealed | info | 1 | 1 |\n",
		"<summary><code>" + odd + "</code> — 2 errors, 1 warning</summary>\n\n",
		"<summary><code>live objects</code> — 1 info</summary>\n\n",
		"❌ **error** `NV101` server-policy-missing-capability · line 2:3\n",
		"ℹ️ **info** `NV611` vault-sealed · vault @\u2060admins \\(sys/seal-status\\)",
		"&lt;script&gt;alert\\(1\\)&lt;/script&gt;", "&lt;/details&gt;", "@\u2060octocat", "100% sure",
		"<br>\\# heading<br>- item<br>\\`\\`\\`<br>end",
		"- see: related line one",
		"**Fix:** fix line one",
		"```diff\n# " + odd + ":5\n+ path \"auth/token/revoke-accessor\" {\n",
		"`````sh\nvault policy write nomad-server " + odd + "\necho '```' && echo '````'\n`````\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "<details>"); n != 2 || strings.Count(out, "</details>") != 2 {
		t.Errorf("want 2 <details>, got %d:\n%s", n, out)
	}
	// The message is one line of a quote: it cannot open a block.
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "# heading") || strings.HasPrefix(l, "- item") || strings.HasPrefix(l, "end") {
			t.Errorf("message broke out of its line: %q", l)
		}
	}

	// A clean run says so, and doctor's verdicts open the comment.
	clean := &reports.Report{Files: []*world.File{{Path: "a.hcl"}}, Verdicts: []reports.Verdict{{Area: "Vault", Status: "broken", Detail: "sealed | <b>", Findings: 2}}}
	out = render(t, reports.FormatMarkdown, clean)
	checkMarkdown(t, out)
	if !strings.Contains(out, "### ✅ nvlint: no problems in 1 file") || !strings.Contains(out, "| Vault | ❌ broken | sealed \\| &lt;b&gt; \\(\\+1 more\\) |") {
		t.Errorf("clean report:\n%s", out)
	}
}

func TestMarkdownSizeLimit(t *testing.T) {
	r := &reports.Report{}
	long := strings.Repeat("x", 2000)
	for i := range 100 {
		name := fmt.Sprintf("f%03d.hcl", i)
		r.Files = append(r.Files, &world.File{Path: name})
		r.Findings = append(r.Findings, rules.Finding{Rule: metaA, Severity: rules.Error, Message: long, Range: rng(name, 1, 1, 1, 2)})
	}
	out := render(t, reports.FormatMarkdown, r)
	checkMarkdown(t, out)
	if len(out) > 65536 || !strings.Contains(out, "more files not shown") || !strings.Contains(out, "- `f099.hcl`: 1 error") {
		t.Errorf("len %d; tail:\n%s", len(out), out[max(0, len(out)-500):])
	}
}

// TestEscapingControlCharacters checks the XML formats stay well formed
// with characters XML cannot carry.
func TestEscapingControlCharacters(t *testing.T) {
	r := hostileReport()
	r.Findings[0].Message = "esc \x1b[31mred\x1b[0m nul \x00 bad utf8 \xff end"
	for _, f := range []reports.Format{reports.FormatJUnit, reports.FormatCheckstyle} {
		out := render(t, f, r)
		if err := xml.Unmarshal([]byte(out), new(struct{})); err != nil {
			t.Errorf("%s: not XML: %v", f, err)
		}
		if !strings.Contains(out, "esc \uFFFD[31mred") {
			t.Errorf("%s: control character not replaced", f)
		}
	}
}

// TestMaskedEverywhere writes every format at once, to stdout and to
// files, with a secret in every field a format prints, and checks that
// no form of it survives anywhere and that the mask is escaped like any
// other text.
func TestMaskedEverywhere(t *testing.T) {
	const secret = `hvs.S3cr3t<&>"%,:@x`
	r := hostileReport()
	r.Files[0].Src = append(r.Files[0].Src, []byte("token = \""+secret+"\"\n")...)
	f := &r.Findings[0]
	f.Message += " token " + secret
	f.Range = rng(odd, 5, 1, 5, 10)
	f.Object.Name = secret
	f.Evidence = append(f.Evidence, "value "+secret)
	f.Related[0].Message += secret
	f.Fixes[0].Description += secret
	f.Fixes[0].Commands = append(f.Fixes[0].Commands, rules.Cmd("vault", "token", "revoke", secret))
	f.Fixes[0].Edits[0].NewText += secret
	r.Findings[3].Object.Name = secret
	r.Skipped[0].Reason += secret
	r.Verdicts = []reports.Verdict{{Area: "Vault", Status: "broken", Detail: secret}}
	r.Notes = []string{secret}
	r.Fixed = []rules.Finding{{Rule: metaB, Severity: rules.Warning, Message: "fixed " + secret, Range: rng(odd, 1, 1, 1, 2)}}
	r.Suppressed, r.Baselined = 2, 3

	secrets := &redact.Secrets{}
	secrets.Add(secret)
	dir := t.TempDir()
	var specs []string
	for i, format := range reports.Formats {
		if i == 0 {
			specs = append(specs, string(format))
			continue
		}
		specs = append(specs, string(format)+"="+filepath.Join(dir, "report-"+string(format)))
	}
	outs, err := reports.ParseOutputs(specs)
	if err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	if err := reports.WriteOutputs(&stdout, outs, r, reports.Options{Verbose: true, Color: true}, secrets.Bytes); err != nil {
		t.Fatal(err)
	}
	forms := []string{secret, "S3cr3t"}
	for _, o := range outs {
		data := stdout.Bytes()
		if o.Path != "" {
			if data, err = os.ReadFile(o.Path); err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(data, []byte("\x1b[")) {
				t.Errorf("%s: colour written to a file", o)
			}
		}
		for _, s := range forms {
			if bytes.Contains(data, []byte(s)) {
				t.Errorf("%s leaks %q:\n%s", o, s, data)
			}
		}
		if !bytes.Contains(data, []byte("redacted")) {
			t.Errorf("%s: no mask at all", o)
		}
		switch o.Format {
		case reports.FormatJUnit, reports.FormatCheckstyle:
			if err := xml.Unmarshal(data, new(struct{})); err != nil {
				t.Errorf("%s: masking broke the XML: %v", o, err)
			}
			if bytes.Contains(data, []byte("<redacted>")) {
				t.Errorf("%s: mask not escaped", o)
			}
		case reports.FormatMarkdown:
			checkMarkdown(t, string(data))
			if !bytes.Contains(data, []byte("_Not listed: 1 fixed by --fix, 2 suppressed, 3 in the baseline._")) {
				t.Errorf("markdown does not say what it leaves out:\n%s", data)
			}
		case reports.FormatGitHub:
			parseWorkflowCommands(t, string(data))
		}
	}
}

func TestWriteOutputsErrors(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	outs := []reports.Output{{Format: reports.FormatJSON, Path: filepath.Join(blocker, "x.json")}, {Format: reports.FormatJUnit, Path: filepath.Join(dir, "ok.xml")}}
	err := reports.WriteOutputs(&bytes.Buffer{}, outs, hostileReport(), reports.Options{}, nil)
	if err == nil || !strings.Contains(err.Error(), "json") {
		t.Fatalf("want an error for the json report, got %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "ok.xml")); err != nil {
		t.Errorf("the other output was not written: %v", err)
	}
}
