package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/nvlint/nvlint/redact"
	"github.com/nvlint/nvlint/reports"
)

// formatUsage documents the repeatable --format flag of lint and doctor.
var formatUsage = func() string {
	names := make([]string, len(reports.Formats))
	for i, f := range reports.Formats {
		names[i] = string(f)
	}
	return "output `FORMAT[=FILE]`, repeatable: FORMAT writes to standard output (at most one), FORMAT=FILE to a file; " +
		strings.Join(names, ", ") + " (default text)"
}()

// writeReports writes every requested report, masked, and returns the
// exit code a failure means: a file that cannot be written is the
// user's path (ExitUsage), anything else is nvlint's fault.
func writeReports(env Env, outs []reports.Output, rep *reports.Report, opts reports.Options, secrets *redact.Secrets) int {
	opts.DocsURL = env.Getenv("NVLINT_DOCS_URL")
	err := reports.WriteOutputs(env.Stdout, outs, rep, opts, secrets.Bytes)
	if err == nil {
		return ExitOK
	}
	for _, e := range splitErrors(err) {
		fmt.Fprintf(env.Stderr, "nvlint: %v\n", e)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) || errors.Is(err, reports.ErrSetting) {
		return ExitUsage
	}
	return ExitInternal
}
