package checks

import "testing"

// The catalog is listed, documented and completed in this order: by ID,
// each ID and name once.
func TestCatalogSortedAndUnique(t *testing.T) {
	seen := map[string]bool{}
	prev := ""
	for _, r := range All() {
		m := r.Meta()
		if m.ID <= prev {
			t.Errorf("%s %s comes after %s: keep All sorted by ID", m.ID, m.Name, prev)
		}
		if seen[m.ID] || seen[m.Name] {
			t.Errorf("%s %s: ID or name used twice", m.ID, m.Name)
		}
		seen[m.ID], seen[m.Name] = true, true
		prev = m.ID
	}
}
