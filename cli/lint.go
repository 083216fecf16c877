package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nvlint/nvlint/autofix"
	"github.com/nvlint/nvlint/checks"
	"github.com/nvlint/nvlint/inputs"
	"github.com/nvlint/nvlint/redact"
	"github.com/nvlint/nvlint/reports"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// lintFlags are the flags of nvlint lint.
type lintFlags struct {
	kind    string
	skipUnk bool
	snap    string
	names   nameFlag
	fix     bool
	diff    bool
	script  string
	rf      reportFlags
	tfVars  []inputs.TerraformVar
	// perDir is --setup-per-dir.
	perDir string
}

// nameFlag is --name FILE=NAME, repeatable: the name of the object of a
// file whose name does not say it. lint, access and impact take it.
type nameFlag []string

func (n *nameFlag) register(c *cobra.Command) {
	c.Flags().StringArrayVar((*[]string)(n), "name", nil, "override an object's name: `FILE=NAME` (repeatable); FILE may be a path or a base name")
}

// parse reads the flags into inputs.Options.Names.
func (n nameFlag) parse() (map[string]string, error) {
	names := map[string]string{}
	for _, s := range n {
		file, name, ok := strings.Cut(s, "=")
		if !ok || file == "" || name == "" {
			return nil, fmt.Errorf("--name wants FILE=NAME, got %q", s)
		}
		names[file] = name
	}
	return names, nil
}

// tfVarFlag collects --var-file and --var into one list, so that they
// keep the order they were given in, which decides which value wins.
type tfVarFlag struct {
	vars *[]inputs.TerraformVar
	file bool
}

func (f tfVarFlag) Set(s string) error {
	if f.file {
		*f.vars = append(*f.vars, inputs.TerraformVar{File: s})
		return nil
	}
	name, value, ok := strings.Cut(s, "=")
	if !ok || strings.TrimSpace(name) == "" {
		return fmt.Errorf("want NAME=VALUE, got %q", s)
	}
	*f.vars = append(*f.vars, inputs.TerraformVar{Name: strings.TrimSpace(name), Value: value})
	return nil
}

func (f tfVarFlag) String() string { return "" }

func (f tfVarFlag) Type() string {
	if f.file {
		return "FILE"
	}
	return "NAME=VALUE"
}

func newLintCmd(env Env, code *int, g *globalFlags) *cobra.Command {
	var f lintFlags
	c := &cobra.Command{
		Use:   "lint [flags] PATH...",
		Short: "check jobspecs, agent configs, Vault policies and roles, Terraform",
		Long: `Checks jobspecs, Nomad agent configs, Vault policies, token roles, JWT auth
configs and roles, and Terraform, each file alone and all of them together.

PATH is a file, a directory (walked recursively) or - for standard input (with --kind).
The .nvlint.hcl that applies is the one found from the linted paths up (see --config).

Exit status: 0 nothing at or above --fail-on (or nothing to lint), 1 findings at or
above --fail-on (or a --baseline-strict baseline to shrink, or --diff has changes),
2 usage error or unreadable path, 3 internal error.`,
		RunE: func(c *cobra.Command, paths []string) error {
			if len(paths) == 0 && f.perDir != "" {
				paths = []string{f.perDir}
			}
			if len(paths) == 0 {
				*code = noPaths(env, c, "no PATH to lint")
				return nil
			}
			*code = runLint(paths, &f, env)
			return nil
		},
	}
	fs := c.Flags()
	fs.StringVar(&f.kind, "kind", "", "treat named files and stdin as this `KIND`: "+kindNames())
	fs.BoolVar(&f.skipUnk, "skip-unknown", false, "skip named files that are not Nomad, Vault or Terraform files, as when walking a directory, instead of reporting them (for hooks that pass every changed file)")
	fs.StringVar(&f.snap, "snapshot", "", "check the files against the live state in `FILE`, saved with nvlint doctor --save: files replace the live objects they define")
	fs.BoolVar(&f.fix, "fix", false, "apply the file edits of each finding's first fix, then lint again and report what is left; commands against live clusters are printed, never run")
	fs.BoolVar(&f.diff, "diff", false, "print a unified diff of what --fix would write, and write nothing; exit 1 when there is something to fix")
	fs.StringVar(&f.script, "fix-script", "", "with --fix: write the commands of fixes nvlint does not run (they change live clusters) to this shell script `FILE` instead of printing them")
	f.rf.register(c, g, "also say which rules could not run and why, which files were skipped, and which config applied")
	fs.Var(tfVarFlag{&f.tfVars, true}, "var-file", "read Terraform variable values from `FILE`, as terraform plan -var-file (repeatable; after terraform.tfvars and *.auto.tfvars, in command-line order with --var)")
	fs.Var(tfVarFlag{&f.tfVars, false}, "var", "set a Terraform variable: `NAME=VALUE`, as terraform plan -var (repeatable)")
	_ = c.MarkFlagFilename("var-file", "tfvars", "json")
	fs.StringVar(&f.perDir, "setup-per-dir", "", "lint each immediate subdirectory of `DIR` as a setup of its own, in place of the setup blocks of .nvlint.hcl (DIR is linted when no PATH is given)")
	_ = c.MarkFlagDirname("setup-per-dir")
	f.names.register(c)
	completeValues(c, "kind", kindList()...)
	_ = c.MarkFlagFilename("snapshot", "json")
	return c
}

