package cli

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/nvlint/nvlint/checks"
	"github.com/nvlint/nvlint/reports"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// Shell completion: small hand-written scripts for bash, zsh and fish.
// The lists they complete from (commands, each command's flags, rule IDs
// and names, formats) are filled in when the script is printed, from the
// commands' own flag sets and the rule catalog, so they cannot drift.

// command is a subcommand as completion offers it.
type command struct {
	name, summary string
	// files is true when its arguments are paths.
	files bool
}

var commands = []command{
	{"lint", "check jobspecs, agent configs, Vault policies and roles, Terraform", true},
	{"doctor", "diagnose live Nomad and Vault clusters (read-only)", false},
	{"access", "can a task's Vault token read a path?", true},
	{"rules", "list the rules", false},
	{"explain", "explain a rule", false},
	{"version", "print the version and build", false},
	{"completion", "print a shell completion script", false},
	{"help", "print the usage", false},
}

var shells = []string{"bash", "zsh", "fish"}

// flagInfo is one flag of a command, as its -h lists it.
type flagInfo struct {
	name, usage string
	// value is true when the flag takes a value.
	value bool
}

var flagLine = regexp.MustCompile(`^\s+-([A-Za-z0-9][A-Za-z0-9_-]*)(?:\s+(\S+))?\s*$`)

// commandFlags runs a command's -h in memory and reads its flags.
func commandFlags(cmd string) []flagInfo {
	var out, errb bytes.Buffer
	Main([]string{cmd, "-h"}, Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }})
	var flags []flagInfo
	lines := strings.Split(errb.String()+out.String(), "\n")
	for i, line := range lines {
		m := flagLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		f := flagInfo{name: m[1], value: m[2] != ""}
		if i+1 < len(lines) {
			f.usage = strings.TrimSpace(lines[i+1])
		}
		flags = append(flags, f)
	}
	sort.Slice(flags, func(i, j int) bool { return flags[i].name < flags[j].name })
	return flags
}

// flagValues are the values a flag takes, where they are a fixed set.
func flagValues(cmd, flag string) []string {
	switch flag {
	case "format":
		if cmd == "rules" || cmd == "version" {
			return []string{"text", "json"}
		}
		var out []string
		for _, f := range reports.Formats {
			out = append(out, string(f))
		}
		return out
	case "fail-on":
		return []string{"error", "warning", "info", "never"}
	case "color":
		return []string{"auto", "always", "never"}
	case "kind":
		var out []string
		for _, k := range world.Kinds {
			out = append(out, string(k))
		}
		return out
	}
	return nil
}

// completionData is everything a script completes from.
type completionData struct {
	flags map[string][]flagInfo
	rules []string
}

func gatherCompletion() completionData {
	d := completionData{flags: map[string][]flagInfo{}}
	for _, c := range commands {
		switch c.name {
		case "help", "completion", "explain":
			continue
		}
		d.flags[c.name] = commandFlags(c.name)
	}
	d.rules = ruleKeys(checks.All())
	return d
}

// valueFlags are the flags, over all commands, with a fixed set of
// values, keyed by command and flag.
func (d completionData) valueFlags() []struct{ cmd, flag string } {
	var out []struct{ cmd, flag string }
	for _, c := range commands {
		for _, f := range d.flags[c.name] {
			if f.value && flagValues(c.name, f.name) != nil {
				out = append(out, struct{ cmd, flag string }{c.name, f.name})
			}
		}
	}
	return out
}

func runCompletion(args []string, env Env) int {
	if len(args) != 1 || (args[0] != "bash" && args[0] != "zsh" && args[0] != "fish") {
		fmt.Fprintln(env.Stderr, `usage: nvlint completion bash|zsh|fish

  bash:  source <(nvlint completion bash)       or save it to /etc/bash_completion.d/nvlint
  zsh:   source <(nvlint completion zsh)        or save it as _nvlint in a directory of $fpath
  fish:  nvlint completion fish > ~/.config/fish/completions/nvlint.fish`)
		return ExitUsage
	}
	d := gatherCompletion()
	switch args[0] {
	case "bash":
		writeBash(env.Stdout, d)
	case "zsh":
		writeZsh(env.Stdout, d)
	case "fish":
		writeFish(env.Stdout, d)
	}
	return ExitOK
}

func commandNames() string {
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	return strings.Join(names, " ")
}

func dashed(flags []flagInfo) string {
	names := make([]string, len(flags))
	for i, f := range flags {
		names[i] = "--" + f.name
	}
	return strings.Join(names, " ")
}

