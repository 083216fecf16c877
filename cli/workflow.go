package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/nvlint/nvlint/autofix"
	"github.com/nvlint/nvlint/baseline"
	"github.com/nvlint/nvlint/config"
	"github.com/nvlint/nvlint/inputs"
	"github.com/nvlint/nvlint/reports"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/snapshot"
	"github.com/nvlint/nvlint/world"
)

// The workflow flags of lint and doctor: .nvlint.hcl, baselines, and
// lint's --fix and --diff. The engine-level parts live in config,
// baseline, autofix and rules; this wires them to flags and files.

// loadConfig reads the config --config names, else the .nvlint.hcl
// found from the linted paths up (config.FindFor); nil when there is
// none. verbose says on stderr which config applied.
func loadConfig(env Env, path string, paths []string, catalog []rules.Rule, verbose bool) (*config.Config, error) {
	if path != "" {
		cfg, err := config.Load(path, catalog)
		var ce *config.Error
		if err != nil && !errors.As(err, &ce) {
			// A config with problems names its file at each; a file that
			// cannot be read is the flag's.
			return nil, fmt.Errorf("--config %s: %w", path, unwrapPath(err))
		}
		if err == nil && verbose {
			fmt.Fprintf(env.Stderr, "nvlint: config %s (--config)\n", path)
		}
		return cfg, err
	}
	found, err := config.FindFor(paths, env.Dir)
	if err != nil {
		return nil, err
	}
	if found.Path == "" {
		if verbose {
			fmt.Fprintf(env.Stderr, "nvlint: no %s found from the linted paths or the working directory up; defaults apply\n", config.FileName)
		}
		return nil, nil
	}
	if verbose {
		from := found.From
		if from == env.Dir || from == "" {
			from = "the working directory"
		}
		fmt.Fprintf(env.Stderr, "nvlint: config %s (found from %s)\n", found.Path, from)
	}
	return config.Load(found.Path, catalog)
}

// unwrapPath drops the operation and path of a file system error, for
// a message that names the path itself.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// settings are the config's rule settings; none without a config.
func settings(cfg *config.Config) rules.Settings {
	if cfg == nil {
		return rules.Settings{}
	}
	return cfg.Settings
}

// linter lints one set of paths, again and again: --fix lints its edits
// in memory before writing them, and the result once written.
type linter struct {
	paths   []string
	opts    inputs.Options
	stdin   []byte // read once: every lint sees the same standard input
	snap    []byte // a snapshot to overlay, as read
	snapArg string
	cfg     *config.Config
	catalog []rules.Rule
	// setups, when set, split the files into setups linted apart.
	setups []rules.SetupSpec
}

func newLinter(paths []string, opts inputs.Options, snapPath string, cfg *config.Config, catalog []rules.Rule) (*linter, error) {
	l := &linter{paths: paths, opts: opts, snapArg: snapPath, cfg: cfg, catalog: catalog}
	for _, p := range paths {
		if p == "-" && opts.Stdin != nil {
			b, err := io.ReadAll(io.LimitReader(opts.Stdin, inputs.MaxFileSize+1))
			if err != nil {
				return nil, err
			}
			l.stdin = b
			break
		}
	}
	if cfg != nil {
		l.opts.Ignore = cfg.Ignored
	}
	if snapPath != "" {
		data, err := os.ReadFile(snapPath)
		if err != nil {
			return nil, fmt.Errorf("--snapshot %s: %w", snapPath, unwrapPath(err))
		}
		l.snap = data
	}
	return l, nil
}

// lint loads the paths (with srcs in place of the disk, when set), runs
// the rules with the config and returns the world and result.
func (l *linter) lint(srcs map[string][]byte) (*world.World, rules.Result, inputs.Notes, error) {
	opts := l.opts
	opts.Sources = srcs
	if l.stdin != nil {
		opts.Stdin = bytes.NewReader(l.stdin)
	}
	w, notes, err := inputs.Load(l.paths, opts)
	if err != nil {
		return nil, rules.Result{}, nil, err
	}
	if l.snap != nil {
		lw, err := snapshot.Load(l.snap)
		if err != nil {
			return nil, rules.Result{}, nil, usageErr{fmt.Errorf("--snapshot %s: %w", l.snapArg, err)}
		}
		w = snapshot.Overlay(w, lw)
	}
	if len(l.setups) > 0 {
		sts := rules.SplitSetups(w, l.setups, l.cfg.Apply)
		if len(sts) > 1 && l.snap != nil {
			return nil, rules.Result{}, nil, usageErr{fmt.Errorf("--snapshot %s is the live state of one setup, and the files are in %d (setup blocks or --setup-per-dir): lint each setup with its own snapshot", l.snapArg, len(sts))}
		}
		if len(sts) > 0 {
			return w, rules.RunSetups(sts, l.catalog, settings(l.cfg)), notes, nil
		}
	}
	l.cfg.Apply(w)
	return w, rules.RunWith(w, l.catalog, settings(l.cfg)), notes, nil
}

