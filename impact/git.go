package impact

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// Base is the base side's files on disk: Paths are the head's paths as
// they lie under Root, the directory that stands for the head's working
// directory.
type Base struct {
	Root  string
	Paths []string
	// Ref and Commit say what the base is, for the report.
	Ref, Commit string
	// top is the directory everything read lies under.
	top     string
	cleanup func()
}

// HeadName is a base file's name as the working tree names the same
// file: relative to the working directory, as the paths given are.
func (b *Base) HeadName(name string) string {
	if in, err := filepath.Rel(b.top, name); err != nil || in == ".." || strings.HasPrefix(in, ".."+string(filepath.Separator)) {
		return name
	}
	rel, err := filepath.Rel(b.Root, name)
	if err != nil {
		return name
	}
	return rel
}

// Close removes what the base extracted.
func (b *Base) Close() {
	if b != nil && b.cleanup != nil {
		b.cleanup()
	}
}

// DirBase is the base given as a directory: each relative path is read
// under dir as it is read under the working directory cwd.
func DirBase(dir, cwd string, paths []string) (*Base, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", dir)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	b := &Base{Root: abs, Ref: dir, top: abs}
	for _, p := range paths {
		rel, err := relTo(cwd, p)
		if err != nil {
			return nil, err
		}
		b.Paths = append(b.Paths, filepath.Join(abs, rel))
	}
	return b, nil
}

// relTo is p relative to dir; an error when it lies outside.
func relTo(dir, p string) (string, error) {
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	rel, err := filepath.Rel(dir, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%s lies outside %s", p, dir)
	}
	return rel, nil
}

// GitBase reads the paths as they are at git revision ref (default: the
// merge base of HEAD with its upstream, else HEAD) into a temporary
// directory, from git's objects: the working tree and the index are not
// touched. cwd is the directory the paths are relative to, inside the
// repository.
func GitBase(cwd, ref string, paths []string) (*Base, error) {
	top, err := git(cwd, "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, fmt.Errorf("not in a git repository (pass --base-dir DIR): %w", err)
	}
	top, err = filepath.EvalSymlinks(top)
	if err != nil {
		return nil, err
	}
	name := ref
	if ref == "" {
		ref, name = "HEAD", "HEAD"
		if up, err := git(cwd, "rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{upstream}"); err == nil && up != "" {
			if mb, err := git(cwd, "merge-base", "HEAD", "@{upstream}"); err == nil {
				ref, name = mb, "the merge base with "+up
			}
		}
	}
	commit, err := git(cwd, "rev-parse", "--verify", "--end-of-options", ref+"^{commit}")
	if err != nil {
		return nil, fmt.Errorf("--base %s: no such commit", ref)
	}
	absCwd, err := filepath.Abs(cwd)
	if err != nil {
		return nil, err
	}
	if real, err := filepath.EvalSymlinks(absCwd); err == nil {
		absCwd = real
	}
	prefix, err := relTo(top, absCwd)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "nvlint-base-")
	if err != nil {
		return nil, err
	}
	b := &Base{Root: filepath.Join(tmp, prefix), Ref: name, Commit: commit, top: tmp, cleanup: func() { _ = os.RemoveAll(tmp) }}
	var specs []string
	for _, p := range paths {
		rel, err := relTo(absCwd, resolvePath(absCwd, p))
		if err != nil {
			// A path outside the working directory: name it from the top.
			if rel, err = relTo(top, resolvePath(absCwd, p)); err != nil {
				b.Close()
				return nil, fmt.Errorf("%s is not in the repository at %s", p, top)
			}
			b.Paths = append(b.Paths, filepath.Join(tmp, rel))
			specs = append(specs, filepath.ToSlash(rel))
			continue
		}
		b.Paths = append(b.Paths, filepath.Join(b.Root, rel))
		specs = append(specs, filepath.ToSlash(filepath.Join(prefix, rel)))
	}
	if err := extract(top, commit, specs, tmp); err != nil {
		b.Close()
		return nil, err
	}
	if err := os.MkdirAll(b.Root, 0o755); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// resolvePath is p made absolute against cwd, symlinks resolved as far
// as it exists (git knows the repository by its real path).
func resolvePath(cwd, p string) string {
	if !filepath.IsAbs(p) {
		p = filepath.Join(cwd, p)
	}
	if real, err := filepath.EvalSymlinks(p); err == nil {
		return real
	}
	return filepath.Clean(p)
}

// extract writes the blobs under specs at commit into dir. A path the
// commit does not have is no error: at base it did not exist.
func extract(top, commit string, specs []string, dir string) error {
	args := []string{"ls-tree", "-r", "-z", "--full-tree", commit, "--"}
	for _, s := range specs {
		if s == "." {
			s = ""
		}
		args = append(args, ":(top,literal)"+s)
	}
	out, err := gitBytes(top, args...)
	if err != nil {
		return err
	}
	type blob struct{ oid, path string }
	var blobs []blob
	for _, rec := range bytes.Split(out, []byte{0}) {
		meta, path, ok := strings.Cut(string(rec), "\t")
		if !ok {
			continue
		}
		f := strings.Fields(meta) // mode type oid
		// Only regular files: symlinks and submodules are not read.
		if len(f) != 3 || f[1] != "blob" || f[0] == "120000" {
			continue
		}
		blobs = append(blobs, blob{f[2], path})
	}
	if len(blobs) == 0 {
		return nil
	}
	var in bytes.Buffer
	for _, b := range blobs {
		in.WriteString(b.oid + "\n")
	}
	cmd := exec.Command("git", "cat-file", "--batch")
	cmd.Dir = top
	cmd.Stdin = &in
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	r := bufio.NewReader(stdout)
	var readErr error
	for _, b := range blobs {
		if readErr = writeBlob(r, dir, b.path); readErr != nil {
			break
		}
	}
	_, _ = io.Copy(io.Discard, r)
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("git cat-file: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return readErr
}

// writeBlob reads one "<oid> blob <size>\n<content>\n" record and writes
// the content to dir/path.
func writeBlob(r *bufio.Reader, dir, path string) error {
	header, err := r.ReadString('\n')
	if err != nil {
		return err
	}
	f := strings.Fields(header)
	if len(f) != 3 || f[1] != "blob" {
		return fmt.Errorf("git cat-file: unexpected %q", strings.TrimSpace(header))
	}
	size, err := strconv.ParseInt(f[2], 10, 64)
	if err != nil {
		return err
	}
	dst := filepath.Join(dir, filepath.FromSlash(path))
	if rel, err := filepath.Rel(dir, dst); err != nil || strings.HasPrefix(rel, "..") {
		return fmt.Errorf("git path %q leaves the base directory", path)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	data := make([]byte, size+1) // content and its newline
	if _, err := io.ReadFull(r, data); err != nil {
		return err
	}
	return os.WriteFile(dst, data[:size], 0o644)
}

func git(dir string, args ...string) (string, error) {
	out, err := gitBytes(dir, args...)
	return strings.TrimSpace(string(out)), err
}

func gitBytes(dir string, args ...string) ([]byte, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("git %s: %s", args[0], strings.TrimSpace(stderr.String()))
		}
		return nil, err
	}
	return out, nil
}
