package config

import (
	"errors"
	"path"
	"strings"
)

// Match matches a slash-separated path relative to the config's directory
// against a pattern of ignore_paths or an ignore block:
//
//   - "*", "?" and "[...]" match within one path element (path.Match);
//   - "**" as a whole element matches any number of elements, none
//     included;
//   - a pattern without a slash matches the base name at any depth
//     ("*.example.hcl" is "**/*.example.hcl");
//   - a pattern that matches a directory matches everything under it
//     ("legacy" and "legacy/**" alike);
//   - a leading "./" or "/" anchors at the config's directory, as every
//     pattern with a slash already is.
//
// Hand-written rather than a dependency: path.Match does the hard part,
// and "**" is a few lines on top.
func Match(pattern, name string) bool {
	pattern = strings.TrimPrefix(pattern, "./")
	if !strings.Contains(strings.TrimPrefix(pattern, "/"), "/") && !strings.HasPrefix(pattern, "/") {
		pattern = "**/" + pattern
	}
	pattern = strings.Trim(pattern, "/")
	return matchParts(strings.Split(pattern, "/"), strings.Split(name, "/"))
}

// matchParts matches pattern elements against path elements; matching a
// prefix of the path (a directory) is a match.
func matchParts(pat, name []string) bool {
	if len(pat) == 0 {
		return true // the pattern matched a directory holding name
	}
	if pat[0] == "**" {
		for i := 0; i <= len(name); i++ {
			if matchParts(pat[1:], name[i:]) {
				return true
			}
		}
		return false
	}
	if len(name) == 0 {
		return false
	}
	if ok, _ := path.Match(pat[0], name[0]); !ok {
		return false
	}
	return matchParts(pat[1:], name[1:])
}

// checkPattern reports a malformed pattern.
func checkPattern(p string) error {
	if strings.TrimSpace(p) == "" {
		return errors.New("empty pattern")
	}
	for _, part := range strings.Split(p, "/") {
		if _, err := path.Match(part, ""); err != nil {
			return err
		}
	}
	return nil
}
