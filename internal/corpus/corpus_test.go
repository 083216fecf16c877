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

// TestParseMix: names and weights read back as written; nonsense is
// refused with what was wrong.
func TestParseMix(t *testing.T) {
	m, err := corpus.ParseMix("jobs=60,policies=25,token-roles=5,jwt-roles=5,agents=5")
	if err != nil {
		t.Fatal(err)
	}
	if m != corpus.Mixes["platform"] || m.String() != "jobs=60,policies=25,token-roles=5,jwt-roles=5,agents=5" {
		t.Errorf("got %+v (%s)", m, m)
	}
	for _, name := range corpus.MixNames() {
		m, err := corpus.ParseMix(name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if back, err := corpus.ParseMix(m.String()); err != nil || back != m {
			t.Errorf("%s: %s reads back as %+v, %v", name, m, back, err)
		}
	}
	for _, bad := range []string{"", "heavy", "jobs=x", "jobs=-1", "roles=5", "jobs=0", "reads=2"} {
		if _, err := corpus.ParseMix(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// TestMixes: every named mix writes about the files asked for, in the
// proportions asked for, as one working setup (no error without
// deliberate mistakes).
func TestMixes(t *testing.T) {
	for _, name := range corpus.MixNames() {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			m := corpus.Mixes[name]
			st, err := corpus.Generate(dir, corpus.Options{Files: 600, Seed: 2, MistakeRate: -1, Mix: m})
			if err != nil {
				t.Fatal(err)
			}
			if st.Files < 580 || st.Files > 620 {
				t.Errorf("%d files written for 600: %v", st.Files, st)
			}
			if sum := m.Jobs + m.Policies + m.TokenRoles + m.JWTRoles + m.Agents; sum > 0 {
				for _, k := range []struct {
					what      string
					got, want float64
				}{{"jobs", float64(st.Jobs), m.Jobs}, {"policies", float64(st.Policies), m.Policies}, {"token roles", float64(st.TokenRoles), m.TokenRoles}, {"JWT roles", float64(st.JWTRoles), m.JWTRoles}, {"agents", float64(st.Agents), m.Agents}} {
					if want := 600 * k.want / sum; k.got < want-3 || k.got > want+3 {
						t.Errorf("%.0f %s for a share of %.0f", k.got, k.what, want)
					}
				}
			}
			if m.ReadsPerTask > 0 && st.Templates < m.ReadsPerTask*st.Tasks/2 {
				t.Errorf("%d templates over %d tasks, asked for %d per task", st.Templates, st.Tasks, m.ReadsPerTask)
			}
			w, _, err := inputs.Load([]string{dir}, inputs.Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range rules.Run(w, checks.All()).Findings {
				if f.Severity == rules.Error {
					t.Errorf("%s: %s %s", f.Range, f.Rule.ID, f.Message)
				}
			}
		})
	}
}
