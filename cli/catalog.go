package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"text/tabwriter"

	"github.com/nvlint/nvlint/checks"
	"github.com/nvlint/nvlint/docs"
	"github.com/nvlint/nvlint/rules"
)

func runRules(args []string, env Env) int {
	fs := flag.NewFlagSet("nvlint rules", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	format := fs.String("format", "text", "text or json")
	if _, err := parseInterspersed(fs, args); err != nil {
		return usageError(env, err)
	}
	all := checks.All()
	if *format == "json" {
		type entry struct {
			ID       string         `json:"id"`
			Name     string         `json:"name"`
			Severity rules.Severity `json:"severity"`
			Title    string         `json:"title"`
			Needs    []string       `json:"needs"`
		}
		var out []entry
		for _, r := range all {
			m := r.Meta()
			e := entry{ID: m.ID, Name: m.Name, Severity: m.Severity, Title: m.Title, Needs: []string{}}
			for _, k := range m.Needs {
				e.Needs = append(e.Needs, string(k))
			}
			out = append(out, e)
		}
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return ExitInternal
		}
		return ExitOK
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSEVERITY\tTITLE")
	for _, r := range all {
		m := r.Meta()
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.ID, m.Name, m.Severity, m.Title)
	}
	tw.Flush()
	return ExitOK
}

func runExplain(args []string, env Env) int {
	if len(args) != 1 {
		fmt.Fprintln(env.Stderr, "usage: nvlint explain RULE (an ID such as NV101 or a name such as server-policy-missing-capability)")
		return ExitUsage
	}
	r := rules.Lookup(checks.All(), args[0])
	if r == nil {
		fmt.Fprintf(env.Stderr, "nvlint: no rule %q; 'nvlint rules' lists them\n", args[0])
		return ExitUsage
	}
	fmt.Fprint(env.Stdout, Explain(r.Meta()))
	return ExitOK
}

// Explain renders a rule's documentation: the page docs/rules/<ID>.md
// holds, from the same renderer.
func Explain(m *rules.Meta) string { return docs.Rule(m) }
