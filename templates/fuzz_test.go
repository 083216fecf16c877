package templates

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	_ "github.com/nvlint/nvlint/internal/fuzzcrash"
)

func FuzzFind(f *testing.F) {
	for _, tc := range findCases {
		f.Add(tc.text, tc.left, tc.right)
	}
	for _, s := range []string{
		"{{ if }}", "{{ secret \"kv/x }}", "{{/* open", "{{ (secret \"a\" }}", "x {{ secret \n\n",
		"{{ $p := printf \"%s%s%s%s\" \"ab\" \"ab\" \"ab\" \"ab\" }}{{ $p = printf \"%s%s%s%s\" $p $p $p $p }}{{ secret $p }}",
		"{{ secret (printf \"%[2]s/%*d/%.3v/%!\" \"a\" 5 3 1.5) }}",
	} {
		f.Add(s, "", "")
	}
	f.Fuzz(func(t *testing.T, text, left, right string) {
		accs, err := Find(text, left, right)
		_, _, perr := parseText(text, left, right)
		if (err != nil) != (perr != nil) {
			t.Fatalf("Find error %v, parse error %v", err, perr)
		}
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v is not a *ParseError", err, err)
			}
			nlines := len(lineStarts(text))
			if pe.Line < 1 || pe.Line > nlines || pe.Column < 1 || pe.Offset < 0 || pe.Offset > len(text) {
				t.Fatalf("bad error position %+v (lines %d, len %d)", pe, nlines, len(text))
			}
			if l, c := position(text, lineStarts(text), pe.Offset); l != pe.Line || c != pe.Column {
				t.Fatalf("error %+v: offset is at %d:%d", pe, l, c)
			}
			return
		}
		checkInvariants(t, text, accs)
		checkAgainstExec(t, text, left, right, accs)
	})
}

// FuzzPlainPath checks that a path plainPath lets skip the URL parse is
// the path the parse gives.
func FuzzPlainPath(f *testing.F) {
	for _, p := range []string{"kv/data/app", "a/../b", "x.y/z-1_2", "", "a//b", "a b", "a:b", "%41"} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if !plainPath(p) || strings.HasPrefix(p, "/") {
			return
		}
		u, err := url.Parse(p)
		if err != nil || u.Path != p {
			t.Fatalf("url.Parse(%q): path %q, error %v", p, u.Path, err)
		}
	})
}
