package cli

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/nvlint/nvlint/checks"
	"github.com/nvlint/nvlint/inputs"
	"github.com/nvlint/nvlint/redact"
	"github.com/nvlint/nvlint/reports"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/snapshot"
	"github.com/nvlint/nvlint/world"
)

func runLint(args []string, env Env) int {
	fs := flag.NewFlagSet("nvlint lint", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	var (
		format  = fs.String("format", "text", "output format: text, json or sarif")
		failOn  = fs.String("fail-on", "warning", "exit 1 when a finding is at least this severe: error, warning, info or never")
		color   = fs.String("color", "auto", "colour the text report: auto, always or never (NO_COLOR is honoured)")
		kind    = fs.String("kind", "", "treat named files and stdin as this kind: "+kindNames())
		verbose = fs.Bool("verbose", false, "also say which rules could not run and why, and which files were skipped")
		snap    = fs.String("snapshot", "", "check the files against live state saved with nvlint doctor --save: files replace the live objects they define")
		names   multiFlag
	)
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
	f, err := reports.ParseFormat(*format)
	if err != nil {
		return usageError(env, err)
	}
	threshold, err := parseFailOn(*failOn)
	if err != nil {
		return usageError(env, err)
	}
	useColor, err := colorMode(*color, env)
	if err != nil {
		return usageError(env, err)
	}
	opts := inputs.Options{Stdin: env.Stdin, Names: map[string]string{}}
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

	w, notes, loadErr := inputs.Load(paths, opts)
	if loadErr != nil {
		for _, e := range splitErrors(loadErr) {
			fmt.Fprintf(env.Stderr, "nvlint: %v\n", e)
		}
		return ExitUsage
	}
	if *snap != "" {
		data, err := os.ReadFile(*snap)
		if err != nil {
			return usageError(env, err)
		}
		lw, err := snapshot.Load(data)
		if err != nil {
			return usageError(env, fmt.Errorf("%s: %w", *snap, err))
		}
		w = snapshot.Overlay(w, lw)
	}
	catalog := checks.All()
	res := rules.Run(w, catalog)
	rep := &reports.Report{
		Findings: res.Findings, Skipped: res.Skipped, Notes: notes,
		Files: w.Files, Catalog: catalog, Version: Version(),
	}
	var out bytes.Buffer
	if err := reports.Write(&out, f, rep, reports.Options{Color: useColor, Verbose: *verbose}); err != nil {
		fmt.Fprintf(env.Stderr, "nvlint: %v\n", err)
		return ExitInternal
	}
	secrets := worldSecrets(w, env)
	if _, err := env.Stdout.Write(secrets.Bytes(out.Bytes())); err != nil {
		return ExitInternal
	}
	for _, fd := range res.Findings {
		if threshold != 0 && fd.Severity >= threshold {
			return ExitFindings
		}
	}
	return ExitOK
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
	switch mode {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "auto":
		if env.Getenv("NO_COLOR") != "" || env.Getenv("TERM") == "dumb" {
			return false, nil
		}
		return env.IsTerminal(env.Stdout), nil
	}
	return false, fmt.Errorf("--color wants auto, always or never, got %q", mode)
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
