// Command nvlint finds what is wrong with a Nomad ↔ Vault integration.
package main

import (
	"io"
	"os"

	"github.com/charmbracelet/x/term"

	"github.com/nvlint/nvlint/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], cli.Env{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		IsTerminal: func(w io.Writer) bool {
			f, ok := w.(*os.File)
			return ok && term.IsTerminal(f.Fd())
		},
	}))
}
