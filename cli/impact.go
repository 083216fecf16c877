package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nvlint/nvlint/checks"
	"github.com/nvlint/nvlint/config"
	"github.com/nvlint/nvlint/impact"
	"github.com/nvlint/nvlint/inputs"
	"github.com/nvlint/nvlint/redact"
	"github.com/nvlint/nvlint/reports"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/snapshot"
	"github.com/nvlint/nvlint/world"
)

// impactFlags are the flags of nvlint impact.
type impactFlags struct {
	base, baseDir, snap string
	formats             []string
	failOn, color, cfg  string
}

// impactFormats are the formats impact writes.
var impactFormats = []reports.Format{reports.FormatText, reports.FormatJSON, reports.FormatMarkdown, reports.FormatSARIF}

func newImpactCmd(env Env, code *int) *cobra.Command {
	var f impactFlags
	c := &cobra.Command{
		Use:   "impact [--base REF | --base-dir DIR | --snapshot FILE] [flags] PATH...",
		Short: "what a change does to every task's Vault access, compared with a git revision",
		Long: `Compares every Vault read of every task at a base and at the working tree (the head):
access lost, access gained (a privileged capability gained is a warning), decisions that
become unknown, tasks added and removed, and the findings introduced and fixed.

The base is the same PATHs at git revision --base (default: the merge base with the
upstream branch, else HEAD), read from git's objects without touching the working tree;
or --base-dir DIR, read as the PATHs are read under the working directory; or, with
--snapshot FILE (saved by doctor --save), the live state as saved, with the files given
replacing the objects they define at head.

Exit status: 0 nothing changed at or above --fail-on, 1 a change or an introduced
finding at or above --fail-on (a lost read is an error), 2 usage error, 3 internal error.`,
		RunE: func(c *cobra.Command, paths []string) error {
			if len(paths) == 0 {
				*code = noPaths(env, c, "no PATH to compare")
				return nil
			}
			*code = runImpact(paths, &f, env)
			return nil
		},
	}
	fs := c.Flags()
	fs.StringVar(&f.base, "base", "", "git `REF` to compare with (default: the merge base with the upstream branch, else HEAD)")
	fs.StringVar(&f.baseDir, "base-dir", "", "compare with the same paths under this `DIR` instead of a git revision")
	fs.StringVar(&f.snap, "snapshot", "", "compare the live state saved in `FILE` (doctor --save) with it overlaid by the files given")
	names := make([]string, len(impactFormats))
	for i, f := range impactFormats {
		names[i] = string(f)
	}
	fs.StringArrayVar(&f.formats, "format", nil, "output `FORMAT[=FILE]`, repeatable: "+strings.Join(names, ", ")+" (default text; sarif holds the introduced findings)")
	fs.StringVar(&f.failOn, "fail-on", "warning", "exit 1 when a change or an introduced finding is at least this `SEVERITY`: error, warning, info or never")
	fs.StringVar(&f.color, "color", "auto", colorUsage)
	fs.StringVar(&f.cfg, "config", "", configUsage+" (applies to both sides)")
	completeValues(c, "format", names...)
	completeValues(c, "fail-on", "error", "warning", "info", "never")
	completeValues(c, "color", colorModes...)
	_ = c.MarkFlagFilename("config", "hcl")
	_ = c.MarkFlagFilename("snapshot", "json")
	_ = c.MarkFlagDirname("base-dir")
	return c
}

// impactSide is one side, loaded and linted.
type impactSide struct {
	w    *world.World
	res  rules.Result
	root string
	// release ends the memo held from the lint to the comparison, which
	// so reuses the tokens and KV versions the rules worked out.
	release func()
}

// lintSide runs the rules on a loaded world and keeps what they derive.
func lintSide(w *world.World, cfg *config.Config, catalog []rules.Rule) impactSide {
	cfg.Apply(w)
	release := w.Memoize()
	return impactSide{w: w, res: rules.RunWith(w, catalog, settings(cfg)), release: release}
}

