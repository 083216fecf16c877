// Package cli is nvlint's command line: flag parsing, wiring the loaders,
// the engine and the reports, and exit codes.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/nvlint/nvlint/internal/crash"
	"github.com/nvlint/nvlint/internal/suggest"
)

// Exit codes.
const (
	ExitOK       = 0 // no finding at or above --fail-on
	ExitFindings = 1 // findings at or above --fail-on
	ExitUsage    = 2 // bad usage or unreadable path
	ExitInternal = 3 // nvlint itself failed
)

// Env is the process environment the commands run in; tests substitute
// their own.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// IsTerminal reports whether a writer is a terminal.
	IsTerminal func(io.Writer) bool
	// Dir is the working directory: where the search for .nvlint.hcl
	// starts when no linted path finds one; empty for the process's.
	Dir string
	// Context, when set, stops a command that runs until stopped (doctor
	// --watch) once done; without it SIGINT and SIGTERM do.
	Context context.Context
}

// Main runs nvlint with args (without the program name) and returns the
// exit code.
func Main(args []string, env Env) (code int) {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if env.IsTerminal == nil {
		env.IsTerminal = func(io.Writer) bool { return false }
	}
	if env.Stdin == nil {
		env.Stdin = strings.NewReader("")
	}
	defer func() {
		if v := recover(); v != nil {
			// The stack of the goroutine that panicked, which a worker's
			// panic relayed to this one keeps, without the build's paths.
			v, c := crash.Of(v)
			fmt.Fprintf(env.Stderr, "nvlint: internal error: %v at %s\n%s\nPlease report this.\n", v, c.Where, c.Stack)
			code = ExitInternal
		}
	}()
	root := newRoot(env, &code)
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, root.UsageString())
		return ExitUsage
	}
	root.SetArgs(normalizeArgs(root, args))
	if err := root.Execute(); err != nil {
		fmt.Fprintf(env.Stderr, "nvlint: %v\n", err)
		var fe flagErrorOf
		if errors.As(err, &fe) {
			fmt.Fprintf(env.Stderr, "Run '%s --help' for the flags.\n", fe.cmd.CommandPath())
		}
		return ExitUsage
	}
	return code
}

// globalFlags are the flags of every command.
type globalFlags struct {
	color string
}

