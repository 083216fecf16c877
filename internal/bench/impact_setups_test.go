package bench

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/nvlint/nvlint/cli"
	"github.com/nvlint/nvlint/internal/corpus"
)

// BenchmarkImpactSetups is a whole `nvlint impact --base-dir BASE
// --setup-per-dir .` over a monorepo of two setups, each a copy of the
// corpus, with one policy widened in the first; lint is `nvlint lint
// --setup-per-dir .` of the same head, for the ratio. The -one cases
// compare and lint the first setup's files alone.
func BenchmarkImpactSetups(b *testing.B) {
	for _, n := range sizes(b) {
		src := corpusDir(b, n)
		base, head := b.TempDir(), b.TempDir()
		for _, top := range []string{base, head} {
			for _, s := range []string{"prod", "staging"} {
				if err := os.CopyFS(filepath.Join(top, s), os.DirFS(src)); err != nil {
					b.Fatal(err)
				}
			}
		}
		policy := filepath.Join(head, "prod", "vault", "policies", "vault-policy-"+corpus.DefaultRole+".hcl")
		text, err := os.ReadFile(policy)
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(policy, append(text, "\npath \"kv/*\" {\n  capabilities = [\"update\"]\n}\n"...), 0o644); err != nil {
			b.Fatal(err)
		}
		b.Chdir(head)
		for _, c := range []struct {
			name string
			args []string
		}{
			{"impact", []string{"impact", "--color", "never", "--base-dir", base, "--setup-per-dir", "."}},
			{"lint", []string{"lint", "--color", "never", "--setup-per-dir", "."}},
			{"impact-one", []string{"impact", "--color", "never", "--base-dir", base, "prod"}},
			{"lint-one", []string{"lint", "--color", "never", "prod"}},
		} {
			b.Run(fmt.Sprintf("files=%d/%s", n, c.name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					env := cli.Env{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(string) string { return "" }}
					if code := cli.Main(c.args, env); code > cli.ExitFindings {
						b.Fatalf("exit %d", code)
					}
				}
			})
		}
	}
}
