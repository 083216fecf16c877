package rules

import (
	"slices"
	"strconv"
	"strings"

	"github.com/nvlint/nvlint/world"
)

// guessedInCommands adds to the finding's evidence each object name
// guessed from a file name that a command of its fixes writes to Vault
// (vault write auth/jwt-nomad/role/NAME, vault policy write NAME...), as
// a command or in a fix's description: the command is only right if the
// guess is, so the finding says what it assumed and how to tell nvlint
// the real name.
func guessedInCommands(w *world.World, f *Finding) {
	if w == nil || !slices.ContainsFunc(f.Fixes, func(fx Fix) bool { return len(fx.Commands) > 0 || strings.Contains(fx.Description, "vault ") }) {
		return
	}
	guessed := world.Derived(w, guessedKey, guessedMetas)
	if len(guessed) == 0 {
		return
	}
	var words [][]string
	for _, fx := range f.Fixes {
		for _, c := range fx.Commands {
			words = append(words, commandArgvs(c)...)
		}
		if _, cmd, ok := strings.Cut(fx.Description, "vault "); ok {
			words = append(words, commandArgvs(Command{Template: "vault " + cmd})...)
		}
	}
	// Only objects whose name is a word of the commands, or a part of
	// one, can be written by them: looked up by name, a finding costs
	// its own words, not one pass over every object.
	seen := map[string]bool{}
	for _, argv := range words {
		for _, a := range argv {
			for _, name := range nameParts(a) {
				if seen[name] {
					continue
				}
				seen[name] = true
				for _, m := range guessed[name] {
					ref := m.Ref
					if !slices.ContainsFunc(words, func(argv []string) bool { return writesName(argv, ref, f.Object == ref) }) {
						continue
					}
					if ev := m.GuessEvidence(); !slices.Contains(f.Evidence, ev) {
						f.Evidence = append(f.Evidence, ev)
					}
				}
			}
		}
	}
}

// nameParts are the object names a command word may hold: the word, its
// path segments, and the items of a key=a,b list.
func nameParts(a string) []string {
	out := []string{a}
	if _, list, ok := strings.Cut(a, "="); ok {
		out = append(out, strings.Split(list, ",")...)
	}
	if strings.Contains(a, "/") {
		out = append(out, strings.Split(a, "/")...)
	}
	return out
}

var guessedKey = world.NewDerivedKey("objects named by guesses from file names")

// guessedMetas are the objects named by guesses, by name.
func guessedMetas(w *world.World) map[string][]world.Meta {
	out := map[string][]world.Meta{}
	for _, m := range w.Metas() {
		if m.Ref.Guessed() && m.File != nil {
			out[m.Ref.Name] = append(out[m.Ref.Name], *m)
		}
	}
	return out
}

// commandArgvs are the command's argvs; a template's words, unquoted as
// far as they are quoted.
func commandArgvs(c Command) [][]string {
	if c.Template != "" {
		fields := strings.Fields(c.Template)
		for i, f := range fields {
			if u, err := strconv.Unquote(f); err == nil {
				fields[i] = u
			} else {
				fields[i] = strings.Trim(f, `'"`)
			}
		}
		return [][]string{fields}
	}
	var out [][]string
	for _, a := range c.Argvs() {
		out = append(out, a)
	}
	return out
}

// writesName reports whether argv names the object ref by its name where
// Vault takes an object's name from: its API path, vault policy write's
// argument, or a role's policy list. A JWT auth config's name is its
// mount, which a role's path names too: it counts there only when the
// finding is the config's (NV224 writes the role it lacks on the config's
// mount), not for a role whose mount is Nomad's default.
func writesName(argv []string, ref world.ObjectRef, own bool) bool {
	name := ref.Name
	for i, a := range argv {
		switch ref.Kind {
		case world.KindJWTRole:
			if strings.HasPrefix(a, "auth/") && strings.HasSuffix(a, "/role/"+name) {
				return true
			}
		case world.KindJWTAuthConfig:
			if a == "auth/"+name+"/config" || (own && (a == "auth/"+name || strings.HasPrefix(a, "auth/"+name+"/"))) {
				return true
			}
		case world.KindTokenRole:
			if a == "auth/token/roles/"+name {
				return true
			}
		case world.KindPolicy:
			if i >= 2 && argv[i-2] == "policy" && argv[i-1] == "write" {
				arg := a
				if arg == "--" && i+1 < len(argv) {
					arg = argv[i+1]
				}
				if arg == name {
					return true
				}
			}
			if a == "sys/policies/acl/"+name || a == "sys/policy/"+name {
				return true
			}
			if key, list, ok := strings.Cut(a, "="); ok && strings.HasSuffix(key, "policies") && slices.Contains(strings.Split(list, ","), name) {
				return true
			}
		}
	}
	return false
}