func writeBash(w io.Writer, d completionData) {
	fmt.Fprintf(w, `# bash completion for nvlint: source <(nvlint completion bash)
_nvlint() {
    local cur prev cmd
    cur="${COMP_WORDS[COMP_CWORD]}"
    prev="${COMP_WORDS[COMP_CWORD-1]}"
    cmd="${COMP_WORDS[1]}"
    COMPREPLY=()
    if [[ $COMP_CWORD -eq 1 ]]; then
        COMPREPLY=($(compgen -W "%s" -- "$cur"))
        return
    fi
    case "$cmd ${prev#-}" in
`, commandNames())
	for _, vf := range d.valueFlags() {
		fmt.Fprintf(w, "        \"%s %s\"|\"%s -%s\") COMPREPLY=($(compgen -W \"%s\" -- \"$cur\")); return ;;\n",
			vf.cmd, vf.flag, vf.cmd, vf.flag, strings.Join(flagValues(vf.cmd, vf.flag), " "))
	}
	fmt.Fprint(w, "    esac\n    case \"$cmd\" in\n")
	fmt.Fprintf(w, "        explain) [[ $COMP_CWORD -eq 2 ]] && COMPREPLY=($(compgen -W \"%s\" -- \"$cur\")); return ;;\n", strings.Join(d.rules, " "))
	fmt.Fprintf(w, "        completion) [[ $COMP_CWORD -eq 2 ]] && COMPREPLY=($(compgen -W \"%s\" -- \"$cur\")); return ;;\n", strings.Join(shells, " "))
	fmt.Fprint(w, "    esac\n")
	// A flag that takes a free value (a file, an address) completes as
	// the default does: file names.
	fmt.Fprint(w, "    case \"$cmd ${prev#-}\" in\n")
	for _, c := range commands {
		var names []string
		for _, f := range d.flags[c.name] {
			if f.value && flagValues(c.name, f.name) == nil {
				names = append(names, fmt.Sprintf("\"%s %s\"|\"%s -%s\"", c.name, f.name, c.name, f.name))
			}
		}
		if len(names) > 0 {
			fmt.Fprintf(w, "        %s) return ;;\n", strings.Join(names, "|"))
		}
	}
	fmt.Fprint(w, "    esac\n    if [[ \"$cur\" == -* ]]; then\n        case \"$cmd\" in\n")
	for _, c := range commands {
		if len(d.flags[c.name]) > 0 {
			fmt.Fprintf(w, "            %s) COMPREPLY=($(compgen -W \"%s\" -- \"$cur\")) ;;\n", c.name, dashed(d.flags[c.name]))
		}
	}
	fmt.Fprint(w, `        esac
        return
    fi
}
complete -o default -F _nvlint nvlint
`)
}

func writeZsh(w io.Writer, d completionData) {
	fmt.Fprint(w, "#compdef nvlint\n# zsh completion for nvlint: source <(nvlint completion zsh), or save as _nvlint in $fpath\ncompdef _nvlint nvlint\n\n_nvlint() {\n    local -a cmds\n    cmds=(\n")
	for _, c := range commands {
		fmt.Fprintf(w, "        %s\n", zshQuote(c.name+":"+c.summary))
	}
	fmt.Fprint(w, "    )\n    if (( CURRENT == 2 )); then\n        _describe 'command' cmds\n        return\n    fi\n    local cmd=${words[2]}\n    case \"$cmd ${words[CURRENT-1]#-}\" in\n")
	for _, vf := range d.valueFlags() {
		fmt.Fprintf(w, "        \"%s %s\"|\"%s -%s\") compadd -- %s; return ;;\n", vf.cmd, vf.flag, vf.cmd, vf.flag, strings.Join(flagValues(vf.cmd, vf.flag), " "))
	}
	fmt.Fprint(w, "    esac\n    case $cmd in\n")
	fmt.Fprintf(w, "        explain) (( CURRENT == 3 )) && compadd -- %s; return ;;\n", strings.Join(d.rules, " "))
	fmt.Fprintf(w, "        completion) (( CURRENT == 3 )) && compadd -- %s; return ;;\n", strings.Join(shells, " "))
	fmt.Fprint(w, "    esac\n    if [[ $PREFIX == -* ]]; then\n        case $cmd in\n")
	for _, c := range commands {
		if len(d.flags[c.name]) > 0 {
			fmt.Fprintf(w, "            %s) compadd -- %s ;;\n", c.name, dashed(d.flags[c.name]))
		}
	}
	fmt.Fprint(w, `        esac
        return
    fi
    _files
}

if [ "$funcstack[1]" = "_nvlint" ]; then
    _nvlint "$@"
fi
`)
}

func writeFish(w io.Writer, d completionData) {
	fmt.Fprint(w, "# fish completion for nvlint: nvlint completion fish > ~/.config/fish/completions/nvlint.fish\ncomplete -c nvlint -f\n")
	for _, c := range commands {
		fmt.Fprintf(w, "complete -c nvlint -n __fish_use_subcommand -a %s -d %s\n", c.name, fishQuote(c.summary))
	}
	for _, c := range commands {
		cond := fishQuote("__fish_seen_subcommand_from " + c.name)
		if c.files {
			fmt.Fprintf(w, "complete -c nvlint -n %s -F\n", cond)
		}
		for _, f := range d.flags[c.name] {
			line := fmt.Sprintf("complete -c nvlint -n %s -l %s", cond, f.name)
			switch vals := flagValues(c.name, f.name); {
			case vals != nil:
				line += " -x -a " + fishQuote(strings.Join(vals, " "))
			case f.value:
				line += " -r -F"
			}
			if f.usage != "" {
				line += " -d " + fishQuote(firstSentence(f.usage))
			}
			fmt.Fprintln(w, line)
		}
	}
	fmt.Fprintf(w, "complete -c nvlint -n %s -x -a %s\n", fishQuote("__fish_seen_subcommand_from explain"), fishQuote(strings.Join(d.rules, " ")))
	fmt.Fprintf(w, "complete -c nvlint -n %s -x -a %s\n", fishQuote("__fish_seen_subcommand_from completion"), fishQuote(strings.Join(shells, " ")))
}

func firstSentence(s string) string {
	if i := strings.IndexAny(s, ":;("); i > 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func zshQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// ruleKeys lists what explain takes: IDs and names.
func ruleKeys(all []rules.Rule) []string {
	var out []string
	for _, r := range all {
		out = append(out, r.Meta().ID, r.Meta().Name)
	}
	return out
}
