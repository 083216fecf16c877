package corpus_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/nvlint/nvlint/checks"
	"github.com/nvlint/nvlint/inputs"
	"github.com/nvlint/nvlint/internal/corpus"
	"github.com/nvlint/nvlint/rules"
)

// TestDeterministic: the same options write the same bytes, another seed
// other ones.
func TestDeterministic(t *testing.T) {
	a, b, c := t.TempDir(), t.TempDir(), t.TempDir()
	for dir, seed := range map[string]uint64{a: 1, b: 1, c: 2} {
		if _, err := corpus.Generate(dir, corpus.Options{Files: 300, Seed: seed}); err != nil {
			t.Fatal(err)
		}
	}
	if !sameTree(t, a, b) {
		t.Error("two corpora of seed 1 differ")
	}
	if sameTree(t, a, c) {
		t.Error("seeds 1 and 2 wrote the same corpus")
	}
}

// TestCoherent: without deliberate mistakes the corpus is one working
// setup: no error at all; with them, each shows.
func TestCoherent(t *testing.T) {
	dir := t.TempDir()
	st, err := corpus.Generate(dir, corpus.Options{Files: 1000, Seed: 3, MistakeRate: -1})
	if err != nil {
		t.Fatal(err)
	}
	if st.Files < 990 || st.Files > 1010 || st.Mistakes != 0 {
		t.Fatalf("stats: %v", st)
	}
	w, _, err := inputs.Load([]string{dir}, inputs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Files) != st.Files {
		t.Errorf("%d files read of %d written", len(w.Files), st.Files)
	}
	for _, f := range rules.Run(w, checks.All()).Findings {
		if f.Severity == rules.Error {
			t.Errorf("%s: %s %s", f.Range, f.Rule.ID, f.Message)
		}
	}

	dir = t.TempDir()
	st, err = corpus.Generate(dir, corpus.Options{Files: 1000, Seed: 3, MistakeRate: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	w, _, err = inputs.Load([]string{dir}, inputs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	errs := 0
	for _, f := range rules.Run(w, checks.All()).Findings {
		if f.Severity == rules.Error {
			errs++
		}
	}
	// A mistake in a task whose login already fails is not counted twice.
	if errs == 0 || errs > st.Mistakes || errs < st.Mistakes*3/4 {
		t.Errorf("%d errors for %d deliberate mistakes", errs, st.Mistakes)
	}
}

func sameTree(t *testing.T, a, b string) bool {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(a, p)
		files[rel], err = os.ReadFile(p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = filepath.WalkDir(b, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(b, p)
		got, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if !bytes.Equal(files[rel], got) {
			n = -1 << 30
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n == len(files)
}
