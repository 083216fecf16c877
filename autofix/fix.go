package autofix

import (
	"bytes"
	"fmt"
	"maps"
	"slices"

	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// LintFunc lints the run's files with srcs in place of what is on disk,
// and returns the findings and the files as parsed.
type LintFunc func(srcs map[string][]byte) ([]rules.Finding, []*world.File, error)

// MaxPasses bounds the fix loop: fixes that keep making new work stop
// there.
const MaxPasses = 10

// Outcome is what fixing did.
type Outcome struct {
	// Original and Sources are the files before and after, by path;
	// Changed lists the files whose content differs, sorted.
	Original, Sources map[string][]byte
	Changed           []string
	// Fixed are the findings whose fix was applied and which are gone.
	Fixed []rules.Finding
	// Applied are all the findings whose fix was applied, gone or not;
	// their commands still need running against live clusters.
	Applied []rules.Finding
	// Skipped are fixes not applied, for findings that remain.
	Skipped []Skip
	// Deferred are fixes held back in a pass because they overlapped
	// another, and applied in a later pass against the new text.
	Deferred []Skip
	// Remaining are the findings of the last lint, of the fixed files.
	Remaining []rules.Finding
	// Files are the files as last parsed.
	Files []*world.File
	// Passes is how many rounds of fixes were made.
	Passes int
}

// Run fixes in passes: apply every fix that does not collide, lint the
// result in memory, and go again while that makes fixes possible that a
// collision held back. A fix is applied at most once per finding, so a
// fix that does not resolve its finding is not repeated; a pass that
// would leave a file that no longer parses is undone for that file, and
// its fixes are skipped. Nothing is written: the caller writes
// Outcome.Sources (--fix) or diffs them (--diff).
func Run(fs []rules.Finding, files []*world.File, srcs map[string][]byte, lint LintFunc) (*Outcome, error) {
	o := &Outcome{Original: srcs, Sources: maps.Clone(srcs), Remaining: fs, Files: files}
	applied := map[string]rules.Finding{} // by key
	blocked := map[string]string{}        // key -> why its fix is never applied
	var appliedOrder []string
	var lastSkips, held []Skip
	for o.Passes < MaxPasses {
		var candidates []rules.Finding
		for _, f := range o.Remaining {
			k := key(f)
			if _, done := applied[k]; done {
				continue
			}
			if _, no := blocked[k]; no {
				continue
			}
			candidates = append(candidates, f)
		}
		plan := NewPlan(candidates, o.Sources)
		lastSkips = plan.Skipped
		if len(plan.Applied) == 0 {
			break
		}
		changed, err := plan.Apply(o.Sources)
		if err != nil {
			return nil, err
		}
		next := maps.Clone(o.Sources)
		maps.Copy(next, changed)
		nfs, nfiles, err := lint(next)
		if err != nil {
			return nil, err
		}
		if broken := newlyBroken(o.Files, nfiles, changed); len(broken) > 0 {
			// Undo the pass for those files: block every fix that edits
			// one, and plan the pass again without them.
			for _, f := range plan.Applied {
				for _, e := range f.Fixes[0].Edits {
					if broken[e.Range.Filename] {
						blocked[key(f)] = fmt.Sprintf("applying it leaves %s unparsable", e.Range.Filename)
					}
				}
			}
			continue
		}
		o.Passes++
		for _, sk := range plan.Skipped {
			sk.Pass = o.Passes
			held = append(held, sk)
		}
		for _, f := range plan.Applied {
			k := key(f)
			applied[k] = f
			appliedOrder = append(appliedOrder, k)
		}
		o.Sources, o.Remaining, o.Files = next, nfs, nfiles
	}

	present := map[string]bool{}
	for _, f := range o.Remaining {
		present[key(f)] = true
	}
	for _, k := range appliedOrder {
		f := applied[k]
		o.Applied = append(o.Applied, f)
		if !present[k] {
			o.Fixed = append(o.Fixed, f)
		}
	}
	// What was not applied, for findings still there: the blocked, and
	// the last pass's collisions.
	seen := map[string]bool{}
	for _, f := range o.Remaining {
		k := key(f)
		if why, ok := blocked[k]; ok && !seen[k] {
			seen[k] = true
			o.Skipped = append(o.Skipped, Skip{Finding: f, Reason: why})
		}
	}
	for _, s := range lastSkips {
		if k := key(s.Finding); present[k] && !seen[k] {
			seen[k] = true
			o.Skipped = append(o.Skipped, s)
		}
	}
	for _, sk := range held {
		if _, ok := applied[key(sk.Finding)]; ok {
			o.Deferred = append(o.Deferred, sk)
		}
	}
	for path, src := range o.Sources {
		if !bytes.Equal(src, o.Original[path]) {
			o.Changed = append(o.Changed, path)
		}
	}
	slices.Sort(o.Changed)
	return o, nil
}

// key identifies a finding across passes, whatever lines moved. Two
// setups that report one problem of a shared file are two findings; the
// plan makes their identical edits once.
func key(f rules.Finding) string {
	return f.Setup + "\x00" + f.Rule.ID + "\x00" + f.Range.Filename + "\x00" + string(f.Object.Kind) + "\x00" + f.Object.Name + "\x00" + f.Message
}

// newlyBroken lists the changed files that parsed before and do not now.
func newlyBroken(before, after []*world.File, changed map[string][]byte) map[string]bool {
	had := map[string]bool{}
	for _, f := range before {
		had[f.Path] = f.Diags.HasErrors()
	}
	out := map[string]bool{}
	for _, f := range after {
		if _, ch := changed[f.Path]; ch && f.Diags.HasErrors() && !had[f.Path] {
			out[f.Path] = true
		}
	}
	return out
}
