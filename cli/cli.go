// Package cli is nvlint's command line: flag parsing, wiring the loaders,
// the engine and the reports, and exit codes.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
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
	// Dir is where the search for .nvlint.hcl starts; empty for the
	// working directory.
	Dir string
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
	defer func() {
		if v := recover(); v != nil {
			fmt.Fprintf(env.Stderr, "nvlint: internal error: %v\n%s\nPlease report this.\n", v, debug.Stack())
			code = ExitInternal
		}
	}()
	if len(args) == 0 {
		usage(env.Stderr)
		return ExitUsage
	}
	switch args[0] {
	case "lint":
		return runLint(args[1:], env)
	case "doctor":
		return runDoctor(args[1:], env)
	case "access":
		return runAccess(args[1:], env)
	case "rules":
		return runRules(args[1:], env)
	case "explain":
		return runExplain(args[1:], env)
	case "version", "--version", "-version":
		return runVersion(args[1:], env)
	case "completion":
		return runCompletion(args[1:], env)
	case "help", "-h", "-help", "--help":
		usage(env.Stdout)
		return ExitOK
	}
	fmt.Fprintf(env.Stderr, "nvlint: unknown command %q\n\n", args[0])
	usage(env.Stderr)
	return ExitUsage
}

func usage(w io.Writer) {
	fmt.Fprint(w, `nvlint finds what is wrong with a Nomad ↔ Vault integration and says how to fix it.

Usage:
  nvlint lint [flags] PATH...   check jobspecs, agent configs, Vault policies and roles
  nvlint doctor [flags]         diagnose live Nomad and Vault clusters (read-only)
  nvlint access --job J [--task T] [--path P] PATH...
                                can a task's Vault token read a path? prints the whole chain
  nvlint rules                  list the rules
  nvlint explain RULE           explain a rule (by ID or name)
  nvlint version                print the version and build (commit, time, Go)
  nvlint completion SHELL       print a completion script for bash, zsh or fish

Run 'nvlint lint -h' for the lint flags.
`)
}

// parseInterspersed parses flags that may come before, between or after
// positional arguments, as users type them.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// multiFlag collects a repeatable flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

func usageError(env Env, err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	fmt.Fprintf(env.Stderr, "nvlint: %v\n", err)
	return ExitUsage
}
