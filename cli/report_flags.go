package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nvlint/nvlint/reports"
	"github.com/nvlint/nvlint/rules"
)

// reportFlags are the flags lint and doctor share: what to report, where,
// and which findings fail the run.
type reportFlags struct {
	formats  []string
	failOn   string
	g        *globalFlags
	config   string
	verbose  bool
	baseline baselineFlags
}

func (r *reportFlags) register(c *cobra.Command, g *globalFlags, verboseHelp string) {
	r.g = g
	fs := c.Flags()
	fs.StringArrayVar(&r.formats, "format", nil, formatUsage)
	fs.StringVar(&r.failOn, "fail-on", "warning", "exit 1 when a finding is at least this `SEVERITY`: error, warning, info or never")
	fs.StringVar(&r.config, "config", "", configUsage)
	fs.BoolVar(&r.verbose, "verbose", false, verboseHelp)
	fs.StringVar(&r.baseline.use, "baseline", "", "report only findings not recorded in this baseline `FILE`")
	fs.StringVar(&r.baseline.write, "write-baseline", "", "record the current findings in this baseline `FILE` (then report against it)")
	fs.BoolVar(&r.baseline.strict, "baseline-strict", false, "with --baseline: also fail when a recorded finding is gone, so the baseline shrinks")
	completeFormats(c)
	completeValues(c, "fail-on", "error", "warning", "info", "never")
	_ = c.MarkFlagFilename("config", "hcl")
	_ = c.MarkFlagFilename("baseline", "json")
	_ = c.MarkFlagFilename("write-baseline", "json")
}

const (
	colorUsage  = "colour the output: `WHEN` is auto, always or never (NO_COLOR, FORCE_COLOR and CLICOLOR_FORCE are honoured)"
	configUsage = "read this config `FILE` instead of the .nvlint.hcl found from the linted paths (doctor: the working directory) up"
)

var colorModes = []string{"auto", "always", "never"}

// printFlags are --format of the commands that print something other
// than a findings report, text or JSON, with the global --color.
type printFlags struct {
	format string
	g      *globalFlags
}

func (p *printFlags) register(c *cobra.Command, g *globalFlags, jsonHelp string) {
	p.g = g
	c.Flags().StringVar(&p.format, "format", "text", "output `FORMAT`: text or json ("+jsonHelp+")")
	completeValues(c, "format", "text", "json")
}

// resolve checks the flags: whether to print JSON, and whether to colour
// text.
func (p printFlags) resolve(env Env) (asJSON, color bool, err error) {
	if color, err = colorMode(p.g.color, env); err != nil {
		return false, false, err
	}
	f, err := reports.ParseFormat(p.format, reports.FormatText, reports.FormatJSON)
	if err != nil {
		return false, false, flagErr("--format", err)
	}
	if f == reports.FormatJSON {
		return true, false, nil
	}
	return false, color, nil
}

// reportSettings are the report flags, checked.
type reportSettings struct {
	outs      []reports.Output
	threshold rules.Severity // 0: never fail on findings
	color     bool
}

func (r *reportFlags) resolve(env Env) (reportSettings, error) {
	var s reportSettings
	var err error
	if s.outs, err = reports.ParseOutputs(r.formats); err != nil {
		return s, flagErr("--format", err)
	}
	if s.threshold, err = parseFailOn(r.failOn); err != nil {
		return s, flagErr("--fail-on", err)
	}
	if s.color, err = colorMode(r.g.color, env); err != nil {
		return s, err
	}
	if r.baseline.strict && r.baseline.use == "" {
		return s, errors.New("--baseline-strict goes with --baseline FILE")
	}
	return s, nil
}

// exitCode is the run's exit code: findings at or above --fail-on fail
// it, else the baseline's verdict stands.
func (s reportSettings) exitCode(fs []rules.Finding, baselineCode int) int {
	for _, f := range fs {
		if s.threshold != 0 && f.Severity >= s.threshold {
			return ExitFindings
		}
	}
	return baselineCode
}

// flagErr names the flag an error is about, unless it already does.
func flagErr(flag string, err error) error {
	if strings.HasPrefix(err.Error(), flag) {
		return err
	}
	return fmt.Errorf("%s: %w", flag, err)
}
