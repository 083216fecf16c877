// Command nvlint-corpus writes a synthetic, realistic Nomad ↔ Vault
// repository for benchmarks and scale tests (see package
// internal/corpus):
//
//	go run ./internal/cmd/nvlint-corpus -files 5000 -seed 1 /tmp/corpus
//	go run ./internal/cmd/nvlint-corpus -files 5000 --mix role-heavy /tmp/corpus
//	go run ./internal/cmd/nvlint-corpus --mix jobs=60,policies=25,token-roles=5,jwt-roles=5,agents=5 /tmp/corpus
//
// The same -files, -seed and -mix always write the same bytes.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/nvlint/nvlint/internal/corpus"
)

func main() {
	files := flag.Int("files", 5000, "number of files to write (about)")
	seed := flag.Uint64("seed", 1, "random seed; the same seed writes the same corpus")
	mistakes := flag.Float64("mistakes", 0.02, "share of jobs with a deliberate mistake (0: none)")
	mixFlag := flag.String("mix", "default", "how the files split between kinds: one of "+strings.Join(corpus.MixNames(), ", ")+
		", or weights such as jobs=60,policies=25,token-roles=5,jwt-roles=5,agents=5 (add reads=N for N templates per task)")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "Usage: nvlint-corpus [-files N] [-seed S] [-mistakes R] [-mix MIX] DIR\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	mix, err := corpus.ParseMix(*mixFlag)
	if err != nil {
		fmt.Fprintln(os.Stderr, "nvlint-corpus:", err)
		os.Exit(2)
	}
	rate := *mistakes
	if rate == 0 {
		rate = -1
	}
	st, err := corpus.Generate(flag.Arg(0), corpus.Options{Files: *files, Seed: *seed, MistakeRate: rate, Mix: mix})
	if err != nil {
		fmt.Fprintln(os.Stderr, "nvlint-corpus:", err)
		os.Exit(1)
	}
	fmt.Println(st)
}
