package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/nvlint/nvlint/config"
	"github.com/nvlint/nvlint/rules"
	"github.com/nvlint/nvlint/world"
)

// declaredSetups are the setups of a run: each immediate subdirectory of
// --setup-per-dir DIR, else the config's setup blocks; none when neither
// declares any.
func declaredSetups(cfg *config.Config, perDir string) ([]rules.SetupSpec, error) {
	if perDir != "" {
		return dirSetups(perDir)
	}
	return cfg.SetupSpecs(), nil
}

// dirSetups makes each immediate subdirectory of dir a setup named after
// it. Hidden directories and those lint never walks into are left out.
func dirSetups(dir string) ([]rules.SetupSpec, error) {
	names, err := setupDirs(dir)
	if err != nil {
		return nil, fmt.Errorf("--setup-per-dir %s: %w", dir, unwrapPath(err))
	}
	var out []rules.SetupSpec
	for _, name := range names {
		spec, err := dirSpec(dir, name)
		if err != nil {
			return nil, err
		}
		out = append(out, spec)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--setup-per-dir %s: no subdirectory to make a setup of", dir)
	}
	return out, nil
}

// setupDirs are the subdirectories of dir that are setups, sorted.
func setupDirs(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		if !isDir(dir, e) || strings.HasPrefix(name, ".") || name == "vendor" || name == "node_modules" {
			continue
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return out, nil
}

// dirSpec is the setup of the files under dir/name.
func dirSpec(dir, name string) (rules.SetupSpec, error) {
	root, err := filepath.Abs(filepath.Join(dir, name))
	if err != nil {
		return rules.SetupSpec{}, err
	}
	return rules.SetupSpec{Name: name, Has: func(f *world.File) bool {
		if f.Path == "-" {
			return false
		}
		abs, err := filepath.Abs(f.Path)
		return err == nil && strings.HasPrefix(abs, root+string(filepath.Separator))
	}}, nil
}

// isDir reports whether the entry is a directory, or a link to one.
func isDir(dir string, e os.DirEntry) bool {
	if e.IsDir() {
		return true
	}
	if e.Type()&os.ModeSymlink == 0 {
		return false
	}
	st, err := os.Stat(filepath.Join(dir, e.Name()))
	return err == nil && st.IsDir()
}
