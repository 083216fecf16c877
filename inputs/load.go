// Package inputs fills a world.World from files: Nomad jobspecs (HCL and
// API JSON), Nomad agent configs, Vault ACL policies, and the JSON payloads
// of Vault token roles, JWT auth configs and JWT roles.
package inputs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	hcljson "github.com/hashicorp/hcl/v2/json"

	"github.com/nvlint/nvlint/acl"
	"github.com/nvlint/nvlint/internal/crash"
	"github.com/nvlint/nvlint/internal/nativehcl"
	"github.com/nvlint/nvlint/world"
)

// MaxFileSize bounds what nvlint reads from one file: nothing in a Nomad or
// Vault configuration comes close, and it keeps memory bounded on junk.
const MaxFileSize = 8 << 20

// Options steer loading.
type Options struct {
	// Kind forces the kind of every explicitly named file (and stdin).
	Kind world.Kind
	// Names overrides object names: keyed by the path as given or by its
	// base name.
	Names map[string]string
	// NameAs, when set, gives the path Names knows a file by: impact
	// reads its base's files elsewhere than the paths given.
	NameAs func(path string) string
	// Stdin is read for the path "-".
	Stdin io.Reader
	// Ignore, when set, skips files and directories found while walking
	// (ignore_paths in .nvlint.hcl). Files named explicitly are read.
	Ignore func(path string) bool
	// Sources, keyed by path, replace what is on disk: nvlint lint --fix
	// lints its edits in memory before writing them.
	Sources map[string][]byte

	// SkipUnknown treats named files like files found by walking a
	// directory: one nvlint does not recognise is skipped (with a note)
	// instead of reported. Standard input is always read as named.
	SkipUnknown bool

	// TerraformVars are --var-file and --var, applied to every Terraform
	// module read, after its own tfvars files.
	TerraformVars []TerraformVar

	// tf caches Terraform module contexts and notes during one Load.
	tf *tfModules
}

// Notes are things the loader did that --verbose shows: files skipped
// while walking a directory, and why.
type Notes []string

// PathError is an unreadable or missing path given by the user.
type PathError struct {
	Path string
	Err  error
}

func (e *PathError) Error() string { return fmt.Sprintf("%s: %v", e.Path, e.Err) }

// Load reads every path (files, directories walked recursively, or "-"
// for stdin) into one world. Problems with a file's content become
// diagnostics on that file; a path that cannot be read at all is returned
// as a *PathError.
func Load(paths []string, opts Options) (*world.World, Notes, error) {
	gc := tuneGC()
	defer gc.stop()
	var (
		files []*world.File
		notes Notes
		errs  []error
	)
	for _, p := range paths {
		if p == "-" {
			f, err := readStdin(opts)
			if err != nil {
				errs = append(errs, &PathError{Path: "-", Err: err})
				continue
			}
			files = append(files, f)
			continue
		}
		info, err := os.Stat(p)
		if err != nil {
			errs = append(errs, &PathError{Path: p, Err: unwrapPathErr(err)})
			continue
		}
		if !info.IsDir() {
			files = append(files, &world.File{Path: p, Explicit: !opts.SkipUnknown})
			continue
		}
		found, walkNotes, err := walk(p, opts)
		notes = append(notes, walkNotes...)
		if err != nil {
			errs = append(errs, err)
		}
		files = append(files, found...)
	}
	w := &world.World{}
	parts := make([]*world.World, len(files))
	opts.tf = &tfModules{sources: opts.Sources, vars: opts.TerraformVars}
	opts.tf.planCalls(files)
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, f := range files {
		if i%64 == 63 {
			gc.check()
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			parts[i] = loadRecovered(f, opts, loadFile)
		}()
	}
	wg.Wait()
	// A file a Terraform resource reads with file() is that resource's
	// policy or jobspec, named by it: it is not read a second time.
	claimed := map[string]bool{}
	for _, part := range parts {
		for _, pf := range part.Files {
			if pf.Terraform != "" && pf.Kind != world.KindTerraform {
				claimed[samePath(pf.Path)] = true
			}
		}
	}
	seen := map[string]bool{}
	for i, f := range files {
		notes = append(notes, opts.tf.notesFor(f)...)
		if by := opts.tf.templateOf(f.Path); by != "" && f.Kind != world.KindTerraform {
			notes = append(notes, fmt.Sprintf("%s: a template %s renders with templatefile(); its ${...} are that call's variables, so it is not read on its own", f.Path, by))
			continue
		}
		if claimed[samePath(f.Path)] && f.Kind != world.KindTerraform {
			notes = append(notes, fmt.Sprintf("%s: read through the Terraform resource that loads it with file()", f.Path))
			continue
		}
		if f.Path != "-" && isTerraformPath(f.Path) && opts.tf.isCalled(filepath.Dir(f.Path)) {
			notes = append(notes, fmt.Sprintf("%s: read through the module calls of the configuration that uses it", f.Path))
			continue
		}
		switch unread := unreadable(f); {
		case unread != nil && f.Explicit && f.Path != "-":
			// A file named on the command line that cannot be read is a
			// path error, as a missing one is.
			errs = append(errs, &PathError{Path: f.Path, Err: unread})
			continue
		case unread != nil, hasDiag(f, tooLarge), hasDiag(f, ReadCrashed):
			// A file found while walking that looks like one nvlint reads
			// but cannot be read (a symlink loop, no permission, too
			// large) is reported on the file: it may hold what matters.
		case f.Kind == "" && !f.Explicit:
			notes = append(notes, fmt.Sprintf("%s: skipped: not a Nomad or Vault file", f.Path))
			continue
		}
		w.Files = append(w.Files, f)
		for _, pf := range parts[i].Files {
			if pf.Terraform != "" {
				if seen[samePath(pf.Path)] {
					continue
				}
				seen[samePath(pf.Path)] = true
			}
			w.Files = append(w.Files, pf)
		}
		merge(w, parts[i])
	}
	opts.tf.addOrigins(w)
	linkTerraformAccessors(w)
	readSecretMounts(w, opts.tf)
	readNamespaces(w, opts.tf)
	w.NameMounts()
	return w, notes, errors.Join(errs...)
}

func unwrapPathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func readStdin(opts Options) (*world.File, error) {
	if opts.Stdin == nil {
		return nil, errors.New("no standard input")
	}
	src, err := io.ReadAll(io.LimitReader(opts.Stdin, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	return &world.File{Path: "-", Src: src, Explicit: true}, nil
}

// skipDirs are never walked into: VCS metadata and vendored trees.
var skipDirs = map[string]bool{".git": true, "node_modules": true, "vendor": true, ".terraform": true}

// configFileName is nvlint's own config (package config), never an input.
const configFileName = ".nvlint.hcl"

// candidateExts are the extensions worth opening while walking.
var candidateExts = map[string]bool{".hcl": true, ".nomad": true, ".json": true, ".policy": true, ".tf": true}

func walk(root string, opts Options) ([]*world.File, Notes, error) {
	var files []*world.File
	var notes Notes
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root {
				return &PathError{Path: p, Err: unwrapPathErr(err)}
			}
			notes = append(notes, fmt.Sprintf("%s: skipped: %v", p, unwrapPathErr(err)))
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if p != root && opts.Ignore != nil && opts.Ignore(p) {
			notes = append(notes, fmt.Sprintf("%s: skipped: ignore_paths", p))
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if p != root && skipDirs[d.Name()] {
				return fs.SkipDir
			}
			return nil
		}
		if d.Name() == configFileName {
			return nil
		}
		// WalkDir does not follow symlinks to directories, so link loops
		// cannot trap it.
		if !d.Type().IsRegular() && d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		if !candidateExts[filepath.Ext(p)] {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			// A link to a pipe or a device would block or never end;
			// one that leads nowhere (a loop, a missing target) is read,
			// and fails, so the problem is reported.
			if st, err := os.Stat(p); err == nil && !st.Mode().IsRegular() {
				notes = append(notes, fmt.Sprintf("%s: skipped: links to %s, not a regular file", p, st.Mode().Type()))
				return nil
			}
		}
		files = append(files, &world.File{Path: p})
		return nil
	})
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, notes, err
}

// Summaries of the diagnostics for files that could not be read at all.
const (
	cannotRead = "Cannot read file"
	tooLarge   = "File too large"
	// ReadCrashed is the summary of the error a reader's panic leaves on
	// its file (loadRecovered): the fuzzers fail on it.
	ReadCrashed = "nvlint crashed reading this file"
)

