package inputs_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/nvlint/nvlint/checks"
	"github.com/nvlint/nvlint/inputs"
	"github.com/nvlint/nvlint/internal/corpus"
	_ "github.com/nvlint/nvlint/internal/fuzzcrash"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// The fuzz targets of the input readers, one per kind of file: the text
// is read as standard input with --kind, so the reader of that kind runs
// whatever the text looks like, then every rule runs over the world. No
// reader and no rule may panic or hang; every diagnostic and every range
// must point inside the text. Seeds are every fixture file of the kind
// and a small generated corpus.
//
//	go test ./inputs -run '^$' -fuzz '^FuzzJobspecHCL$' -fuzztime 10m

func FuzzJobspecHCL(f *testing.F) { fuzzKind(f, world.KindJobspec, hclSeeds) }

func FuzzJobspecJSON(f *testing.F) { fuzzKind(f, world.KindJobspec, jsonSeeds) }

func FuzzAgentConfig(f *testing.F) { fuzzKind(f, world.KindAgentConfig, allSeeds) }

func FuzzPolicyFile(f *testing.F) { fuzzKind(f, world.KindPolicy, allSeeds) }

func FuzzTokenRole(f *testing.F) { fuzzKind(f, world.KindTokenRole, allSeeds) }

func FuzzJWTRole(f *testing.F) { fuzzKind(f, world.KindJWTRole, allSeeds) }

func FuzzJWTAuthConfig(f *testing.F) { fuzzKind(f, world.KindJWTAuthConfig, allSeeds) }

// FuzzDetect reads the text with no kind given: recognition by content,
// then whichever reader it picks.
func FuzzDetect(f *testing.F) { fuzzKind(f, "", allSeeds) }

// maxFuzzInput keeps inputs to what the readers handle in milliseconds;
// size limits have their own tests (fixtures/bad).
const maxFuzzInput = 64 << 10

type seedFilter int

const (
	allSeeds seedFilter = iota
	hclSeeds
	jsonSeeds
)

func fuzzKind(f *testing.F, kind world.Kind, filter seedFilter) {
	for _, s := range seeds(f, kind) {
		isJSON := looksJSON(s)
		if filter == allSeeds || (filter == jsonSeeds) == isJSON {
			f.Add(s)
		}
	}
	catalog := checks.All()
	f.Fuzz(func(t *testing.T, src []byte) {
		if len(src) > maxFuzzInput {
			return
		}
		w, _, err := inputs.Load([]string{"-"}, inputs.Options{Stdin: bytes.NewReader(src), Kind: kind})
		if err != nil {
			t.Fatalf("stdin could not be read: %v", err)
		}
		checkWorld(t, w, kind)
		res := rules.Run(w, catalog)
		for _, fd := range res.Findings {
			if strings.Contains(fd.Message, "crashed") {
				t.Fatalf("%s: %s\n%s", fd.Rule.ID, fd.Message, strings.Join(fd.Evidence, "\n"))
			}
			checkRange(t, "finding "+fd.Rule.ID, fd.Range, w)
			for _, fx := range fd.Fixes {
				for _, e := range fx.Edits {
					checkRange(t, "edit of "+fd.Rule.ID, e.Range, w)
				}
			}
		}
	})
}

// checkWorld checks what a reader made of src.
func checkWorld(t *testing.T, w *world.World, kind world.Kind) {
	t.Helper()
	if len(w.Files) == 0 {
		t.Fatal("standard input is not among the files")
	}
	f := w.Files[0]
	if f.Path != "-" {
		t.Fatalf("first file %q", f.Path)
	}
	if kind != "" && f.Kind != kind {
		t.Fatalf("kind %q, forced %q", f.Kind, kind)
	}
	for _, d := range f.Diags {
		if d == nil {
			t.Fatal("nil diagnostic")
		}
		if d.Summary == inputs.ReadCrashed {
			t.Fatalf("%s: %s", d.Summary, d.Detail)
		}
		if d.Subject != nil {
			checkRange(t, "diagnostic "+d.Summary, *d.Subject, w)
		}
	}
	for _, r := range f.Secrets {
		checkRange(t, "secret", r, w)
	}
	for _, j := range w.Jobs {
		checkRange(t, "job", j.Range, w)
		for _, g := range j.Groups {
			for _, tk := range g.Tasks {
				if tk == nil {
					t.Fatal("nil task")
				}
				for _, tpl := range tk.Templates {
					checkRange(t, "template", tpl.Range, w)
					checkRange(t, "template data", tpl.Data.Range, w)
					if tpl.Data.Known {
						// Whatever was read as template text parses or fails
						// cleanly.
						_, _ = tpl.VaultCalls()
					}
				}
			}
		}
	}
	for _, p := range w.Policies {
		if p.ACL == nil {
			t.Fatal("policy without ACL")
		}
	}
}

// checkRange checks that a range of a file of the world lies in its text.
func checkRange(t *testing.T, what string, r hcl.Range, w *world.World) {
	t.Helper()
	if r.Filename == "" {
		return
	}
	for _, f := range w.Files {
		if f.Path != r.Filename {
			continue
		}
		if r.Start.Byte < 0 || r.End.Byte < r.Start.Byte || r.End.Byte > len(f.Src) || r.Start.Line < 0 || r.End.Line < r.Start.Line {
			t.Fatalf("%s: range %s (bytes %d-%d) outside the %d bytes of %s", what, r, r.Start.Byte, r.End.Byte, len(f.Src), f.Path)
		}
		return
	}
}

func looksJSON(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && (b[0] == '{' || b[0] == '[')
}

var (
	seedOnce  sync.Once
	seedFiles map[world.Kind][][]byte
)

// seeds returns the fixture files of a kind ("" for every kind), and
// the files of a small generated corpus.
func seeds(tb testing.TB, kind world.Kind) [][]byte {
	seedOnce.Do(func() {
		seedFiles = map[world.Kind][][]byte{}
		dirs := []string{filepath.Join("..", "fixtures")}
		gen, err := os.MkdirTemp("", "nvlint-fuzz-seeds-")
		if err == nil {
			defer os.RemoveAll(gen)
			if _, err := corpus.Generate(gen, corpus.Options{Files: 40, Seed: 7, MistakeRate: 0.5}); err == nil {
				dirs = append(dirs, gen)
			}
		}
		for _, dir := range dirs {
			_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, walkErr error) error {
				if walkErr != nil || d.IsDir() {
					return nil //nolint:nilerr // an unreadable seed is just not a seed
				}
				w, _, loadErr := inputs.Load([]string{p}, inputs.Options{})
				if loadErr != nil || len(w.Files) == 0 || w.Files[0].Kind == "" {
					return nil //nolint:nilerr // neither is a file of no kind
				}
				k := w.Files[0].Kind
				src := slices.Clone(w.Files[0].Src)
				seedFiles[k] = append(seedFiles[k], src)
				seedFiles[""] = append(seedFiles[""], src)
				return nil
			})
		}
	})
	if kind != "" && len(seedFiles[kind]) == 0 {
		tb.Fatalf("no seed of kind %s", kind)
	}
	return seedFiles[kind]
}