// usageErr marks an error that is the user's (exit 2).
type usageErr struct{ error }

// fixSources are the files --fix may change: read from disk, not empty.
func fixSources(w *world.World) map[string][]byte {
	srcs := map[string][]byte{}
	for _, f := range w.Files {
		if f.Path == "-" || len(f.Src) == 0 {
			continue
		}
		if info, err := os.Stat(f.Path); err != nil || !info.Mode().IsRegular() {
			continue
		}
		srcs[f.Path] = f.Src
	}
	return srcs
}

// runFixes works out the fixes of a lint, in memory.
func (l *linter) runFixes(w *world.World, res rules.Result) (*autofix.Outcome, error) {
	return autofix.Run(res.Findings, w.Files, fixSources(w), func(srcs map[string][]byte) ([]rules.Finding, []*world.File, error) {
		w, res, _, err := l.lint(srcs)
		if err != nil {
			return nil, nil, err
		}
		return res.Findings, w.Files, nil
	})
}

// diffText is the unified diff of what --fix would write.
func diffText(out *autofix.Outcome) string {
	var b strings.Builder
	for _, p := range out.Changed {
		b.WriteString(autofix.Unified(p, out.Original[p], out.Sources[p]))
	}
	return b.String()
}

// writeFixed writes the changed files. A file that changed on disk since
// it was read is left alone; a byte-order mark is kept; the file keeps
// its mode, and a symlink stays one (its target is written).
func writeFixed(out *autofix.Outcome) (written []string, errs []error) {
	for _, p := range out.Changed {
		target, err := filepath.EvalSymlinks(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		info, err := os.Stat(target)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		disk, err := os.ReadFile(target)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		const bom = "\xef\xbb\xbf"
		prefix := ""
		if bytes.HasPrefix(disk, []byte(bom)) && !bytes.HasPrefix(out.Original[p], []byte(bom)) {
			prefix = bom
			disk = disk[len(bom):]
		}
		if !bytes.Equal(disk, out.Original[p]) {
			errs = append(errs, fmt.Errorf("%s changed on disk while nvlint ran; not written", p))
			continue
		}
		data := append([]byte(prefix), crlf(out.Original[p], out.Sources[p])...)
		tmp, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".nvlint-*")
		if err != nil {
			errs = append(errs, err)
			continue
		}
		_, werr := tmp.Write(data)
		cerr := tmp.Close()
		if werr == nil {
			werr = cerr
		}
		if werr == nil {
			werr = os.Chmod(tmp.Name(), info.Mode().Perm())
		}
		if werr == nil {
			werr = os.Rename(tmp.Name(), target)
		}
		if werr != nil {
			_ = os.Remove(tmp.Name())
			errs = append(errs, fmt.Errorf("%s: %w", p, werr))
			continue
		}
		written = append(written, p)
	}
	return written, errs
}

// crlf gives lines an edit added the file's CRLF line ends, when the file
// had them throughout.
func crlf(orig, fixed []byte) []byte {
	n := bytes.Count(orig, []byte("\n"))
	if n == 0 || bytes.Count(orig, []byte("\r\n")) != n {
		return fixed
	}
	lf := bytes.ReplaceAll(fixed, []byte("\r\n"), []byte("\n"))
	return bytes.ReplaceAll(lf, []byte("\n"), []byte("\r\n"))
}

// reportSkipped says which fixes were not applied, and why, and which
// were held back by an overlap and applied in a later pass.
func reportSkipped(env Env, out *autofix.Outcome) {
	at := func(f rules.Finding) string {
		if f.HasFile() {
			return fmt.Sprintf("%s:%d:%d", f.Range.Filename, f.Range.Start.Line, f.Range.Start.Column)
		}
		return f.Object.Name
	}
	for _, s := range out.Deferred {
		fmt.Fprintf(env.Stderr, "nvlint: fix for %s at %s held back in pass %d (%s); applied in a later pass to the fixed text\n", s.Finding.Rule.ID, at(s.Finding), s.Pass, s.Reason)
	}
	for _, s := range out.Skipped {
		fmt.Fprintf(env.Stderr, "nvlint: fix for %s at %s not applied: %s\n", s.Finding.Rule.ID, at(s.Finding), s.Reason)
	}
}

