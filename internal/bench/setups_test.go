package bench

import (
	"fmt"
	"testing"

	"github.com/nvlint/nvlint/checks"
	"github.com/nvlint/nvlint/inputs"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// BenchmarkSetups is the rule stage over one corpus split into k setups,
// its files dealt round-robin, split and run as lint runs setups
// (rules.SplitSetups, rules.RunSetups); setups=1 is the cost of the
// split itself over a run of one world.
func BenchmarkSetups(b *testing.B) {
	all := checks.All()
	for _, n := range sizes(b) {
		w, _, err := inputs.Load([]string{corpusDir(b, n)}, inputs.Options{})
		if err != nil {
			b.Fatal(err)
		}
		for _, k := range []int{1, 4, 16} {
			b.Run(fmt.Sprintf("files=%d/setups=%d", n, k), func(b *testing.B) {
				index := map[*world.File]int{}
				for i, f := range w.Files {
					index[f] = i % k
				}
				specs := make([]rules.SetupSpec, k)
				for j := range specs {
					specs[j] = rules.SetupSpec{Name: fmt.Sprint("s", j), Has: func(f *world.File) bool { return index[f] == j }}
				}
				b.ReportAllocs()
				var res rules.Result
				for b.Loop() {
					res = rules.RunSetups(rules.SplitSetups(w, specs, nil), all, rules.Settings{})
				}
				b.ReportMetric(float64(len(res.Findings)), "findings")
			})
		}
	}
}
