package reports

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Output is one report a run writes: a format and where it goes.
type Output struct {
	Format Format
	// Path is the file to write; empty for standard output.
	Path string
}

func (o Output) String() string {
	if o.Path == "" {
		return string(o.Format)
	}
	return string(o.Format) + "=" + o.Path
}

// ParseOutputs reads --format values: FORMAT writes to standard output,
// FORMAT=FILE to a file (FORMAT=- is standard output too). At most one
// output may go to standard output and no file may be named twice. No
// value at all means the text report on standard output. The formats
// are those of accepted, or all of Formats when none is given.
func ParseOutputs(specs []string, accepted ...Format) ([]Output, error) {
	if len(specs) == 0 {
		return []Output{{Format: FormatText}}, nil
	}
	var outs []Output
	var stdout *Output
	files := map[string]string{}
	for _, spec := range specs {
		name, path, hasPath := strings.Cut(spec, "=")
		f, err := ParseFormat(strings.TrimSpace(name), accepted...)
		if err != nil {
			return nil, err
		}
		if hasPath && path == "" {
			return nil, fmt.Errorf("--format %s: no file after =; write %s=FILE, or %s alone for standard output", spec, name, name)
		}
		o := Output{Format: f, Path: path}
		if o.Path == "-" {
			o.Path = ""
		}
		if o.Path == "" {
			if stdout != nil {
				return nil, fmt.Errorf("--format %s and --format %s both write to standard output; give one of them a file: --format %s=FILE", stdout, o, o.Format)
			}
			stdout = &o
		} else {
			key := filepath.Clean(o.Path)
			if prev, dup := files[key]; dup {
				return nil, fmt.Errorf("--format %s and --format %s write the same file", prev, o)
			}
			files[key] = o.String()
		}
		outs = append(outs, o)
	}
	return outs, nil
}

// WriteOutputs renders r once per output and writes it to stdout or to
// its file, every byte passed through mask (secrets must not reach any
// report). Text written to a file is never coloured. Every output is
// attempted; the errors of those that failed are returned together, a
// file that cannot be written as an *fs.PathError.
func WriteOutputs(stdout io.Writer, outs []Output, r *Report, opts Options, mask func([]byte) []byte) error {
	if mask == nil {
		mask = func(b []byte) []byte { return b }
	}
	var errs []error
	for _, o := range outs {
		ro := opts
		ro.Mask = mask
		if o.Path != "" {
			ro.Color = false
		}
		var b bytes.Buffer
		if err := Write(&b, o.Format, r, ro); err != nil {
			errs = append(errs, fmt.Errorf("rendering %s: %w", o, err))
			continue
		}
		if o.Path == "" {
			if _, err := stdout.Write(b.Bytes()); err != nil {
				errs = append(errs, fmt.Errorf("writing %s report: %w", o.Format, err))
			}
			continue
		}
		if err := WriteFile(o.Path, b.Bytes(), 0o644); err != nil {
			errs = append(errs, FileFlagError("--format", o.String(), err))
		}
	}
	return errors.Join(errs...)
}

// WriteFile writes a file a flag names (a report, a snapshot, a
// baseline, a script), making its directory first, whichever the flag:
// CI jobs name paths such as reports/nvlint.sarif before anything made
// the directory.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	return os.WriteFile(path, data, perm)
}

// FileFlagError is the error of a flag naming a file nvlint writes that
// could not be written: "--save /etc/passwd/s.json: mkdir ...: not a
// directory". The error is an *fs.PathError, so callers tell it from an
// internal failure; value is the flag's value as written.
func FileFlagError(flag, value string, err error) error {
	return &fs.PathError{Op: flag, Path: value, Err: err}
}