func runLint(paths []string, f *lintFlags, env Env) int {
	rf := &f.rf
	rs, err := rf.resolve(env)
	if err != nil {
		return usageError(env, err)
	}
	outs := rs.outs
	opts := inputs.Options{Stdin: env.Stdin, SkipUnknown: f.skipUnk, TerraformVars: f.tfVars}
	if err := inputs.CheckTerraformVars(f.tfVars); err != nil {
		return usageError(env, err)
	}
	if f.kind != "" {
		if opts.Kind, err = inputs.ParseKind(f.kind); err != nil {
			return usageError(env, flagErr("--kind", err))
		}
	}
	if opts.Names, err = f.names.parse(); err != nil {
		return usageError(env, err)
	}
	for _, p := range paths {
		if p == "-" && opts.Kind == "" {
			return usageError(env, errors.New("reading standard input (-) needs --kind"))
		}
	}

	switch {
	case f.fix && f.diff:
		return usageError(env, errors.New("--fix writes the files and --diff shows what it would write: pass one"))
	case f.script != "" && !f.fix:
		return usageError(env, errors.New("--fix-script goes with --fix"))
	case f.diff && hasStdout(outs) && len(rf.formats) > 0:
		return usageError(env, errors.New("--diff prints the diff on standard output: give --format outputs a file (FORMAT=FILE)"))
	}

	catalog := checks.All()
	cfg, err := loadConfig(env, rf.config, paths, catalog, rf.verbose)
	if err != nil {
		return usageError(env, err)
	}
	l, err := newLinter(paths, opts, f.snap, cfg, catalog)
	if err != nil {
		return usageError(env, err)
	}
	if l.setups, err = declaredSetups(cfg, f.perDir); err != nil {
		return usageError(env, err)
	}

	w, res, notes, loadErr := l.lint(nil)
	if loadErr != nil {
		for _, e := range splitErrors(loadErr) {
			fmt.Fprintf(env.Stderr, "nvlint: %v\n", e)
		}
		return ExitUsage
	}
	secrets := worldSecrets(w, env)

	var fixed *autofix.Outcome
	if f.fix || f.diff {
		out, err := l.runFixes(w, res)
		if err != nil {
			fmt.Fprintf(env.Stderr, "nvlint: %v\n", err)
			return ExitInternal
		}
		reportSkipped(env, out)
		if f.diff {
			d := diffText(out)
			if _, err := io.WriteString(env.Stdout, reports.ColorDiff(secrets.String(d), rs.color)); err != nil {
				return ExitInternal
			}
			if code := writeReports(env, fileOutputs(outs), reportOf(w, res, notes, catalog), reports.Options{Verbose: rf.verbose}, secrets); code != ExitOK {
				return code
			}
			if d != "" {
				return ExitFindings
			}
			return ExitOK
		}
		written, errs := writeFixed(out)
		for _, e := range errs {
			fmt.Fprintf(env.Stderr, "nvlint: %v\n", e)
		}
		if len(written) > 0 {
			fmt.Fprintf(env.Stderr, "nvlint: fixed %s\n", strings.Join(written, ", "))
		}
		// Lint again what is now on disk: what remains is the report.
		if w, res, notes, loadErr = l.lint(nil); loadErr != nil {
			fmt.Fprintf(env.Stderr, "nvlint: %v\n", loadErr)
			return ExitInternal
		}
		secrets.Merge(worldSecrets(w, env))
		if len(errs) > 0 {
			out.Fixed, out.Applied = keepWritten(out.Fixed, written), keepWritten(out.Applied, written)
		}
		fixed = out
	}

	rep := reportOf(w, res, notes, catalog)
	rep.MarkFixable = true
	if fixed != nil {
		rep.Fixed = fixed.Fixed
	}
	if code := rf.baseline.apply(env, w, res, rep); code != ExitOK {
		return code
	}
	// Nothing linted is no clean bill of health: say so, and leave out
	// the text report, whose summary would claim one. Machine-readable
	// reports are still written, empty, for the tools that expect them.
	nothing := len(w.Files) == 0 && f.snap == ""
	if nothing {
		outs = nothingToLint(env, outs, notes, rf.verbose)
	}
	if code := writeReports(env, outs, rep, reports.Options{Color: rs.color, Verbose: rf.verbose}, secrets); code != ExitOK {
		return code
	}
	if !nothing && !hasStdout(outs) {
		printSummary(env, rep, outs, "")
	}
	if fixed != nil {
		if sh := autofix.Script(fixed.Applied, rep.Findings); sh != "" {
			sh = secrets.String(sh)
			switch {
			case f.script != "":
				if err := reports.WriteFile(f.script, []byte(sh), 0o644); err != nil {
					return usageError(env, reports.FileFlagError("--fix-script", f.script, err))
				}
				fmt.Fprintf(env.Stderr, "nvlint: wrote the commands to run against live clusters to %s; review them before running it\n", f.script)
			case stdoutText(outs):
				fmt.Fprintf(env.Stdout, "\nCommands to review and run (nvlint never runs them; --fix-script FILE saves them):\n%s", sh)
			default:
				fmt.Fprint(env.Stderr, sh)
			}
		}
	}
	baselineCode := rf.baseline.finish(env)
	if baselineCode == ExitUsage {
		return baselineCode
	}
	return rs.exitCode(rep.Findings, baselineCode)
}

