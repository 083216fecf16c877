// Package bench measures nvlint's stages on generated corpora (package
// internal/corpus): loading (inputs.Load), the rules (rules.Run with
// checks.All) and the reports, and whole lint runs through cli.Main;
// the rule stage's cost per object as one kind grows (BenchmarkKinds,
// TestLinearCost) and on worlds filled as doctor fills them
// (BenchmarkDoctor, TestDoctorLinearCost).
//
//	go test ./internal/bench -run '^$' -bench . -benchmem
//
// NVLINT_BENCH_FILES (default "500,5000") sets the corpus sizes and
// NVLINT_BENCH_MIX (default "default") their mix (internal/corpus
// ParseMix).
// scripts/bench.sh times whole processes against a parse-only floor.
package bench

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/nvlint/nvlint/checks"
	"github.com/nvlint/nvlint/cli"
	"github.com/nvlint/nvlint/inputs"
	"github.com/nvlint/nvlint/internal/corpus"
	"github.com/nvlint/nvlint/reports"
	"github.com/nvlint/nvlint/rules"
)

func sizes(b *testing.B) []int {
	env := os.Getenv("NVLINT_BENCH_FILES")
	if env == "" {
		env = "500,5000"
	}
	var out []int
	for _, s := range strings.Split(env, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			b.Fatalf("NVLINT_BENCH_FILES: bad size %q", s)
		}
		out = append(out, n)
	}
	return out
}

func mix(b testing.TB) corpus.Mix {
	m, err := corpus.ParseMix(cmp.Or(os.Getenv("NVLINT_BENCH_MIX"), "default"))
	if err != nil {
		b.Fatalf("NVLINT_BENCH_MIX: %v", err)
	}
	return m
}

type corpusKey struct {
	files int
	mix   corpus.Mix
}

var (
	corporaMu sync.Mutex
	corpora   = map[corpusKey]string{}
)

// corpusDir generates (once per process) a corpus of n files of the mix
// NVLINT_BENCH_MIX with seed 1.
func corpusDir(b testing.TB, n int) string {
	return mixedCorpusDir(b, n, mix(b))
}

func mixedCorpusDir(b testing.TB, n int, m corpus.Mix) string {
	corporaMu.Lock()
	defer corporaMu.Unlock()
	k := corpusKey{n, m}
	if d, ok := corpora[k]; ok {
		return d
	}
	d, err := os.MkdirTemp("", fmt.Sprintf("nvlint-bench-%d-", n))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := corpus.Generate(d, corpus.Options{Files: n, Seed: 1, Mix: m}); err != nil {
		b.Fatal(err)
	}
	corpora[k] = d
	return d
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range corpora {
		os.RemoveAll(d)
	}
	os.Exit(code)
}

// BenchmarkLoad is the parse stage: walk, read, recognise, parse.
func BenchmarkLoad(b *testing.B) {
	for _, n := range sizes(b) {
		dir := corpusDir(b, n)
		b.Run(fmt.Sprintf("files=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := inputs.Load([]string{dir}, inputs.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRules is the rule stage: every rule over a loaded world.
func BenchmarkRules(b *testing.B) {
	for _, n := range sizes(b) {
		dir := corpusDir(b, n)
		b.Run(fmt.Sprintf("files=%d", n), func(b *testing.B) {
			w, _, err := inputs.Load([]string{dir}, inputs.Options{})
			if err != nil {
				b.Fatal(err)
			}
			all := checks.All()
			b.ReportAllocs()
			var res rules.Result
			for b.Loop() {
				res = rules.Run(w, all)
			}
			b.ReportMetric(float64(len(res.Findings)), "findings")
		})
	}
}

// BenchmarkReport is the report stage, per format.
func BenchmarkReport(b *testing.B) {
	for _, n := range sizes(b) {
		dir := corpusDir(b, n)
		w, notes, err := inputs.Load([]string{dir}, inputs.Options{})
		if err != nil {
			b.Fatal(err)
		}
		all := checks.All()
		res := rules.Run(w, all)
		rep := &reports.Report{Findings: res.Findings, Skipped: res.Skipped, Notes: notes, Files: w.Files, Catalog: all, Version: "bench"}
		for _, f := range reports.Formats {
			b.Run(fmt.Sprintf("files=%d/format=%s", n, f), func(b *testing.B) {
				b.ReportAllocs()
				var out bytes.Buffer
				for b.Loop() {
					out.Reset()
					if err := reports.Write(&out, f, rep, reports.Options{Verbose: true}); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(out.Len()), "bytes/report")
			})
		}
	}
}

// BenchmarkLint is a whole `nvlint lint DIR` in process, redaction and
// all (but not process start).
func BenchmarkLint(b *testing.B) {
	for _, n := range sizes(b) {
		dir := corpusDir(b, n)
		b.Run(fmt.Sprintf("files=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				env := cli.Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
				if code := cli.Main([]string{"lint", "--color", "never", dir}, env); code > cli.ExitFindings {
					b.Fatalf("exit %d", code)
				}
			}
		})
	}
}