// loadRecovered is load(f, opts), with a panic turned into an error on
// the file: a bug in one reader must not end a lint of a whole
// repository, and its files are read in goroutines of their own, where a
// panic would end the process before anything could report it.
func loadRecovered(f *world.File, opts Options, load func(*world.File, Options) *world.World) (w *world.World) {
	defer func() {
		if v := recover(); v != nil {
			v, c := crash.Of(v)
			f.Diags = append(f.Diags, fileDiag(f, ReadCrashed,
				fmt.Sprintf("%v at %s: this is a bug in nvlint; please report it with this message and, if you can, the file", v, c.Where)))
			if f.Kind == "" {
				f.Kind = unknownKind(f, opts)
			}
			w = &world.World{}
		}
	}()
	return load(f, opts)
}

// unreadable returns why f could not be read, or nil.
func unreadable(f *world.File) error {
	for _, d := range f.Diags {
		if d.Summary == cannotRead {
			return errors.New(d.Detail)
		}
	}
	return nil
}

func hasDiag(f *world.File, summary string) bool {
	for _, d := range f.Diags {
		if d.Summary == summary {
			return true
		}
	}
	return false
}

// loadFile reads, recognises and parses one file into a world of its own.
func loadFile(f *world.File, opts Options) *world.World {
	w := &world.World{}
	if src, ok := opts.Sources[f.Path]; ok && f.Src == nil {
		f.Src = append([]byte(nil), src...)
	}
	if f.Src == nil {
		src, err := readLimited(f.Path)
		if err != nil {
			f.Diags = append(f.Diags, fileDiag(f, cannotRead, err.Error()))
			if f.Explicit {
				f.Kind = unknownKind(f, opts)
			}
			return w
		}
		f.Src = src
	}
	if len(f.Src) > MaxFileSize {
		f.Diags = append(f.Diags, fileDiag(f, tooLarge, fmt.Sprintf("nvlint reads files up to %d MiB; this one is larger.", MaxFileSize>>20)))
		f.Kind = unknownKind(f, opts)
		f.Src = f.Src[:0]
		return w
	}
	f.Src = bytes.TrimPrefix(f.Src, []byte("\xef\xbb\xbf"))
	if bytes.IndexByte(f.Src, 0) >= 0 || !utf8.Valid(f.Src) {
		if f.Explicit {
			f.Kind = unknownKind(f, opts)
			f.Diags = append(f.Diags, fileDiag(f, "Not a text file", "The file contains NUL bytes or is not valid UTF-8; Nomad and Vault files are UTF-8 text."))
		}
		return w
	}
	kind := opts.Kind
	if !f.Explicit {
		kind = ""
	}
	parse(f, kind, opts, w)
	clampDiags(f)
	parseTemplates(w)
	return w
}

// clampDiags keeps the diagnostics' ranges inside the text: the JSON
// parser places some errors of a truncated document one character past
// its end.
func clampDiags(f *world.File) {
	var end *hcl.Pos
	clamp := func(r *hcl.Range) {
		if r == nil || (r.Start.Byte <= len(f.Src) && r.End.Byte <= len(f.Src)) {
			return
		}
		if end == nil {
			p := endOf(f.Src)
			end = &p
		}
		if r.Start.Byte > len(f.Src) {
			r.Start = *end
		}
		if r.End.Byte > len(f.Src) {
			r.End = *end
		}
	}
	for _, d := range f.Diags {
		if d != nil {
			clamp(d.Subject)
			clamp(d.Context)
		}
	}
}

// endOf is the position just after the last character of src.
func endOf(src []byte) hcl.Pos {
	p := hcl.Pos{Line: 1, Column: 1, Byte: len(src)}
	if i := bytes.LastIndexByte(src, '\n'); i >= 0 {
		p.Line += bytes.Count(src, []byte("\n"))
		p.Column += utf8.RuneCount(src[i+1:])
	} else {
		p.Column += utf8.RuneCount(src)
	}
	return p
}