func runImpact(paths []string, f *impactFlags, env Env) int {
	outs, err := reports.ParseOutputs(f.formats)
	if err != nil {
		return usageError(env, flagErr("--format", err))
	}
	for _, o := range outs {
		if !slices.Contains(impactFormats, o.Format) {
			return usageError(env, fmt.Errorf("--format: impact writes text, json, markdown or sarif, not %s", o.Format))
		}
	}
	threshold, err := parseFailOn(f.failOn)
	if err != nil {
		return usageError(env, flagErr("--fail-on", err))
	}
	color, err := colorMode(f.color, env)
	if err != nil {
		return usageError(env, err)
	}
	set := 0
	for _, v := range []string{f.base, f.baseDir, f.snap} {
		if v != "" {
			set++
		}
	}
	if set > 1 {
		return usageError(env, errors.New("--base, --base-dir and --snapshot each give the base: pass one"))
	}
	for _, p := range paths {
		if p == "-" {
			return usageError(env, errors.New("impact compares files on disk: standard input (-) has no base"))
		}
	}
	cwd, err := os.Getwd()
	if err != nil {
		return internalError(env, err)
	}
	catalog := checks.All()
	cfg, err := loadConfig(env, f.cfg, paths, catalog, false)
	if err != nil {
		return usageError(env, err)
	}
	var snap []byte
	if f.snap != "" {
		if snap, err = os.ReadFile(f.snap); err != nil {
			return usageError(env, fmt.Errorf("--snapshot %s: %w", f.snap, unwrapPath(err)))
		}
	}
	head, err := loadSide(paths, cfg, catalog, snap)
	if err != nil {
		if f.snap != "" {
			err = fmt.Errorf("--snapshot %s: %w", f.snap, err)
		}
		return usageError(env, err)
	}
	head.root = cwd
	if sts := rules.SplitSetups(head.w, cfg.SetupSpecs(), nil); len(sts) > 1 {
		// Each setup's tasks would be judged against the others' roles
		// and policies: say so rather than answer quietly.
		fmt.Fprintf(env.Stderr, "nvlint: impact judges the files given as one setup, and they are in %d setups of %s: pass the paths of one setup for its answers\n", len(sts), cfg.Path)
	}
	rep := impact.Report{Head: "the working tree"}
	var base impactSide
	opts := impact.Options{}
	switch {
	case f.snap != "":
		lw, err := snapshot.Load(snap)
		if err != nil {
			return usageError(env, fmt.Errorf("--snapshot %s: %w", f.snap, err))
		}
		base = lintSide(lw, cfg, catalog)
		base.root = cwd
		rep.Base, rep.Head = "the snapshot "+f.snap, "the snapshot with "+strings.Join(paths, ", ")
	default:
		var b *impact.Base
		if f.baseDir != "" {
			b, err = impact.DirBase(f.baseDir, cwd, paths)
			if err != nil {
				return usageError(env, fmt.Errorf("--base-dir: %w", err))
			}
			rep.Base = f.baseDir
		} else {
			b, err = impact.GitBase(cwd, f.base, paths)
			if err != nil {
				return usageError(env, err)
			}
			defer b.Close()
			rep.Base = b.Ref
			if short := b.Commit[:min(len(b.Commit), 12)]; !strings.HasPrefix(b.Ref, short) {
				rep.Base += " (" + short + ")"
			}
		}
		// A path the base does not have is empty there.
		var existing []string
		for _, p := range b.Paths {
			if _, err := os.Stat(p); err == nil {
				existing = append(existing, p)
			}
		}
		if base, err = loadSide(existing, cfg, catalog, nil); err != nil {
			return usageError(env, fmt.Errorf("base: %w", err))
		}
		base.root = b.Root
		opts.BaseFile = b.HeadName
	}

	res := impact.Compare(base.w, head.w, opts)
	base.release()
	head.release()
	res.Introduced, res.Fixed = impact.Findings(base.root, base.res.Findings, head.root, head.res.Findings)
	for i := range res.Fixed {
		res.Fixed[i].Range.Filename = opts.BaseName(res.Fixed[i].Range.Filename)
	}
	rep.Result = res

	secrets := worldSecrets(head.w, env)
	secrets.Merge(worldSecrets(base.w, env))
	for _, o := range outs {
		if code := writeImpact(env, o, rep, head, catalog, color, secrets); code != ExitOK {
			return code
		}
	}
	if !hasStdout(outs) {
		// A run is never silent: say what the files hold.
		var files []string
		for _, o := range outs {
			files = append(files, o.Path)
		}
		fmt.Fprintf(env.Stderr, "nvlint: %s Report written to %s\n", impact.SummaryLine(res.Summary()), strings.Join(files, ", "))
	}
	if threshold != 0 && res.Worst() >= threshold {
		return ExitFindings
	}
	return ExitOK
}

// loadSide loads paths (over the snapshot, when given) and lints them.
func loadSide(paths []string, cfg *config.Config, catalog []rules.Rule, snap []byte) (impactSide, error) {
	opts := inputs.Options{}
	if cfg != nil {
		opts.Ignore = cfg.Ignored
	}
	w, _, err := inputs.Load(paths, opts)
	if err != nil {
		return impactSide{}, err
	}
	if snap != nil {
		lw, err := snapshot.Load(snap)
		if err != nil {
			return impactSide{}, err
		}
		w = snapshot.Overlay(w, lw)
	}
	return lintSide(w, cfg, catalog), nil
}

// writeImpact writes one output, masked.
func writeImpact(env Env, o reports.Output, rep impact.Report, head impactSide, catalog []rules.Rule, color bool, secrets *redact.Secrets) int {
	if o.Format == reports.FormatSARIF {
		// SARIF carries the introduced findings, as lint reports them.
		r := reportOf(head.w, rules.Result{Findings: rep.Introduced, Ran: head.res.Ran}, nil, catalog)
		return writeReports(env, []reports.Output{o}, r, reports.Options{}, secrets)
	}
	var buf bytes.Buffer
	var err error
	switch o.Format {
	case reports.FormatJSON:
		err = impact.WriteJSON(&buf, rep)
	case reports.FormatMarkdown:
		err = impact.WriteMarkdown(&buf, rep)
	default:
		err = impact.WriteText(&buf, rep, color && o.Path == "")
	}
	if err != nil {
		return internalError(env, err)
	}
	out := secrets.Bytes(buf.Bytes())
	if o.Path == "" {
		if _, err := env.Stdout.Write(out); err != nil {
			return ExitInternal
		}
		return ExitOK
	}
	if err := os.WriteFile(o.Path, out, 0o644); err != nil {
		return usageError(env, fmt.Errorf("--format %s: %w", o, unwrapPath(err)))
	}
	return ExitOK
}

func internalError(env Env, err error) int {
	fmt.Fprintf(env.Stderr, "nvlint: %v\n", err)
	return ExitInternal
}