// nothingToLint says that the paths held nothing to lint, and returns the
// outputs less the text report on standard output.
func nothingToLint(env Env, outs []reports.Output, notes inputs.Notes, verbose bool) []reports.Output {
	how := " (--verbose lists what was skipped)"
	if verbose {
		how = ""
		for _, n := range notes {
			fmt.Fprintf(env.Stderr, "nvlint: %s\n", n)
		}
	}
	fmt.Fprintf(env.Stderr, "nvlint: nothing to lint: no Nomad, Vault or Terraform file in the paths given%s\n", how)
	var keep []reports.Output
	for _, o := range outs {
		if o.Path != "" || o.Format != reports.FormatText {
			keep = append(keep, o)
		}
	}
	return keep
}

// printSummary says in one line on stderr what the reports written to
// files hold, when none went to standard output: a run is never silent.
// where is what was checked; empty for the files' count.
func printSummary(env Env, rep *reports.Report, outs []reports.Output, where string) {
	s := rep.Summary()
	if where == "" {
		where = fmt.Sprintf("%d file%s", s.Files, plural(s.Files))
		if n := len(rep.Setups); n > 0 {
			where += fmt.Sprintf(" of %d setup%s", n, plural(n))
		}
	}
	verdict := "no problems"
	if s.Findings > 0 {
		var parts []string
		for _, c := range []struct {
			n    int
			what string
		}{{s.Errors, "error"}, {s.Warnings, "warning"}, {s.Infos, "info"}} {
			if c.n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s%s", c.n, c.what, plural(c.n)))
			}
		}
		verdict = strings.Join(parts, ", ")
	}
	var files []string
	for _, o := range outs {
		files = append(files, o.Path)
	}
	fmt.Fprintf(env.Stderr, "nvlint: %s in %s; report written to %s\n", verdict, where, strings.Join(files, ", "))
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// reportOf is the report of a lint.
func reportOf(w *world.World, res rules.Result, notes inputs.Notes, catalog []rules.Rule) *reports.Report {
	return &reports.Report{
		Findings: res.Findings, Skipped: res.Skipped, Notes: notes,
		Files: w.Files, Catalog: catalog, Ran: res.Ran, Version: Version(),
		Suppressed: len(res.Suppressed), Setups: res.Setups,
	}
}

// fileOutputs are the outputs that go to files.
func fileOutputs(outs []reports.Output) []reports.Output {
	var out []reports.Output
	for _, o := range outs {
		if o.Path != "" {
			out = append(out, o)
		}
	}
	return out
}

// worldSecrets collects every secret the run has seen: token values in
// files and the tokens in the environment.
func worldSecrets(w *world.World, env Env) *redact.Secrets {
	s := &redact.Secrets{}
	for _, f := range w.Files {
		s.Add(fileSecrets(f)...)
	}
	for _, k := range []string{"VAULT_TOKEN", "NOMAD_TOKEN"} {
		s.Add(env.Getenv(k))
	}
	return s
}

func parseFailOn(s string) (rules.Severity, error) {
	if s == "never" || s == "none" {
		return 0, nil
	}
	return rules.ParseSeverity(s)
}

func colorMode(mode string, env Env) (bool, error) {
	return reports.UseColor(mode, env.Getenv, func() bool { return env.IsTerminal(env.Stdout) })
}

func kindNames() string { return strings.Join(kindList(), ", ") }

func splitErrors(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// fileSecrets returns the secret values written in a file.
func fileSecrets(f *world.File) []string {
	var out []string
	for _, r := range f.Secrets {
		if r.End.Byte <= len(f.Src) && r.Start.Byte < r.End.Byte {
			out = append(out, strings.Trim(string(f.Src[r.Start.Byte:r.End.Byte]), "\""))
		}
	}
	return out
}
