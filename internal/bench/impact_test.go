package bench

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nvlint/nvlint/cli"
)

// BenchmarkImpact is a whole `nvlint impact --base-dir BASE .` on a
// corpus of which one policy changed (its first rule no longer grants
// read), against `nvlint lint .` of the same tree timed in the same
// iterations: impact/lint is the ratio of their times, whose target is
// 2.5x.
//
//	go test ./internal/bench -run '^$' -bench Impact
func BenchmarkImpact(b *testing.B) {
	for _, n := range sizes(b) {
		base := corpusDir(b, n)
		b.Run(fmt.Sprintf("files=%d", n), func(b *testing.B) {
			head := filepath.Join(b.TempDir(), "head")
			changed := copyTree(b, base, head)
			b.Chdir(head)
			main := func(args ...string) time.Duration {
				env := cli.Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
				start := time.Now()
				if code := cli.Main(args, env); code > cli.ExitFindings {
					b.Fatalf("nvlint %s: exit %d", strings.Join(args, " "), code)
				}
				return time.Since(start)
			}
			b.ReportAllocs()
			var lint, impact time.Duration
			for b.Loop() {
				lint += main("lint", "--color", "never", ".")
				impact += main("impact", "--color", "never", "--base-dir", base, ".")
			}
			b.ReportMetric(float64(impact)/float64(lint), "impact/lint")
			b.ReportMetric(float64(impact.Milliseconds())/float64(b.N), "impact-ms/op")
			b.ReportMetric(float64(lint.Milliseconds())/float64(b.N), "lint-ms/op")
			b.Logf("changed %s", changed)
		})
	}
}

// copyTree copies the corpus at from to to, with the first policy file's
// first read grant turned into list, and returns that file's name.
func copyTree(b *testing.B, from, to string) (changed string) {
	b.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, p)
		if err != nil {
			return err
		}
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if changed == "" && strings.HasPrefix(rel, filepath.Join("vault", "policies")+string(filepath.Separator)) {
			text := string(src)
			if edited := strings.Replace(text, `capabilities = ["read"]`, `capabilities = ["list"]`, 1); edited != text {
				src, changed = []byte(edited), rel
			}
		}
		return os.WriteFile(dst, src, 0o644)
	})
	if err != nil {
		b.Fatal(err)
	}
	if changed == "" {
		b.Fatal("no policy to change in the corpus")
	}
	return changed
}
