package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/nvlint/nvlint/checks"
	"github.com/nvlint/nvlint/reports"
	"github.com/nvlint/nvlint/world"
)

// Shell completion comes from cobra's "completion" command (bash, zsh,
// fish, PowerShell). The scripts ask nvlint itself what to offer, so
// commands, flags, rule IDs and formats come from the command tree and
// the rule catalog and cannot drift.

// completeValues offers a fixed set of values for a flag.
func completeValues(c *cobra.Command, flag string, values ...string) {
	_ = c.RegisterFlagCompletionFunc(flag, func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		return withPrefixOf(toComplete, values), cobra.ShellCompDirectiveNoFileComp
	})
}

// completeFormats offers the report formats; FORMAT=FILE then completes
// as a file name in the shell.
func completeFormats(c *cobra.Command) {
	completeValues(c, "format", formatNames()...)
}

// completeRules offers rule IDs and names.
func completeRules(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, r := range checks.All() {
		m := r.Meta()
		for _, k := range []string{m.ID, m.Name} {
			if strings.HasPrefix(strings.ToLower(k), strings.ToLower(toComplete)) {
				out = append(out, k+"\t"+m.Title)
			}
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// noArgs completes nothing for a command that takes no arguments.
func noArgs(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return nil, cobra.ShellCompDirectiveNoFileComp
}

func withPrefixOf(prefix string, values []string) []string {
	var out []string
	for _, v := range values {
		if strings.HasPrefix(v, prefix) {
			out = append(out, v)
		}
	}
	return out
}

func formatNames() []string {
	out := make([]string, len(reports.Formats))
	for i, f := range reports.Formats {
		out[i] = string(f)
	}
	return out
}

func kindList() []string {
	out := make([]string, len(world.Kinds))
	for i, k := range world.Kinds {
		out[i] = string(k)
	}
	return out
}
