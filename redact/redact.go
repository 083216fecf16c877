// Package redact keeps secrets out of everything nvlint prints or saves.
// Secret values are collected where they are read (token attributes in
// files, token flags and environment variables, API responses) and masked
// in the final bytes of every report, whatever its format.
package redact

import (
	"bytes"
	"encoding/json"
	"sort"
	"sync"
)

// Mask is what replaces a secret.
const Mask = "<redacted>"

// minSecretLen keeps short values (such as "true" or "x") from being
// treated as secrets and masking unrelated text.
const minSecretLen = 6

// Secrets is a set of secret values. The zero value is ready to use and
// safe for concurrent use.
type Secrets struct {
	mu     sync.Mutex
	values map[string]bool
}

// Add registers secret values; short or empty ones are ignored.
func (s *Secrets) Add(values ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.values == nil {
		s.values = map[string]bool{}
	}
	for _, v := range values {
		if len(v) >= minSecretLen {
			s.values[v] = true
		}
	}
}

// Bytes returns b with every secret, raw or JSON-escaped, masked. Longer
// secrets are masked first so that one containing another is fully
// hidden.
func (s *Secrets) Bytes(b []byte) []byte {
	s.mu.Lock()
	vals := make([]string, 0, len(s.values))
	for v := range s.values {
		vals = append(vals, v)
	}
	s.mu.Unlock()
	sort.Slice(vals, func(i, j int) bool { return len(vals[i]) > len(vals[j]) })
	for _, v := range vals {
		b = bytes.ReplaceAll(b, []byte(v), []byte(Mask))
		if enc, err := json.Marshal(v); err == nil {
			inner := enc[1 : len(enc)-1]
			if !bytes.Equal(inner, []byte(v)) {
				b = bytes.ReplaceAll(b, inner, []byte(Mask))
			}
		}
	}
	return b
}

// String is Bytes for strings.
func (s *Secrets) String(v string) string { return string(s.Bytes([]byte(v))) }

// Merge adds every secret of other.
func (s *Secrets) Merge(other *Secrets) {
	if other == nil || other == s {
		return
	}
	other.mu.Lock()
	vals := make([]string, 0, len(other.values))
	for v := range other.values {
		vals = append(vals, v)
	}
	other.mu.Unlock()
	s.Add(vals...)
}
