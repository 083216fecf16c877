// Package docs renders the rules' documentation from their metadata: one
// Markdown page per rule, which nvlint explain prints and docs/rules/
// holds, and the index of docs/rules/README.md.
//
// The files under docs/rules/ are generated: edit the rule's Meta in
// checks/ and run
//
//	go test ./docs -update
//
// The package's test fails while the files and the catalog disagree.
package docs

import (
	"fmt"
	"strings"

	"github.com/nvlint/nvlint/rules"
)

// UpdateCommand regenerates the files under docs/rules/.
const UpdateCommand = "go test ./docs -update"

// area is what the first digit of a rule ID stands for.
type area struct {
	digit   byte
	name    string
	pkg     string
	summary string
}

var areas = []area{
	{'0', "Input files", "checks/input", "files that cannot be read, parsed or recognised"},
	{'1', "Legacy token-role flow", "checks/legacy", "the Nomad server's token and policy, the token role, the policies jobs request (Nomad 1.9 and earlier)"},
	{'2', "Workload identity", "checks/identity", "identity audiences, JWT auth config and roles, claim mappings, templated policies (Nomad 1.7 and later)"},
	{'3', "Agent config", "checks/agent", "the vault blocks of Nomad agent configs"},
	{'4', "Jobspecs and templates", "checks/jobspec", "the vault, identity, template and secret blocks of tasks"},
	{'5', "Vault policies", "checks/policy", "what Vault refuses, never matches, or leaves a task token unable to do"},
	{'6', "Live clusters", "checks/live", "what only running clusters can answer (nvlint doctor, or lint --snapshot)"},
}

func areaOf(id string) (area, bool) {
	if len(id) >= 3 {
		for _, a := range areas {
			if a.digit == id[2] {
				return a, true
			}
		}
	}
	return area{}, false
}

// Rule renders a rule's page: what nvlint explain prints, and
// docs/rules/<ID>.md holds after the generated-file header.
func Rule(m *rules.Meta) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s %s\n\n", m.ID, m.Name)
	fmt.Fprintf(&b, "> %s\n\n", m.Title)
	fmt.Fprintf(&b, "- **ID:** `%s`, or its name `%s`, wherever nvlint takes a rule\n", m.ID, m.Name)
	fmt.Fprintf(&b, "- **Severity:** %s\n", m.Severity)
	if a, ok := areaOf(m.ID); ok {
		fmt.Fprintf(&b, "- **Area:** %s (`%s`)\n", strings.ToLower(a.name[:1])+a.name[1:], a.pkg)
	}
	var needs []string
	for _, k := range m.Needs {
		needs = append(needs, k.Noun())
	}
	if m.Live {
		needs = append(needs, "running clusters (`nvlint doctor`, or `nvlint lint --snapshot`)")
	}
	if len(needs) > 0 {
		it := "it"
		if m.Live {
			it = "them"
		}
		fmt.Fprintf(&b, "- **Needs:** %s; without %s the rule is skipped (`--verbose` says so)\n", strings.Join(needs, " and "), it)
	}
	if m.Security > 0 {
		fmt.Fprintf(&b, "- **Security:** %s, rated %.1f on the CVSS scale (SARIF `security-severity`)\n", securityBand(m.Security), m.Security)
	}
	fmt.Fprintf(&b, "\n## Why it matters\n\n%s\n", strings.TrimSpace(m.Doc.Why))
	fmt.Fprintf(&b, "\n## Example\n\n%s\n", fence(m.Doc.Example))
	fmt.Fprintf(&b, "\n## How to fix\n\n%s\n", strings.TrimSpace(m.Doc.Fix))
	return b.String()
}

// securityBand names a CVSS rating as code scanning does.
func securityBand(v float64) string {
	switch {
	case v >= 9:
		return "critical"
	case v >= 7:
		return "high"
	case v >= 4:
		return "medium"
	}
	return "low"
}

// fence wraps text in a code block that its own backticks cannot close.
func fence(text string) string {
	ticks := "```"
	for strings.Contains(text, ticks) {
		ticks += "`"
	}
	return ticks + "\n" + strings.TrimRight(text, "\n") + "\n" + ticks
}

// header opens every generated file.
func header() string {
	return "<!-- Generated from the rule catalog (checks/) by `" + UpdateCommand + "`. Do not edit. -->\n\n"
}

// RuleFile is the content of docs/rules/<ID>.md.
func RuleFile(m *rules.Meta) string { return header() + Rule(m) }

// RuleFileName is the file name of a rule's page under docs/rules/.
func RuleFileName(m *rules.Meta) string { return m.ID + ".md" }

// Index is the content of docs/rules/README.md: every rule by area.
func Index(all []rules.Rule) string {
	var b strings.Builder
	b.WriteString(header())
	b.WriteString("# nvlint rules\n\n")
	b.WriteString("One page per rule: why it matters, an example that triggers it and how to fix it. ")
	b.WriteString("`nvlint explain ID` (or its name) prints the same page; `nvlint rules` lists them.\n")
	b.WriteString("\nSeverities: **error** is broken now or certain to break, **warning** is risky or deprecated, **info** is advice.\n")
	for _, a := range areas {
		var rows []string
		for _, r := range all {
			m := r.Meta()
			if ra, ok := areaOf(m.ID); !ok || ra.digit != a.digit {
				continue
			}
			rows = append(rows, fmt.Sprintf("| [%s](%s) | `%s` | %s | %s |", m.ID, RuleFileName(m), m.Name, m.Severity, escapeCell(m.Title)))
		}
		if len(rows) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n## %s (NV%cxx)\n\n%s. Package `%s`.\n\n", a.name, a.digit, capitalize(a.summary), a.pkg)
		b.WriteString("| ID | name | severity | title |\n|---|---|---|---|\n")
		b.WriteString(strings.Join(rows, "\n"))
		b.WriteString("\n")
	}
	return b.String()
}

func escapeCell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
