package cli

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
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
	failOn, cfg         string
	g                   *globalFlags
	// perDir is --setup-per-dir; setup is --setup.
	perDir, setup string
	names         nameFlag
}

// impactFormats are the formats impact writes.
var impactFormats = []reports.Format{reports.FormatText, reports.FormatJSON, reports.FormatMarkdown, reports.FormatSARIF}

func newImpactCmd(env Env, code *int, g *globalFlags) *cobra.Command {
	f := impactFlags{g: g}
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

With setups (setup blocks of .nvlint.hcl, or --setup-per-dir), each setup is compared
in its own worlds and every change names its setup. A snapshot is one cluster's state:
with files in several setups, --snapshot needs --setup NAME to say which it is.

Exit status: 0 nothing changed at or above --fail-on, 1 a change or an introduced
finding at or above --fail-on (a lost read is an error), 2 usage error, 3 internal error.`,
		RunE: func(c *cobra.Command, paths []string) error {
			if len(paths) == 0 && f.perDir != "" {
				paths = []string{f.perDir}
			}
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
	fs.StringVar(&f.cfg, "config", "", configUsage+" (applies to both sides)")
	fs.StringVar(&f.perDir, "setup-per-dir", "", "compare each immediate subdirectory of `DIR` as a setup of its own, in place of the setup blocks of .nvlint.hcl (DIR is compared when no PATH is given)")
	fs.StringVar(&f.setup, "setup", "", "compare only the setup `NAME`; with --snapshot and files in several setups, the setup the snapshot is the state of")
	_ = c.MarkFlagDirname("setup-per-dir")
	f.names.register(c)
	completeValues(c, "format", names...)
	completeValues(c, "fail-on", "error", "warning", "info", "never")
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

func runImpact(paths []string, f *impactFlags, env Env) int {
	outs, err := reports.ParseOutputs(f.formats, impactFormats...)
	if err != nil {
		return usageError(env, flagErr("--format", err))
	}
	threshold, err := parseFailOn(f.failOn)
	if err != nil {
		return usageError(env, flagErr("--fail-on", err))
	}
	color, err := colorMode(f.g.color, env)
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
	named, err := f.names.parse()
	if err != nil {
		return usageError(env, err)
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
	specs, err := declaredSetups(cfg, f.perDir)
	if err != nil {
		return usageError(env, err)
	}
	if f.setup != "" && len(specs) == 0 {
		return usageError(env, fmt.Errorf("--setup %s: no setups are declared (setup blocks of .nvlint.hcl, or --setup-per-dir)", f.setup))
	}
	// Each side is loaded (parsed) once; its setups are views of it.
	hw, err := loadWorld(paths, cfg, named, nil)
	if err != nil {
		return usageError(env, err)
	}
	rep := impact.Report{Head: "the working tree"}
	var base, head impactSide
	var res impact.Result
	opts := impact.Options{}
	if f.snap != "" {
		snap, err := os.ReadFile(f.snap)
		if err != nil {
			return usageError(env, fmt.Errorf("--snapshot %s: %w", f.snap, unwrapPath(err)))
		}
		// Each side has its own copy of the live objects: hints and
		// memos are set on them.
		lw, err := snapshot.Load(snap)
		if err != nil {
			return usageError(env, fmt.Errorf("--snapshot %s: %w", f.snap, err))
		}
		hlw, err := snapshot.Load(snap)
		if err != nil {
			return usageError(env, fmt.Errorf("--snapshot %s: %w", f.snap, err))
		}
		files, prepare, err := snapshotSetup(hw, specs, cfg, f)
		if err != nil {
			return usageError(env, err)
		}
		hw = snapshot.Overlay(files, hlw)
		prepare(hw)
		prepare(lw)
		head = lintWorlds(hw, []rules.Setup{{World: hw}}, cfg, catalog)
		base = lintWorlds(lw, []rules.Setup{{World: lw}}, cfg, catalog)
		head.root, base.root = cwd, cwd
		rep.Base, rep.Head = "the snapshot "+f.snap, "the snapshot with "+strings.Join(paths, ", ")
		res = impact.Compare(base.w, head.w, opts)
	} else {
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
		bw, err := loadWorld(existing, cfg, named, b.HeadName)
		if err != nil {
			return usageError(env, fmt.Errorf("base: %w", err))
		}
		opts.BaseFile = b.HeadName
		pairs, err := impactPairs(hw, bw, specs, cfg, f, b, cwd)
		if err != nil {
			return usageError(env, err)
		}
		var hsts, bsts []rules.Setup
		for _, p := range pairs {
			if p.Head != nil || len(pairs) == 1 {
				hsts = append(hsts, rules.Setup{Name: p.Name, World: orEmpty(p.Head)})
			}
			if p.Base != nil || len(pairs) == 1 {
				bsts = append(bsts, rules.Setup{Name: p.Name, World: orEmpty(p.Base)})
			}
		}
		head, base = lintWorlds(hw, hsts, cfg, catalog), lintWorlds(bw, bsts, cfg, catalog)
		head.root, base.root = cwd, b.Root
		res = impact.CompareSetups(pairs, opts)
	}
	base.release()
	head.release()
	res.Introduced, res.Fixed = impact.Findings(base.root, base.res.Findings, head.root, head.res.Findings)
	for i := range res.Fixed {
		res.Fixed[i].Range.Filename = opts.BaseName(res.Fixed[i].Range.Filename)
	}
	rep.Result = res

	secrets := worldSecrets(head.w, env)
	secrets.Merge(worldSecrets(base.w, env))
	// Every output is attempted, as lint and doctor do: a file that
	// cannot be written does not keep the report off standard output.
	writeCode := ExitOK
	for _, o := range outs {
		if code := writeImpact(env, o, rep, head, catalog, color, secrets); code != ExitOK && writeCode != ExitInternal {
			writeCode = code
		}
	}
	if writeCode != ExitOK {
		return writeCode
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

// loadWorld loads paths, with the config's ignore_paths and --name's
// names matched on the name rename gives each file (nil: its own).
func loadWorld(paths []string, cfg *config.Config, names map[string]string, rename func(string) string) (*world.World, error) {
	opts := inputs.Options{Names: names, NameAs: rename}
	if cfg != nil {
		opts.Ignore = cfg.Ignored
		if rename != nil {
			opts.Ignore = func(p string) bool { return cfg.Ignored(rename(p)) }
		}
	}
	w, _, err := inputs.Load(paths, opts)
	return w, err
}

// lintWorlds runs the rules on a side's setups, prepared, as lint does:
// one setup alone, several each in its own world, every finding named by
// its setup. What the rules derive is held until release, so that the
// comparison reuses the tokens and KV versions they worked out.
func lintWorlds(w *world.World, sts []rules.Setup, cfg *config.Config, catalog []rules.Rule) impactSide {
	var releases []func()
	for _, st := range sts {
		releases = append(releases, st.World.Memoize())
	}
	side := impactSide{w: w, release: func() {
		for _, r := range releases {
			r()
		}
	}}
	switch len(sts) {
	case 0:
		side.res = rules.Result{Ran: map[string]bool{}}
	case 1:
		side.res = rules.RunWith(sts[0].World, catalog, settings(cfg))
	default:
		side.res = rules.RunSetups(sts, catalog, settings(cfg))
	}
	return side
}

func orEmpty(w *world.World) *world.World {
	if w == nil {
		return &world.World{}
	}
	return w
}

// impactPairs splits both sides into their setups, prepared as lint
// prepares them, and pairs them by name: the setups declared, in order,
// then the directories only the base has (--setup-per-dir), then the
// files of no setup. Without setups, each side is one whole.
func impactPairs(hw, bw *world.World, specs []rules.SetupSpec, cfg *config.Config, f *impactFlags, b *impact.Base, cwd string) ([]impact.SetupPair, error) {
	basePrepare := renamedHints(cfg.Apply, b.HeadName)
	if len(specs) == 0 {
		cfg.Apply(hw)
		basePrepare(bw)
		return []impact.SetupPair{{Base: bw, Head: hw}}, nil
	}
	// The base's files lie elsewhere: a setup is matched on the name the
	// working tree has for the same file.
	bspecs := renamedSpecs(specs, b.HeadName)
	names := setupNames(specs)
	if f.perDir != "" {
		if rel, err := filepath.Rel(cwd, absPath(f.perDir)); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			dirs, _ := setupDirs(filepath.Join(b.Root, rel))
			for _, d := range dirs {
				if slices.Contains(names, d) {
					continue
				}
				spec, err := dirSpec(f.perDir, d)
				if err != nil {
					return nil, err
				}
				bspecs = append(bspecs, renamedSpecs([]rules.SetupSpec{spec}, b.HeadName)...)
				names = append(names, d)
			}
		}
	}
	names = append(names, rules.OtherSetup)
	hsts := rules.SplitSetups(hw, specs, cfg.Apply)
	bsts := rules.SplitSetups(bw, bspecs, basePrepare)
	var pairs []impact.SetupPair
	for _, n := range names {
		p := impact.SetupPair{Name: n, Head: setupWorld(hsts, n), Base: setupWorld(bsts, n)}
		if p.Head != nil || p.Base != nil {
			pairs = append(pairs, p)
		}
	}
	if f.setup != "" {
		i := slices.IndexFunc(pairs, func(p impact.SetupPair) bool { return p.Name == f.setup })
		if i < 0 {
			var have []string
			for _, p := range pairs {
				have = append(have, p.Name)
			}
			return nil, fmt.Errorf("--setup %s: no such setup among the files given (%s)", f.setup, strings.Join(have, ", "))
		}
		pairs = pairs[i : i+1]
	}
	if len(pairs) == 0 {
		pairs = []impact.SetupPair{{}}
	}
	return pairs, nil
}

// snapshotSetup picks the files a snapshot is overlaid with, and how its
// worlds are prepared. A snapshot is the state of one cluster, so with
// files in several setups --setup must say which setup it is; the files
// of the others are left out.
func snapshotSetup(w *world.World, specs []rules.SetupSpec, cfg *config.Config, f *impactFlags) (*world.World, func(*world.World), error) {
	if len(specs) == 0 {
		return w, cfg.Apply, nil
	}
	sts := rules.SplitSetups(w, specs, nil)
	var names []string
	for _, st := range sts {
		names = append(names, st.Name)
	}
	var pick int
	switch {
	case f.setup != "":
		if pick = slices.IndexFunc(sts, func(st rules.Setup) bool { return st.Name == f.setup }); pick < 0 {
			return nil, nil, fmt.Errorf("--setup %s: no such setup among the files given (%s)", f.setup, strings.Join(names, ", "))
		}
	case len(sts) > 1:
		return nil, nil, fmt.Errorf("--snapshot %s is the state of one cluster, and the files are in %d setups (%s): say which setup it is with --setup NAME", f.snap, len(sts), strings.Join(names, ", "))
	case len(sts) == 1:
		pick = 0
	default:
		return w, cfg.Apply, nil
	}
	prepare := cfg.Apply
	for _, s := range specs {
		if s.Name == sts[pick].Name && s.Prepare != nil {
			prepare = s.Prepare
		}
	}
	return sts[pick].World, prepare, nil
}

// renamedSpecs are specs that match a file by the name rename gives it.
func renamedSpecs(specs []rules.SetupSpec, rename func(string) string) []rules.SetupSpec {
	out := make([]rules.SetupSpec, len(specs))
	for i, s := range specs {
		has := s.Has
		s.Has = func(f *world.File) bool {
			return has(f.Renamed(rename(f.Path)))
		}
		if s.Prepare != nil {
			s.Prepare = renamedHints(s.Prepare, rename)
		}
		out[i] = s
	}
	return out
}

// renamedHints prepares a world as prepare does, with the names the
// config gives files by path applied to the files rename names so: the
// base's files lie elsewhere than the config says.
func renamedHints(prepare func(*world.World), rename func(string) string) func(*world.World) {
	return func(w *world.World) {
		prepare(w)
		names := w.Hints.Names
		if len(names) == 0 {
			return
		}
		var more map[string]world.Str
		for _, f := range w.Files {
			if n, ok := names[absPath(rename(f.Path))]; ok {
				if more == nil {
					more = maps.Clone(names)
				}
				more[absPath(f.Path)] = n
			}
		}
		if more != nil {
			w.Hints.Names = more
			w.ApplyHints()
		}
	}
}

func setupNames(specs []rules.SetupSpec) []string {
	var out []string
	for _, s := range specs {
		out = append(out, s.Name)
	}
	return out
}

func setupWorld(sts []rules.Setup, name string) *world.World {
	for _, st := range sts {
		if st.Name == name {
			return st.World
		}
	}
	return nil
}

func absPath(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

// writeImpact writes one output, masked.
func writeImpact(env Env, o reports.Output, rep impact.Report, head impactSide, catalog []rules.Rule, color bool, secrets *redact.Secrets) int {
	if o.Format == reports.FormatSARIF {
		// SARIF carries the introduced findings, as lint reports them.
		r := reportOf(head.w, rules.Result{Findings: rep.Introduced, Ran: head.res.Ran}, nil, catalog)
		for _, s := range rep.Setups {
			r.Setups = append(r.Setups, s.Name)
		}
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
	if err := reports.WriteFile(o.Path, out, 0o644); err != nil {
		return usageError(env, reports.FileFlagError("--format", o.String(), err))
	}
	return ExitOK
}

func internalError(env Env, err error) int {
	fmt.Fprintf(env.Stderr, "nvlint: %v\n", err)
	return ExitInternal
}
