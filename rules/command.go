package rules

import (
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// Command is a shell command of a fix, kept as words: Quote quotes every
// one when the command is printed, so a policy, role, job or file name
// reaches the shell as one argument and never as code.
type Command struct {
	// Steps run one after the other, each only when the one before
	// succeeded (a && b).
	Steps []Pipeline
	// Template is set instead of Steps for a command with parts only the
	// user can fill in (<the other config parameters>): its known words
	// are quoted, it is shown for review, and it is never runnable, so a
	// fix script keeps it as a comment.
	Template string
}

// Pipeline is commands each of whose output is the next one's input
// (a | b).
type Pipeline []Group

// Group is commands that run one after the other, each only when the one
// before succeeded, their outputs joined ({ a && b; }). Most groups hold
// one command.
type Group []Argv

// Argv is one command's words, the program first.
type Argv []string

// Cmd is the command argv.
func Cmd(argv ...string) Command {
	return Command{Steps: []Pipeline{{{argv}}}}
}

// Seq starts a command with a group: argvs run in turn, their outputs
// joined, each only when the one before succeeded, so a failed read
// never feeds half an input to the next command of a pipeline.
func Seq(argvs ...Argv) Command {
	return Command{Steps: []Pipeline{{Group(argvs)}}}
}

// Pipe feeds the output of the last step to argv.
func (c Command) Pipe(argv ...string) Command {
	c = c.clone()
	last := len(c.Steps) - 1
	c.Steps[last] = append(c.Steps[last], Group{argv})
	return c
}

// And runs argv after c, when c succeeded.
func (c Command) And(argv ...string) Command {
	c = c.clone()
	c.Steps = append(c.Steps, Pipeline{{argv}})
	return c
}

// Template is a command to complete by hand: format's %s verbs are
// replaced by words, each quoted; everything else in format is shown as
// written (placeholders such as <the other config parameters>).
func Template(format string, words ...string) Command {
	parts := strings.Split(format, "%s")
	var b strings.Builder
	for i, p := range parts {
		b.WriteString(p)
		if i < len(parts)-1 && i < len(words) {
			b.WriteString(Quote(words[i]))
		}
	}
	return Command{Template: b.String()}
}

// Args returns the words with "--" before them when one of them starts
// with a dash, so that the vault and nomad CLIs (Go's flag package) take
// a name such as "-tls-skip-verify" as an argument, not as a flag.
func Args(words ...string) []string {
	for _, w := range words {
		if len(w) > 1 && w[0] == '-' {
			return append([]string{"--"}, words...)
		}
	}
	return words
}

// Runnable reports whether the command can be run as it is: not a
// template, and with no word a shell cannot pass (a NUL byte).
func (c Command) Runnable() bool {
	if c.Template != "" || len(c.Steps) == 0 {
		return false
	}
	for _, w := range c.Words() {
		if strings.IndexByte(w, 0) >= 0 {
			return false
		}
	}
	return true
}

// Words returns every word of every argv, in order.
func (c Command) Words() []string {
	var out []string
	for _, a := range c.Argvs() {
		out = append(out, a...)
	}
	return out
}

// Argvs returns every argv, in order.
func (c Command) Argvs() []Argv {
	var out []Argv
	for _, p := range c.Steps {
		for _, g := range p {
			out = append(out, g...)
		}
	}
	return out
}

// Map returns the command with f applied to every word and to the
// template (to mask secrets).
func (c Command) Map(f func(string) string) Command {
	out := c.mapArgvs(func(a Argv) Argv {
		na := make(Argv, len(a))
		for i, w := range a {
			na[i] = f(w)
		}
		return na
	})
	if c.Template != "" {
		out.Template = f(c.Template)
	}
	return out
}

// mapArgvs returns a copy of the command with f applied to every argv;
// the template is kept as it is.
func (c Command) mapArgvs(f func(Argv) Argv) Command {
	out := Command{Template: c.Template}
	for _, p := range c.Steps {
		var np Pipeline
		for _, g := range p {
			var ng Group
			for _, a := range g {
				ng = append(ng, f(a))
			}
			np = append(np, ng)
		}
		out.Steps = append(out.Steps, np)
	}
	return out
}

// String is the command as a POSIX shell line, every word quoted.
func (c Command) String() string {
	if c.Template != "" {
		return c.Template
	}
	steps := make([]string, len(c.Steps))
	for i, p := range c.Steps {
		stages := make([]string, len(p))
		for j, g := range p {
			cmds := make([]string, len(g))
			for k, a := range g {
				words := make([]string, len(a))
				for l, w := range a {
					if l == 0 {
						words[l] = quoteWord(w) // a program, never an assignment
					} else {
						words[l] = Quote(w)
					}
				}
				cmds[k] = strings.Join(words, " ")
			}
			stages[j] = strings.Join(cmds, " && ")
			if len(g) > 1 {
				stages[j] = "{ " + stages[j] + "; }"
			}
		}
		steps[i] = strings.Join(stages, " | ")
	}
	return strings.Join(steps, " && ")
}

func (c Command) clone() Command {
	out := Command{Template: c.Template, Steps: make([]Pipeline, len(c.Steps))}
	for i, p := range c.Steps {
		out.Steps[i] = append(Pipeline(nil), p...)
	}
	return out
}

// Quote quotes one word for a POSIX shell, the one place where nvlint
// does. A word that needs no quotes is returned as is; key=value keeps
// its key bare (vault write auth/x role_type=jwt reads better than
// 'role_type=jwt', and means the same when it is not the first word).
// POSIX has no escapes for control characters, which syntax.Quote then
// refuses: single quotes take them literally, newlines included, and
// keep "!" from an interactive bash's history expansion.
func Quote(w string) string {
	if k, v, ok := strings.Cut(w, "="); ok && k != "" && strings.Trim(k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == "" {
		return k + "=" + quoteWord(v)
	}
	return quoteWord(w)
}

func quoteWord(w string) string {
	// An interactive bash expands !x even in double quotes: a command
	// pasted at a prompt must keep it in single quotes.
	if !strings.ContainsRune(w, '!') {
		if q, err := syntax.Quote(w, syntax.LangPOSIX); err == nil {
			return q
		}
	}
	return "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
}

// CommandLines returns the fix's commands as shell lines.
func (f Fix) CommandLines() []string {
	if len(f.Commands) == 0 {
		return nil
	}
	out := make([]string, len(f.Commands))
	for i, c := range f.Commands {
		out[i] = c.String()
	}
	return out
}
