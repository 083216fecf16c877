// Package autofix applies the file edits of findings' fixes: nvlint lint
// --fix and --diff. Edits are byte ranges, so everything outside them
// (comments, key order, formatting) is kept as written; nothing is
// reformatted. Fixes that are commands against live clusters are never
// run, only collected into a script for review.
package autofix

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/rules/edits"
)

// Plan is one pass of fixes: the edits to make, per file, and which
// findings they fix.
type Plan struct {
	Edits   map[string][]rules.TextEdit
	Applied []rules.Finding
	Skipped []Skip
}

// Skip is a fix not applied, and why.
type Skip struct {
	Finding rules.Finding
	Reason  string
	// Pass is the pass of Run that held the fix back.
	Pass int
}

// NewPlan takes, in order, the first fix of each finding that has file
// edits. A fix whose edits overlap an edit already taken is left out (two
// fixes that touch the same bytes cannot both be right): the later
// finding's fix is skipped and says which it collides with. An edit
// identical to one taken is the same change and is made once. srcs holds
// the files that may be changed.
func NewPlan(fs []rules.Finding, srcs map[string][]byte) Plan {
	p := Plan{Edits: map[string][]rules.TextEdit{}}
	owner := map[*rules.TextEdit]rules.Finding{}
	var taken []*rules.TextEdit
	for _, f := range fs {
		if !f.Fixable() {
			continue
		}
		fix := f.Fixes[0]
		if reason := checkEdits(fix.Edits, srcs); reason != "" {
			p.Skipped = append(p.Skipped, Skip{Finding: f, Reason: reason})
			continue
		}
		var conflict *rules.Finding
		var fresh []rules.TextEdit
		for _, e := range fix.Edits {
			dup := false
			for _, t := range taken {
				if t.Range.Filename != e.Range.Filename {
					continue
				}
				if sameEdit(*t, e) {
					dup = true
					break
				}
				if overlaps(*t, e) {
					o := owner[t]
					conflict = &o
					break
				}
			}
			if conflict != nil {
				break
			}
			if !dup {
				fresh = append(fresh, e)
			}
		}
		if conflict != nil {
			p.Skipped = append(p.Skipped, Skip{Finding: f, Reason: fmt.Sprintf("its edits overlap those of the fix for %s at %s", conflict.Rule.ID, position(*conflict))})
			continue
		}
		for _, e := range fresh {
			e := e
			taken = append(taken, &e)
			owner[&e] = f
			p.Edits[e.Range.Filename] = append(p.Edits[e.Range.Filename], e)
		}
		p.Applied = append(p.Applied, f)
	}
	for file := range p.Edits {
		slices.SortStableFunc(p.Edits[file], func(a, b rules.TextEdit) int { return cmp.Compare(a.Range.Start.Byte, b.Range.Start.Byte) })
	}
	return p
}

// Apply makes the plan's edits to srcs, returning the changed files'
// new contents.
func (p Plan) Apply(srcs map[string][]byte) (map[string][]byte, error) {
	out := map[string][]byte{}
	for file, es := range p.Edits {
		src, ok := srcs[file]
		if !ok {
			return nil, fmt.Errorf("%s: not an input of this run", file)
		}
		b, err := edits.Apply(src, es)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		out[file] = b
	}
	return out, nil
}

// checkEdits refuses a fix whose edits fall outside their file or overlap
// each other.
func checkEdits(es []rules.TextEdit, srcs map[string][]byte) string {
	for i, e := range es {
		src, ok := srcs[e.Range.Filename]
		if !ok {
			return fmt.Sprintf("%s cannot be written (standard input, or not a file of this run)", e.Range.Filename)
		}
		if e.Range.Start.Byte < 0 || e.Range.Start.Byte > e.Range.End.Byte || e.Range.End.Byte > len(src) {
			return fmt.Sprintf("an edit at %s is out of range (the file changed?)", position1(e))
		}
		for _, o := range es[:i] {
			if o.Range.Filename == e.Range.Filename && overlaps(o, e) {
				return "its own edits overlap each other"
			}
		}
	}
	return ""
}

// overlaps reports whether two edits of one file touch the same bytes, or
// insert at the same place (their order would be a guess).
func overlaps(a, b rules.TextEdit) bool {
	as, ae, bs, be := a.Range.Start.Byte, a.Range.End.Byte, b.Range.Start.Byte, b.Range.End.Byte
	if as == bs {
		return true
	}
	return as < be && bs < ae
}

func sameEdit(a, b rules.TextEdit) bool {
	return a.Range.Start.Byte == b.Range.Start.Byte && a.Range.End.Byte == b.Range.End.Byte && a.NewText == b.NewText
}

func position(f rules.Finding) string {
	if !f.HasFile() {
		return f.Object.Name
	}
	return fmt.Sprintf("%s:%d:%d", f.Range.Filename, f.Range.Start.Line, f.Range.Start.Column)
}

func position1(e rules.TextEdit) string {
	return fmt.Sprintf("%s:%d:%d", e.Range.Filename, e.Range.Start.Line, e.Range.Start.Column)
}
