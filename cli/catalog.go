package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/nvlint/nvlint/checks"
	"github.com/nvlint/nvlint/docs"
	"github.com/nvlint/nvlint/rules"
)

// rulesFlags are the flags of nvlint rules.
type rulesFlags struct{ print printFlags }

func newRulesCmd(env Env, code *int, g *globalFlags) *cobra.Command {
	var f rulesFlags
	c := &cobra.Command{
		Use:               "rules [flags]",
		Short:             "list the rules",
		Long:              "Lists every rule: ID, name, default severity and title.\n\nExit status: 0, or 2 on a usage error.",
		Args:              cobra.NoArgs,
		ValidArgsFunction: noArgs,
		RunE: func(*cobra.Command, []string) error {
			*code = runRules(&f, env)
			return nil
		},
	}
	f.print.register(c, g, "with the inputs each rule needs")
	return c
}

func runRules(f *rulesFlags, env Env) int {
	asJSON, _, err := f.print.resolve(env)
	if err != nil {
		return usageError(env, err)
	}
	all := checks.All()
	if asJSON {
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

// explainFlags are the flags of nvlint explain.
type explainFlags struct{ print printFlags }

func newExplainCmd(env Env, code *int, g *globalFlags) *cobra.Command {
	var f explainFlags
	c := &cobra.Command{
		Use:   "explain RULE",
		Short: "explain a rule (by ID or name)",
		Long: `Prints a rule's documentation: what it checks, why it matters, how to fix it.
RULE is an ID such as NV101 or a name such as server-policy-missing-capability.

Exit status: 0, or 2 when RULE is not a rule (with the rules it may mean).`,
		ValidArgsFunction: completeRules,
		RunE: func(c *cobra.Command, args []string) error {
			*code = runExplain(c, args, &f, env)
			return nil
		},
	}
	f.print.register(c, g, "the rule's metadata and its page as Markdown")
	return c
}

func runExplain(c *cobra.Command, args []string, f *explainFlags, env Env) int {
	asJSON, _, err := f.print.resolve(env)
	if err != nil {
		return usageError(env, err)
	}
	if len(args) != 1 {
		return noPaths(env, c, "explain takes one RULE: an ID such as NV101 or a name such as server-policy-missing-capability")
	}
	all := checks.All()
	r := rules.Lookup(all, args[0])
	if r == nil {
		msg := fmt.Sprintf("no rule %q", args[0]) + rules.DidYouMean(args[0], all)
		return usageError(env, errors.New(msg+" ('nvlint rules' lists them)"))
	}
	m := r.Meta()
	if asJSON {
		out := struct {
			ID       string         `json:"id"`
			Name     string         `json:"name"`
			Severity rules.Severity `json:"severity"`
			Title    string         `json:"title"`
			Doc      string         `json:"doc"`
		}{m.ID, m.Name, m.Severity, m.Title, Explain(m)}
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return ExitInternal
		}
		return ExitOK
	}
	fmt.Fprint(env.Stdout, Explain(m))
	return ExitOK
}

// Explain renders a rule's documentation: the page docs/rules/<ID>.md
// holds, from the same renderer.
func Explain(m *rules.Meta) string { return docs.Rule(m) }
