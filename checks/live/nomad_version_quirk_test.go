package live

import "testing"

// TestNomadQuirkReleases pins the releases each quirk is reported for
// to those read in Nomad's CHANGELOG.md and source at the tags.
func TestNomadQuirkReleases(t *testing.T) {
	affected := map[string]map[string]bool{
		"nomad#23859": {"1.6.10": true, "1.9.3": true, "1.9.4": false, "1.10.0": false, "1.8.7+ent": true, "1.8.8+ent": false, "1.8.8": true},
		"nomad#25812": {"1.6.10": false, "1.7.0": true, "1.10.2": true, "1.10.3": false, "1.11.0": false, "1.9.7": true,
			"1.9.10+ent": true, "1.9.11+ent": false, "1.8.14+ent": true, "1.8.15+ent": false},
		"nomad#28407": {"2.0.4": false, "2.0.5": true, "v2.0.5": true, "2.0.5+ent": true, "2.0.6": false, "1.11.3": false},
		"nomad#28502": {"2.0.4": false, "2.0.5": true, "2.0.6": false},
	}
	for _, q := range nomadQuirks {
		want, ok := affected[q.issue]
		if !ok {
			t.Errorf("%s: no releases pinned in this test", q.issue)
			continue
		}
		for v, w := range want {
			if got := q.affected(v); got != w {
				t.Errorf("%s on Nomad %s: affected = %v, want %v", q.issue, v, got, w)
			}
		}
	}
}
