package cli

import (
	"errors"
	"flag"

	"github.com/nvlint/nvlint/reports"
	"github.com/nvlint/nvlint/rules"
)

// reportFlags are the flags lint and doctor share: what to report, where,
// and which findings fail the run.
type reportFlags struct {
	formats  multiFlag
	failOn   string
	color    string
	config   string
	verbose  bool
	baseline baselineFlags
}

func (r *reportFlags) register(fs *flag.FlagSet, verboseHelp string) {
	fs.Var(&r.formats, "format", formatUsage)
	fs.StringVar(&r.failOn, "fail-on", "warning", "exit 1 when a finding is at least this severe: error, warning, info or never")
	fs.StringVar(&r.color, "color", "auto", "colour the text report and --diff: auto, always or never (NO_COLOR, FORCE_COLOR and CLICOLOR_FORCE are honoured)")
	fs.StringVar(&r.config, "config", "", "read this config file instead of the .nvlint.hcl found from the working directory up")
	fs.BoolVar(&r.verbose, "verbose", false, verboseHelp)
	fs.StringVar(&r.baseline.use, "baseline", "", "report only findings not recorded in this baseline file")
	fs.StringVar(&r.baseline.write, "write-baseline", "", "record the current findings in this baseline file (then report against it)")
	fs.BoolVar(&r.baseline.strict, "baseline-strict", false, "with --baseline: also fail when a recorded finding is gone, so the baseline shrinks")
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
		return s, err
	}
	if s.threshold, err = parseFailOn(r.failOn); err != nil {
		return s, err
	}
	if s.color, err = colorMode(r.color, env); err != nil {
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