// keepWritten drops the findings whose fix edits a file that could not be
// written: they were not fixed.
func keepWritten(fs []rules.Finding, written []string) []rules.Finding {
	ok := map[string]bool{}
	for _, p := range written {
		ok[p] = true
	}
	var out []rules.Finding
	for _, f := range fs {
		all := true
		for _, e := range f.Fixes[0].Edits {
			all = all && ok[e.Range.Filename]
		}
		if all {
			out = append(out, f)
		}
	}
	return out
}

// baselineFlags are --baseline, --write-baseline and --baseline-strict,
// and what applying them left to do.
type baselineFlags struct {
	use, write string
	strict     bool

	// pending is the baseline --write-baseline records, written by
	// finish once the run has not failed on usage.
	pending *baseline.File
	// gone are the entries whose findings are fixed, from the baseline
	// used (used).
	gone []baseline.Entry
	used string
}

// apply applies the baseline: rep.Findings keeps the new findings and
// rep.Baselined counts the others. It writes nothing: finish writes
// --write-baseline, so a run that then fails on usage leaves no baseline
// behind. It returns ExitUsage when the baseline cannot be read.
func (b *baselineFlags) apply(env Env, w *world.World, res rules.Result, rep *reports.Report) int {
	use := b.use
	var file *baseline.File
	if b.write != "" {
		b.pending = baseline.New(baseline.NewKeyer(b.write), rep.Findings)
		if use == "" || use == b.write {
			use, file = b.write, b.pending
		}
	}
	if use == "" {
		return ExitOK
	}
	if file == nil {
		var err error
		if file, err = baseline.Read(use); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				fmt.Fprintf(env.Stderr, "nvlint: --baseline %s does not exist: create it with --write-baseline %s\n", use, use)
			} else {
				fmt.Fprintf(env.Stderr, "nvlint: --baseline %s: %v\n", use, unwrapPath(err))
			}
			return ExitUsage
		}
	}
	k := baseline.NewKeyer(use)
	linted := map[string]bool{}
	for _, f := range w.Files {
		linted[k.File(f.Path)] = true
	}
	checked := func(e baseline.Entry) bool {
		if !res.Ran[e.Rule] {
			return false
		}
		if e.File == "" {
			return w.Live != nil
		}
		return linted[e.File]
	}
	split := file.Filter(k, rep.Findings, checked)
	rep.Findings = split.New
	rep.Baselined = len(split.Known)
	b.used = use
	if b.strict {
		b.gone = split.Gone
	}
	return ExitOK
}

// finish writes the baseline --write-baseline recorded and, under
// --baseline-strict, says which recorded findings are gone: after the
// report, so the run's last words say why it failed. It returns the
// baseline's exit code: ExitUsage when the file cannot be written,
// ExitFindings when a strict baseline should shrink.
func (b *baselineFlags) finish(env Env) int {
	if b.pending != nil {
		data, err := b.pending.Marshal()
		if err == nil {
			err = reports.WriteFile(b.write, data, 0o644)
		}
		if err != nil {
			fmt.Fprintf(env.Stderr, "nvlint: %v\n", reports.FileFlagError("--write-baseline", b.write, err))
			return ExitUsage
		}
		fmt.Fprintf(env.Stderr, "nvlint: wrote %s: %d finding(s) recorded\n", b.write, countEntries(b.pending))
	}
	if len(b.gone) == 0 {
		return ExitOK
	}
	n := 0
	for _, e := range b.gone {
		where := e.File
		if where == "" {
			where = e.Object
		}
		fmt.Fprintf(env.Stderr, "nvlint: baseline %s: %s %s: fixed since it was recorded (%d gone): %s\n", b.used, e.Rule, where, e.Count, e.Message)
		n += max(e.Count, 1)
	}
	fmt.Fprintf(env.Stderr, "nvlint: failing: --baseline-strict and %d recorded finding(s) are fixed; shrink the baseline with --write-baseline %s\n", n, b.used)
	return ExitFindings
}

func countEntries(b *baseline.File) int {
	n := 0
	for _, e := range b.Findings {
		n += max(e.Count, 1)
	}
	return n
}

// stdoutText reports whether the text report goes to standard output.
func stdoutText(outs []reports.Output) bool {
	for _, o := range outs {
		if o.Path == "" {
			return o.Format == reports.FormatText
		}
	}
	return false
}

// hasStdout reports whether some report goes to standard output.
func hasStdout(outs []reports.Output) bool {
	for _, o := range outs {
		if o.Path == "" {
			return true
		}
	}
	return false
}