// newRoot builds the command tree. Each command stores its exit code in
// code; an error returned to cobra is a usage error.
func newRoot(env Env, code *int) *cobra.Command {
	root := &cobra.Command{
		Use:   "nvlint",
		Short: "find what is wrong with a Nomad ↔ Vault integration",
		Long: `nvlint finds what is wrong with a Nomad ↔ Vault integration and says how to fix it.

Exit status: 0 nothing at or above --fail-on, 1 findings (or a denied
access), 2 usage error or unreadable path, 3 internal error.`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	root.SetFlagErrorFunc(flagError)
	// --color is every command's, so scripts can pass it uniformly; the
	// commands that print no colour (completion, help) check it and
	// ignore it.
	g := &globalFlags{}
	root.PersistentFlags().StringVar(&g.color, "color", "auto", colorUsage)
	completeValues(root, "color", colorModes...)
	root.PersistentPreRunE = func(c *cobra.Command, _ []string) error {
		if _, err := colorMode(g.color, env); err != nil {
			return flagErrorOf{err, c}
		}
		return nil
	}
	root.AddCommand(
		newLintCmd(env, code, g),
		newDoctorCmd(env, code, g),
		newAccessCmd(env, code, g),
		newImpactCmd(env, code, g),
		newRulesCmd(env, code, g),
		newExplainCmd(env, code, g),
		newVersionCmd(env, code, g),
	)
	root.SetHelpCommand(newHelpCmd())
	// cobra's completion command, made to refuse what is not a shell.
	root.InitDefaultCompletionCmd()
	if comp, _, err := root.Find([]string{"completion"}); err == nil && comp != root {
		comp.Short = "print a completion script for bash, zsh, fish or PowerShell"
		comp.RunE = func(c *cobra.Command, _ []string) error {
			*code = noPaths(env, c, "which shell? bash, zsh, fish or powershell")
			return nil
		}
	}
	for _, c := range root.Commands() {
		// Flags and paths mix in any order; -- ends the flags.
		c.Flags().SetInterspersed(true)
		c.Flags().SortFlags = true
	}
	return root
}

// newHelpCmd is "nvlint help [COMMAND]": the command's help on standard
// output; an unknown topic is a usage error, with a suggestion.
func newHelpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "help [COMMAND]",
		Short: "print the help of nvlint or of a command",
		ValidArgsFunction: func(c *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var out []string
			for _, sub := range c.Root().Commands() {
				if sub.IsAvailableCommand() && strings.HasPrefix(sub.Name(), toComplete) {
					out = append(out, sub.Name()+"\t"+sub.Short)
				}
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(c *cobra.Command, args []string) error {
			target, rest, err := c.Root().Find(args)
			if err != nil || target == nil || len(rest) > 0 {
				msg := fmt.Sprintf("no help topic %q", strings.Join(args, " "))
				if target != nil && len(args) > 0 {
					if s := target.SuggestionsFor(args[len(args)-1]); len(s) > 0 {
						msg += fmt.Sprintf("; did you mean %s?", strings.Join(s, ", "))
					}
				}
				return errors.New(msg + "; 'nvlint help' lists the commands")
			}
			target.InitDefaultHelpFlag()
			return target.Help()
		},
	}
}

// flagError names the flag and, for an unknown one, suggests the flag
// the user most likely meant.
func flagError(c *cobra.Command, err error) error {
	msg := err.Error()
	name := ""
	switch {
	case strings.HasPrefix(msg, "unknown flag: --"):
		name = strings.TrimPrefix(msg, "unknown flag: --")
	case strings.HasPrefix(msg, "unknown shorthand flag: "):
		// "unknown shorthand flag: 'x' in -xyz": the user probably meant
		// a long flag with one dash too few.
		if _, after, ok := strings.Cut(msg, " in -"); ok {
			name = after
		}
	}
	if name == "" {
		return flagErrorOf{err, c}
	}
	var names []string
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if !f.Hidden {
			names = append(names, f.Name)
		}
	})
	name, _, _ = strings.Cut(name, "=")
	hint := ""
	if best, ok := suggest.Closest(name, names, 2); ok {
		hint = fmt.Sprintf("; did you mean --%s?", best)
	} else if prefixed := withPrefix(name, names); len(prefixed) > 0 {
		hint = fmt.Sprintf("; did you mean --%s?", strings.Join(prefixed, ", --"))
	}
	return flagErrorOf{fmt.Errorf("unknown flag --%s%s", name, hint), c}
}

// flagErrorOf is an error in the flags of a command.
type flagErrorOf struct {
	error
	cmd *cobra.Command
}

func (e flagErrorOf) Unwrap() error { return e.error }

// withPrefix lists the candidates that start with s, when there are a
// few.
func withPrefix(s string, candidates []string) []string {
	if len(s) < 2 {
		return nil
	}
	var out []string
	for _, c := range candidates {
		if strings.HasPrefix(strings.ToLower(c), strings.ToLower(s)) {
			out = append(out, c)
		}
	}
	if len(out) > 5 {
		return nil
	}
	return out
}

// normalizeArgs keeps the spellings the Go flag package accepted before:
// a long flag with one dash (-format json) and -version/--version.
func normalizeArgs(root *cobra.Command, args []string) []string {
	out := append([]string(nil), args...)
	switch out[0] {
	case "--version", "-version":
		out[0] = "version"
	case "-help":
		out[0] = "--help"
	}
	cmd, _, err := root.Find(out)
	if err != nil || cmd == nil {
		return out
	}
	long := map[string]bool{"help": true}
	cmd.Flags().VisitAll(func(f *pflag.Flag) { long[f.Name] = true })
	cmd.InheritedFlags().VisitAll(func(f *pflag.Flag) { long[f.Name] = true })
	for i, a := range out {
		if a == "--" {
			break
		}
		if len(a) < 3 || a[0] != '-' || a[1] == '-' {
			continue
		}
		name, _, _ := strings.Cut(a[1:], "=")
		if long[name] {
			out[i] = "-" + a
		}
	}
	return out
}

// usageError prints a usage error and returns its exit code.
func usageError(env Env, err error) int {
	fmt.Fprintf(env.Stderr, "nvlint: %v\n", err)
	return ExitUsage
}

// noPaths is the usage error of a command run without its paths: what
// is missing, then the command's usage, on standard error.
func noPaths(env Env, c *cobra.Command, what string) int {
	fmt.Fprintf(env.Stderr, "nvlint %s: %s\n\n%s", c.Name(), what, c.UsageString())
	return ExitUsage
}