func readLimited(path string) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, unwrapPathErr(err)
	}
	defer fh.Close()
	// Read a regular file in one buffer of its size (io.ReadAll would
	// grow one by doubling: twice the garbage on thousands of files).
	// One byte more than the limit tells a file that is too large.
	size := 512
	if st, err := fh.Stat(); err == nil && st.Mode().IsRegular() {
		size = int(min(st.Size(), MaxFileSize)) + 1
	}
	buf := make([]byte, 0, size)
	for {
		n, err := fh.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		switch {
		case errors.Is(err, io.EOF):
			return buf, nil
		case err != nil:
			return nil, unwrapPathErr(err)
		case len(buf) > MaxFileSize:
			return buf, nil
		case len(buf) == cap(buf):
			// Longer than it said (growing, or not a regular file).
			buf = slices.Grow(buf, min(max(cap(buf), 512), MaxFileSize+1-len(buf)))
		}
	}
}

// unknownKind is the kind recorded for an explicit file whose content
// could not be read: the forced kind, or a guess from its name, so that
// the problem is reported against something.
func unknownKind(f *world.File, opts Options) world.Kind {
	if opts.Kind != "" {
		return opts.Kind
	}
	return kindFromName(f.Path)
}

func fileDiag(f *world.File, summary, detail string) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError, Summary: summary, Detail: detail,
		Subject: &hcl.Range{Filename: f.Path, Start: hcl.InitialPos, End: hcl.InitialPos},
	}
}

func parse(f *world.File, kind world.Kind, opts Options, w *world.World) {
	trimmed := bytes.TrimSpace(f.Src)
	if len(trimmed) == 0 {
		if f.Explicit {
			f.Kind = unknownKind(f, opts)
			f.Diags = append(f.Diags, fileDiag(f, "Empty file", "The file has no content."))
		}
		return
	}
	if (kind == "" || kind == world.KindTerraform) && isTFVarsPath(f.Path) {
		// Variable values: read with the module that declares the
		// variables, nothing to check on their own.
		if f.Explicit {
			f.Kind, f.Terraform = world.KindTerraform, filepath.Dir(f.Path)
		}
		return
	}
	if kind == world.KindTerraform || (kind == "" && isTerraformPath(f.Path)) {
		opts.tf.addNotes(f, loadTerraform(f, opts, w))
		return
	}
	if trimmed[0] == '{' || trimmed[0] == '[' {
		parseJSON(f, kind, opts, w)
		return
	}
	parseHCL(f, kind, opts, w)
}

func parseJSON(f *world.File, kind world.Kind, opts Options, w *world.World) {
	file, diags := hcljson.Parse(f.Src, f.Path)
	if diags.HasErrors() {
		f.Diags = append(f.Diags, diags...)
		if kind == "" {
			kind = kindFromName(f.Path)
		}
		if kind == "" && f.Explicit {
			kind = world.Kind("json")
		}
		f.Kind = kind
		return
	}
	top, diags := file.Body.JustAttributes()
	if diags.HasErrors() {
		f.Diags = append(f.Diags, diags...)
		f.Kind = kind
		return
	}
	if kind == "" {
		kind = detectJSON(top)
	}
	f.Kind = kind
	switch kind {
	case world.KindJobspec:
		if _, ok := top["job"]; ok {
			loadJobspecHCL(f, file.Body, w)
		} else {
			loadJobJSON(f, top, w)
		}
	case world.KindAgentConfig:
		loadAgentHCL(f, file.Body, w)
	case world.KindPolicy:
		pol, diags := acl.ParseFile(f.Src, file)
		loadPolicy(f, pol, diags, w, opts)
	case world.KindTokenRole:
		name, src := nameFor(f.Path, kind, opts)
		if n := strAttr(top, "name"); src != world.NameFromFlag && n.Known && n.V != "" {
			name, src = n.V, world.NameFromField
		}
		loadTokenRole(f, top, world.ObjectRef{Kind: kind, Name: name, NameSource: src}, w)
	case world.KindJWTAuthConfig, world.KindJWTRole:
		name, src := nameFor(f.Path, kind, opts)
		ref := world.ObjectRef{Kind: kind, Name: name, NameSource: src}
		if kind == world.KindJWTRole {
			loadJWTRole(f, top, ref, w)
			if src == world.NameFromSetupVault {
				// The command writes its role on its own mount.
				w.JWTRoles[len(w.JWTRoles)-1].Mount = setupVaultNames["vault-wi-default-auth-method-config.json"].name
			}
		} else {
			unnamed := src == world.NameFromFileName && namesNoMount(f.Path)
			if unnamed {
				// World.NameMounts names it once the agent configs are read.
				ref.Name = "jwt-nomad"
			}
			loadJWTConfig(f, top, ref, w)
			w.JWTConfigs[len(w.JWTConfigs)-1].MountUnnamed = unnamed
		}
	}
}

