package reports

import (
	"fmt"
	"io"
	"strings"

	"github.com/charmbracelet/lipgloss"
)

// UseColor decides whether the text report and --diff are coloured, from
// --color (mode), the environment and whether standard output is a
// terminal. The first that speaks decides:
//
//  1. --color always or never.
//  2. NO_COLOR set to anything but "" (no-color.org): no colour.
//  3. FORCE_COLOR (force-color.org) or CLICOLOR_FORCE
//     (bixense.com/clicolors) set to anything but "", "0" or "false":
//     colour, even into a pipe. "0" and "false" are read as no
//     request, as Node's tools and termenv read them.
//  4. Otherwise colour on a terminal, unless TERM=dumb or CLICOLOR=0.
//
// NO_COLOR wins over the forcing variables, as bixense.com/clicolors
// orders them: a user who asked for no colour gets none.
func UseColor(mode string, getenv func(string) string, terminal func() bool) (bool, error) {
	switch mode {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "auto":
	default:
		return false, fmt.Errorf("--color wants auto, always or never, got %q", mode)
	}
	if getenv("NO_COLOR") != "" {
		return false, nil
	}
	for _, k := range []string{"FORCE_COLOR", "CLICOLOR_FORCE"} {
		switch strings.ToLower(getenv(k)) {
		case "", "0", "false":
		default:
			return true, nil
		}
	}
	if getenv("TERM") == "dumb" || getenv("CLICOLOR") == "0" {
		return false, nil
	}
	return terminal(), nil
}

// ColorDiff colours a unified diff as git does: file headers bold,
// hunk headers blue, removed lines red, added lines green. Tabs are kept.
func ColorDiff(diff string, color bool) string {
	if !color || diff == "" {
		return diff
	}
	st := newTextStyles(io.Discard, true)
	keep := func(s lipgloss.Style) lipgloss.Style { return s.TabWidth(lipgloss.NoTabConversion) }
	var b strings.Builder
	lines := strings.SplitAfter(diff, "\n")
	for _, l := range lines {
		text := strings.TrimSuffix(l, "\n")
		var s lipgloss.Style
		switch {
		case strings.HasPrefix(text, "--- "), strings.HasPrefix(text, "+++ "):
			s = st.file
		case strings.HasPrefix(text, "@@"):
			s = st.gutter
		case strings.HasPrefix(text, "-"):
			s = st.err.UnsetBold()
		case strings.HasPrefix(text, "+"):
			s = st.fix
		default:
			b.WriteString(l)
			continue
		}
		b.WriteString(keep(s).Render(text) + l[len(text):])
	}
	return b.String()
}
