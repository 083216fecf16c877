// Package baseline records the findings of a run so that later runs
// report only new ones: adopt nvlint on a messy tree, fail CI on what a
// change adds, and shrink the baseline as old problems are fixed.
//
// A finding is recorded by a fingerprint of its rule, file, object and
// message; never its line, so edits elsewhere in a file do not make old
// findings new. Identical findings of one file are counted: a third copy
// of a problem recorded twice is new.
package baseline

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/nvlint/nvlint/rules"
)

// Version is the file format's version.
const Version = 1

// File is a baseline as stored: one entry per distinct finding, readable
// in a code review.
type File struct {
	Version  int     `json:"version"`
	Findings []Entry `json:"findings"`
}

// Entry is one recorded finding.
type Entry struct {
	Fingerprint string `json:"fingerprint"`
	Rule        string `json:"rule"`
	// File is relative to the baseline file's directory, with forward
	// slashes; empty for live objects.
	File    string `json:"file,omitempty"`
	Object  string `json:"object,omitempty"`
	Message string `json:"message"`
	// Count is how many identical findings there were, when more than one.
	Count int `json:"count,omitempty"`
	// Setup is the finding's setup, when the run linted several: a
	// problem of a file two setups share is recorded for each.
	Setup string `json:"setup,omitempty"`
}

func (e Entry) count() int { return max(e.Count, 1) }

// Keyer fingerprints findings with paths relative to Root, the baseline
// file's directory, so a baseline works from wherever nvlint runs.
type Keyer struct{ Root string }

// NewKeyer returns the Keyer for a baseline stored at path.
func NewKeyer(path string) Keyer {
	abs, err := filepath.Abs(path)
	if err != nil {
		return Keyer{}
	}
	return Keyer{Root: filepath.Dir(abs)}
}

// File is the finding's file as recorded.
func (k Keyer) File(name string) string {
	if name == "" || name == "-" || k.Root == "" {
		return filepath.ToSlash(name)
	}
	abs, err := filepath.Abs(name)
	if err != nil {
		return filepath.ToSlash(name)
	}
	rel, err := filepath.Rel(k.Root, abs)
	if err != nil {
		return filepath.ToSlash(abs)
	}
	return filepath.ToSlash(rel)
}

// Entry describes a finding as recorded.
func (k Keyer) Entry(f rules.Finding) Entry {
	e := Entry{Rule: f.Rule.ID, Message: f.Message, Setup: f.Setup}
	if f.HasFile() {
		e.File = k.File(f.Range.Filename)
	}
	name := f.Object.Name
	if f.HasFile() && name == f.Range.Filename {
		name = e.File // a file-level finding names its file as given
	}
	if f.Object.Kind != "" || name != "" {
		e.Object = strings.TrimSpace(string(f.Object.Kind) + " " + name)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s", e.Rule, e.File, e.Object, e.Message)
	if e.Setup != "" {
		// Without setups, fingerprints stay as they always were.
		fmt.Fprintf(h, "\x00%s", e.Setup)
	}
	e.Fingerprint = hex.EncodeToString(h.Sum(nil))[:32]
	return e
}

// New records findings.
func New(k Keyer, fs []rules.Finding) *File {
	byFP := map[string]*Entry{}
	var order []string
	for _, f := range fs {
		e := k.Entry(f)
		if prev, ok := byFP[e.Fingerprint]; ok {
			prev.Count = prev.count() + 1
			continue
		}
		byFP[e.Fingerprint] = &e
		order = append(order, e.Fingerprint)
	}
	b := &File{Version: Version, Findings: []Entry{}}
	for _, fp := range order {
		b.Findings = append(b.Findings, *byFP[fp])
	}
	slices.SortFunc(b.Findings, func(a, b Entry) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.Object, b.Object), cmp.Compare(a.Message, b.Message), cmp.Compare(a.Setup, b.Setup))
	})
	return b
}

// Marshal renders the baseline, one entry per line group, stable for
// diffs.
func (b *File) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	err := enc.Encode(b)
	return buf.Bytes(), err
}

// Write stores the findings at path.
func Write(path string, fs []rules.Finding) (*File, error) {
	b := New(NewKeyer(path), fs)
	data, err := b.Marshal()
	if err != nil {
		return nil, err
	}
	return b, os.WriteFile(path, data, 0o644)
}

// Read loads a baseline.
func Read(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(data)
}

// Parse reads a baseline's text.
func Parse(data []byte) (*File, error) {
	var b File
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return nil, fmt.Errorf("not an nvlint baseline: %w", err)
	}
	if b.Version != Version {
		return nil, fmt.Errorf("baseline version %d, want %d", b.Version, Version)
	}
	for i, e := range b.Findings {
		if e.Fingerprint == "" || e.Rule == "" {
			return nil, errors.New("baseline entry " + fmt.Sprint(i+1) + " has no fingerprint or rule")
		}
	}
	return &b, nil
}

// Result splits a run's findings by a baseline.
type Result struct {
	// New are the findings the baseline does not hold.
	New []rules.Finding
	// Known are the findings it holds.
	Known []rules.Finding
	// Gone are entries with fewer findings than recorded, in a file the
	// run checked and of a rule that ran: fixed problems, which
	// --baseline-strict wants removed from the baseline. Count is the
	// number missing.
	Gone []Entry
}

// Filter splits fs by the baseline. checked says whether the run could
// have reproduced an entry (its file was linted, its rule ran); entries
// it could not are neither matched nor gone.
func (b *File) Filter(k Keyer, fs []rules.Finding, checked func(Entry) bool) Result {
	left := map[string]int{}
	for _, e := range b.Findings {
		left[e.Fingerprint] += e.count()
	}
	var res Result
	for _, f := range fs {
		fp := k.Entry(f).Fingerprint
		if left[fp] > 0 {
			left[fp]--
			res.Known = append(res.Known, f)
			continue
		}
		res.New = append(res.New, f)
	}
	for _, e := range b.Findings {
		n := left[e.Fingerprint]
		if n <= 0 || (checked != nil && !checked(e)) {
			continue
		}
		left[e.Fingerprint] = 0
		e.Count = n
		res.Gone = append(res.Gone, e)
	}
	return res
}
