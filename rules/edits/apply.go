package edits

import (
	"fmt"
	"sort"

	"github.com/nvlint/nvlint/rules"
)

// Apply applies edits to src (all for the same file). Overlapping edits
// are refused: two fixes that touch the same bytes cannot both be right.
func Apply(src []byte, es []rules.TextEdit) ([]byte, error) {
	sorted := append([]rules.TextEdit(nil), es...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Range.Start.Byte < sorted[j].Range.Start.Byte })
	out := make([]byte, 0, len(src))
	last := 0
	for _, e := range sorted {
		s, t := e.Range.Start.Byte, e.Range.End.Byte
		if s < last || t < s || t > len(src) {
			return nil, fmt.Errorf("edit at %s overlaps another or is out of range", e.Range)
		}
		out = append(out, src[last:s]...)
		out = append(out, e.NewText...)
		last = t
	}
	return append(out, src[last:]...), nil
}
