package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/nvlint/nvlint/autofix"
	"github.com/nvlint/nvlint/checks"
	"github.com/nvlint/nvlint/inputs"
	"github.com/nvlint/nvlint/redact"
	"github.com/nvlint/nvlint/reports"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

func runLint(args []string, env Env) int {
	fs := flag.NewFlagSet("nvlint lint", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	var (
		kind    = fs.String("kind", "", "treat named files and stdin as this kind: "+kindNames())
		skipUnk = fs.Bool("skip-unknown", false, "skip named files that are not Nomad, Vault or Terraform files, as when walking a directory, instead of reporting them (for hooks that pass every changed file)")
		snap    = fs.String("snapshot", "", "check the files against live state saved with nvlint doctor --save: files replace the live objects they define")
		names   multiFlag
		fix     = fs.Bool("fix", false, "apply the file edits of each finding's first fix, then lint again and report what is left; commands against live clusters are printed, never run")
		diff    = fs.Bool("diff", false, "print a unified diff of what --fix would write, and write nothing; exit 1 when there is something to fix")
		script  = fs.String("fix-script", "", "with --fix: write the commands of fixes nvlint does not run (they change live clusters) to this shell script instead of printing them")
		rf      reportFlags
	)
	rf.register(fs, "also say which rules could not run and why, and which files were skipped")
	fs.Var(&names, "name", "override an object's name: FILE=NAME (repeatable); FILE may be a path or a base name")
	fs.Usage = func() {
		fmt.Fprint(env.Stderr, "Usage: nvlint lint [flags] PATH...\n\nPATH is a file, a directory (walked recursively) or - for standard input (with --kind).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	paths, err := parseInterspersed(fs, args)
	if err != nil {
		return usageError(env, err)
	}
	if len(paths) == 0 {
		fs.Usage()
		return ExitUsage
	}
	rs, err := rf.resolve(env)
	if err != nil {
		return usageError(env, err)
	}
	outs := rs.outs
	opts := inputs.Options{Stdin: env.Stdin, Names: map[string]string{}, SkipUnknown: *skipUnk}
	if *kind != "" {
		if opts.Kind, err = inputs.ParseKind(*kind); err != nil {
			return usageError(env, err)
		}
	}
	for _, n := range names {
		file, name, ok := strings.Cut(n, "=")
		if !ok || file == "" || name == "" {
			return usageError(env, fmt.Errorf("--name wants FILE=NAME, got %q", n))
		}
		opts.Names[file] = name
	}
	for _, p := range paths {
		if p == "-" && opts.Kind == "" {
			return usageError(env, errors.New("reading standard input (-) needs --kind"))
		}
	}

	switch {
	case *fix && *diff:
		return usageError(env, errors.New("--fix writes the files and --diff shows what it would write: pass one"))
	case *script != "" && !*fix:
		return usageError(env, errors.New("--fix-script goes with --fix"))
	case *diff && hasStdout(outs) && len(rf.formats) > 0:
		return usageError(env, errors.New("--diff prints the diff on standard output: give --format outputs a file (FORMAT=FILE)"))
	}

	catalog := checks.All()
	cfg, err := loadConfig(env, rf.config, catalog)
	if err != nil {
		return usageError(env, err)
	}
	l, err := newLinter(paths, opts, *snap, cfg, catalog)
	if err != nil {
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
	if *fix || *diff {
		out, err := l.runFixes(w, res)
		if err != nil {
			fmt.Fprintf(env.Stderr, "nvlint: %v\n", err)
			return ExitInternal
		}
		reportSkipped(env, out)
		if *diff {
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
	baselineCode := rf.baseline.apply(env, w, res, rep)
	if baselineCode == ExitUsage {
		return baselineCode
	}
	if code := writeReports(env, outs, rep, reports.Options{Color: rs.color, Verbose: rf.verbose}, secrets); code != ExitOK {
		return code
	}
	if fixed != nil {
		if sh := autofix.Script(fixed.Applied, rep.Findings); sh != "" {
			sh = secrets.String(sh)
			switch {
			case *script != "":
				if err := os.WriteFile(*script, []byte(sh), 0o644); err != nil {
					return usageError(env, err)
				}
				fmt.Fprintf(env.Stderr, "nvlint: wrote the commands to run against live clusters to %s; review them before running it\n", *script)
			case stdoutText(outs):
				fmt.Fprintf(env.Stdout, "\nCommands to review and run (nvlint never runs them; --fix-script FILE saves them):\n%s", sh)
			default:
				fmt.Fprint(env.Stderr, sh)
			}
		}
	}
	return rs.exitCode(rep.Findings, baselineCode)
}

// reportOf is the report of a lint.
func reportOf(w *world.World, res rules.Result, notes inputs.Notes, catalog []rules.Rule) *reports.Report {
	return &reports.Report{
		Findings: res.Findings, Skipped: res.Skipped, Notes: notes,
		Files: w.Files, Catalog: catalog, Ran: res.Ran, Version: Version(),
		Suppressed: len(res.Suppressed),
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

func kindNames() string {
	names := make([]string, len(world.Kinds))
	for i, k := range world.Kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

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
