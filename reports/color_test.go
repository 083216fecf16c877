package reports_test

import (
	"strings"
	"testing"

	"github.com/nvlint/nvlint/reports"
)

func TestUseColor(t *testing.T) {
	for _, c := range []struct {
		mode     string
		env      map[string]string
		terminal bool
		want     bool
	}{
		{mode: "auto", terminal: true, want: true},
		{mode: "auto", terminal: false, want: false},
		// The flag wins over everything.
		{mode: "always", env: map[string]string{"NO_COLOR": "1"}, want: true},
		{mode: "never", env: map[string]string{"FORCE_COLOR": "1"}, terminal: true, want: false},
		// NO_COLOR: any non-empty value; it wins over the forcing ones.
		{mode: "auto", env: map[string]string{"NO_COLOR": "0"}, terminal: true, want: false},
		{mode: "auto", env: map[string]string{"NO_COLOR": ""}, terminal: true, want: true},
		{mode: "auto", env: map[string]string{"NO_COLOR": "1", "FORCE_COLOR": "1", "CLICOLOR_FORCE": "1"}, want: false},
		// FORCE_COLOR and CLICOLOR_FORCE colour a pipe.
		{mode: "auto", env: map[string]string{"FORCE_COLOR": "1"}, want: true},
		{mode: "auto", env: map[string]string{"FORCE_COLOR": "true"}, want: true},
		{mode: "auto", env: map[string]string{"FORCE_COLOR": "3"}, want: true},
		{mode: "auto", env: map[string]string{"CLICOLOR_FORCE": "1"}, want: true},
		{mode: "auto", env: map[string]string{"FORCE_COLOR": "1", "TERM": "dumb", "CLICOLOR": "0"}, want: true},
		// ... but not when they say no.
		{mode: "auto", env: map[string]string{"FORCE_COLOR": "0"}, want: false},
		{mode: "auto", env: map[string]string{"FORCE_COLOR": "false"}, want: false},
		{mode: "auto", env: map[string]string{"CLICOLOR_FORCE": "0"}, want: false},
		{mode: "auto", env: map[string]string{"FORCE_COLOR": ""}, want: false},
		// A terminal that asks for none.
		{mode: "auto", env: map[string]string{"TERM": "dumb"}, terminal: true, want: false},
		{mode: "auto", env: map[string]string{"CLICOLOR": "0"}, terminal: true, want: false},
		{mode: "auto", env: map[string]string{"CLICOLOR": "1"}, terminal: true, want: true},
	} {
		got, err := reports.UseColor(c.mode, func(k string) string { return c.env[k] }, func() bool { return c.terminal })
		if err != nil || got != c.want {
			t.Errorf("UseColor(%s, %v, terminal %t) = %t, %v; want %t", c.mode, c.env, c.terminal, got, err, c.want)
		}
	}
	if _, err := reports.UseColor("sometimes", func(string) string { return "" }, func() bool { return true }); err == nil {
		t.Error("--color sometimes accepted")
	}
}

func TestColorDiff(t *testing.T) {
	diff := "--- a/x.hcl\n+++ b/x.hcl\n@@ -1,3 +1,3 @@\n ctx\n-\told\n--- a comment\n+\tnew\n++ x\n--- a/y.hcl\n+++ b/y.hcl\n@@ -1 +1 @@\n-a\n+b\n"
	if got := reports.ColorDiff(diff, false); got != diff {
		t.Errorf("uncoloured diff changed:\n%q", got)
	}
	got := reports.ColorDiff(diff, true)
	if plain := sgr.ReplaceAllString(got, ""); plain != diff {
		t.Errorf("colour changes the diff:\n%q", plain)
	}
	for _, want := range []string{"91m-\told\x1b[0m\n", "92m+\tnew\x1b[0m\n", "@@ -1,3 +1,3 @@\x1b[0m\n", "1m--- a/x.hcl\x1b[0m\n", "\n ctx\n",
		"91m--- a comment\x1b[0m\n", "92m++ x\x1b[0m\n", "1m+++ b/y.hcl\x1b[0m\n", "91m-a\x1b[0m\n", "92m+b\x1b[0m\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("coloured diff lacks %q:\n%q", want, got)
		}
	}
}