func parseHCL(f *world.File, kind world.Kind, opts Options, w *world.World) {
	file, diags := nativehcl.ParseConfig(f.Src, f.Path, hcl.InitialPos)
	body, _ := file.Body.(*hclsyntax.Body)
	if kind == "" || kind == world.KindAgentConfig {
		if f1, b1, d1, ok := agentHCL1(f, diags); ok {
			file, body, diags, kind = f1, b1, d1, world.KindAgentConfig
		}
	}
	// A file that does not parse is guessed from its content only when
	// its name says HCL: a README or a shell script holds lines that look
	// like blocks in its examples, and is no config with syntax errors.
	guess := !diags.HasErrors() || candidateExts[strings.ToLower(filepath.Ext(f.Path))]
	if kind == "" && body != nil && guess {
		kind = detectHCL(body)
	}
	if kind == "" && diags.HasErrors() {
		kind = kindFromName(f.Path)
		if kind == "" && guess {
			kind = sniffHCL(f.Src)
		}
	}
	if kind == "" && f.Explicit && diags.HasErrors() && guess {
		kind = world.Kind("hcl")
	}
	if kind == "" && !guess {
		// Not a file nvlint reads: its syntax errors are not the point.
		return
	}
	f.Kind = kind
	if kind == world.KindPolicy && diags.HasErrors() {
		// Vault reads policies with HCL 1, which accepts more than HCL 2:
		// the policy parser reads it so and says what Vault would.
		pol, diags := acl.ParseRefused(f.Src, f.Path, diags)
		loadPolicy(f, pol, diags, w, opts)
		return
	}
	f.Diags = append(f.Diags, diags...)
	if body == nil {
		return
	}
	switch kind {
	case world.KindJobspec:
		loadJobspecHCL(f, body, w)
	case world.KindAgentConfig:
		loadAgentHCL(f, body, w)
	case world.KindPolicy:
		pol, diags := acl.ParseFile(f.Src, file)
		loadPolicy(f, pol, diags, w, opts)
	}
}

// loadPolicy adds a parsed policy, named for its file, and the parser's
// diagnostics.
func loadPolicy(f *world.File, p *acl.Policy, diags hcl.Diagnostics, w *world.World, opts Options) {
	f.Diags = append(f.Diags, diags...)
	if p == nil {
		return
	}
	name, src := nameFor(f.Path, world.KindPolicy, opts)
	if p.Name != "" && src != world.NameFromFlag {
		name, src = p.Name, world.NameFromField
	}
	p.Name = name
	pol := &world.Policy{Meta: world.Meta{File: f, Ref: world.ObjectRef{Kind: world.KindPolicy, Name: name, NameSource: src}}, ACL: p}
	// A finding about what a policy lacks points at the file, not at any
	// one of its rules.
	pol.Range = hcl.Range{Filename: f.Path, Start: hcl.InitialPos, End: hcl.InitialPos}
	w.Policies = append(w.Policies, pol)
}

func merge(dst, src *world.World) {
	dst.Jobs = append(dst.Jobs, src.Jobs...)
	dst.Agents = append(dst.Agents, src.Agents...)
	dst.Policies = append(dst.Policies, src.Policies...)
	dst.TokenRoles = append(dst.TokenRoles, src.TokenRoles...)
	dst.JWTConfigs = append(dst.JWTConfigs, src.JWTConfigs...)
	dst.JWTRoles = append(dst.JWTRoles, src.JWTRoles...)
	dst.Skipped = append(dst.Skipped, src.Skipped...)
}

// ParseKind reads a --kind value.
func ParseKind(s string) (world.Kind, error) {
	for _, k := range world.Kinds {
		if string(k) == s {
			return k, nil
		}
	}
	names := make([]string, len(world.Kinds))
	for i, k := range world.Kinds {
		names[i] = string(k)
	}
	return "", fmt.Errorf("unknown kind %q (want one of %s)", s, strings.Join(names, ", "))
}
