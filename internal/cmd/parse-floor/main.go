// Command parse-floor is the floor nvlint lint is measured against in
// scripts/bench.sh: it walks the same directories, reads every file
// nvlint would open and parses it with hcl/v2 (hclparse for HCL, the hcl
// JSON parser for JSON), on as many goroutines as nvlint uses, and does
// nothing else. Whatever nvlint spends beyond this is its own cost.
//
//	go run ./internal/cmd/parse-floor DIR...
package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/hcl/v2/hclparse"
)

// The directories and extensions nvlint's walker uses (inputs.walk).
var (
	skipDirs      = map[string]bool{".git": true, "node_modules": true, "vendor": true, ".terraform": true}
	candidateExts = map[string]bool{".hcl": true, ".nomad": true, ".json": true, ".policy": true}
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "Usage: parse-floor DIR...")
		os.Exit(2)
	}
	var paths []string
	for _, root := range os.Args[1:] {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, walkErr error) error {
			if walkErr != nil {
				return nil //nolint:nilerr // skipped, as nvlint's walker skips what it cannot list
			}
			if d.IsDir() {
				if p != root && skipDirs[d.Name()] {
					return fs.SkipDir
				}
				return nil
			}
			if candidateExts[filepath.Ext(p)] {
				paths = append(paths, p)
			}
			return nil
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, "parse-floor:", err)
			os.Exit(2)
		}
	}
	var (
		next, diags, size atomic.Int64
		wg                sync.WaitGroup
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(paths) {
					return
				}
				src, err := os.ReadFile(paths[i])
				if err != nil {
					diags.Add(1)
					continue
				}
				size.Add(int64(len(src)))
				// A parser per file: hclparse.Parser keeps every file it
				// parsed, which nvlint does not need to.
				p := hclparse.NewParser()
				trimmed := bytes.TrimSpace(src)
				if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
					_, d := p.ParseJSON(src, paths[i])
					diags.Add(int64(len(d)))
				} else {
					_, d := p.ParseHCL(src, paths[i])
					diags.Add(int64(len(d)))
				}
			}
		})
	}
	wg.Wait()
	fmt.Printf("parsed %d files, %d bytes, %d diagnostics\n", len(paths), size.Load(), diags.Load())
}
