package bench

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nvlint/nvlint/cli"
)

// BenchmarkImpact is a whole `nvlint impact` on a corpus of which one
// policy changed (its first rule no longer grants read), against
// `nvlint lint .` of the same tree timed in the same iterations:
// impact/lint is the ratio of their times, whose target is 2.5x. The
// base is given as a directory (base=dir: --base-dir) or as the git
// commit before the change (base=git: --base HEAD, read from git's
// objects).
//
//	go test ./internal/bench -run '^$' -bench Impact
func BenchmarkImpact(b *testing.B) {
	for _, n := range sizes(b) {
		base := corpusDir(b, n)
		for _, how := range []string{"dir", "git"} {
			b.Run(fmt.Sprintf("files=%d/base=%s", n, how), func(b *testing.B) {
				head := filepath.Join(b.TempDir(), "head")
				args := []string{"impact", "--color", "never", "--base-dir", base, "."}
				if how == "git" {
					if _, err := exec.LookPath("git"); err != nil {
						b.Skip("git is not installed")
					}
					copyTree(b, base, head, false)
					gitIn(b, head, "init", "-q")
					gitIn(b, head, "add", "-A")
					gitIn(b, head, "commit", "-q", "-m", "base")
					args = []string{"impact", "--color", "never", "--base", "HEAD", "."}
				}
				changed := copyTree(b, base, head, true)
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
					impact += main(args...)
				}
				b.ReportMetric(float64(impact)/float64(lint), "impact/lint")
				b.ReportMetric(float64(impact.Milliseconds())/float64(b.N), "impact-ms/op")
				b.ReportMetric(float64(lint.Milliseconds())/float64(b.N), "lint-ms/op")
				b.Logf("changed %s", changed)
			})
		}
	}
}

func gitIn(b *testing.B, dir string, args ...string) {
	b.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=nvlint bench", "-c", "user.email=bench@nvlint.invalid", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

// copyTree copies the corpus at from to to, with, when change is set,
// the first policy file's first read grant turned into list, and
// returns that file's name.
func copyTree(b *testing.B, from, to string, change bool) (changed string) {
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
		if change && changed == "" && strings.HasPrefix(rel, filepath.Join("vault", "policies")+string(filepath.Separator)) {
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
	if change && changed == "" {
		b.Fatal("no policy to change in the corpus")
	}
	return changed
}
