package autofix

import (
	"fmt"
	"strings"

	"github.com/nvlint/nvlint/rules"
)

// Script collects the commands of fixes that --fix does not run: they
// change live clusters. It holds the commands that push what --fix edited
// (vault policy write, vault write ... @file), then those of the fixes of
// remaining findings that --fix cannot apply: commands only, or manual. A command already listed is not
// repeated. "" when there is nothing to run.
func Script(applied, remaining []rules.Finding) string {
	var b strings.Builder
	seen := map[string]bool{}
	add := func(f rules.Finding, fix rules.Fix, note string) {
		var cmds []rules.Command
		for _, c := range fix.Commands {
			// Each setup's clusters are others: its commands are its own.
			if s := f.Setup + "\x00" + c.String(); !seen[s] {
				seen[s] = true
				cmds = append(cmds, c)
			}
		}
		if len(cmds) == 0 {
			return
		}
		setup := ""
		if f.Setup != "" {
			setup = "setup " + f.Setup + ": "
		}
		fmt.Fprintf(&b, "\n# %s%s %s: %s\n", setup, f.Rule.ID, oneLine(where(f)), oneLine(f.Message))
		fmt.Fprintf(&b, "# %s%s\n", oneLine(fix.Description), note)
		for _, c := range cmds {
			if c.Runnable() {
				b.WriteString(c.String() + "\n")
				continue
			}
			// A command with parts to fill in stays a comment: the
			// script never runs a line that was not meant to run as is.
			b.WriteString("# complete this command, then run it:\n")
			for _, l := range strings.Split(c.String(), "\n") {
				b.WriteString("#   " + l + "\n")
			}
		}
	}
	for _, f := range applied {
		add(f, f.Fixes[0], " (file edited by --fix)")
	}
	for _, f := range remaining {
		switch {
		case len(f.Fixes) == 0 || f.Fixable():
		case f.Fixes[0].Manual && len(f.Fixes[0].Edits) > 0:
			add(f, f.Fixes[0], " (edit the file by hand first: --fix leaves this one to you)")
		default:
			add(f, f.Fixes[0], "")
		}
	}
	if b.Len() == 0 {
		return ""
	}
	return "#!/bin/sh\n" +
		"# Fixes nvlint did not run: they change live Nomad or Vault clusters.\n" +
		"# Review each command, then run the ones you want.\n" +
		"set -eu\n" + b.String()
}

func where(f rules.Finding) string {
	if f.HasFile() {
		return fmt.Sprintf("%s:%d", f.Range.Filename, f.Range.Start.Line)
	}
	s := string(f.Object.Kind) + " " + f.Object.Name
	return strings.TrimSpace(s)
}

func oneLine(s string) string {
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	const maxLen = 160
	if r := []rune(s); len(r) > maxLen {
		s = string(r[:maxLen]) + "…"
	}
	return s
}
