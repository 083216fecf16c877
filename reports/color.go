package reports

import (
	"fmt"
	"io"
	"strconv"
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
// Hunk bodies are counted from their headers, so a removed line that
// reads "-- x" is not taken for a file header.
func ColorDiff(diff string, color bool) string {
	if !color || diff == "" {
		return diff
	}
	st := newTextStyles(io.Discard, true)
	keep := func(s lipgloss.Style) lipgloss.Style { return s.TabWidth(lipgloss.NoTabConversion) }
	header, hunk, removed, added := keep(st.file.style), keep(st.gutter.style), keep(st.err.style.UnsetBold()), keep(st.fix.style)
	var b strings.Builder
	oldLeft, newLeft := 0, 0 // lines of the current hunk still to come
	for _, l := range strings.SplitAfter(diff, "\n") {
		text := strings.TrimSuffix(l, "\n")
		var s *lipgloss.Style
		switch {
		case oldLeft > 0 || newLeft > 0:
			switch {
			case strings.HasPrefix(text, "-"):
				s, oldLeft = &removed, oldLeft-1
			case strings.HasPrefix(text, "+"):
				s, newLeft = &added, newLeft-1
			case strings.HasPrefix(text, " "), text == "":
				oldLeft, newLeft = oldLeft-1, newLeft-1
			}
		case strings.HasPrefix(text, "@@"):
			s = &hunk
			oldLeft, newLeft = hunkSizes(text)
		case strings.HasPrefix(text, "--- "), strings.HasPrefix(text, "+++ "):
			s = &header
		}
		if s == nil {
			b.WriteString(l)
			continue
		}
		b.WriteString(s.Render(text) + l[len(text):])
	}
	return b.String()
}

// hunkSizes reads the line counts of a hunk header, "@@ -1,5 +1,6 @@"
// (a count left out is 1).
func hunkSizes(h string) (oldN, newN int) {
	fields := strings.Fields(h)
	count := func(f, sign string) int {
		if !strings.HasPrefix(f, sign) {
			return 0
		}
		_, n, ok := strings.Cut(f[1:], ",")
		if !ok {
			return 1
		}
		v, err := strconv.Atoi(n)
		if err != nil {
			return 0
		}
		return v
	}
	if len(fields) < 3 {
		return 0, 0
	}
	return count(fields[1], "-"), count(fields[2], "+")
}
